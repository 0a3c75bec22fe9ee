"""Hostile replies from a scripted loopback server: always a typed error, never a crash or a wrong amount."""

# The simulator/hostile fixtures are imported by name, so test parameters share it.

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sniper_app.domain.history import HistoryAction
from sniper_app.domain.money import Money
from sniper_app.ebay import (
    BadResponse,
    BidNotAllowed,
    EbayClient,
    EbayError,
    Endpoints,
    InsufficientScope,
    NeedsRelink,
    SecretStore,
    StoredToken,
    Transient,
    UserTokens,
)
from sniper_app.engine.sync import sync_watchlist
from sniper_app.store import Store
from tests.support.ebay import FAST_RETRY, run
from tests.support.hostile import HostileServer

pytestmark = pytest.mark.usefixtures("isolated_dirs")

ITEM = "v1|123456789012|0"
BIDDING = "/buy/offer/v1_beta/bidding/v1|123456789012|0"
ITEM_PATH = "/buy/browse/v1/item/v1|123456789012|0"
ACCESS = "v^1.1#i^1#p^3#r^1#I^3#f^0#t^HOSTILEaccessTOKENvalue=="
REFRESH = "v^1.1#i^1#p^3#r^1#f^0#I^3#t^HOSTILErefreshTOKENvalue=="
APP = "v^1.1#i^1#p^1#r^0#I^3#f^0#t^HOSTILEappTOKENvalue=="


def _client(server: HostileServer) -> EbayClient:
    endpoints = Endpoints.for_environment(
        "custom", api_url=server.base_url, auth_url=server.base_url, trading_url=server.base_url + "/ws/api.dll"
    )
    return EbayClient(
        endpoints=endpoints, client_id="cid", runame="run", secrets=SecretStore("custom"),
        client_secret="hostile-client-secret", retry=FAST_RETRY, timeout_s=3,
    )


async def _linked(server: HostileServer) -> EbayClient:
    server.answer("/identity/v1/oauth2/token", json.dumps({"access_token": APP, "expires_in": 7200}))
    client = _client(server)
    expires = datetime.now(UTC) + timedelta(hours=2)
    await client.store_tokens(
        "tester", UserTokens(StoredToken(ACCESS, expires), StoredToken(REFRESH, expires + timedelta(days=500)))
    )
    return client


def _bidding(**over: Any) -> str:
    body: dict[str, Any] = {
        "itemId": ITEM, "auctionStatus": "ACTIVE", "auctionEndDate": "2030-01-01T00:00:00.000Z", "bidCount": 1,
        "currentPrice": {"currency": "USD", "value": "10.00"}, "highBidder": True,
        "currentProxyBid": {"proxyBidId": "1", "maxAmount": {"currency": "USD", "value": "20.00"}},
    }
    body.update(over)
    return json.dumps(body)


BAD_BIDDING = {
    "truncated json": ("{\"itemId\": ", 200, "application/json"),
    "html page": ("<html><body>Service Unavailable</body></html>", 200, "text/html"),
    "missing price": (_bidding(currentPrice=None), 200, "application/json"),
    "exponent": (_bidding(currentPrice={"currency": "USD", "value": "1e400"}), 200, "application/json"),
    "number not string": (
        _bidding(currentPrice={"currency": "USD", "value": "@"}).replace('"@"', "1e400"), 200, "application/json"
    ),
    "float value": (_bidding(currentPrice={"currency": "USD", "value": 19.99}), 200, "application/json"),
    "10^30": (_bidding(currentPrice={"currency": "USD", "value": "1" + "0" * 30 + ".00"}), 200, "application/json"),
    "negative": (_bidding(currentPrice={"currency": "USD", "value": "-5.00"}), 200, "application/json"),
    "three decimals": (_bidding(currentPrice={"currency": "USD", "value": "10.005"}), 200, "application/json"),
    "unknown currency": (_bidding(currentPrice={"currency": "XXX", "value": "10.00"}), 200, "application/json"),
    "mixed currencies": (_bidding(currentProxyBid={"maxAmount": {"currency": "EUR", "value": "20.00"}}), 200,
                         "application/json"),
    "huge count": (_bidding(bidCount=10**30), 200, "application/json"),
    "bad status": (_bidding(auctionStatus="MAYBE"), 200, "application/json"),
    "naive date": (_bidding(auctionEndDate="2030-01-01T00:00:00"), 200, "application/json"),
    "bad item id": (_bidding(itemId="v1|abc|0"), 200, "application/json"),
    "array": ("[1,2,3]", 200, "application/json"),
    "deep nesting": ("[" * 100_000 + "]" * 100_000, 200, "application/json"),
}


