"""The simulator answers as eBay does by default: localized Browse prices, counts left out when nobody bid,
Trading amounts and whitespace as eBay writes them, some warnings, fixed-price listings in the watch list."""

from __future__ import annotations

from urllib.parse import quote
from xml.etree.ElementTree import Element

import httpx
from defusedxml import ElementTree

from sniper_app.simulator import SimulatorServer
from tests.support.contracts import validate_response
from tests.support.simulator import app_token, user_token

BROWSE = "buy_browse_v1.yml"
OFFER = "buy_offer_v1_beta.yml"
NS = {"e": "urn:ebay:apis:eBLBaseComponents"}
WATCH = ("<WatchList><Include>true</Include><Pagination><EntriesPerPage>200</EntriesPerPage>"
         "<PageNumber>1</PageNumber></Pagination></WatchList>")


def _item(srv: SimulatorServer, item_id: str, marketplace: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {app_token(srv)}"}
    if marketplace is not None:
        headers["X-EBAY-C-MARKETPLACE-ID"] = marketplace
    reply = httpx.get(f"{srv.base_url}/buy/browse/v1/item/{quote(item_id, safe='')}", headers=headers)
    validate_response(BROWSE, "/item/{item_id}", "get", reply.status_code, reply.json())
    return reply


def _trading(srv: SimulatorServer, token: str, site: str = "0") -> tuple[bytes, Element]:
    body = ('<?xml version="1.0" encoding="utf-8"?><GetMyeBayBuyingRequest xmlns="urn:ebay:apis:eBLBaseComponents">'
            + WATCH + "</GetMyeBayBuyingRequest>")
    reply = httpx.post(srv.trading_url, content=body.encode(), headers={
        "X-EBAY-API-CALL-NAME": "GetMyeBayBuying", "X-EBAY-API-SITEID": site,
        "X-EBAY-API-COMPATIBILITY-LEVEL": "1355", "X-EBAY-API-IAF-TOKEN": token, "Content-Type": "text/xml"})
    assert reply.status_code == 200
    return reply.content, ElementTree.fromstring(reply.content)


def _text(node: Element, path: str) -> str:
    found = node.find(path, NS)
    assert found is not None, path
    return (found.text or "").strip()


def test_browse_localizes_a_gb_listing_for_ebay_us_and_keeps_the_pounds(sim: SimulatorServer) -> None:
    a = sim.create_auction("Roberts radio", "179.95", 600, marketplace="EBAY_GB", shipping="6.00")
    item = _item(sim, a["item_id"], "EBAY_US").json()
    # The simulator's own rate: 0.78 GBP to the dollar, so £179.95 is $230.71.
    assert item["currentBidPrice"] == {"value": "230.71", "currency": "USD", "convertedFromValue": "179.95",
                                       "convertedFromCurrency": "GBP"}
    assert item["minimumPriceToBid"]["convertedFromValue"] == "179.95"
    assert item["shippingOptions"][0]["shippingCost"]["convertedFromCurrency"] == "GBP"
    assert item["listingMarketplaceId"] == "EBAY_GB"
    # With no marketplace header eBay reads as EBAY_US; on the listing's own site nothing is converted.
    assert _item(sim, a["item_id"], None).json()["currentBidPrice"]["currency"] == "USD"
    own = _item(sim, a["item_id"], "EBAY_GB").json()
    assert own["currentBidPrice"] == {"value": "179.95", "currency": "GBP"}


def test_counts_are_left_out_until_somebody_bids(sim: SimulatorServer) -> None:
    a = sim.create_auction("Quiet auction", "5.00", 600)
    quiet = _item(sim, a["item_id"], "EBAY_US").json()
    assert "bidCount" not in quiet
    assert "uniqueBidderCount" not in quiet
    httpx.post(f"{sim.base_url}/_sim/auctions/{a['legacy_item_id']}/bid",
               json={"user": "someone", "max": "9.00"}).raise_for_status()
    busy = _item(sim, a["item_id"], "EBAY_US").json()
    assert (busy["bidCount"], busy["uniqueBidderCount"]) == (1, 1)


def test_a_bid_in_the_converted_currency_is_refused_and_one_in_pounds_accepted(
    sim: SimulatorServer,
) -> None:
    a = sim.create_auction("Roberts radio", "10.00", 600, marketplace="EBAY_GB")
    url = f"{sim.base_url}/buy/offer/v1_beta/bidding/{quote(a['item_id'], safe='')}/place_proxy_bid"
    headers = {"Authorization": f"Bearer {user_token(sim)}", "X-EBAY-C-MARKETPLACE-ID": "EBAY_US"}

    def bid(currency: str) -> httpx.Response:
        body = {"maxAmount": {"currency": currency, "value": "20.00"}, "userConsent": {"adultOnlyItem": False}}
        reply = httpx.post(url, json=body, headers=headers)
        validate_response(OFFER, "/bidding/{item_id}/place_proxy_bid", "post", reply.status_code, reply.json())
        return reply

    dollars = bid("USD")
    assert (dollars.status_code, dollars.json()["errors"][0]["errorId"]) == (409, 120009)
    assert bid("GBP").status_code == 200


def test_trading_writes_like_ebay_and_warns_now_and_then(sim: SimulatorServer) -> None:
    sim.create_auction("GB auction", "63.20", 300, marketplace="EBAY_GB", watched_by=["demo"])
    fixed = sim.create_auction("Turntable", "339.90", 900, buy_it_now="339.90", watched_by=["demo"],
                               fixed_price=True)
    token = user_token(sim)
    acks = []
    for _ in range(3):
        raw, root = _trading(sim, token)
        acks.append(_text(root, "e:Ack"))
    assert acks == ["Success", "Success", "Warning"]
    assert _text(root, "e:Errors/e:SeverityCode") == "Warning"
    assert len(root.findall("e:WatchList/e:ItemArray/e:Item", NS)) == 2  # the data comes with the warning
    assert raw.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    gb, turntable = root.findall("e:WatchList/e:ItemArray/e:Item", NS)
    assert _text(gb, "e:SellingStatus/e:CurrentPrice") == "63.2"
    price = gb.find("e:SellingStatus/e:CurrentPrice", NS)
    assert price is not None
    assert price.text != price.text.strip()  # wrapped in whitespace, as eBay does
    converted = gb.find("e:SellingStatus/e:ConvertedCurrentPrice", NS)
    assert converted is not None
    assert (converted.get("currencyID"), (converted.text or "").strip()) == ("USD", "81.03")
    assert _text(gb, "e:BuyItNowPrice") == "0.0"
    assert _text(turntable, "e:ListingType") == "FixedPriceItem"
    assert _text(turntable, "e:ItemID") == fixed["legacy_item_id"]
    # Read for eBay UK, the pound listing needs no conversion.
    _raw, uk = _trading(sim, token, site="3")
    first = uk.findall("e:WatchList/e:ItemArray/e:Item", NS)[0]
    assert first.find("e:SellingStatus/e:ConvertedCurrentPrice", NS) is None


def test_a_fixed_price_listing_cannot_be_bid_on(sim: SimulatorServer) -> None:
    fixed = sim.create_auction("Turntable", "339.90", 900, buy_it_now="339.90", fixed_price=True)
    item = _item(sim, fixed["item_id"], "EBAY_US").json()
    assert item["buyingOptions"] == ["FIXED_PRICE"]
    assert "currentBidPrice" not in item
    url = f"{sim.base_url}/buy/offer/v1_beta/bidding/{quote(fixed['item_id'], safe='')}/place_proxy_bid"
    body = {"maxAmount": {"currency": "USD", "value": "400.00"}, "userConsent": {"adultOnlyItem": False}}
    reply = httpx.post(url, json=body, headers={"Authorization": f"Bearer {user_token(sim)}",
                                                "X-EBAY-C-MARKETPLACE-ID": "EBAY_US"})
    validate_response(OFFER, "/bidding/{item_id}/place_proxy_bid", "post", reply.status_code, reply.json())
    assert reply.json()["errors"][0]["errorId"] == 120004


def test_the_demo_watch_list_mixes_sites_and_listing_types() -> None:
    with SimulatorServer(scenario="demo", sntp_port=None) as demo:
        _raw, root = _trading(demo, user_token(demo))
        items = root.findall("e:WatchList/e:ItemArray/e:Item", NS)
        currencies = {i.find("e:SellingStatus/e:CurrentPrice", NS).get("currencyID") for i in items}  # type: ignore[union-attr]
        assert {"USD", "GBP", "EUR"} <= currencies
        types = [_text(i, "e:ListingType") for i in items]
        assert types.count("FixedPriceItem") == 2
        converted = [i for i in items if i.find("e:SellingStatus/e:ConvertedCurrentPrice", NS) is not None]
        assert len(converted) == sum(1 for c in items
                                     if c.find("e:SellingStatus/e:CurrentPrice", NS).get("currencyID") != "USD")  # type: ignore[union-attr]


def test_a_collection_only_listing_has_no_shipping_options(sim: SimulatorServer) -> None:
    pickup = sim.create_auction("Teak sideboard", "150.00", 600, marketplace="EBAY_GB", shipping=None,
                                watched_by=["demo"])
    item = _item(sim, pickup["item_id"], "EBAY_GB").json()
    assert "shippingOptions" not in item
    _raw, root = _trading(sim, user_token(sim), site="3")
    [watched] = root.findall("e:WatchList/e:ItemArray/e:Item", NS)
    assert watched.find("e:ShippingDetails", NS) is None


def test_a_listing_without_a_picture_has_no_image(sim: SimulatorServer) -> None:
    bare = sim.create_auction("Old book", "9.00", 600, image_url="", watched_by=["demo"])
    assert "image" not in _item(sim, bare["item_id"], "EBAY_US").json()
    _raw, root = _trading(sim, user_token(sim))
    [watched] = root.findall("e:WatchList/e:ItemArray/e:Item", NS)
    assert watched.find("e:PictureDetails", NS) is None
