"""A bid sent while the disk was full, then the process gone before the store could say so.

The store still says SCHEDULED: the next start must ask eBay before sending the same bid again, and a cancel
that lands in that window must not leave a CANCELLED snipe whose bid went out.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from sniper_app.domain.errors import RuleViolation
from sniper_app.domain.history import HistoryAction
from sniper_app.engine.actions import Actions
from sniper_app.engine.engine import Engine
from sniper_app.simulator import SimulatorServer
from tests.integration.test_store_faults import FaultyDisk
from tests.support.engine import Rig, rig, wait_status
from tests.support.wait import wait_until_async

DONE = {"WON", "LOST", "FAILED", "MISSED", "CANCELLED", "SKIPPED"}
_CANCEL = (
    "import sys; from pathlib import Path; from sniper_app.store import Store\n"
    "with Store.open(Path(sys.argv[1])) as store: print(store.cancel(int(sys.argv[2])).status)"
)


def _ours(server: SimulatorServer, auction: dict[str, object]) -> list[dict[str, object]]:
    return [b for b in server.auction(str(auction["legacy_item_id"]))["bids"] if b["bidder"] == "demo"]


async def _send_on_a_full_disk(r: Rig, disk: FaultyDisk, pk: int) -> Engine:
    """Start an engine, fill the disk once the bid is handed over, and return once the bid reached eBay
    with the hand-over to PLACING still waiting in the bookkeeping."""
    engine = r.engine()
    await engine.start()
    armed = engine._armed  # the hand-over is the moment to fill the disk
    await wait_until_async(lambda: pk in armed and armed[pk].fire_id is not None, 10, "the bid to be handed over")
    disk.on = True
    await wait_until_async(lambda: len(r.bids()) == 1, 10, "the bid to reach eBay")
    await wait_until_async(lambda: engine.bookkeeper.pending >= 2, 5, "the hand-over and outcome to wait for room")
    assert r.get(pk).status == "SCHEDULED"  # the store cannot tell that the bid left
    return engine


def _notes(r: Rig, pk: int) -> list[str]:
    return [str(e.message) for e in r.store.history_page(snipe_id=pk).rows]


def test_a_restart_after_a_lost_hand_over_finds_the_bid_at_ebay_and_sends_nothing(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            auction = sim.create_auction("Sent, then the process died", "10.00", ends_in=7.0)
            pk = r.snipe(auction, "40.00", lead=4.0)
            disk = FaultyDisk(r.store, share=1.0, seed=0)
            with disk.installed():
                first = await _send_on_a_full_disk(r, disk, pk)
                first.bookkeeper.abandon()  # the process dies: whatever waited for room is gone
                await first.stop()
                disk.on = False
            async with r.running():
                snipe = await wait_status(r, pk, DONE, 15)
            assert snipe.status == "WON", snipe.status_reason
            assert len(r.bids()) == 1  # the restart never sent it again
            assert len(_ours(sim, auction)) == 1
            assert any("already has the bid" in m and "not sent again" in m for m in _notes(r, pk))

    asyncio.run(main())


def test_when_ebay_cannot_be_asked_the_repeat_is_refused_by_ebay_and_the_record_stays_true(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            auction = sim.create_auction("Sent, died, eBay silent", "10.00", ends_in=7.0)
            pk = r.snipe(auction, "40.00", lead=4.0)
            disk = FaultyDisk(r.store, share=1.0, seed=0)
            with disk.installed():
                first = await _send_on_a_full_disk(r, disk, pk)
                first.bookkeeper.abandon()
                await first.stop()
                disk.on = False
            sim.add_fault(r"/bidding/[^/]+$", "status", method="GET", count=10_000, status=503)
            async with r.running():
                await wait_until_async(lambda: len(r.bids()) == 2, 10, "the unchecked repeat")
                with sim.world.lock:
                    sim.world.faults.clear()  # eBay answers again: its record settles the outcome
                snipe = await wait_status(r, pk, DONE, 20)
            mine = _ours(sim, auction)
            assert [b["accepted"] for b in mine] == [True, False]  # eBay refused the equal repeat
            assert snipe.status == "WON", snipe.status_reason
            assert any("could not be asked" in m for m in _notes(r, pk))

    asyncio.run(main())


def test_a_cancel_from_another_process_after_the_bid_left_is_corrected(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            auction = sim.create_auction("Cancelled too late", "10.00", ends_in=7.0)
            pk = r.snipe(auction, "40.00", lead=4.0)
            disk = FaultyDisk(r.store, share=1.0, seed=0)
            with disk.installed():
                engine = await _send_on_a_full_disk(r, disk, pk)
                try:
                    # Another process (as the command line cancels): its write lands, the store said SCHEDULED.
                    done = await asyncio.to_thread(subprocess.run, [sys.executable, "-c", _CANCEL, str(tmp_path),
                                                                    str(pk)], capture_output=True, text=True)
                    assert done.stdout.strip() == "CANCELLED", done.stderr
                    disk.on = False  # room again: the waiting hand-over finds the cancel
                    snipe = await wait_status(r, pk, {"WON", "LOST"}, 15)
                finally:
                    await engine.stop()
            assert snipe.status == "WON", snipe.status_reason
            assert len(r.bids()) == 1
            rows = r.store.history_page(snipe_id=pk).rows
            actions = [(e.action, e.status) for e in sorted(rows, key=lambda e: (e.at, e.id))]
            assert (HistoryAction.CANCEL, "CANCELLED") in actions
            assert actions.index((HistoryAction.CANCEL, "CANCELLED")) < actions.index((HistoryAction.PLACE, "PLACING"))
            assert any("cancel came after the bid had left" in m for m in _notes(r, pk))

    asyncio.run(main())


def test_a_cancel_in_the_same_process_after_the_bid_left_is_refused(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            auction = sim.create_auction("Cancelled in the window", "10.00", ends_in=7.0)
            pk = r.snipe(auction, "40.00", lead=4.0)
            disk = FaultyDisk(r.store, share=1.0, seed=0)
            with disk.installed():
                engine = await _send_on_a_full_disk(r, disk, pk)
                try:
                    actions = Actions(r.settings, r.store, user_id=r.user_id, client=r.client,
                                      bid_left=engine.bid_left)
                    with pytest.raises(RuleViolation, match="already been sent to eBay; it can no longer be cancelled"):
                        await actions.cancel_snipe(pk)
                    with pytest.raises(RuleViolation, match="already been sent to eBay"):
                        await actions.edit_snipe(pk, max_amount="50.00")
                    disk.on = False
                    snipe = await wait_status(r, pk, DONE, 15)
                finally:
                    await engine.stop()
            assert snipe.status == "WON", snipe.status_reason
            assert len(r.bids()) == 1

    asyncio.run(main())
