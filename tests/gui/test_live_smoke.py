"""The live rig itself: the engine and the facade run on a qasync loop over the test's QApplication."""

from __future__ import annotations

from pathlib import Path

from sniper_app.simulator import SimulatorServer
from tests.support.live import live_service
from tests.support.wait import wait_until_async


def test_preview_and_add_through_the_facade_on_qasync(sim: SimulatorServer, tmp_path: Path, qloop) -> None:
    auction = sim.create_auction("Brass sextant", "40.00", ends_in=600)

    async def scenario() -> None:
        async with live_service(sim, tmp_path) as live:
            preview = await live.service.preview_item(f"https://www.ebay.com/itm/{auction['legacy_item_id']}")
            assert preview.title == "Brass sextant"
            assert preview.minimum_next_bid is not None
            assert preview.minimum_next_bid.minor == 4000
            snipe, warnings = await live.service.add_snipe(auction["legacy_item_id"], "55.00")
            assert warnings == []
            await wait_until_async(
                lambda: live.store.get_snipe(snipe.id).status == "SCHEDULED", what="the snipe to be armed"
            )

    qloop(scenario())
