"""What the engine tells the user ahead of time, pausing, and holding the machine awake."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import httpx

from sniper_app.domain.history import HistoryAction
from sniper_app.engine.bus import AuctionEndingSoon, SnipeAtRisk
from sniper_app.simulator import SimulatorServer
from tests.support.engine import rig, wait_status
from tests.support.wait import wait_until_async

DONE = {"WON", "LOST", "FAILED", "MISSED", "CANCELLED", "SKIPPED"}


class RecordingKeepAwake:
    """Stands in for the OS power management, which cannot be driven here: records what was asked."""

    def __init__(self) -> None:
        self.held = False
        self.calls: list[bool] = []
        self.threads: set[int] = set()

    def hold(self, wanted: bool) -> None:
        self.calls.append(wanted)
        self.threads.add(threading.get_ident())  # wakepy's modes break when entered and left on two threads
        self.held = wanted


def test_ending_soon_is_told_once_and_only_within_the_horizon(sim: SimulatorServer, tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            r.settings = r.settings.model_copy(update={"notify_ending_minutes": 30})
            soon = r.snipe(sim.create_auction("Soon", "10.00", ends_in=20 * 60), "40.00")
            later = r.snipe(sim.create_auction("Later", "10.00", ends_in=2 * 3600), "40.00")
            async with r.running(keepawake=RecordingKeepAwake()):
                await wait_until_async(lambda: any(isinstance(e, AuctionEndingSoon) for e in r.events), 5, "a warning")
                # A snipe added afterwards is warned about by a later heartbeat: by then the first warning
                # has had its chance to repeat.
                added = r.snipe(sim.create_auction("Added", "10.00", ends_in=25 * 60), "40.00")
                await wait_until_async(
                    lambda: any(isinstance(e, AuctionEndingSoon) and e.snipe_id == added for e in r.events),
                    5, "the warning for the added snipe",
                )
            warned = [e.snipe_id for e in r.events if isinstance(e, AuctionEndingSoon)]
            assert warned == [soon, added]
            assert later not in warned

    asyncio.run(main())


def test_keep_awake_is_held_only_while_a_snipe_is_due(sim: SimulatorServer, tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            keep = RecordingKeepAwake()
            pk = r.snipe(sim.create_auction("Lamp", "10.00", ends_in=5.0), "40.00", lead=1.0)
            async with r.running(keepawake=keep, keepawake_ahead_s=60.0):
                await wait_until_async(lambda: keep.held, 5, "the machine to be held awake")
                await wait_status(r, pk, DONE, 10)
                await wait_until_async(lambda: not keep.held, 5, "the hold to be released")
            assert keep.calls[:2] == [True, False]
            assert len(keep.threads) == 1

    asyncio.run(main())


def test_paused_snipes_do_not_fire_and_resume_rearms_them(sim: SimulatorServer, tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            skipped = r.snipe(sim.create_auction("Paused through its end", "10.00", ends_in=4.0), "40.00", lead=1.0)
            resumed = r.snipe(sim.create_auction("Resumed in time", "10.00", ends_in=9.0), "40.00", lead=1.0)
            async with r.running(keepawake=RecordingKeepAwake()) as engine:
                engine.paused = True
                ended = float(sim.auction(r.get(skipped).legacy_item_id)["end_epoch"])
                await wait_until_async(lambda: sim.now() > ended + 0.2, 8, "the first auction to end while paused")
                engine.paused = False
                await wait_status(r, skipped, DONE, 5)
                await wait_status(r, resumed, DONE, 10)
            assert r.get(skipped).status == "MISSED"
            assert r.get(resumed).status == "WON"
            assert len(r.bids()) == 1

    asyncio.run(main())


def test_watch_list_is_synced_at_start_and_then_periodically(sim: SimulatorServer, tmp_path: Path) -> None:
    from sniper_app.engine.bus import WatchlistSynced

    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            first = sim.create_auction("Watched before start", "10.00", ends_in=3600, watched_by=["demo"])
            async with r.running(keepawake=RecordingKeepAwake(), sync_period_s=1.0):
                def watched() -> set[str]:
                    return {str(w.legacy_item_id) for w in r.store.list_watch_items(r.user_id)}

                await wait_until_async(lambda: str(first["legacy_item_id"]) in watched(), 5, "the sync at start")
                later = sim.create_auction("Watched later", "10.00", ends_in=3600, watched_by=["demo"])
                await wait_until_async(lambda: str(later["legacy_item_id"]) in watched(), 5, "a periodic sync")
            assert sum(isinstance(e, WatchlistSynced) and e.error is None for e in r.events) >= 2

    asyncio.run(main())


class SleepyMachine(RecordingKeepAwake):
    """A system where no keep-awake method works (what KeepAwake reports as ``supported = False``)."""

    supported = False


def test_a_health_check_before_the_fire_announces_a_snipe_at_risk(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            pk = r.snipe(sim.create_auction("Lamp", "10.00", ends_in=9.0), "40.00", lead=1.0)
            async with r.running(keepawake=SleepyMachine(), health_ahead_s=(5.0,)):
                await wait_until_async(lambda: any(isinstance(e, SnipeAtRisk) for e in r.events), 10, "the warning")
                await wait_status(r, pk, DONE, 15)
            [risk] = [e for e in r.events if isinstance(e, SnipeAtRisk)]
            assert risk.snipe_id == pk
            assert risk.problems == ("this computer cannot be kept awake until the bid",)
            assert "switch off sleep" in risk.message
            notes = [e.message for e in r.store.history_page(snipe_id=pk, actions=HistoryAction.NOTE).rows]
            assert risk.message in notes
            assert r.get(pk).status == "WON"  # a warning, not a verdict: the bid still went out

    asyncio.run(main())


def test_a_healthy_snipe_is_not_announced(sim: SimulatorServer, tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            pk = r.snipe(sim.create_auction("Lamp", "10.00", ends_in=9.0), "40.00", lead=1.0)
            async with r.running(keepawake=RecordingKeepAwake(), health_ahead_s=(5.0,)):
                await wait_status(r, pk, DONE, 15)
            assert not any(isinstance(e, SnipeAtRisk) for e in r.events)
            assert r.get(pk).status == "WON"

    asyncio.run(main())


def test_the_health_check_names_a_sign_in_ebay_no_longer_accepts(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            pk = r.snipe(sim.create_auction("Lamp", "10.00", ends_in=600.0), "40.00", lead=1.0)
            assert r.get(pk).status == "PENDING"
            engine = r.engine(keepawake=RecordingKeepAwake(), health_ahead_s=(597.0,))
            for what in ("revoke", "expire"):
                httpx.post(f"{sim.base_url}/_sim/tokens/{what}", json={"user": "demo"}, timeout=10).raise_for_status()
            await engine.start()
            try:
                await wait_until_async(lambda: any(isinstance(e, SnipeAtRisk) for e in r.events), 15, "the warning")
            finally:
                await engine.stop()
            [risk] = [e for e in r.events if isinstance(e, SnipeAtRisk)]
            assert "eBay no longer accepts the sign-in" in risk.problems
            assert "link your eBay account again" in risk.advice

    asyncio.run(main())
