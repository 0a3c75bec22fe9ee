"""The engine process killed with SIGKILL in the middle of a burst, then started again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime

from sniper_app.store import Store
from tests.support.cli_sim import CliSim
from tests.support.wait import wait_until

FINAL = {"WON", "LOST", "FAILED", "CANCELLED", "MISSED", "SKIPPED"}



def _headless(cli: CliSim) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sniper_app", "--headless"],
        env=dict(os.environ) | cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    while "Sniper engine running" not in (line := proc.stdout.readline()):
        assert line, f"the engine did not start: {proc.stderr.read() if proc.stderr else ''}"
    return proc


def test_sigkill_mid_burst_loses_no_snipe_and_bids_none_twice(cli: CliSim) -> None:
    cli.link()
    # Two bids before the kill, two fire instants while the engine is dead, three after it is back.
    ends_in = {"before-1": 8.0, "before-2": 9.0, "dead-1": 12.0, "dead-2": 13.0,
               "after-1": 22.0, "after-2": 23.0, "after-3": 24.0}
    auctions = {name: cli.sim.create_auction(name, "10.00", ends_in=e) for name, e in ends_in.items()}
    store = Store.open(cli.dirs / "data")
    try:
        user = store.get_or_create_user()
        ids = {
            name: int(store.create_snipe(
                int(user.id), legacy_item_id=str(a["legacy_item_id"]), rest_item_id=str(a["item_id"]),
                currency="USD", max_bid_minor=2000, lead_seconds=1.0, title=name,
                end_time=datetime.fromtimestamp(float(a["end_epoch"]), UTC),
            ).id)
            for name, a in auctions.items()
        }

        def status(name: str) -> str:
            return str(store.get_snipe(ids[name]).status)

        first = _headless(cli)
        try:
            wait_until(lambda: all(status(n) in {"PLACED", *FINAL} for n in ("before-1", "before-2")), 15,
                   "the first two bids")
        finally:
            first.send_signal(signal.SIGKILL)
            first.communicate(timeout=20)
        assert first.returncode == -signal.SIGKILL
        # Let the two "dead" auctions end while nothing runs (the simulator's clock drives this).
        dead_end = max(float(auctions[n]["end_epoch"]) for n in ("dead-1", "dead-2"))
        wait_until(lambda: cli.sim.now() > dead_end + 0.2, 15, "the dead auctions to end")

        second = _headless(cli)
        try:
            wait_until(lambda: all(status(n) in FINAL for n in ids), 30, "every snipe to finish")
        finally:
            second.send_signal(signal.SIGTERM)
            _out, err = second.communicate(timeout=20)
        assert second.returncode == 0, err

        statuses = {name: status(name) for name in ids}
        reasons = {name: store.get_snipe(ids[name]).status_reason or "" for name in ids}
    finally:
        store.close()

    assert statuses["dead-1"] == "MISSED", reasons["dead-1"]
    assert statuses["dead-2"] == "MISSED", reasons["dead-2"]
    for name in ("before-1", "before-2", "after-1", "after-2", "after-3"):
        assert statuses[name] == "WON", (name, reasons[name])
    for name, auction in auctions.items():
        ours = [b for b in cli.sim.auction(str(auction["legacy_item_id"]))["bids"] if b["bidder"] == "demo"]
        assert len(ours) == (0 if name.startswith("dead") else 1), name