@pytest.mark.parametrize("case", sorted(BAD_BIDDING))
def test_hostile_bidding_reply_is_bad_response(hostile: HostileServer, case: str) -> None:
    body, status, ctype = BAD_BIDDING[case]
    hostile.answer(BIDDING, body, status, ctype)

    async def go() -> None:
        client = await _linked(hostile)
        try:
            with pytest.raises(BadResponse) as info:
                await client.get_bidding(ITEM)
            assert str(info.value).startswith("eBay")
        finally:
            await client.aclose()

    run(go())


def test_wrong_currency_against_the_expected_one(hostile: HostileServer) -> None:
    hostile.answer(BIDDING, _bidding(currentPrice={"currency": "GBP", "value": "10.00"},
                                     currentProxyBid=None))

    async def go() -> None:
        client = await _linked(hostile)
        try:
            with pytest.raises(BadResponse, match="GBP where USD"):
                await client.get_bidding(ITEM, currency="USD")
            assert (await client.get_bidding(ITEM)).current_price == Money.of("10.00", "GBP")
        finally:
            await client.aclose()

    run(go())


def test_a_browse_reply_about_another_item_is_refused(hostile: HostileServer) -> None:
    other = {"itemId": "v1|110000000999|0", "title": "Someone else's lamp", "buyingOptions": ["AUCTION"],
             "currentBidPrice": {"currency": "USD", "value": "5.00"}, "itemEndDate": "2030-01-01T00:00:00.000Z"}
    hostile.answer(ITEM_PATH, json.dumps(other))
    hostile.answer("/buy/browse/v1/item/get_item_by_legacy_id", json.dumps(other))

    async def go() -> None:
        client = await _linked(hostile)
        try:
            with pytest.raises(BadResponse, match="describes item 110000000999, not the item 123456789012 that was"):
                await client.get_item(ITEM)
            with pytest.raises(BadResponse, match="describes item 110000000999, not the item 123456789012"):
                await client.get_item_by_legacy_id("123456789012")
        finally:
            await client.aclose()

    run(go())


def test_html_5xx_is_transient_after_retries(hostile: HostileServer) -> None:
    hostile.answer(ITEM_PATH, "<html><h1>502 Bad Gateway</h1></html>", 502, "text/html")

    async def go() -> None:
        client = await _linked(hostile)
        try:
            with pytest.raises(Transient, match="HTTP 502"):
                await client.get_item(ITEM)
        finally:
            await client.aclose()

    run(go())
    assert sum(1 for r in hostile.received if r[1] == ITEM_PATH) == 3


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<GetMyeBayBuyingResponse><Ack>Success</Ack><WatchList><ItemArray><Item><ItemID>123456789012</ItemID>
<Title>&lol3;</Title></Item></ItemArray></WatchList></GetMyeBayBuyingResponse>"""
EXTERNAL = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<GetMyeBayBuyingResponse><Ack>Success</Ack><Timestamp>&x;</Timestamp></GetMyeBayBuyingResponse>"""


def _trading(items: str, ack: str = "Success", extra: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><GetMyeBayBuyingResponse xmlns="urn:ebay:apis:eBLBaseComponents">'
        f"<Timestamp>2030-01-01T00:00:00.000Z</Timestamp><Ack>{ack}</Ack>{extra}"
        f"<WatchList><ItemArray>{items}</ItemArray><PaginationResult><TotalNumberOfPages>1</TotalNumberOfPages>"
        "<TotalNumberOfEntries>1</TotalNumberOfEntries></PaginationResult></WatchList></GetMyeBayBuyingResponse>"
    ).encode()


