"""eBay's replies in each documented shape: localized Browse amounts, absent optional fields, Trading as eBay
writes it. The Browse fixtures are checked against tests/contracts before the parser sees them."""

from __future__ import annotations

import copy
import logging
from typing import Any
from xml.etree.ElementTree import Element

import httpx
import pytest

from sniper_app.domain.money import Money, with_converted
from sniper_app.ebay import trading
from sniper_app.ebay.errors import AuthExpired, BadResponse
from sniper_app.ebay.models import BiddingStatus, ItemDetails, WatchListItem
from tests.support.contracts import validate_response

BROWSE = "buy_browse_v1.yml"

# A British auction read through EBAY_US: every amount converted, the seller's pounds kept in convertedFrom*.
LOCALIZED: dict[str, Any] = {
    "itemId": "v1|284460198823|0",
    "legacyItemId": "284460198823",
    "title": "Hornby Flying Scotsman, OO gauge, boxed",
    "image": {"imageUrl": "https://i.ebayimg.com/images/g/abc/s-l1600.jpg"},
    "currentBidPrice": {"value": "81.02", "currency": "USD", "convertedFromValue": "63.20",
                        "convertedFromCurrency": "GBP"},
    "price": {"value": "81.02", "currency": "USD", "convertedFromValue": "63.20", "convertedFromCurrency": "GBP"},
    "minimumPriceToBid": {"value": "82.31", "currency": "USD", "convertedFromValue": "64.20",
                          "convertedFromCurrency": "GBP"},
    "itemEndDate": "2031-02-03T19:04:05.000Z",
    "bidCount": 4,
    "uniqueBidderCount": 3,
    "buyingOptions": ["AUCTION"],
    "seller": {"username": "shed_of_trains", "feedbackScore": 812, "feedbackPercentage": "99.6"},
    "shippingOptions": [{"shippingCost": {"value": "7.69", "currency": "USD", "convertedFromValue": "6.00",
                                          "convertedFromCurrency": "GBP"}}],
    "listingMarketplaceId": "EBAY_GB",
    "itemWebUrl": "https://www.ebay.co.uk/itm/284460198823",
}


def browse(data: dict[str, Any]) -> ItemDetails:
    validate_response(BROWSE, "/item/{item_id}", "get", 200, data)
    return ItemDetails.from_browse(data)


def without(*keys: str, base: dict[str, Any] = LOCALIZED) -> dict[str, Any]:
    data = copy.deepcopy(base)
    for key in keys:
        data.pop(key)
    return data


def test_a_localized_listing_keeps_the_sellers_amounts_and_shows_the_conversion_beside() -> None:
    item = browse(LOCALIZED)
    assert item.current_price == Money.of("63.20", "GBP")
    assert item.minimum_to_bid == Money.of("64.20", "GBP")
    assert item.shipping_cost == Money.of("6.00", "GBP")
    assert item.currency == "GBP"
    assert item.converted_price == Money.of("81.02", "USD")
    assert item.listing_marketplace == "EBAY_GB"
    assert with_converted(item.current_price, item.converted_price) == "£63.20 ≈ $81.02"


def test_a_listing_read_on_its_own_site_has_no_conversion() -> None:
    data = copy.deepcopy(LOCALIZED)
    for key in ("currentBidPrice", "price", "minimumPriceToBid"):
        data[key] = {"value": data[key]["convertedFromValue"], "currency": "GBP"}
    item = browse(data)
    assert item.current_price == Money.of("63.20", "GBP")
    assert item.converted_price is None
    assert with_converted(Money.of("63.20", "GBP"), item.converted_price) == "£63.20"


@pytest.mark.parametrize("half", [{"convertedFromValue": "63.20"}, {"convertedFromCurrency": "GBP"}])
def test_a_half_converted_amount_is_refused(half: dict[str, str]) -> None:
    data = copy.deepcopy(LOCALIZED)
    data["currentBidPrice"] = {"value": "81.02", "currency": "USD", **half}
    with pytest.raises(BadResponse, match="half-converted"):
        ItemDetails.from_browse(data)


