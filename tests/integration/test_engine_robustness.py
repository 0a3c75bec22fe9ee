"""Cancel racing the fire, groups, faults at the fire, a skewed eBay clock, short-lived tokens."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from sniper_app.domain.errors import IllegalTransition
from sniper_app.domain.history import HistoryAction
from sniper_app.engine.bus import SnipeWarning
from sniper_app.simulator import SimulatorServer
from tests.support.engine import rig, wait_status
from tests.support.wait import wait_until_async

DONE = {"WON", "LOST", "FAILED", "MISSED", "CANCELLED", "SKIPPED"}


def _revoke_sign_in(server: SimulatorServer) -> None:
    """eBay ends the whole sign-in (password change, 18 months passed): refresh and access tokens die."""
    for what in ("revoke", "expire"):
        httpx.post(f"{server.base_url}/_sim/tokens/{what}", json={"user": "demo"}, timeout=10).raise_for_status()


def test_cancel_one_second_before_fire_sends_nothing(sim: SimulatorServer, tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            cancelled = sim.create_auction("Cancel me", "10.00", ends_in=4.0)
            late = sim.create_auction("Too late to cancel", "10.00", ends_in=4.5)
            p_cancel = r.snipe(cancelled, "40.00", lead=1.0)
            p_late = r.snipe(late, "40.00", lead=1.0)
            async with r.running():
                fire_at = cancelled["end_epoch"] - 1.0
                await wait_until_async(lambda: sim.now() >= fire_at - 1.0, 5, "one second before the fire")
                r.store.cancel(p_cancel)  # as the CLI would, in the database
                # The other one: a cancel after the hand-over is refused with a sentence, and the bid goes out.
                await wait_status(r, p_late, {"PLACING", "PLACED", *DONE}, 6)
                with pytest.raises(IllegalTransition, match="already been sent"):
                    r.store.cancel(p_late)
                await wait_status(r, p_late, DONE, 6)
            assert r.get(p_cancel).status == "CANCELLED"
            assert r.get(p_late).status == "WON"
            bids = r.bids()
            assert len(bids) == 1
            assert cancelled["item_id"].split("|")[1] not in bids[0]["path"]
            assert all(b["bidder"] != "demo" for b in sim.auction(cancelled["legacy_item_id"])["bids"])

    asyncio.run(main())


def test_group_first_win_cancels_the_rest(sim: SimulatorServer, tmp_path: Path) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            group = r.store.create_group(r.user_id, "one lamp", target_wins=1)
            a = sim.create_auction("Lamp A", "10.00", ends_in=4.0)
            b = sim.create_auction("Lamp B", "10.00", ends_in=7.5)
            c = sim.create_auction("Lamp C", "10.00", ends_in=7.8)
            pa, pb, pc = (r.snipe(x, "30.00", lead=1.0, group_id=int(group.id)) for x in (a, b, c))
            async with r.running():
                await wait_status(r, pa, DONE, 8)
                await wait_status(r, pb, DONE, 8)
                await wait_status(r, pc, DONE, 8)
            assert [r.get(p).status for p in (pa, pb, pc)] == ["WON", "CANCELLED", "CANCELLED"]
            assert "one lamp" in (r.get(pb).status_reason or "")
            assert [r.get(p).outcome_code for p in (pb, pc)] == ["group_done", "group_done"]
            assert len(r.bids()) == 1
            # C fires before B's result could be known: the user was warned.
            warned = [e for e in r.events if isinstance(e, SnipeWarning) and e.snipe_id == pc]
            assert warned
            assert "too soon" in warned[0].message
            notes = r.store.history_page(snipe_id=pc, actions=HistoryAction.NOTE).rows
            assert notes

    asyncio.run(main())


@pytest.mark.parametrize("kind", ["status", "timeout", "rate_limit"])
def test_transient_failure_at_fire_is_retried_before_the_end(
    sim: SimulatorServer, tmp_path: Path, kind: str
) -> None:
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            auction = sim.create_auction("Flaky", "10.00", ends_in=4.0)
            sim.add_fault(r"place_proxy_bid", kind, count=1, status=503, retry_after=0, hang_s=3.0)
            pk = r.snipe(auction, "40.00", lead=1.5)
            async with r.running():
                snipe = await wait_status(r, pk, DONE, 9)
            assert snipe.status == "WON", snipe.status_reason
            bids = r.bids()
            assert len(bids) == 2
            assert all(b["arrival_epoch"] < auction["end_epoch"] for b in bids)
            assert snipe.attempts == 2
            retries = r.store.history_page(snipe_id=pk, actions=HistoryAction.RETRY).rows
            assert len(retries) == 1

    asyncio.run(main())


@pytest.mark.parametrize("offset", [3.0, -3.0])
def test_bid_arrives_at_end_minus_lead_on_a_skewed_ebay_clock(
    sim: SimulatorServer, tmp_path: Path, offset: float
) -> None:
    sim.set_clock_offset(offset)

    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            auction = sim.create_auction("Skewed", "10.00", ends_in=4.0)
            pk = r.snipe(auction, "40.00", lead=1.0)
            async with r.running() as engine:
                await wait_status(r, pk, DONE, 8)
            assert abs(engine.clock.offset_s - offset) < 0.05
            (bid,) = r.bids()
            target = auction["end_epoch"] - 1.0
            assert target - 0.5 < bid["arrival_epoch"] < auction["end_epoch"]
            assert r.get(pk).status == "WON"

    asyncio.run(main())


def test_token_expiring_just_before_the_fire_is_renewed(sim: SimulatorServer, tmp_path: Path) -> None:
    httpx.post(sim.base_url + "/_sim/config", json={"access_token_ttl_s": 3.0}).raise_for_status()

    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            linked_at = len(sim.requests())
            auction = sim.create_auction("Short token", "10.00", ends_in=5.0)
            pk = r.snipe(auction, "40.00", lead=1.0)
            async with r.running():
                snipe = await wait_status(r, pk, DONE, 9)
            assert snipe.status == "WON", snipe.status_reason
            later = sim.requests(since=linked_at)
            refreshes = [q for q in later if q["path"] == "/identity/v1/oauth2/token"]
            assert refreshes
            (bid,) = r.bids()
            assert bid["status"] == 200

    asyncio.run(main())


def test_dead_refresh_token_warns_at_once_and_loses_no_snipe_silently(
    sim: SimulatorServer,
    tmp_path: Path,
) -> None:
    from datetime import UTC, datetime, timedelta

    from sniper_app.ebay import StoredToken, UserTokens
    from sniper_app.engine.bus import AccountStateChanged

    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            account = r.client.account
            assert account is not None
            _revoke_sign_in(sim)
            tokens = r.client.secrets.load_tokens(account)
            assert tokens.access is not None
            stale = StoredToken(tokens.access.token, datetime.now(UTC) - timedelta(seconds=1), tokens.access.scopes)
            await r.client.store_tokens(account, UserTokens(access=stale, refresh=tokens.refresh))
            early = r.snipe(sim.create_auction("Radio", "10.00", ends_in=5.0), "40.00", lead=1.0)
            later = r.snipe(sim.create_auction("Speaker", "10.00", ends_in=60.0), "40.00", lead=1.0)
            async with r.running():
                await wait_until_async(
                    lambda: any(isinstance(e, AccountStateChanged) and e.state == "needs_relink" for e in r.events),
                    6, "the account warning",
                )
                assert r.store.get_user(r.user_id).needs_relink
                await wait_status(r, early, DONE, 8)
            failed = r.get(early)
            assert failed.status == "FAILED"
            assert "link" in (failed.status_reason or "").lower()
            # The snipe further out is kept, flagged at risk, so a re-link in time still saves it.
            assert r.get(later).status in {"PENDING", "SCHEDULED"}
            notes = r.store.history_page(snipe_id=later, actions=HistoryAction.NOTE).rows
            assert any("At risk" in (n.message or "") for n in notes)
            assert r.bids() == []

    asyncio.run(main())


def test_sign_in_revoked_behind_our_back_is_found_at_the_fire_and_reported(
    sim: SimulatorServer,
    tmp_path: Path,
) -> None:
    from sniper_app.engine.bus import AccountStateChanged

    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            # The app still believes its token good for hours; eBay has revoked the whole sign-in.
            _revoke_sign_in(sim)
            pk = r.snipe(sim.create_auction("Radio", "10.00", ends_in=5.0), "40.00", lead=1.0)
            async with r.running():
                snipe = await wait_status(r, pk, DONE, 10)
            assert snipe.status == "FAILED"
            assert "link" in (snipe.status_reason or "").lower()
            assert snipe.outcome_code == "sign_in_lost"
            assert "sign-in was lost before the bid of $40.00" in (snipe.outcome_text or "")
            assert r.store.get_user(r.user_id).needs_relink
            assert any(isinstance(e, AccountStateChanged) and e.state == "needs_relink" for e in r.events)
            # The refused bid is the only one eBay saw: no bid was placed on the user's behalf.
            assert all(b["status"] == 401 for b in r.bids())

    asyncio.run(main())