BAD_TRADING = {
    "entity bomb": BOMB,
    "external entity": EXTERNAL,
    "malformed": b"<GetMyeBayBuyingResponse><Ack>Success</Ack>",
    "no ack": b"<GetMyeBayBuyingResponse/>",
}

# One watched item eBay describes badly: left out with a sentence, the rest of the page still syncs.
_GOOD_ITEM = (
    "<Item><ItemID>223456789012</ItemID><ListingType>Chinese</ListingType><SellingStatus>"
    "<CurrentPrice currencyID='USD'>5.0</CurrentPrice></SellingStatus></Item>"
)
BAD_TRADING_ITEMS = {
    "bad price": (
        "123456789012",
        "<Item><ItemID>123456789012</ItemID><SellingStatus><CurrentPrice currencyID='USD'>1e5</CurrentPrice>"
        "</SellingStatus></Item>",
    ),
    "bad currency": (
        "123456789012",
        "<Item><ItemID>123456789012</ItemID><SellingStatus><CurrentPrice currencyID='ZZZ'>5.00</CurrentPrice>"
        "</SellingStatus></Item>",
    ),
    "bad item id": ("without a readable number", "<Item><ItemID>12; DROP</ItemID></Item>"),
    "bad end time": (
        "123456789012",
        "<Item><ItemID>123456789012</ItemID><ListingDetails><EndTime>soon</EndTime></ListingDetails></Item>",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_TRADING_ITEMS))
def test_one_hostile_watched_item_is_left_out_and_the_rest_synced(hostile: HostileServer, case: str) -> None:
    number, bad = BAD_TRADING_ITEMS[case]
    hostile.answer("/ws/api.dll", _trading(bad + _GOOD_ITEM), 200, "text/xml")

    async def go() -> None:
        client = await _linked(hostile)
        try:
            watch = await client.get_watch_list()
        finally:
            await client.aclose()
        assert [i.legacy_item_id for i in watch.items] == ["223456789012"]
        assert len(watch.skipped) == 1
        assert watch.skipped[0].startswith(f"Watched item {number} was left out of the sync: eBay's reply")

    run(go())


def test_a_sync_with_one_unreadable_item_keeps_the_rest_and_notes_it_in_history(
    hostile: HostileServer, tmp_path: Path
) -> None:
    _number, bad = BAD_TRADING_ITEMS["bad price"]
    hostile.answer("/ws/api.dll", _trading(bad + _GOOD_ITEM), 200, "text/xml")

    async def go() -> None:
        client = await _linked(hostile)
        try:
            with Store.open(tmp_path / "data") as store:
                user_id = store.get_or_create_user().id
                result = await sync_watchlist(store, client, user_id)
                assert result.added == 1
                assert [w.legacy_item_id for w in store.list_watch_items(user_id)] == ["223456789012"]
                notes = store.history_page(actions=HistoryAction.SYNC).rows
                assert [n.message for n in notes] == [
                    "Watched item 123456789012 was left out of the sync: eBay's reply to GetMyeBayBuying has an "
                    "amount the app cannot trust in 'SellingStatus/CurrentPrice'."
                ]
        finally:
            await client.aclose()

    run(go())


@pytest.mark.parametrize("case", sorted(BAD_TRADING))
def test_hostile_trading_reply_is_bad_response(hostile: HostileServer, case: str) -> None:
    hostile.answer("/ws/api.dll", BAD_TRADING[case], 200, "text/xml")

    async def go() -> None:
        client = await _linked(hostile)
        try:
            with pytest.raises(BadResponse):
                await client.get_watch_list()
        finally:
            await client.aclose()

    run(go())


def test_trading_invalid_token_needs_relink(hostile: HostileServer) -> None:
    errors = ("<Errors><ShortMessage>Invalid IAF token.</ShortMessage><ErrorCode>21916984</ErrorCode>"
              "<SeverityCode>Error</SeverityCode></Errors>")
    hostile.answer("/ws/api.dll", _trading("", ack="Failure", extra=errors), 200, "text/xml")

    async def go() -> None:
        client = await _linked(hostile)
        try:
            with pytest.raises(NeedsRelink) as info:
                await client.get_watch_list()
            assert info.value.error_id == 21916984
        finally:
            await client.aclose()

    run(go())
    # One refresh of the token between the two tries, then the re-link: never a loop of refreshes.
    paths = [path for _method, path, _headers, _body in hostile.received]
    assert paths == ["/ws/api.dll", "/identity/v1/oauth2/token", "/ws/api.dll"]
    refresh = hostile.received[1][3].decode()
    assert "grant_type=refresh_token" in refresh