def test_a_minimum_in_another_listing_currency_than_the_price_is_refused() -> None:
    data = copy.deepcopy(LOCALIZED)
    data["minimumPriceToBid"] = {"value": "75.10", "currency": "EUR"}
    with pytest.raises(BadResponse, match="in EUR where GBP was expected"):
        ItemDetails.from_browse(data)


def test_nobody_has_bid_when_ebay_leaves_the_counts_out() -> None:
    item = browse(without("bidCount", "uniqueBidderCount"))
    assert item.bid_count == 0
    assert item.unique_bidder_count is None


def test_each_optional_field_may_be_absent_with_a_meaning() -> None:
    # No legacyItemId: the number is the middle of the RESTful id.
    assert browse(without("legacyItemId")).legacy_item_id == "284460198823"
    # No minimumPriceToBid: the app works the least bid out from the increment table (or warns).
    assert browse(without("minimumPriceToBid")).minimum_to_bid is None
    # No image: the window shows its placeholder.
    assert browse(without("image")).image_url is None
    # No shippingOptions: the dialog says "see the listing", not "free".
    assert browse(without("shippingOptions")).shipping_cost is None
    # No seller: nothing about the seller is claimed.
    bare = browse(without("seller"))
    assert (bare.seller_username, bare.seller_feedback_score) == (None, None)
    # No listingMarketplaceId: the increments come from the currency, or a warning.
    assert browse(without("listingMarketplaceId")).listing_marketplace is None
    # All of them at once still reads.
    sparse = browse(without("legacyItemId", "minimumPriceToBid", "image", "shippingOptions", "seller",
                            "bidCount", "uniqueBidderCount", "listingMarketplaceId"))
    assert sparse.current_price == Money.of("63.20", "GBP")


def test_an_id_and_a_legacy_id_naming_two_items_are_refused() -> None:
    data = copy.deepcopy(LOCALIZED)
    data["legacyItemId"] = "284460198824"
    with pytest.raises(BadResponse, match="two different items"):
        ItemDetails.from_browse(data)


# --- Trading ---------------------------------------------------------------------------------------------

def _reply(items: str, ack: str = "Success", errors: str = "") -> httpx.Response:
    body = (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        '<GetMyeBayBuyingResponse xmlns="urn:ebay:apis:eBLBaseComponents">\n'
        f"  <Timestamp>\n    2031-02-01T10:00:00.123Z\n  </Timestamp>\n  <Ack>{ack}</Ack>{errors}\n"
        f"  <WatchList><ItemArray>{items}</ItemArray></WatchList>\n</GetMyeBayBuyingResponse>"
    )
    return httpx.Response(200, content=body.encode(), headers={"Content-Type": "text/xml"})


AUCTION_XML = """
    <Item>
      <BuyItNowPrice currencyID="GBP">0.0</BuyItNowPrice>
      <ItemID>
        284460198823
      </ItemID>
      <ListingDetails><EndTime>2031-02-03T19:04:05.000Z</EndTime></ListingDetails>
      <ListingType> Chinese </ListingType>
      <SellingStatus>
        <BidCount>4</BidCount>
        <ConvertedCurrentPrice currencyID="USD">81.0</ConvertedCurrentPrice>
        <CurrentPrice currencyID="GBP">
          63.2
        </CurrentPrice>
      </SellingStatus>
      <TimeLeft>P2DT9H4M5S</TimeLeft>
      <Title>
        Hornby Flying Scotsman, OO gauge, boxed
      </Title>
    </Item>"""

FIXED_XML = """
    <Item>
      <BuyItNowPrice currencyID="USD">339.9</BuyItNowPrice>
      <ItemID>184460198999</ItemID>
      <ListingType>FixedPriceItem</ListingType>
      <SellingStatus><BidCount>0</BidCount><CurrentPrice currencyID="USD">339.9</CurrentPrice></SellingStatus>
      <Title>Technics SL-1200 turntable</Title>
    </Item>"""


