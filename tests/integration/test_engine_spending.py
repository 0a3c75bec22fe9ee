"""The spending cap at the fire: the engine against the simulator, time compressed to seconds."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sniper_app.engine.bus import SnipeStatusChanged
from sniper_app.simulator import SimulatorServer
from sniper_app.store.errors import StoreError
from tests.support.engine import rig, wait_status

_ENDED = {"WON", "LOST", "FAILED", "MISSED", "SKIPPED"}


def test_a_win_that_uses_up_the_cap_skips_the_next_snipe_at_its_fire(
    sim: SimulatorServer,
    tmp_path: Path,
) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            settings = r.settings.model_copy(update={"spending_cap": "100.00 USD"})
            first = sim.create_auction("Won first", "10.00", ends_in=5.0, rivals=[{"max": "30.00", "before_end": 3.0}])
            second = sim.create_auction("Fires later", "10.00", ends_in=12.0)
            # Both fit the cap in force when they were added: 40.00 + 40.00 pending under 100.00.
            a_id, b_id = r.snipe(first, "40.00", lead=1.0), r.snipe(second, "40.00", lead=1.0)
            r.settings = settings
            async with r.running() as engine:
                # The user lowers the cap while both wait; the engine takes it at once.
                assert engine.apply_settings(settings.model_copy(update={"spending_cap": "60.00 USD"})) == []
                won = await wait_status(r, a_id, _ENDED, 12)
                skipped = await wait_status(r, b_id, _ENDED, 14)

            assert won.status == "WON", won.status_reason
            assert won.final_price_minor == 3100  # the rival's 30.00 + one 1.00 increment
            assert skipped.status == "SKIPPED", skipped.status_reason
            assert skipped.status_reason == (
                "Skipped: this bid would pass your spending cap of $60.00 for 30 days: $31.00 won and $0.00 pending "
                "leave $29.00, and it needs $40.00."
            )
            # eBay received the first snipe's bid and nothing for the skipped one.
            assert [b["path"] for b in r.bids() if second["legacy_item_id"] in b["path"]] == []
            assert [b for b in sim.auction(second["legacy_item_id"])["bids"] if b["bidder"] == "demo"] == []
            assert len(r.bids()) == 1
            assert (b_id, "SKIPPED") in [(e.snipe_id, e.new) for e in r.events if isinstance(e, SnipeStatusChanged)]

    asyncio.run(main())


def test_without_the_win_the_same_snipe_fires(sim: SimulatorServer, tmp_path: Path) -> None:
    """The counterpart: under the same lowered cap, a snipe with no win before it bids."""

    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            r.settings = r.settings.model_copy(update={"spending_cap": "60.00 USD"})
            auction = sim.create_auction("Alone", "10.00", ends_in=6.0)
            pk = r.snipe(auction, "40.00", lead=1.0)
            async with r.running():
                done = await wait_status(r, pk, _ENDED, 12)
            assert done.status == "WON", done.status_reason
            assert len(r.bids()) == 1

    asyncio.run(main())


def test_at_the_fire_a_win_and_shipping_on_both_count_against_the_cap(sim: SimulatorServer, tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            r.settings = r.settings.model_copy(update={"spending_cap": "60.00 USD"})
            first = sim.create_auction("Won first", "10.00", ends_in=5.0, shipping="4.00",
                                       rivals=[{"max": "20.00", "before_end": 3.0}])
            second = sim.create_auction("Fires later", "10.00", ends_in=12.0, shipping="6.00")
            a_id, b_id = r.snipe(first, "25.00", lead=1.0), r.snipe(second, "30.00", lead=1.0)
            r.store.update_fields(a_id, shipping_minor=400, shipping_currency="USD")
            r.store.update_fields(b_id, shipping_minor=600, shipping_currency="USD")
            async with r.running():
                won = await wait_status(r, a_id, _ENDED, 12)
                skipped = await wait_status(r, b_id, _ENDED, 14)
            assert won.status == "WON", won.status_reason
            assert won.final_price_minor == 2050  # the rival's 20.00 + one 0.50 increment
            # $20.50 + $4.00 shipping won leaves $35.50: the $30.00 maximum fits, with its $6.00 shipping it does not.
            assert skipped.status == "SKIPPED", skipped.status_reason
            assert skipped.status_reason == (
                "Skipped: this bid would pass your spending cap of $60.00 for 30 days: $24.50 won and $0.00 pending "
                "leave $35.50, and it needs $36.00 ($30.00 + $6.00 shipping)."
            )
            assert skipped.outcome_code == "spending_cap"
            assert [b for b in sim.auction(second["legacy_item_id"])["bids"] if b["bidder"] == "demo"] == []

    asyncio.run(main())


def test_a_cap_that_cannot_be_read_lets_the_bid_go_out(
    sim: SimulatorServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A failing read of the wins must not cost an auction the user wanted: the snipe bids."""

    def broken(*_args: object, **_kw: object) -> None:
        raise StoreError("database is locked")

    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            # 40.00 alone passes a 30.00 cap: a working check would skip it.
            r.settings = r.settings.model_copy(update={"spending_cap": "30.00 USD"})
            pk = r.snipe(sim.create_auction("Read fails", "10.00", ends_in=6.0), "40.00", lead=1.0)
            monkeypatch.setattr("sniper_app.engine.preflight.spending_facts", broken)
            async with r.running():
                done = await wait_status(r, pk, _ENDED, 12)
            assert done.status == "WON", done.status_reason
            assert len(r.bids()) == 1

    asyncio.run(main())
