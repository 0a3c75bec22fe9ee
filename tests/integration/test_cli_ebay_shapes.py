"""The app against an eBay of the test's own (not the simulator) that answers in eBay's documented shapes: a
British auction read through EBAY_US with every optional field left out, a watch list written as Trading
writes it, and Offer replies localized like Browse. What the user reads and what eBay receives are checked."""

# The hostile fixture is imported by name, so test parameters share it.

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from sniper_app.domain.money import Money
from sniper_app.ebay import EbayClient, Endpoints, SecretStore, StoredToken, UserTokens
from tests.support.cli import run_cli
from tests.support.contracts import validate_response
from tests.support.ebay import FAST_RETRY, run
from tests.support.hostile import HostileServer

NUMBER = "284460198823"
ENDS = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
ENDS_TEXT = ENDS.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _pounds(value: str, dollars: str) -> dict[str, str]:
    return {"value": dollars, "currency": "USD", "convertedFromValue": value, "convertedFromCurrency": "GBP"}


# Only what eBay always sends: no legacyItemId, minimumPriceToBid, counts, image, shippingOptions or seller.
SPARSE_ITEM: dict[str, Any] = {
    "itemId": f"v1|{NUMBER}|0",
    "title": "Roberts R200 valve radio",
    "currentBidPrice": _pounds("63.20", "81.03"),
    "price": _pounds("63.20", "81.03"),
    "itemEndDate": ENDS_TEXT,
    "buyingOptions": ["AUCTION"],
    "listingMarketplaceId": "EBAY_GB",
}

WATCH_LIST = f"""<?xml version='1.0' encoding='UTF-8'?>
<GetMyeBayBuyingResponse xmlns="urn:ebay:apis:eBLBaseComponents">
  <Timestamp>
    {datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")}
  </Timestamp>
  <Ack>Warning</Ack>
  <Errors>
    <ShortMessage>Deprecated.</ShortMessage>
    <LongMessage>This compatibility level will be retired.</LongMessage>
    <ErrorCode>21917236</ErrorCode>
    <SeverityCode>Warning</SeverityCode>
  </Errors>
  <Version>1355</Version>
  <WatchList>
    <ItemArray>
      <Item>
        <BuyItNowPrice currencyID="GBP">0.0</BuyItNowPrice>
        <ItemID>
          {NUMBER}
        </ItemID>
        <ListingDetails><EndTime>{ENDS_TEXT}</EndTime></ListingDetails>
        <ListingType>Chinese</ListingType>
        <SellingStatus>
          <ConvertedCurrentPrice currencyID="USD">81.03</ConvertedCurrentPrice>
          <CurrentPrice currencyID="GBP">
            63.2
          </CurrentPrice>
        </SellingStatus>
        <Title>
          Roberts R200 valve radio
        </Title>
      </Item>
      <Item>
        <BuyItNowPrice currencyID="USD">339.9</BuyItNowPrice>
        <ItemID>184460198999</ItemID>
        <ListingDetails><EndTime>{ENDS_TEXT}</EndTime></ListingDetails>
        <ListingType>FixedPriceItem</ListingType>
        <SellingStatus><CurrentPrice currencyID="USD">339.9</CurrentPrice></SellingStatus>
        <Title>Technics SL-1200 turntable</Title>
      </Item>
    </ItemArray>
    <PaginationResult><TotalNumberOfPages>1</TotalNumberOfPages><TotalNumberOfEntries>2</TotalNumberOfEntries>
    </PaginationResult>
  </WatchList>
</GetMyeBayBuyingResponse>
"""


@pytest.fixture
def own_ebay(hostile: HostileServer, isolated_dirs: Path) -> tuple[HostileServer, dict[str, str]]:
    validate_response("buy_browse_v1.yml", "/item/{item_id}", "get", 200, SPARSE_ITEM)
    hostile.answer("/identity/v1/oauth2/token", json.dumps({
        "access_token": "v^1.1#i^1#p^3#r^1#I^3#f^0#t^OWNaccessTOKEN==", "expires_in": 7200,
        "token_type": "User Access Token",
        "refresh_token": "v^1.1#i^1#p^3#r^1#f^0#I^3#t^OWNrefreshTOKEN==", "refresh_token_expires_in": 47304000,
    }))
    hostile.answer("/commerce/identity/v1/user/", json.dumps({"userId": "u-1", "username": "radio_fan"}))
    hostile.answer("/ws/api.dll", WATCH_LIST, content_type="text/xml")
    hostile.answer("/buy/browse/v1/item/get_item_by_legacy_id", json.dumps(SPARSE_ITEM))
    hostile.answer(f"/buy/browse/v1/item/v1|{NUMBER}|0", json.dumps(SPARSE_ITEM))
    env = {
        "SNIPER_EBAY_ENV": "custom",
        "SNIPER_EBAY_API_URL": hostile.base_url,
        "SNIPER_EBAY_AUTH_URL": hostile.base_url,
        "SNIPER_EBAY_TRADING_URL": hostile.base_url + "/ws/api.dll",
        "SNIPER_EBAY_CLIENT_ID": "own-client",
        "SNIPER_EBAY_RUNAME": "own-runame",
        "SNIPER_EBAY_CLIENT_SECRET": "own-client-secret",
        "SNIPER_EBAY_MARKETPLACE": "EBAY_US",
    }
    consent = run_cli("account", "link", "--print-url", "--json", env=env)
    assert consent.returncode == 0, consent.stderr
    state = parse_qs(urlsplit(json.loads(consent.stdout)["consent_url"]).query)["state"][0]
    linked = run_cli("account", "link", "--redirect-url",
                     f"https://signin.example/accepted?state={state}&code=v%5E1.1%23i%5E1%23code", env=env)
    assert linked.returncode == 0, linked.stderr
    return hostile, env


