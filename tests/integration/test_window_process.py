"""The window as a user starts it: `sniper-app --demo` in its own process, offscreen.

One window per data dir: a second launch hands over to the first and exits; commands from another
terminal reach the running demo; SIGTERM (a logout, a service manager) ends it cleanly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.cli_sim import CliSim
from tests.support.wait import wait_until


def _run(args: list[str], env: dict[str, str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sniper_app", *args],
        env=dict(os.environ) | env, capture_output=True, text=True, timeout=timeout, check=False,
    )


def _there_while_running(path: Path, proc: subprocess.Popen[str]) -> bool:
    if path.exists():
        return True
    if proc.poll() is not None:
        raise AssertionError(f"the app exited early: {proc.communicate()}")
    return False


def _log_says(log: Path, text: str) -> bool:
    return log.exists() and text in log.read_text(encoding="utf-8")


def test_window_demo_hands_over_to_itself_takes_commands_and_quits_on_sigterm(cli: CliSim) -> None:
    env = {"SNIPER_DATA_DIR": str(cli.dirs / "data"), "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sniper_app", "--demo"],
        env=dict(os.environ) | env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    state = cli.dirs / "data" / "demo" / "demo.json"
    log = cli.dirs / "logs" / "sniper.log"
    try:
        wait_until(lambda: _there_while_running(state, proc), 30, f"the running demo to write {state.name}")

        second = _run(["--demo"], env)
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stdout
        wait_until(
            lambda: _log_says(log, "another launch asked for the window"), 10, "the first instance to be told"
        )

        # The running window's engine takes commands from another terminal, as the headless one does.
        url = json.loads(_run(["--demo", "account", "link", "--print-url", "--json"], env).stdout)["consent_url"]
        linked = _run(["--demo", "account", "link", "--redirect-url", cli.consent_redirect(url)], env)
        assert linked.returncode == 0, linked.stderr
        synced = json.loads(_run(["--demo", "watchlist", "sync", "--json"], env).stdout)
        assert synced["count"] == 20  # 18 auctions (US, GB, DE) and 2 fixed-price listings
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert not state.exists(), "the demo's state file is removed on the way out"
    assert "closing the window and stopping the engine" in log.read_text(encoding="utf-8")
