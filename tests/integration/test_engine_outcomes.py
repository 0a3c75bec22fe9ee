"""The engine against the simulator, time compressed to seconds: win, lose, skip, and what gets recorded."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from sniper_app.domain.history import HistoryAction
from sniper_app.engine.bus import SnipeStatusChanged
from sniper_app.simulator import SimulatorServer
from tests.support.engine import rig, wait_status


def test_win_lose_and_skip_in_one_run(sim: SimulatorServer, tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            win = sim.create_auction("Win me", "10.00", ends_in=5.0, rivals=[{"max": "20.00", "before_end": 3.0}])
            higher = sim.create_auction("Rival higher", "10.00", ends_in=5.5,
                                        rivals=[{"max": "60.00", "before_end": 3.0}])
            equal = sim.create_auction("Equal earlier", "10.00", ends_in=6.0,
                                       rivals=[{"max": "40.00", "before_end": 2.5}])
            skip = sim.create_auction("Too dear", "30.00", ends_in=6.0)
            p_win = r.snipe(win, "40.00", lead=1.0)
            p_higher = r.snipe(higher, "40.00", lead=1.0)
            p_equal = r.snipe(equal, "40.00", lead=1.0)
            p_skip = r.snipe(skip, "20.00", lead=1.0)
            engine = r.engine()
            token_calls = len([q for q in sim.requests() if q["path"].endswith("/identity/v1/oauth2/token")])
            await engine.start()
            try:
                won = await wait_status(r, p_win, {"WON", "LOST", "FAILED", "MISSED"}, 12)
                lost_high = await wait_status(r, p_higher, {"WON", "LOST", "FAILED", "MISSED"}, 12)
                lost_equal = await wait_status(r, p_equal, {"WON", "LOST", "FAILED", "MISSED"}, 12)
                skipped = await wait_status(r, p_skip, {"SKIPPED", "PLACED", "FAILED", "WON", "LOST"}, 12)
            finally:
                await engine.stop()

            assert won.status == "WON", won.status_reason
            assert won.final_price_minor == 2050  # rival's 20.00 + one 0.50 increment
            assert lost_high.status == "LOST", lost_high.status_reason
            assert lost_high.final_price_minor == 4100
            assert lost_equal.status == "LOST", lost_equal.status_reason
            assert lost_equal.final_price_minor == 4000  # the earlier equal bid wins at its own max
            assert skipped.status == "SKIPPED"
            assert "above your maximum" in (skipped.status_reason or "")
            # Every ending carries its code and a sentence with the numbers.
            assert (won.outcome_code, won.outcome_text) == (
                "won", "Won at $20.50, saving $19.50 below your maximum of $40.00.")
            assert (lost_high.outcome_code, lost_high.outcome_text) == (
                "outbid", "Outbid: it went for $41.00; your maximum was $40.00.")
            assert lost_equal.outcome_code == "tie_lost"
            assert "same maximum of $40.00 earlier" in (lost_equal.outcome_text or "")
            assert (skipped.outcome_code, skipped.outcome_text) == (
                "below_minimum", "Not bid: at the fire the least bid eBay accepted was $30.00, above your maximum of "
                "$20.00.")

            # eBay received exactly one bid per fired snipe, none for the skipped one, each before the end.
            bids = r.bids()
            assert len(bids) == 3
            for auction in (win, higher, equal):
                mine = [b for b in sim.auction(auction["legacy_item_id"])["bids"] if b["bidder"] == "demo"]
                assert len(mine) == 1
            ends = {a["item_id"]: a["end_epoch"] for a in (win, higher, equal)}
            for b in bids:
                item = next(k for k in ends if k.replace("|", "%7C") in b["path"] or k in b["path"])
                assert ends[item] - 1.5 < b["arrival_epoch"] < ends[item]

            # Every call to eBay is counted against its API's daily budget, as eBay meters it.
            reached = sim.requests()
            item_reads = [q for q in reached if "/buy/browse/v1/item" in q["path"]]
            bid_reads = [q for q in reached if "/bidding/" in q["path"] and not q["path"].endswith("/place_proxy_bid")]
            assert engine.metrics.calls_today("offer") == len(bids) + len(bid_reads)
            assert engine.metrics.calls_today("browse") == len(item_reads) > 0
            assert engine.metrics.calls_today("token") == len(
                [q for q in reached if q["path"].endswith("/identity/v1/oauth2/token")]) - token_calls

            # The timing record answers "why did I lose?".
            assert won.planned_at is not None
            assert won.sent_at is not None
            assert won.reply_at is not None
            assert won.attempts == 1
            assert won.proxy_bid_id
            assert won.latency_ms is not None
            assert won.clock_offset_ms is not None
            actions = [e.action for e in r.store.history_page(snipe_id=p_win).rows]
            assert {HistoryAction.SCHEDULE, HistoryAction.PLACE, HistoryAction.WON} <= set(actions)
            changes = [(e.snipe_id, e.new) for e in r.events if isinstance(e, SnipeStatusChanged)]
            assert (p_win, "WON") in changes
            assert (p_skip, "SKIPPED") in changes

    asyncio.run(main())


@pytest.mark.parametrize("ended_by", ["seller", "buy_it_now"])
def test_auction_ended_early_by_the_seller_fails_with_a_reason_and_no_bid(
    sim: SimulatorServer,
    tmp_path: Path,
    ended_by: str,
) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            auction = sim.create_auction("Withdrawn guitar", "10.00", ends_in=6.0)
            pk = r.snipe(auction, "40.00", lead=1.0)
            httpx.post(f"{sim.base_url}/_sim/auctions/{auction['legacy_item_id']}/end", json={"reason": ended_by},
                       timeout=10).raise_for_status()
            async with r.running():
                snipe = await wait_status(r, pk, {"FAILED", "MISSED", "WON", "LOST", "SKIPPED"}, 8)
            assert snipe.status == "FAILED"
            assert "ended early" in (snipe.status_reason or "")
            assert snipe.outcome_code == "ended_early"
            assert "ended early at $" in (snipe.outcome_text or "")
            assert "(ended by the seller or bought outright)" in (snipe.outcome_text or "")
            assert r.bids() == []

    asyncio.run(main())
