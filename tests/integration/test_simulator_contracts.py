"""Every Browse/Offer/Identity reply of the simulator, success and error, matches eBay's contracts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from sniper_app.simulator import SimulatorServer
from tests.support.contracts import ContractError, validate_request_body, validate_response
from tests.support.simulator import (
    API_SCOPE,
    app_token,
    user_token,
)

OFFER = "buy_offer_v1_beta.yml"
BROWSE = "buy_browse_v1.yml"
IDENTITY = "commerce_identity_v1.yml"
BID_PATH = "/bidding/{item_id}/place_proxy_bid"
BIDDING_PATH = "/bidding/{item_id}"


def enc(item_id: str) -> str:
    return quote(item_id, safe="")


class Ebay:
    """Thin httpx wrapper for these tests."""

    def __init__(self, srv: SimulatorServer) -> None:
        self.sim = srv
        self.http = httpx.Client(base_url=srv.base_url)
        self.token = user_token(srv)

    def headers(self, token: str | None = None, marketplace: str | None = "EBAY_US") -> dict[str, str]:
        h = {"Authorization": f"Bearer {token or self.token}"}
        if marketplace is not None:
            h["X-EBAY-C-MARKETPLACE-ID"] = marketplace
        return h

    def bid(self, item_id: str, value: str, currency: str = "USD", **kw: Any) -> httpx.Response:
        body = {"maxAmount": {"currency": currency, "value": value}, "userConsent": {"adultOnlyItem": False}}
        validate_request_body(OFFER, BID_PATH, "post", body)
        return self.http.post(
            f"/buy/offer/v1_beta/bidding/{enc(item_id)}/place_proxy_bid", json=body, headers=self.headers(**kw)
        )

    def bidding(self, item_id: str, **kw: Any) -> httpx.Response:
        return self.http.get(f"/buy/offer/v1_beta/bidding/{enc(item_id)}", headers=self.headers(**kw))


@pytest.fixture
def ebay(sim: SimulatorServer) -> Iterator[Ebay]:
    client = Ebay(sim)
    yield client
    client.http.close()


def check_bid(r: httpx.Response) -> None:
    validate_response(OFFER, BID_PATH, "post", r.status_code, r.json())


def error_id(r: httpx.Response) -> int:
    return int(r.json()["errors"][0]["errorId"])


def test_browse_get_item_and_legacy_match_contract(ebay: Ebay) -> None:
    a = ebay.sim.create_auction("Brass telescope", "25.00", 600, reserve="80.00", buy_it_now="150.00",
                                shipping="7.50")
    token = app_token(ebay.sim)
    r = ebay.http.get(f"/buy/browse/v1/item/{enc(a['item_id'])}", headers=ebay.headers(token))
    assert r.status_code == 200
    validate_response(BROWSE, "/item/{item_id}", "get", 200, r.json())
    item = r.json()
    assert item["itemId"] == a["item_id"]
    assert item["legacyItemId"] == a["legacy_item_id"]
    assert item["title"] == "Brass telescope"
    assert item["currentBidPrice"] == {"currency": "USD", "value": "25.00"}
    assert item["minimumPriceToBid"] == {"currency": "USD", "value": "25.00"}
    assert item["price"] == {"currency": "USD", "value": "150.00"}  # Buy It Now still open
    assert item["buyingOptions"] == ["AUCTION", "FIXED_PRICE"]
    assert item["reservePriceMet"] is False
    assert item["shippingOptions"][0]["shippingCost"] == {"currency": "USD", "value": "7.50"}
    assert item["itemEndDate"] == a["end_time"]
    assert item["itemWebUrl"].startswith(ebay.sim.base_url + "/itm/")
    assert httpx.get(item["image"]["imageUrl"]).content.startswith(b"\x89PNG")
    assert {"username", "feedbackScore", "feedbackPercentage"} <= set(item["seller"])

    r = ebay.http.get("/buy/browse/v1/item/get_item_by_legacy_id",
                      params={"legacy_item_id": a["legacy_item_id"]}, headers=ebay.headers(token))
    validate_response(BROWSE, "/item/get_item_by_legacy_id", "get", r.status_code, r.json())
    assert r.json()["itemId"] == a["item_id"]

    compact = ebay.http.get(f"/buy/browse/v1/item/{enc(a['item_id'])}", params={"fieldgroups": "COMPACT"},
                            headers=ebay.headers(token)).json()
    validate_response(BROWSE, "/item/{item_id}", "get", 200, compact)
    assert "itemEndDate" not in compact
    assert "title" not in compact
    assert "image" not in compact


def test_browse_errors_match_contract(ebay: Ebay) -> None:
    token = app_token(ebay.sim)
    r = ebay.http.get(f"/buy/browse/v1/item/{enc('v1|999999999999|0')}", headers=ebay.headers(token))
    assert (r.status_code, error_id(r)) == (404, 11001)
    validate_response(BROWSE, "/item/{item_id}", "get", r.status_code, r.json())
    r = ebay.http.get("/buy/browse/v1/item/get_item_by_legacy_id", params={"legacy_item_id": "123"},
                      headers=ebay.headers(token))
    assert (r.status_code, error_id(r)) == (404, 11003)
    validate_response(BROWSE, "/item/get_item_by_legacy_id", "get", r.status_code, r.json())
    r = ebay.http.get("/buy/browse/v1/item/get_item_by_legacy_id", params={"legacy_item_id": "12x"},
                      headers=ebay.headers(token))
    assert (r.status_code, error_id(r)) == (400, 11006)
    validate_response(BROWSE, "/item/get_item_by_legacy_id", "get", r.status_code, r.json())
    r = ebay.http.get(f"/buy/browse/v1/item/{enc('v1|1|0')}", headers=ebay.headers("nonsense"))
    assert (r.status_code, error_id(r)) == (401, 1001)
    validate_response(BROWSE, "/item/{item_id}", "get", r.status_code, r.json())


def test_offer_success_replies_match_contract(ebay: Ebay) -> None:
    a = ebay.sim.create_auction("Lamp", "10.00", 600, reserve="20.00")
    r = ebay.bid(a["item_id"], "30.00")
    assert r.status_code == 200
    check_bid(r)
    assert r.json()["proxyBidId"]
    r = ebay.bidding(a["item_id"])
    validate_response(OFFER, BIDDING_PATH, "get", r.status_code, r.json())
    body = r.json()
    assert body["auctionStatus"] == "ACTIVE"
    assert body["highBidder"] is True
    assert body["currentPrice"] == {"currency": "USD", "value": "20.00"}  # jumped to the reserve
    assert body["reservePriceMet"] is True
    assert body["currentProxyBid"]["maxAmount"] == {"currency": "USD", "value": "30.00"}
    assert body["suggestedBidAmounts"][0] == {"currency": "USD", "value": "20.50"}


@pytest.mark.parametrize(
    ("setup", "value", "currency", "marketplace", "status", "expected"),
    [
        ("plain", "5.00", "USD", "EBAY_US", 409, 120008),
        ("plain", "20.00", "EUR", "EBAY_US", 409, 120009),
        ("own30", "25.00", "USD", "EBAY_US", 409, 120010),
        ("ended", "50.00", "USD", "EBAY_US", 409, 120012),
        ("bin", "50.00", "USD", "EBAY_US", 409, 120002),
        ("plain", "20.001", "USD", "EBAY_US", 400, 120013),
        ("plain", "abc", "USD", "EBAY_US", 400, 120013),
        ("plain", "20.00", "XYZ", "EBAY_US", 400, 120014),
        ("plain", "20.00", "USD", None, 400, 120015),
        ("plain", "20.00", "USD", "EBAY_XX", 400, 120017),
        ("plain", "99999999.00", "USD", "EBAY_US", 400, 120011),
        ("missing", "20.00", "USD", "EBAY_US", 404, 120001),
    ],
)
def test_offer_errors_match_contract(
    ebay: Ebay, setup: str, value: str, currency: str, marketplace: str | None, status: int, expected: int
) -> None:
    a = ebay.sim.create_auction("Clock", "10.00", 600, buy_it_now="60.00" if setup == "bin" else None)
    item_id = a["item_id"] if setup != "missing" else "v1|100000000001|0"
    if setup == "own30":
        assert ebay.bid(item_id, "30.00").status_code == 200
    if setup == "ended":
        ebay.sim.set_clock_offset(601)
    if setup == "bin":
        ebay.http.post(f"/_sim/auctions/{a['legacy_item_id']}/end", json={"reason": "buy_it_now"})
    body = {"maxAmount": {"currency": currency, "value": value}}
    headers = ebay.headers(marketplace=marketplace)
    r = ebay.http.post(f"/buy/offer/v1_beta/bidding/{enc(item_id)}/place_proxy_bid", json=body, headers=headers)
    assert (r.status_code, error_id(r)) == (status, expected), r.text
    check_bid(r)


def test_offer_missing_amount_and_get_bidding_errors(ebay: Ebay) -> None:
    a = ebay.sim.create_auction("Vase", "10.00", 600)
    r = ebay.http.post(f"/buy/offer/v1_beta/bidding/{enc(a['item_id'])}/place_proxy_bid", json={},
                       headers=ebay.headers())
    assert (r.status_code, error_id(r)) == (400, 120016)
    check_bid(r)
    r = ebay.bidding(a["item_id"])
    assert (r.status_code, error_id(r)) == (404, 120033)
    validate_response(OFFER, BIDDING_PATH, "get", r.status_code, r.json())
    r = ebay.bidding("v1|100000000002|0")
    assert (r.status_code, error_id(r)) == (404, 120001)
    validate_response(OFFER, BIDDING_PATH, "get", r.status_code, r.json())
    r = ebay.bidding(a["item_id"], marketplace=None)
    assert (r.status_code, error_id(r)) == (400, 120015)
    validate_response(OFFER, BIDDING_PATH, "get", r.status_code, r.json())


def test_offer_auth_errors(ebay: Ebay) -> None:
    a = ebay.sim.create_auction("Kettle", "10.00", 600)
    r = ebay.bid(a["item_id"], "20.00", token=app_token(ebay.sim))
    assert (r.status_code, error_id(r)) == (403, 1100)
    check_bid(r)
    browse_only = user_token(ebay.sim, scopes=(API_SCOPE,))
    r = ebay.bid(a["item_id"], "20.00", token=browse_only)
    assert (r.status_code, error_id(r)) == (403, 1100)
    ebay.http.post("/_sim/tokens/expire", json={"user": "demo"})
    r = ebay.bid(a["item_id"], "20.00")
    assert (r.status_code, error_id(r)) == (401, 1001)
    check_bid(r)


def test_identity_get_user_matches_contract(ebay: Ebay) -> None:
    ebay.http.post("/_sim/users", json={"username": "alice"})
    token = user_token(ebay.sim, user="alice")
    r = ebay.http.get("/commerce/identity/v1/user/", headers=ebay.headers(token))
    assert r.status_code == 200
    validate_response(IDENTITY, "/user/", "get", 200, r.json())
    assert r.json()["username"] == "alice"
    assert r.json()["userId"]
    r = ebay.http.get("/commerce/identity/v1/user/", headers=ebay.headers(app_token(ebay.sim)))
    assert (r.status_code, error_id(r)) == (403, 1100)
    validate_response(IDENTITY, "/user/", "get", r.status_code, r.json())


def test_contract_validator_rejects_wrong_bodies() -> None:
    with pytest.raises(ContractError):
        validate_response(OFFER, BIDDING_PATH, "get", 200, {"itemId": "v1|1|0", "bidCount": "3"})
    with pytest.raises(ContractError):
        validate_response(OFFER, BIDDING_PATH, "get", 200, {"itemID": "v1|1|0"})  # misspelt field
    with pytest.raises(ContractError):
        validate_response(OFFER, BID_PATH, "post", 409, {"errors": [{"errorId": 11001, "domain": "x",
                                                                       "category": "y", "message": "z"}]})
    with pytest.raises(ContractError):
        validate_request_body(OFFER, BID_PATH, "post", {"maxAmount": {"currency": "USD", "value": 12.5}})
