"""``sniper-app --selftest`` from a source checkout: the smoke test every packaged build runs."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import run_cli

STEPS = ("paths", "keyring", "simulator", "window", "engine", "link", "snipe", "result", "window again")


def test_selftest_snipes_one_auction_and_exits_zero(isolated_dirs: Path) -> None:
    result = run_cli("--selftest", timeout=100)

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for step in STEPS:
        assert any(line.startswith(f"ok   {step}:") for line in lines), f"no line for step {step}:\n{result.stdout}"
    assert any("WON at 10.00" in line for line in lines), result.stdout
    assert lines[-1].startswith("selftest passed in ")
    # The selftest keeps to its own temporary dirs: nothing lands in the user's data, settings or logs.
    for name in ("data", "config", "logs"):
        assert list((isolated_dirs / name).iterdir()) == [], name