def test_unreadable_bid_reply_says_the_bid_may_be_placed(hostile: HostileServer) -> None:
    hostile.answer(BIDDING + "/place_proxy_bid", "<html>ok</html>", 200, "text/html")

    async def go() -> None:
        client = await _linked(hostile)
        try:
            with pytest.raises(BadResponse, match="may be placed") as info:
                await client.place_proxy_bid(ITEM, Money.of("25.00", "USD"))
            assert info.value.maybe_applied
        finally:
            await client.aclose()

    run(go())
    assert sum(1 for r in hostile.received if r[1].endswith("place_proxy_bid")) == 1


def test_other_bid_refusal_keeps_ebay_error_id_and_message(hostile: HostileServer) -> None:
    body = {"errors": [{"errorId": 120010, "domain": "API_OFFER", "category": "REQUEST",
                        "message": "You cannot lower your maximum bid."}]}
    hostile.answer(BIDDING + "/place_proxy_bid", json.dumps(body), 409)

    async def go() -> None:
        client = await _linked(hostile)
        try:
            with pytest.raises(BidNotAllowed, match="cannot lower") as info:
                await client.place_proxy_bid(ITEM, Money.of("25.00", "USD"))
            assert info.value.error_id == 120010
        finally:
            await client.aclose()

    run(go())


def test_missing_scope_is_insufficient_scope(hostile: HostileServer) -> None:
    body = {"errors": [{"errorId": 1100, "domain": "ACCESS", "category": "REQUEST",
                        "message": "Access denied: Insufficient permissions to fulfill the request."}]}
    hostile.answer(BIDDING, json.dumps(body), 403)

    async def go() -> None:
        client = await _linked(hostile)
        try:
            with pytest.raises(InsufficientScope, match="link your account again"):
                await client.get_bidding(ITEM)
        finally:
            await client.aclose()

    run(go())


def test_tokens_never_reach_errors_or_logs(hostile: HostileServer, caplog: pytest.LogCaptureFixture) -> None:
    # A server that echoes the caller's token back in its error text.
    body = {"errors": [{"errorId": 120004, "message": f"Token {ACCESS} with secret hostile-client-secret refused"}]}
    hostile.answer(BIDDING + "/place_proxy_bid", json.dumps(body), 400)
    hostile.answer(BIDDING, f"<html>{ACCESS}</html>", 500, "text/html")
    caught: list[EbayError] = []

    async def go() -> None:
        client = await _linked(hostile)
        try:
            for call in (client.place_proxy_bid(ITEM, Money.of("25.00", "USD")), client.get_bidding(ITEM)):
                try:
                    await call
                except EbayError as exc:
                    caught.append(exc)
        finally:
            await client.aclose()

    with caplog.at_level(logging.DEBUG):
        run(go())
    assert len(caught) == 2
    secrets = (ACCESS, REFRESH, APP, "HOSTILEaccess", "hostile-client-secret")
    texts = [str(e) for e in caught] + [repr(e) for e in caught] + [str(e.ebay_message) for e in caught]
    texts += [r.getMessage() for r in caplog.records]
    assert caught[0].error_id == 120004
    assert "refused" in str(caught[0])
    for text in texts:
        for secret in secrets:
            assert secret not in text, text


def test_token_endpoint_reply_without_a_token_is_bad_response(hostile: HostileServer) -> None:
    hostile.answer("/identity/v1/oauth2/token", json.dumps({"expires_in": 7200}))

    async def go() -> None:
        client = _client(hostile)
        try:
            with pytest.raises(BadResponse, match="access_token"):
                await client.get_item(ITEM)
        finally:
            await client.aclose()

    run(go())
