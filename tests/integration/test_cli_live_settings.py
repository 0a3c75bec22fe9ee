"""`sniper-app config set` from another terminal reaches a running headless engine, and says when it applies."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

from sniper_app.simulator import SimulatorServer
from tests.integration.test_cli_headless import _start
from tests.support.cli import run_cli, wait_line
from tests.support.cli_sim import CliSim
from tests.support.wait import wait_until

LIVE_NOTE = "A running Sniper applies it within seconds."
RESTART_NOTE = "A running Sniper keeps the old value until it restarts."


def _log(app: CliSim) -> str:
    path = app.dirs / "logs" / "sniper.log"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def _last_offset_ms(app: CliSim) -> float | None:
    engine: Any = app.ok_json("diagnostics")["engine"]
    points = (engine or {}).get("clock") or []
    return float(points[-1]["offset_ms"]) if points else None


def test_config_set_reaches_a_running_headless_engine_within_seconds(cli: CliSim) -> None:
    # The time server comes from the settings file here (a SNIPER_TIME_SERVER variable would win over it).
    cli.env = {k: v for k, v in cli.env.items() if k != "SNIPER_TIME_SERVER"}
    host, port = cli.sim.sntp_address
    assert cli.run("config", "set", "time_server", f"{host}:{port}").returncode == 0
    other = SimulatorServer(host="127.0.0.1", port=0, sntp_port=0, clock_offset=30.0)
    other.start()
    cli.link()
    proc = _start(["--headless"], cli.env)
    try:
        wait_line(proc, "Sniper engine running")
        wait_until(lambda: _last_offset_ms(cli) is not None, 15.0, "the engine's first clock measurement")
        offset = _last_offset_ms(cli)
        assert offset is not None
        assert abs(offset) < 1000

        changed = cli.run("config", "set", "watchlist_sync_minutes", "1")
        assert changed.returncode == 0, changed.stderr
        assert changed.stdout.strip() == "watchlist_sync_minutes = 1"
        assert changed.stderr.strip() == LIVE_NOTE
        wait_until(
            lambda: "the watch list now syncs every 1 min" in _log(cli), 5.0, "the engine to take the new period"
        )

        assert cli.run("config", "set", "time_server", f"127.0.0.1:{other.sntp_address[1]}").returncode == 0
        # The metrics file the engine leaves every few seconds shows the new server's clock.
        wait_until(
            lambda: abs((_last_offset_ms(cli) or 0.0) - 30_000) < 1000, 15.0, "the offset from the new time server"
        )

        waits = cli.run("config", "set", "start_minimized", "true")
        assert waits.returncode == 0, waits.stderr
        assert waits.stderr.strip() == RESTART_NOTE
        wait_until(lambda: "take effect when Sniper restarts: start_minimized" in _log(cli), 5.0, "the restart note")
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
        other.stop()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    # Where a headless user looks: the terminal says what waits for a restart.
    assert "settings saved that take effect when Sniper restarts: start_minimized" in err


def test_config_set_says_a_new_data_folder_needs_a_restart(isolated_dirs: Path) -> None:
    text = run_cli("config", "set", "data_dir", str(isolated_dirs / "elsewhere"))
    assert text.returncode == 0, text.stderr
    assert text.stderr.strip() == RESTART_NOTE
    as_json = run_cli("config", "set", "data_dir", str(isolated_dirs / "elsewhere"), "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stderr) == {"applies": "restart", "note": RESTART_NOTE}
    live = run_cli("config", "set", "marketplace", "ebay_gb", "--json")
    assert json.loads(live.stdout) == {"marketplace": "EBAY_GB"}
    assert json.loads(live.stderr) == {"applies": "live", "note": LIVE_NOTE}
