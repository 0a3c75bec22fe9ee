"""The outcomes a network causes, against the simulator over a stretch of network the test controls: a bid that
could not leave this computer (not_sent), and one the network held up past the end (late, because of the
network)."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from sniper_app.simulator import SimulatorServer
from tests.support.engine import rig, wait_status
from tests.support.net_link import NetLink
from tests.support.wait import wait_until_async

DONE = {"WON", "LOST", "FAILED", "MISSED", "SKIPPED", "CANCELLED"}


def _link(sim: SimulatorServer) -> NetLink:
    parts = urlsplit(sim.base_url)
    assert parts.hostname is not None
    assert parts.port is not None
    return NetLink((parts.hostname, parts.port)).start()


def test_a_bid_that_cannot_leave_this_computer_is_not_sent_and_says_why(sim: SimulatorServer, tmp_path: Path) -> None:
    link = _link(sim)

    async def main() -> None:
        async with rig(sim, tmp_path, api_url=link.url) as r:
            auction = sim.create_auction("Network down", "10.00", ends_in=6.0)
            pk = r.snipe(auction, "40.00", lead=1.0)
            link.cut()  # the network to eBay is down from here to past the end
            async with r.running():
                snipe = await wait_status(r, pk, DONE, 12)
            assert r.bids() == []
            assert sim.auction(auction["legacy_item_id"])["bids"] == []
            assert snipe.status == "FAILED"
            assert snipe.sent_at is None
            assert snipe.outcome_code == "not_sent"
            assert re.fullmatch(
                r"Not bid: the bid of \$40\.00 could not leave this computer, because the network did not reach eBay "
                r"\(connect failed: ConnectionRefusedError\)(; it tried \d+ times before the end)?\.",
                snipe.outcome_text or ""), snipe.outcome_text

    asyncio.run(main())


def test_a_bid_the_network_holds_up_past_the_end_is_late_because_of_the_network(
        sim: SimulatorServer, tmp_path: Path) -> None:
    link = _link(sim)

    async def main() -> None:
        async with rig(sim, tmp_path, api_url=link.url) as r:
            auction = sim.create_auction("Congested", "10.00", ends_in=6.0)
            pk = r.snipe(auction, "40.00", lead=1.0)
            # Every bid request spends 3 s on the way, three times the lead; everything else passes at once, so
            # the latency the engine measures and plans with stays small.
            link.hold(b"place_proxy_bid", 3.0)
            async with r.running():
                snipe = await wait_status(r, pk, DONE, 15)
                # The held bid does reach the simulator in the end, after the auction ended.
                await wait_until_async(lambda: len(r.bids()) >= 1, 10, "the held bid to reach the simulator")
            assert all(bid["arrival_epoch"] > auction["end_epoch"] for bid in r.bids())
            mine = [b for b in sim.auction(auction["legacy_item_id"])["bids"] if b["bidder"] == "demo"]
            assert mine
            assert [(b["accepted"], b["reason"]) for b in mine] == [(False, "auction ended")] * len(mine)
            assert snipe.status == "FAILED"
            assert snipe.outcome_code == "late"
            # Told from the timing record: when it left, and the latency the plan allowed for.
            assert snipe.sent_at is not None
            assert snipe.latency_ms is not None
            offset = timedelta(milliseconds=snipe.clock_offset_ms or 0.0)
            before = (snipe.end_time - offset - snipe.sent_at).total_seconds()
            assert before > 0  # it left in time: the network, not the send, made it late
            found = re.fullmatch(
                r"Too late: the bid of \$40\.00 left (\d+\.\d\d) s before the end but did not reach eBay in time, "
                r"because the network was slower than measured \(no answer came back; (under 1 ms|\d+ ms) each way "
                r"was measured\)\.", snipe.outcome_text or "")
            assert found is not None, snipe.outcome_text
            assert abs(float(found.group(1)) - before) < 0.06  # the offset measured since may move it a little
            assert link.held >= 1

    asyncio.run(main())
