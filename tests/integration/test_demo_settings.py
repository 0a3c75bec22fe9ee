"""The demo keeps its settings in its own folder, and each start is a clean world: real processes, HOME in a
temporary folder (the user's real ~/.config is never touched)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support.wait import wait_until


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SNIPER_", "XDG_"))}
    return env | {"HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sniper_app", *args], env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def _start_demo(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "sniper_app", "--demo", "--headless"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    banner: list[str] = []
    while not any("Press Ctrl+C" in line for line in banner):
        line = proc.stdout.readline()
        if not line:
            err = proc.stderr.read() if proc.stderr else ""
            raise AssertionError(f"the demo ended before its banner: {banner} {err}")
        banner.append(line)
    return proc, "".join(banner)


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err


def test_demo_settings_stay_in_the_demos_folder_and_a_restart_starts_clean(home: dict[str, str]) -> None:
    real_settings = Path(home["HOME"]) / ".config" / "sniper-app" / "settings.json"
    proc, banner = _start_demo(home)
    try:
        assert "the demo starts clean" in banner
        assert "--demo account link" in banner
        # What the Settings dialog does in the demo window (save_settings), from a --demo command here.
        assert _run(["--demo", "config", "set", "default_lead_seconds", "7"], home).returncode == 0
        assert _run(["--demo", "config", "set", "watchlist_sync_minutes", "3"], home).returncode == 0
        shown = json.loads(_run(["--demo", "config", "show", "--json"], home).stdout)
        assert shown["ebay_env"] == "simulator", "the demo's settings are the ones in force for it"
        assert shown["default_lead_seconds"] == 7
        assert shown["watchlist_sync_minutes"] == 3
        where = json.loads(_run(["--demo", "config", "path", "--json"], home).stdout)
        assert where["settings"] == str(real_settings.parent / "demo" / "settings.json")
        assert where["data"].endswith(os.path.join("sniper-app", "demo"))

        # Link and add a snipe in this world.
        url = json.loads(_run(["--demo", "account", "link", "--print-url", "--json"], home).stdout)["consent_url"]
        assert url
        linked = _run(["--demo", "account", "link"], home)
        assert linked.returncode == 0, linked.stderr
        assert _run(["--demo", "watchlist", "sync"], home).returncode == 0
        items = json.loads(_run(["--demo", "watchlist", "list", "--json"], home).stdout)
        last = [w for w in items if w["snipeable"]][-1]
        item = last["item"]
        added = _run(["--demo", "snipe", "add", item, str(Decimal(last["current_price"]) * 2)], home)
        assert added.returncode == 0, added.stderr
        assert len(json.loads(_run(["--demo", "snipe", "list", "--json"], home).stdout)) == 1
    finally:
        _stop(proc)

    # The real settings were never written, and say nothing of the demo.
    assert not real_settings.exists()
    real = json.loads(_run(["config", "show", "--json"], home).stdout)
    assert real["ebay_env"] == "production"
    assert real["default_lead_seconds"] != 7

    # A restarted demo is a new simulated eBay: it starts clean, keeping only its settings.
    proc, _banner = _start_demo(home)
    try:
        assert json.loads(_run(["--demo", "snipe", "list", "--json"], home).stdout) == []
        shown = json.loads(_run(["--demo", "config", "show", "--json"], home).stdout)
        assert shown["default_lead_seconds"] == 7
        listed = _run(["--demo", "watchlist", "list", "--json"], home)
        assert json.loads(listed.stdout) == [], "no watch list of the last world"
    finally:
        _stop(proc)
    state = Path(home["HOME"]) / ".local" / "share" / "sniper-app" / "demo" / "demo.json"
    wait_until(lambda: not state.exists(), 5.0, "the demo's state file to go")