def _items(xml: str) -> list[Element]:
    root = trading.parse_reply(_reply(xml), "GetMyeBayBuying")
    return root.findall("WatchList/ItemArray/Item")


def test_trading_as_ebay_writes_it_single_quotes_whitespace_and_short_amounts() -> None:
    [el] = _items(AUCTION_XML)
    item = WatchListItem.from_xml(el)
    assert item.legacy_item_id == "284460198823"
    assert item.title == "Hornby Flying Scotsman, OO gauge, boxed"
    assert item.current_price == Money.of("63.20", "GBP")
    assert item.converted_price == Money.of("81.00", "USD")
    assert item.is_auction
    # BuyItNowPrice 0.0 means the listing has none.
    assert item.buy_it_now_price is None


def test_a_fixed_price_item_in_the_watch_list_is_shown_but_not_an_auction() -> None:
    [el] = _items(FIXED_XML)
    item = WatchListItem.from_xml(el)
    assert item.listing_type == "FixedPriceItem"
    assert not item.is_auction
    assert item.buy_it_now_price == Money.of("339.90", "USD")
    assert item.converted_price is None


def test_ack_warning_keeps_the_data_and_logs_the_warning(caplog: pytest.LogCaptureFixture) -> None:
    warning = ("<Errors><ShortMessage>Old schema.</ShortMessage><LongMessage>Your compatibility level is "
               "being retired.</LongMessage><ErrorCode>14003</ErrorCode><SeverityCode>Warning</SeverityCode>"
               "</Errors>")
    with caplog.at_level(logging.WARNING, logger="sniper_app.ebay"):
        root = trading.parse_reply(_reply(AUCTION_XML, ack="Warning", errors=warning), "GetMyeBayBuying")
    assert len(root.findall("WatchList/ItemArray/Item")) == 1
    assert trading.reply_timestamp(root, "GetMyeBayBuying") is not None
    assert "eBay warned on GetMyeBayBuying (14003): Your compatibility level is being retired." in caplog.text


@pytest.mark.parametrize("code", ["21916984", "21917053"])
def test_invalid_or_expired_iaf_token_earns_a_refresh(code: str) -> None:
    errors = (f"<Errors><ShortMessage>IAF token.</ShortMessage><ErrorCode>{code}</ErrorCode>"
              "<SeverityCode>Error</SeverityCode></Errors>")
    with pytest.raises(AuthExpired) as info:
        trading.parse_reply(_reply("", ack="Failure", errors=errors), "GetMyeBayBuying")
    assert info.value.error_id == int(code)



def test_an_offer_reply_localized_like_browse_still_reads_the_listings_own_amounts() -> None:
    def pounds(value: str, dollars: str) -> dict[str, str]:
        return {"value": dollars, "currency": "USD", "convertedFromValue": value, "convertedFromCurrency": "GBP"}

    data = {
        "itemId": "v1|284460198823|0", "auctionStatus": "ACTIVE", "bidCount": 2, "highBidder": True,
        "currentPrice": pounds("63.20", "81.03"),
        "currentProxyBid": {"proxyBidId": "77", "maxAmount": pounds("90.00", "115.38")},
        "suggestedBidAmounts": [pounds("64.20", "82.31")],
    }
    status = BiddingStatus.from_offer(data, currency="GBP")
    assert status.current_price == Money.of("63.20", "GBP")
    assert status.max_amount == Money.of("90.00", "GBP")
    assert status.suggested_bid_amounts == (Money.of("64.20", "GBP"),)
    plain = {**data, "currentPrice": {"value": "63.20", "currency": "GBP"}, "currentProxyBid": None,
             "suggestedBidAmounts": []}
    assert BiddingStatus.from_offer(plain, currency="GBP").current_price == Money.of("63.20", "GBP")
    with pytest.raises(BadResponse, match="in GBP where EUR was expected"):
        BiddingStatus.from_offer(data, currency="EUR")
