"""The eBay client against the simulator over real HTTP: OAuth, Browse, Offer, Trading, faults, clock."""

# The simulator/hostile fixtures are imported by name, so test parameters share it.

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sniper_app.domain.money import Money
from sniper_app.ebay import (
    USER_SCOPES,
    AccountLinker,
    AuctionEnded,
    BidTooLow,
    ItemNotFound,
    LinkError,
    NeedsRelink,
    NoBiddingActivity,
    RateLimited,
    SecretStore,
    Transient,
    cross_check,
    measure_offset,
)
from sniper_app.ebay.clock_offset import offset_from_server_time
from sniper_app.simulator import SimulatorServer
from tests.support.contracts import validate_request_body
from tests.support.ebay import consent_redirect, ctl, link, make_client, run

pytestmark = pytest.mark.usefixtures("isolated_dirs")


def _requests(sim: SimulatorServer, path_part: str, since: int = 0) -> list[dict[str, Any]]:
    return [r for r in sim.requests(since) if path_part in r["path"]]


def _last_seq(sim: SimulatorServer) -> int:
    reqs = sim.requests(0)
    return reqs[-1]["seq"] if reqs else 0


# --- OAuth ----------------------------------------------------------------------------------------


def test_link_stores_tokens_in_keyring_and_returns_username(sim: SimulatorServer) -> None:
    sent: list[httpx.Request] = []

    async def go() -> None:
        client = make_client(sim)
        client.http.event_hooks["request"].append(_capture(sent))
        linker = AccountLinker(client)
        first, second = linker.start(), linker.start({"sim_user": "alice"})
        q1, q2 = parse_qs(urlsplit(first).query), parse_qs(urlsplit(second).query)
        assert q1["state"] != q2["state"]
        assert len(q1["state"][0]) >= 20
        assert q2["scope"][0].split(" ") == list(USER_SCOPES)
        assert q2["redirect_uri"] == ["sim-runame"]
        assert q2["response_type"] == ["code"]
        user = await linker.complete(await consent_redirect(client, second))
        assert user.username == "alice"
        assert client.account == "alice"
        await client.aclose()

    run(go())
    tokens = SecretStore("simulator").load_tokens("alice")
    assert tokens.access is not None
    assert tokens.refresh is not None
    assert tokens.access.token.startswith("v^1.1#")
    exchange = next(r for r in sent if r.url.path.endswith("/oauth2/token"))
    form = parse_qs(exchange.content.decode())
    assert form["grant_type"] == ["authorization_code"]
    assert form["redirect_uri"] == ["sim-runame"]
    assert exchange.headers["authorization"].startswith("Basic ")


def _capture(store: list[httpx.Request]) -> Any:
    async def hook(request: httpx.Request) -> None:
        store.append(request)

    return hook


def test_link_with_a_stale_state_is_refused_with_a_sentence(sim: SimulatorServer) -> None:
    async def go() -> None:
        client = make_client(sim)
        old = AccountLinker(client)
        pasted = await consent_redirect(client, old.start())
        linker = AccountLinker(client)
        linker.start()
        with pytest.raises(LinkError, match="different link attempt"):
            await linker.complete(pasted)
        with pytest.raises(LinkError, match="declined"):
            await linker.complete(pasted.split("?")[0] + "?error=access_denied&state=x")
        await client.aclose()

    run(go())
    assert SecretStore("simulator").load_tokens("demo").refresh is None


def test_expired_code_asks_to_start_again(sim: SimulatorServer) -> None:
    async def go() -> None:
        client = make_client(sim)
        linker = AccountLinker(client)
        pasted = await consent_redirect(client, linker.start())
        ctl(sim, "POST", "/_sim/clock", {"advance_s": 300})
        with pytest.raises(LinkError, match="expired") as info:
            await linker.complete(pasted)
        assert "v^1.1" not in str(info.value)
        await client.aclose()

    run(go())


