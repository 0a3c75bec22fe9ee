from __future__ import annotations

import json
from pathlib import Path

import pytest

from sniper_app import __version__
from tests.support.cli import run_cli


def test_version_is_printed() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"sniper-app {__version__}"


def test_config_set_then_show_round_trips_through_the_settings_file(isolated_dirs: Path) -> None:
    assert run_cli("config", "set", "default_lead_seconds", "7").returncode == 0
    shown = run_cli("config", "show", "--json")
    assert shown.returncode == 0
    assert json.loads(shown.stdout)["default_lead_seconds"] == 7.0
    saved = json.loads((isolated_dirs / "config" / "settings.json").read_text())
    assert saved == {"default_lead_seconds": 7.0}


@pytest.mark.usefixtures("isolated_dirs")
def test_bad_setting_is_one_sentence_and_exit_2() -> None:
    result = run_cli("config", "set", "default_lead_seconds", "500")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "default_lead_seconds" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.usefixtures("isolated_dirs")
def test_json_errors_are_json() -> None:
    result = run_cli("config", "set", "nonsense", "1", "--json")
    assert result.returncode == 2
    error = json.loads(result.stderr)
    assert error["exit_code"] == 2
    assert "Unknown setting 'nonsense'" in error["error"]


def test_unknown_option_is_bad_input() -> None:
    result = run_cli("--no-such-option")
    assert result.returncode == 2
    assert "Unrecognized arguments: --no-such-option" in result.stderr


def test_environment_override_is_visible_and_paths_follow_overrides(isolated_dirs: Path) -> None:
    shown = run_cli("config", "show", "--json", env={"SNIPER_MARKETPLACE": "EBAY_DE"})
    assert json.loads(shown.stdout)["marketplace"] == "EBAY_DE"
    where = json.loads(run_cli("config", "path", "--json").stdout)
    assert where == {
        "settings": str(isolated_dirs / "config" / "settings.json"),
        "data": str(isolated_dirs / "data"),
        "logs": str(isolated_dirs / "logs"),
    }


def test_simulator_command_takes_its_own_options_and_serves_the_demo() -> None:
    import os
    import signal
    import subprocess
    import sys

    import httpx

    proc = subprocess.Popen(
        [sys.executable, "-m", "sniper_app", "simulator", "--port", "0", "--sntp-port", "0",
         "--scenario", "demo", "--json"],
        stdout=subprocess.PIPE, text=True, env=dict(os.environ),
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        auctions = httpx.get(f"{info['base_url']}/_sim/auctions", timeout=10).json()["auctions"]
        assert len(auctions) >= 12
        assert all(a["status"] == "ACTIVE" for a in auctions)
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=20)
        proc.stdout.close()
    assert code == 0
