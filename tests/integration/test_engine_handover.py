"""The bid is the fire thread's once handed over: it leaves with the loop frozen, a cancel or an edit made
meanwhile still decides what (if anything) is sent, and a dripping item read never holds it back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from sniper_app.domain.errors import IllegalTransition
from sniper_app.domain.history import HistoryAction
from sniper_app.domain.money import Money
from sniper_app.domain.rules import AUTO_LEAD
from sniper_app.ebay import Transient
from sniper_app.engine.autolead import latest_lead_choice
from sniper_app.simulator import SimulatorServer
from tests.support.engine import Rig, new_client, rig, wait_status
from tests.support.wait import wait_until, wait_until_async

DONE = {"WON", "LOST", "FAILED", "MISSED", "CANCELLED", "SKIPPED"}
ITEM_READS = r"^/buy/browse/v1/item/"


def _freeze_loop_until(server: SimulatorServer, sim_instant: float) -> float:
    """Block the loop's thread (as a frozen window does) until the simulator's clock reads ``sim_instant``;
    returns the simulator's time when the loop is free again."""
    wait_until(lambda: server.now() >= sim_instant, 60, f"the simulator clock to read {sim_instant}", interval_s=0.01)
    return server.now()


def _demo_bids(server: SimulatorServer, legacy_id: str) -> list[dict[str, object]]:
    return [b for b in server.auction(legacy_id)["bids"] if b["bidder"] == "demo"]


@asynccontextmanager
async def _handed_over(r: Rig, title: str) -> AsyncIterator[tuple[dict[str, Any], int]]:
    """A snipe whose bid is due in a few seconds, with the engine running, 2.5 s before its send (long
    after the hand-over); on leaving, waits for its end and stops the engine."""
    auction = r.sim.create_auction(title, "10.00", ends_in=6.0)
    pk = r.snipe(auction, "40.00", lead=1.0)
    async with r.running():
        await wait_until_async(lambda: r.sim.now() >= auction["end_epoch"] - 3.5, 10, "2.5 s before the fire")
        yield auction, pk
        await wait_status(r, pk, DONE, 10)


def test_the_bid_leaves_while_the_loop_is_frozen(sim: SimulatorServer, tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            async with _handed_over(r, "Frozen window") as (auction, pk):
                assert r.bids() == []
                thawed = _freeze_loop_until(sim, auction["end_epoch"] + 0.5)
                [bid] = r.bids()
                assert bid["arrival_epoch"] < auction["end_epoch"] < thawed  # it left while the loop was frozen
            assert r.get(pk).status == "WON"
            assert len(_demo_bids(sim, auction["legacy_item_id"])) == 1

    asyncio.run(main())


def test_a_cancel_after_the_hand_over_sends_nothing_even_with_the_loop_frozen(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            async with _handed_over(r, "Cancel after hand-over") as (auction, pk):
                r.store.cancel(pk)  # the store says so at once; the engine's loop cannot react: it is frozen
                _freeze_loop_until(sim, auction["end_epoch"] + 0.5)
            assert r.get(pk).status == "CANCELLED"
            assert r.bids() == []
            assert _demo_bids(sim, auction["legacy_item_id"]) == []

    asyncio.run(main())


def test_a_cancel_after_the_claim_is_refused_and_the_bid_is_placed(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            auction = sim.create_auction("Too late to cancel", "10.00", ends_in=5.0)
            pk = r.snipe(auction, "40.00", lead=1.0)
            async with r.running():
                await wait_until_async(lambda: r.get(pk).status != "SCHEDULED", 10, "the claim")
                with pytest.raises(IllegalTransition, match="already been sent"):
                    r.store.cancel(pk)
                await wait_status(r, pk, DONE, 10)
            assert r.get(pk).status == "WON"
            assert len(r.bids()) == 1

    asyncio.run(main())


def test_an_edit_of_the_maximum_after_the_hand_over_is_what_ebay_gets(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            async with _handed_over(r, "Edited maximum") as (auction, pk):
                r.store.update_snipe(pk, max_bid_minor=Money.of("55.00", "USD").minor)
                _freeze_loop_until(sim, auction["end_epoch"] + 0.5)
            [bid] = _demo_bids(sim, auction["legacy_item_id"])
            assert bid["max"] == "55.00"
            assert len(r.bids()) == 1
            assert r.get(pk).status == "WON"

    asyncio.run(main())


def test_a_dripping_item_read_does_not_hold_the_bid_back(sim: SimulatorServer, tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            auction = sim.create_auction("Dripping preflight", "10.00", ends_in=7.0)
            pk = r.snipe(auction, "40.00", lead=1.0)
            sim.add_fault(ITEM_READS, "drip", method="GET", count=1000, drip_s=2.0)
            async with r.running(preflight_s=4.0):
                await wait_status(r, pk, DONE, 20)
            snipe = r.get(pk)
            assert snipe.status == "WON"
            [bid] = r.bids()
            assert bid["arrival_epoch"] < auction["end_epoch"]
            assert any(q["path"].startswith("/buy/browse/v1/item/") for q in sim.requests())  # it was tried
            notes = [e.message for e in r.store.history_page(snipe_id=pk, actions=HistoryAction.NOTE).rows]
            assert any("goes out on the last known facts" in n for n in notes)
            placed = r.store.history_page(snipe_id=pk, actions=HistoryAction.PLACE).rows
            assert any("last known facts" in str((e.details or {}).get("item_check")) for e in placed)

    asyncio.run(main())


def test_a_dripping_reply_ends_at_the_total_deadline(sim: SimulatorServer) -> None:
    async def main() -> None:
        auction = sim.create_auction("Drip", "10.00", ends_in=600.0)
        sim.add_fault(ITEM_READS, "drip", method="GET", count=10, drip_s=0.3)
        client = new_client(sim)  # 5 s per request, whole exchange included
        try:
            started = time.monotonic()
            with pytest.raises(Transient, match=r"did not answer getItem in time \(no whole reply within 5 s\)"):
                await client.get_item(auction["item_id"])
            # Every attempt was cut at its deadline; a per-read timeout would have waited for every byte.
            assert time.monotonic() - started < 60
        finally:
            await client.aclose()

    asyncio.run(main())


def test_an_automatic_lead_is_chosen_recorded_and_kept(sim: SimulatorServer, tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            sim.set_network(latency_ms=40, jitter_ms=4)
            auction = sim.create_auction("Auto lead", "10.00", ends_in=8.0)
            pk = r.snipe(auction, "40.00", lead=AUTO_LEAD)
            async with r.running():
                await wait_status(r, pk, DONE, 15)
            assert r.get(pk).status == "WON"
            choice = latest_lead_choice(r.store, pk)
            assert choice is not None
            assert choice.seconds >= 1.0
            assert choice.why.startswith("round trip ")  # measured, not the default
            notes = [e.message for e in r.store.history_page(snipe_id=pk, actions=HistoryAction.NOTE).rows]
            assert f"Lead chosen: {choice.seconds:g} s ({choice.why})." in notes
            [bid] = r.bids()
            assert abs((auction["end_epoch"] - bid["arrival_epoch"]) - choice.seconds) < 0.1

    asyncio.run(main())