def test_expired_access_token_is_refreshed_once_and_refresh_token_kept(sim: SimulatorServer) -> None:
    sent: list[httpx.Request] = []
    auction = sim.create_auction(start_price="10.00")

    async def go() -> None:
        client = make_client(sim)
        await link(client)
        before = SecretStore("simulator").load_tokens("demo")
        await client.place_proxy_bid(auction["item_id"], Money.of("12.00", "USD"))
        client.http.event_hooks["request"].append(_capture(sent))
        ctl(sim, "POST", "/_sim/tokens/expire", {"user": "demo"})
        status = await client.get_bidding(auction["item_id"])
        assert status.high_bidder
        assert status.max_amount == Money.of("12.00", "USD")
        after = SecretStore("simulator").load_tokens("demo")
        assert after.access is not None
        assert before.access is not None
        assert before.refresh is not None
        assert after.access.token != before.access.token
        assert after.refresh == before.refresh
        await client.aclose()

    run(go())
    refreshes = [r for r in sent if r.url.path.endswith("/oauth2/token")]
    assert len(refreshes) == 1
    form = parse_qs(refreshes[0].content.decode())
    assert form["grant_type"] == ["refresh_token"]
    assert form["scope"][0].split(" ") == list(USER_SCOPES)
    # 401, refresh, then the retried call.
    raw_paths = [r.url.raw_path.decode() for r in sent]
    assert raw_paths.count(f"/buy/offer/v1_beta/bidding/{_enc(auction['item_id'])}") == 2


def _enc(item_id: str) -> str:
    return item_id.replace("|", "%7C")


def test_revoked_refresh_token_needs_relink(sim: SimulatorServer) -> None:
    async def go() -> None:
        client = make_client(sim)
        await link(client)
        ctl(sim, "POST", "/_sim/tokens/revoke", {"user": "demo"})
        ctl(sim, "POST", "/_sim/tokens/expire", {"user": "demo"})
        with pytest.raises(NeedsRelink, match="link your account again") as info:
            await client.get_watch_list()
        assert "v^1.1" not in str(info.value)
        assert "v^1.1" not in repr(info.value)
        await client.aclose()

    run(go())


# --- Browse ---------------------------------------------------------------------------------------


def test_get_item_and_by_legacy_id(sim: SimulatorServer) -> None:
    auction = sim.create_auction(title="Brass compass", start_price="10.00", shipping="4.99")

    async def go() -> None:
        client = make_client(sim)
        item = await client.get_item(auction["item_id"])
        same = await client.get_item_by_legacy_id(auction["legacy_item_id"])
        assert item.title == same.title == "Brass compass"
        assert item.item_id == auction["item_id"]
        assert item.legacy_item_id == auction["legacy_item_id"]
        assert item.current_price == Money.of("10.00", "USD")
        assert item.shipping_cost == Money.of("4.99", "USD")
        assert item.is_auction
        assert item.end_time is not None
        assert abs(item.end_time.timestamp() - auction["end_epoch"]) < 0.002
        assert item.timing is not None
        assert item.timing.rtt_s > 0
        with pytest.raises(ItemNotFound):
            await client.get_item("v1|199999999999|0")
        await client.aclose()

    seq = _last_seq(sim)
    run(go())
    paths = [r["path"] for r in sim.requests(seq)]
    assert any(p.endswith(_enc(auction["item_id"])) or p.endswith(auction["item_id"]) for p in paths)


def test_item_path_is_percent_encoded(sim: SimulatorServer) -> None:
    auction = sim.create_auction()
    sent: list[httpx.Request] = []

    async def go() -> None:
        client = make_client(sim)
        client.http.event_hooks["request"].append(_capture(sent))
        await client.get_item(auction["item_id"])
        await client.aclose()

    run(go())
    raw = next(r.url.raw_path.decode() for r in sent if b"/item/" in r.url.raw_path)
    assert raw.endswith("/item/" + _enc(auction["item_id"]))


# --- Trading --------------------------------------------------------------------------------------


