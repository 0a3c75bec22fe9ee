"""A snipe whose item eBay no longer has fails at the next watch-list sync, with a sentence, not at the fire;
an item merely off the watch list is left alone. Against the simulator over loopback HTTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sniper_app.domain.history import HistoryAction
from sniper_app.domain.money import Money
from sniper_app.domain.status import SnipeStatus
from sniper_app.engine.bus import SnipeStatusChanged
from sniper_app.simulator import SimulatorServer
from tests.support.engine import rig, wait_status

GONE_ITEM = "110000000000"  # an item number of a world that no longer exists (an old demo's simulator)


def test_a_snipe_on_a_vanished_item_fails_at_the_sync_and_an_unwatched_one_does_not(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            watched = r.snipe(sim.create_auction("Watched lamp", "10.00", ends_in=3600, watched_by=["demo"]), "40.00")
            unwatched = r.snipe(sim.create_auction("Unwatched clock", "10.00", ends_in=3600), "40.00")
            gone = r.store.create_snipe(
                r.user_id, legacy_item_id=GONE_ITEM, currency="USD", max_bid_minor=Money.of("50.00", "USD").minor,
                end_time=datetime.now(UTC) + timedelta(hours=1), lead_seconds=5.0, title="Millennium Falcon",
            ).id
            assert sim.requests() is not None
            before = len(sim.requests())
            engine = r.engine()
            await engine.start()  # the engine syncs the watch list at once
            try:
                failed = await wait_status(r, int(gone), {"FAILED"}, 10)
            finally:
                await engine.stop()
            assert failed.status_reason == (
                f"eBay no longer has item {GONE_ITEM} (removed, or never listed): there is nothing to bid on, "
                "so this snipe will not be placed.")
            # Long before its end: failed by the sync, not at the fire.
            assert failed.end_time - datetime.now(UTC) > timedelta(minutes=50)
            assert [e for e in r.events if isinstance(e, SnipeStatusChanged) and e.snipe_id == gone][-1].new \
                is SnipeStatus.FAILED
            # The item unwatched is still on eBay: its snipe stays; the watched one was not even asked about.
            assert r.get(unwatched).status in ("PENDING", "SCHEDULED")
            assert r.get(watched).status in ("PENDING", "SCHEDULED")
            asked = [q["path"] for q in sim.requests()[before:] if "/buy/browse/v1/item" in q["path"]]
            assert any(GONE_ITEM in p for p in asked)
            watched_id = r.get(watched).legacy_item_id
            assert not any(str(watched_id) in p for p in asked)
            assert r.bids() == []
            events = r.store.history_page(snipe_id=int(gone), actions=[HistoryAction.FAIL], limit=5).rows
            assert events
            assert "no longer has item" in (events[0].message or "")

    asyncio.run(main())
