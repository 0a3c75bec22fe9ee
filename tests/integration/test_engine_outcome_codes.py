"""The outcomes the other engine tests do not reach, each against the simulator: the price passed the maximum,
eBay refused the bid, and a bid that reached eBay after the end because this computer's clock was off."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path

from sniper_app.simulator import SimulatorServer
from tests.support.engine import rig, wait_status

DONE = {"WON", "LOST", "FAILED", "MISSED", "SKIPPED", "CANCELLED"}


def test_a_price_that_passed_the_maximum_before_the_fire_is_skipped_with_the_price(
        sim: SimulatorServer, tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            auction = sim.create_auction("Bid up early", "10.00", ends_in=6.0, rivals=[
                {"max": "50.00", "before_end": 5.9}, {"max": "45.00", "before_end": 5.8}])
            pk = r.snipe(auction, "40.00", lead=1.0)
            async with r.running():
                snipe = await wait_status(r, pk, DONE, 10)
            assert snipe.status == "SKIPPED"
            assert snipe.outcome_code == "price_passed_max"
            price = sim.auction(auction["legacy_item_id"])["current_price"]
            assert snipe.outcome_text == (f"Skipped: the price reached ${price} before the fire, passing your maximum "
                                          "of $40.00; no bid was sent.")
            assert r.bids() == []

    asyncio.run(main())


def test_a_bid_ebay_refuses_carries_ebays_error_id_and_message(sim: SimulatorServer, tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            auction = sim.create_auction("Over the limit", "10.00", ends_in=5.0)
            pk = r.snipe(auction, "1000001.00", lead=1.0)  # above eBay's limit for one bid: error 120011
            async with r.running():
                snipe = await wait_status(r, pk, DONE, 10)
            assert snipe.status == "FAILED"
            assert snipe.outcome_code == "ebay_refused"
            assert snipe.outcome_text == ("eBay refused the bid of $1,000,001.00: The bid amount exceeds the limit "
                                          "(error 120011).")

    asyncio.run(main())


def test_a_bid_sent_on_a_wrong_clock_arrives_late_and_says_the_clock_was_off(
        sim: SimulatorServer, tmp_path: Path) -> None:
    sim.set_clock_offset(2.0)  # eBay is two seconds ahead, and the engine is told not to correct for it

    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            auction = sim.create_auction("Wrong clock", "10.00", ends_in=6.0)
            pk = r.snipe(auction, "40.00", lead=1.0)
            async with r.running(compensate=False):
                snipe = await wait_status(r, pk, DONE, 12)
            (bid,) = r.bids()
            assert bid["arrival_epoch"] > auction["end_epoch"]
            assert snipe.status == "FAILED"
            assert snipe.outcome_code == "late"
            # The offset measured at start (eBay 2 s ahead) tells how far off the plan's clock was, and so how late
            # the bid reached eBay: sent 1 s before the end by this computer's clock, about 1 s after by eBay's.
            found = re.fullmatch(r"Too late: the bid of \$40\.00 reached eBay about (\d+\.\d\d) s after the end, "
                                 r"because this computer's clock was off by (\d+\.\d\d) s\.", snipe.outcome_text or "")
            assert found is not None, snipe.outcome_text
            off_by = float(found.group(2))
            assert abs(off_by - 2.0) < 0.05
            assert snipe.sent_at is not None
            late = (snipe.sent_at + timedelta(seconds=off_by + (snipe.latency_ms or 0) / 1000) - snipe.end_time)
            assert abs(float(found.group(1)) - late.total_seconds()) < 0.06

    asyncio.run(main())


def test_a_maximum_that_includes_shipping_sends_the_maximum_less_the_charges(
        sim: SimulatorServer, tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            auction = sim.create_auction("Heavy lamp", "10.00", ends_in=5.0, shipping="7.25", import_charges="1.50")
            pk = r.snipe(auction, "40.00", lead=1.0)
            r.store.update_fields(pk, shipping_minor=725, shipping_currency="USD", import_charges_minor=150,
                                  import_charges_currency="USD")
            r.store.set_includes_shipping(pk, True)
            async with r.running():
                snipe = await wait_status(r, pk, DONE, 10)
            assert snipe.status == "WON", snipe.status_reason
            mine = [b for b in sim.auction(auction["legacy_item_id"])["bids"] if b["bidder"] == "demo"]
            assert [b["max"] for b in mine] == ["31.25"]  # 40.00 − 7.25 shipping − 1.50 import charges
            # What winning cost is the price plus the charges, and that is what the saving is counted on.
            assert snipe.outcome_code == "won"
            assert snipe.outcome_text == ("Won at $10.00 + $8.75 shipping and import charges = $18.75, saving $21.25 "
                                          "below your maximum of $40.00.")

    asyncio.run(main())


def test_a_price_that_passed_the_bid_of_a_maximum_including_shipping_says_both(
        sim: SimulatorServer, tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            auction = sim.create_auction("Bid up under the maximum", "10.00", ends_in=6.0, shipping="5.00", rivals=[
                {"max": "38.00", "before_end": 5.9}, {"max": "37.00", "before_end": 5.8}])
            pk = r.snipe(auction, "40.00", lead=1.0)
            r.store.update_fields(pk, shipping_minor=500, shipping_currency="USD")
            r.store.set_includes_shipping(pk, True)  # the bid is $35.00
            async with r.running():
                snipe = await wait_status(r, pk, DONE, 10)
            price = sim.auction(auction["legacy_item_id"])["current_price"]
            assert 35 < float(price) < 40  # below the maximum, above the bid: the bid is what could not win
            assert snipe.status == "SKIPPED"
            assert snipe.outcome_code == "price_passed_max"
            assert snipe.outcome_text == (f"Skipped: the price reached ${price} before the fire, passing your bid of "
                                          "$35.00 (your maximum of $40.00 less $5.00 shipping); no bid was sent.")
            assert r.bids() == []

    asyncio.run(main())