def test_watch_list_of_250_items_comes_in_two_pages(sim: SimulatorServer) -> None:
    for i in range(250):
        sim.create_auction(title=f"Lot {i}", start_price="1.50", ends_in=3600 + i, watched_by=["demo"])
    sent: list[httpx.Request] = []

    async def go() -> None:
        client = make_client(sim, marketplace="EBAY_GB")
        await link(client)
        client.http.event_hooks["request"].append(_capture(sent))
        watch = await client.get_watch_list()
        assert len(watch.items) == 250
        assert watch.total_entries == 250
        assert len({i.legacy_item_id for i in watch.items}) == 250
        assert {i.title for i in watch.items} == {f"Lot {i}" for i in range(250)}
        assert all(i.is_auction and i.item_id == f"v1|{i.legacy_item_id}|0" for i in watch.items)
        assert watch.timestamp is not None
        await client.aclose()

    run(go())
    calls = [r for r in sent if r.url.path == "/ws/api.dll"]
    assert len(calls) == 2
    headers = calls[0].headers
    assert headers["x-ebay-api-call-name"] == "GetMyeBayBuying"
    assert headers["x-ebay-api-siteid"] == "3"
    assert headers["x-ebay-api-iaf-token"].startswith("v^1.1#")
    assert "bearer" not in headers["x-ebay-api-iaf-token"].lower()
    assert headers["content-type"] == "text/xml"
    assert b"<PageNumber>2</PageNumber>" in calls[1].content


def test_won_and_lost_lists(sim: SimulatorServer) -> None:
    win = sim.create_auction(title="Win me", start_price="10.00", ends_in=60)
    lose = sim.create_auction(title="Lose me", start_price="10.00", ends_in=60)
    ctl(sim, "POST", f"/_sim/auctions/{win['legacy_item_id']}/bid", {"user": "rival1", "max": "20.00"})
    ctl(sim, "POST", f"/_sim/auctions/{lose['legacy_item_id']}/bid", {"user": "rival2", "max": "40.00"})

    async def go() -> None:
        client = make_client(sim)
        await link(client)
        await client.place_proxy_bid(win["item_id"], Money.of("30.00", "USD"))
        await client.place_proxy_bid(lose["item_id"], Money.of("15.00", "USD"))
        ctl(sim, "POST", "/_sim/clock", {"advance_s": 120})
        result = await client.get_buying_results(30)
        assert [i.title for i in result.won] == ["Win me"]
        assert result.won[0].final_price == Money.of("20.50", "USD")
        assert [i.legacy_item_id for i in result.lost] == [lose["legacy_item_id"]]
        await client.aclose()

    run(go())


# --- Offer ----------------------------------------------------------------------------------------


def test_bid_outcomes_too_low_outbid_ended(sim: SimulatorServer) -> None:
    auction = sim.create_auction(start_price="10.00", ends_in=60)
    ended = sim.create_auction(start_price="10.00", ends_in=30)

    async def go() -> None:
        client = make_client(sim)
        await link(client)
        with pytest.raises(NoBiddingActivity):
            await client.get_bidding(auction["item_id"])
        with pytest.raises(BidTooLow) as low:
            await client.place_proxy_bid(auction["item_id"], Money.of("5.00", "USD"))
        assert low.value.error_id == 120008
        assert low.value.ebay_message
        result = await client.place_proxy_bid(auction["item_id"], Money.of("20.00", "USD"))
        assert result.proxy_bid_id
        assert result.timing.rtt_s > 0
        ctl(sim, "POST", f"/_sim/auctions/{auction['legacy_item_id']}/bid", {"user": "rival", "max": "50.00"})
        outbid = await client.get_bidding(auction["item_id"], currency="USD")
        assert not outbid.high_bidder
        assert outbid.current_price == Money.of("20.50", "USD")
        ctl(sim, "POST", "/_sim/clock", {"advance_s": 40})
        with pytest.raises(AuctionEnded, match="ended") as end:
            await client.place_proxy_bid(ended["item_id"], Money.of("20.00", "USD"))
        assert end.value.error_id == 120012
        await client.aclose()

    run(go())


