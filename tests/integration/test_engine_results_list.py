"""Trading's won/lost list, the results' second opinion, is read once for every result settled together: it
holds every auction of the day, so a read per result grows with the square of the snipes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sniper_app.simulator import SimulatorServer
from tests.support.engine import rig
from tests.support.wait import wait_until_async


def _trading_reads(sim: SimulatorServer, since: int = 0) -> list[dict[str, object]]:
    return [q for q in sim.requests(since) if str(q["path"]).endswith("/ws/api.dll")]


def test_results_settled_together_share_one_read_of_the_won_lost_list(sim: SimulatorServer, tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            auctions = [sim.create_auction(f"Lot {n}", "10.00", ends_in=5.0 + n * 0.3) for n in range(4)]
            pks = [r.snipe(a, "40.00", lead=1.0) for a in auctions]
            async with r.running() as engine:
                await wait_until_async(lambda: r.get(pks[0]).status == "WON", 15, "the first snipe to be won")
                since = max((int(q["seq"]) for q in sim.requests()), default=0)  # the start's watch-list sync is over
                await wait_until_async(lambda: all(r.get(pk).status == "WON" for pk in pks), 15, "every snipe won")
                await wait_until_async(lambda: engine._cross_check_task is not None and engine._cross_check_task.done()
                                       and not engine._cross_check_due, 15, "the cross-check to be over")
            assert len(_trading_reads(sim, since)) == 1

    asyncio.run(main())