def test_a_sync_of_a_watch_list_written_as_trading_writes_it(own_ebay: tuple[HostileServer, dict[str, str]]) -> None:
    _server, env = own_ebay
    synced = run_cli("watchlist", "sync", env=env)
    assert synced.returncode == 0, synced.stderr
    listed = run_cli("watchlist", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    radio = next(line for line in listed.stdout.splitlines() if NUMBER in line)
    assert "£63.20 ≈ $81.03" in radio
    assert "not snipeable" not in radio
    turntable = next(line for line in listed.stdout.splitlines() if "184460198999" in line)
    assert "not snipeable" in turntable
    data = json.loads(run_cli("watchlist", "list", "--json", env=env).stdout)
    [gb] = [row for row in data if row["item"] == NUMBER]
    assert (gb["currency"], gb["current_price"], gb["snipeable"]) == ("GBP", "63.20", True)


def test_a_sparse_gb_listing_is_sniped_in_pounds_and_a_dollar_maximum_refused(
    own_ebay: tuple[HostileServer, dict[str, str]],
) -> None:
    server, env = own_ebay
    dollars = run_cli("snipe", "add", NUMBER, "$90", env=env)
    assert dollars.returncode == 2
    assert "GBP" in dollars.stderr or "£" in dollars.stderr
    added = run_cli("snipe", "add", NUMBER, "90", env=env)
    assert added.returncode == 0, added.stderr
    assert "£90.00" in added.stdout
    assert "read in GBP" in added.stdout + added.stderr
    browse = [r for r in server.received if r[1].startswith("/buy/browse/")]
    assert browse
    assert all(headers.get("x-ebay-c-marketplace-id") == "EBAY_US" for _m, _p, headers, _b in browse)
    listed = run_cli("snipe", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    # The one snipe (its title on a line of its own when the amounts leave it too little room): the maximum
    # at the rate eBay converted the price (63.20 -> 81.03), and the price with eBay's conversion.
    shown = listed.stdout
    assert "Roberts R200" in shown
    assert "max £90.00 ≈ $115.39" in shown
    assert "now £63.20 ≈ $81.03" in shown
    snipes = json.loads(run_cli("snipe", "list", "--json", env=env).stdout)
    [snipe] = snipes
    assert (snipe["currency"], snipe["max_bid"], snipe["current_price"]) == ("GBP", "90.00", "63.20")
    # No seller, no picture, no counts: nothing is claimed about them, and the snipe is usable.
    edited = run_cli("snipe", "edit", str(snipe["id"]), "--max", "95", env=env)
    assert edited.returncode == 0, edited.stderr
    assert "read in GBP" in edited.stdout + edited.stderr
    wrong = run_cli("snipe", "edit", str(snipe["id"]), "--max", "$95", env=env)
    assert wrong.returncode == 2
    assert "GBP" in wrong.stderr or "£" in wrong.stderr


@pytest.mark.usefixtures("isolated_dirs")
def test_a_pound_bid_goes_out_in_pounds_and_a_localized_offer_reply_reads_in_pounds(hostile: HostileServer) -> None:
    rest = f"/buy/offer/v1_beta/bidding/v1|{NUMBER}|0"
    hostile.answer("/identity/v1/oauth2/token", json.dumps({"access_token": "app-token-value", "expires_in": 7200}))
    hostile.answer(rest + "/place_proxy_bid", json.dumps({"proxyBidId": "8842"}))
    # Offer's contract has no conversion, but should eBay localize it as Browse does, pounds still count.
    hostile.answer(rest, json.dumps({
        "itemId": f"v1|{NUMBER}|0", "auctionStatus": "ACTIVE", "highBidder": True,
        "currentPrice": _pounds("64.20", "82.31"),
        "currentProxyBid": {"proxyBidId": "8842", "maxAmount": _pounds("90.00", "115.39")},
    }))

    async def go() -> None:
        endpoints = Endpoints.for_environment("custom", api_url=hostile.base_url, auth_url=hostile.base_url,
                                              trading_url=hostile.base_url + "/ws/api.dll")
        client = EbayClient(endpoints=endpoints, client_id="cid", runame="run", secrets=SecretStore("custom"),
                            client_secret="own-client-secret", retry=FAST_RETRY, timeout_s=3)
        try:
            later = datetime.now(UTC) + timedelta(hours=2)
            await client.store_tokens("radio_fan", UserTokens(StoredToken("user-access-token", later),
                                                              StoredToken("user-refresh-token", later)))
            placed = await client.place_proxy_bid(f"v1|{NUMBER}|0", Money.of("90.00", "GBP"),
                                                  marketplace="EBAY_US")
            assert placed.proxy_bid_id == "8842"
            status = await client.get_bidding(f"v1|{NUMBER}|0", currency="GBP", marketplace="EBAY_US")
            assert (status.current_price, status.max_amount) == (Money.of("64.20", "GBP"), Money.of("90.00", "GBP"))
        finally:
            await client.aclose()

    run(go())
    [(_method, _path, headers, body)] = [r for r in hostile.received if r[1].endswith("/place_proxy_bid")]
    assert json.loads(body)["maxAmount"] == {"currency": "GBP", "value": "90.00"}
    assert headers["x-ebay-c-marketplace-id"] == "EBAY_US"