# start price, rival max (bids first) or None, our max, we win?, final price
PROXY_CASES = [
    ("10.00", "20.00", "30.00", True, "20.50"),
    ("10.00", "30.00", "20.00", False, "20.50"),
    ("10.00", "25.00", "25.00", False, "25.00"),  # an equal maximum loses to the earlier bid
    ("10.00", None, "50.00", True, "10.00"),
    ("100.00", "101.00", "150.00", True, "103.50"),
    ("10.00", "20.00", "20.25", True, "20.25"),  # less than a full increment when reaching the max
]


@pytest.mark.parametrize(("start", "rival", "ours", "we_win", "final"), PROXY_CASES)
def test_proxy_bidding_table(
    sim: SimulatorServer, start: str, rival: str | None, ours: str, we_win: bool, final: str
) -> None:
    auction = sim.create_auction(start_price=start, ends_in=60)
    if rival:
        ctl(sim, "POST", f"/_sim/auctions/{auction['legacy_item_id']}/bid", {"user": "rival", "max": rival})

    async def go() -> None:
        client = make_client(sim)
        await link(client)
        await client.place_proxy_bid(auction["item_id"], Money.of(ours, "USD"))
        ctl(sim, "POST", "/_sim/clock", {"advance_s": 120})
        status = await client.get_bidding(auction["item_id"])
        assert status.ended
        assert status.won is we_win
        assert status.current_price == Money.of(final, "USD")
        await client.aclose()

    run(go())
    state = ctl(sim, "GET", f"/_sim/auctions/{auction['legacy_item_id']}")
    assert state["winner"] == ("demo" if we_win else "rival")
    assert Decimal(state["final_price"]) == Decimal(final)


def test_bid_request_matches_the_contract(sim: SimulatorServer) -> None:
    auction = sim.create_auction(start_price="10.00", marketplace="EBAY_DE")
    sent: list[httpx.Request] = []

    async def go() -> None:
        client = make_client(sim, marketplace="EBAY_DE")
        await link(client)
        client.http.event_hooks["request"].append(_capture(sent))
        await client.place_proxy_bid(auction["item_id"], Money.of("12.50", "EUR"))
        await client.aclose()

    run(go())
    bid = next(r for r in sent if r.url.path.endswith("/place_proxy_bid"))
    body = json.loads(bid.content)
    validate_request_body("buy_offer_v1_beta.yml", "/bidding/{item_id}/place_proxy_bid", "post", body)
    assert body == {"maxAmount": {"currency": "EUR", "value": "12.50"}, "userConsent": {"adultOnlyItem": False}}
    assert bid.headers["x-ebay-c-marketplace-id"] == "EBAY_DE"
    assert bid.headers["content-type"] == "application/json"
    assert bid.headers["authorization"].startswith("Bearer v^1.1#")


# --- faults ---------------------------------------------------------------------------------------


def test_5xx_read_is_retried_but_a_bid_is_not(sim: SimulatorServer) -> None:
    auction = sim.create_auction(start_price="10.00")

    async def go() -> None:
        client = make_client(sim)
        await link(client)
        await client.place_proxy_bid(auction["item_id"], Money.of("11.00", "USD"))
        seq = _last_seq(sim)
        ctl(sim, "POST", "/_sim/faults", {"path": "/bidding/[^/]+$", "count": 2, "kind": "status", "status": 503})
        status = await client.get_bidding(auction["item_id"])
        assert status.high_bidder
        assert len(_requests(sim, "/bidding/", seq)) == 3
        seq = _last_seq(sim)
        ctl(sim, "POST", "/_sim/faults", {"path": "place_proxy_bid", "count": 1, "kind": "status", "status": 500})
        with pytest.raises(Transient):
            await client.place_proxy_bid(auction["item_id"], Money.of("15.00", "USD"))
        assert len(_requests(sim, "place_proxy_bid", seq)) == 1
        await client.aclose()

    run(go())


