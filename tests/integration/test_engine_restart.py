"""Restarts and clock jumps: the database is the truth, and nothing fires twice."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sniper_app.domain.history import HistoryAction
from sniper_app.simulator import SimulatorServer
from tests.support.engine import rig, wait_status
from tests.support.wait import wait_until_async

DONE = {"WON", "LOST", "FAILED", "MISSED", "CANCELLED", "SKIPPED"}


def test_second_engine_reschedules_and_passed_fires_become_missed(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            kept = sim.create_auction("Rescheduled", "10.00", ends_in=6.0)
            missed = sim.create_auction("Missed", "10.00", ends_in=2.5)
            fire_now = sim.create_auction("Fire now", "10.00", ends_in=5.0)
            p_kept = r.snipe(kept, "40.00", lead=1.0)
            first = r.engine()
            await first.start()
            assert r.get(p_kept).status == "SCHEDULED"
            await first.stop()  # the app closes; the second engine must find everything in the database
            p_missed = r.snipe(missed, "40.00", lead=1.0)
            p_now = r.snipe(fire_now, "40.00", lead=4.0)  # its fire instant passes while no engine runs
            await wait_until_async(lambda: sim.now() > missed["end_epoch"] - 0.5, 5, "the missed fire instant to pass")
            async with r.running():
                assert r.get(p_missed).status == "MISSED"
                for pk in (p_kept, p_now):
                    await wait_status(r, pk, DONE, 8)
            assert r.get(p_kept).status == "WON"
            assert r.get(p_now).status == "WON"
            assert "not running" in (r.get(p_missed).status_reason or "")
            assert r.get(p_missed).outcome_code == "missed_closed"
            assert r.get(p_missed).outcome_text == (
                "Missed: the app was closed when the bid of $40.00 was due, and the auction ended.")
            bids = r.bids()
            assert len(bids) == 2  # none for the missed one, one each for the others
            now_bid = next(b for b in bids if fire_now["item_id"].split("|")[1] in b["path"])
            assert now_bid["arrival_epoch"] < fire_now["end_epoch"]

    asyncio.run(main())


def test_wall_clock_jump_reschedules_everything(sim: SimulatorServer, tmp_path: Path) -> None:
    shift = [0.0]

    def wall() -> float:
        return time.time() + shift[0]

    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            auction = sim.create_auction("Across a jump", "10.00", ends_in=6.0)
            pk = r.snipe(auction, "40.00", lead=1.0)
            async with r.running(wall=wall, heartbeat_s=0.2) as engine:
                shift[0] = 3600.0  # as after a suspend of an hour
                await wait_until_async(lambda: engine.jumps == 1, 3, "the jump to be noticed")
                snipe = await wait_status(r, pk, DONE, 9)
            assert snipe.status == "WON"
            assert len(r.bids()) == 1
            notes = [e.message for e in r.store.history_page(actions=HistoryAction.NOTE).rows]
            assert any("clock jumped" in m for m in notes)
            schedules = r.store.history_page(snipe_id=pk, actions=HistoryAction.SCHEDULE).rows
            assert schedules

    asyncio.run(main())


def test_a_fire_that_passes_while_sniping_is_paused_is_missed_and_says_so(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            auction = sim.create_auction("Paused through", "10.00", ends_in=4.0)
            pk = r.snipe(auction, "40.00", lead=1.0)
            async with r.running() as engine:
                engine.paused = True
                await wait_until_async(lambda: sim.now() > auction["end_epoch"], 8, "the auction to end")
                engine.paused = False
                snipe = await wait_status(r, pk, DONE, 8)
            assert r.bids() == []
            assert snipe.status == "MISSED"
            assert snipe.outcome_code == "missed_closed"
            assert snipe.outcome_text == ("Missed: sniping was paused when the bid of $40.00 was due, and the auction "
                                          "ended.")

    asyncio.run(main())
