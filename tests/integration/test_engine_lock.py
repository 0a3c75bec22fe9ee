"""One engine per data folder, with real processes: a second one is refused with the first one's pid, the
command line keeps working beside it, and after a kill the next start knows the previous engine died."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from tests.integration.test_cli_headless import _start
from tests.support.cli import run_cli, wait_line
from tests.support.cli_sim import CliSim


def _refused(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sniper_app", *args],
        env=dict(os.environ) | env, capture_output=True, text=True, timeout=60, check=False,
    )


def test_a_second_engine_on_the_same_data_is_refused_and_names_the_first(cli: CliSim) -> None:
    cli.link()
    item = cli.auction(start_price="10.00", ends_in=3600)
    first = _start(["--headless"], cli.env)
    try:
        wait_line(first, "Sniper engine running")
        second = _refused(["--headless"], cli.env)
        assert second.returncode == 1, second.stdout + second.stderr
        assert f"pid {first.pid}" in second.stdout
        assert "already running" in second.stdout
        assert "Traceback" not in second.stderr
        # The ordinary commands still work beside the running engine, and it still acts on them.
        snipe_id = cli.ok_json("snipe", "add", item, "20")["snipe"]["id"]
        assert any(s["id"] == snipe_id for s in cli.ok_json("snipe", "list"))
        assert first.poll() is None
    finally:
        first.send_signal(signal.SIGTERM)
        _out, err = first.communicate(timeout=20)
    assert first.returncode == 0, err

    # A clean stop frees the folder without a word about a dead engine.
    again = _start(["--headless"], cli.env)
    try:
        seen = "".join(wait_line(again, "Sniper engine running"))
        assert "stopped without shutting down" not in seen
    finally:
        again.send_signal(signal.SIGTERM)
        again.communicate(timeout=20)


def test_after_a_kill_the_next_engine_knows_the_previous_one_died(cli: CliSim) -> None:
    first = _start(["--headless"], cli.env)
    wait_line(first, "Sniper engine running")
    first.kill()  # SIGKILL: no clean-up runs; the OS drops the lock with the process
    first.communicate(timeout=20)
    after = _start(["--headless"], cli.env)
    try:
        seen = "".join(wait_line(after, "Sniper engine running"))
        assert f"The previous engine (pid {first.pid}) stopped without shutting down" in seen
    finally:
        after.send_signal(signal.SIGTERM)
        _out, err = after.communicate(timeout=20)
    assert after.returncode == 0, err


def test_a_command_has_a_total_deadline_and_says_what_timed_out(cli: CliSim) -> None:
    cli.link()
    # Every watch-list read drips a byte at a time: each socket read succeeds, so only a deadline on the
    # whole command (or exchange) ends it.
    cli.sim.add_fault(r"^/ws/api\.dll", "drip", method="POST", count=100, drip_s=0.5)
    result = run_cli("watchlist", "sync", env=cli.env | {"SNIPER_COMMAND_DEADLINE_S": "3"})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Gave up after 3 s: eBay did not answer GetMyeBayBuying in time" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_window_beside_a_headless_engine_is_refused_too(cli: CliSim) -> None:
    env = {"SNIPER_DATA_DIR": str(cli.dirs / "data")}  # the demo brings its own simulator
    headless = _start(["--demo", "--headless"], env)
    try:
        wait_line(headless, "Press Ctrl+C to stop.")
        window = _refused(["--demo"], env | {"QT_QPA_PLATFORM": "offscreen"})
        assert window.returncode == 1, window.stdout + window.stderr
        assert f"pid {headless.pid}" in window.stdout
        assert "Traceback" not in window.stderr
    finally:
        headless.send_signal(signal.SIGTERM)
        _out, err = headless.communicate(timeout=20)
    assert headless.returncode == 0, err