def test_timeout_and_dropped_connection(sim: SimulatorServer) -> None:
    auction = sim.create_auction(start_price="10.00")

    async def go() -> None:
        client = make_client(sim, timeout_s=0.5)
        await link(client)
        ctl(sim, "POST", "/_sim/faults", {"path": "/buy/browse/", "count": 1, "kind": "timeout", "hang_s": 5})
        item = await client.get_item(auction["item_id"])
        assert item.legacy_item_id == auction["legacy_item_id"]
        ctl(sim, "POST", "/_sim/faults", {"path": "/buy/browse/", "count": 1, "kind": "drop"})
        assert (await client.get_item(auction["item_id"])).title
        seq = _last_seq(sim)
        ctl(sim, "POST", "/_sim/faults", {"path": "place_proxy_bid", "count": 1, "kind": "drop"})
        with pytest.raises(Transient) as dropped:
            await client.place_proxy_bid(auction["item_id"], Money.of("15.00", "USD"))
        assert dropped.value.maybe_applied
        ctl(sim, "POST", "/_sim/faults", {"path": "place_proxy_bid", "count": 1, "kind": "timeout", "hang_s": 5})
        with pytest.raises(Transient, match="in time") as slow:
            await client.place_proxy_bid(auction["item_id"], Money.of("15.00", "USD"))
        assert slow.value.maybe_applied
        assert len(_requests(sim, "place_proxy_bid", seq)) == 2
        await client.aclose()

    run(go())


def test_rate_limit_short_wait_is_honoured_long_wait_is_raised(sim: SimulatorServer) -> None:
    auction = sim.create_auction()

    async def go() -> None:
        client = make_client(sim)
        ctl(sim, "POST", "/_sim/faults", {"path": "/buy/browse/", "count": 1, "kind": "rate_limit", "retry_after": 1})
        started = time.monotonic()
        await client.get_item(auction["item_id"])
        assert time.monotonic() - started >= 0.95
        ctl(sim, "POST", "/_sim/faults", {"path": "/buy/browse/", "count": 1, "kind": "rate_limit", "retry_after": 30})
        with pytest.raises(RateLimited) as info:
            await client.get_item(auction["item_id"])
        assert info.value.retry_after == 30
        assert "30 seconds" in str(info.value)
        await client.aclose()

    run(go())


# --- clock ----------------------------------------------------------------------------------------


def test_sntp_measures_the_simulator_offset_and_trading_timestamp_agrees(sim: SimulatorServer) -> None:
    ctl(sim, "POST", "/_sim/clock", {"offset_s": 2.5})
    host, port = sim.sntp_address

    async def go() -> None:
        sample = await measure_offset(f"{host}:{port}", samples=4)
        assert abs(sample.offset_s - 2.5) < 0.005
        assert 0 <= sample.rtt_s < 0.05
        client = make_client(sim)
        await link(client)
        watch = await client.get_watch_list()
        assert watch.timestamp is not None
        assert watch.timing is not None
        estimate = offset_from_server_time(watch.timestamp, watch.timing)
        check = cross_check(sample, estimate)
        assert check.agrees, check
        wrong = cross_check(type(sample)(0.0, sample.rtt_s, sample.measured_at), estimate)
        assert not wrong.agrees
        await client.aclose()

    run(go())


def test_warm_up_keeps_one_connection_for_the_bid(sim: SimulatorServer) -> None:
    auction = sim.create_auction(start_price="10.00")
    connections: list[int] = []

    async def go() -> None:
        client = make_client(sim)
        await link(client)
        timing = await client.warm_up()
        assert timing.rtt_s > 0

        async def on_response(response: httpx.Response) -> None:
            stream = response.extensions.get("network_stream")
            if stream is not None:
                connections.append(id(stream))

        client.http.event_hooks["response"].append(on_response)
        await client.warm_up()
        await client.place_proxy_bid(auction["item_id"], Money.of("12.00", "USD"))
        await client.aclose()

    run(go())
    assert len(connections) == 2
    assert connections[0] == connections[1]
