"""Properties over open-ended input: every CLI argument that reaches the domain, and eBay's JSON and XML.

The property is always the same: a valid result, or a typed error whose message is one sentence. Never a
traceback (any other exception fails the test), never a wrong amount.
"""

from __future__ import annotations

import argparse
import json
import re
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from hypothesis import given, settings
from hypothesis import strategies as st

from sniper_app import cli
from sniper_app.cli import parsing
from sniper_app.domain.errors import InputError
from sniper_app.domain.items import ItemRef, parse_item_ref
from sniper_app.domain.money import Money
from sniper_app.domain.rules import MAX_LEAD_SECONDS, MIN_LEAD_SECONDS, validate_lead
from sniper_app.domain.text import (
    MAX_GROUP_NAME_LENGTH,
    MAX_GROUP_SIZE,
    MAX_TITLE_LENGTH,
    check_group_name,
    check_group_wins,
    clip_title,
    has_control,
    visible,
)
from sniper_app.ebay import BadResponse
from sniper_app.ebay import parsing as p
from sniper_app.ebay.models import BiddingStatus, ItemDetails, WatchListItem

_CONTROL_OR_FORMAT = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# Text as users and hostile servers produce it: every plane, controls and escapes included.
any_text = st.text(st.characters(codec="utf-8"), max_size=80) | st.sampled_from(
    ["", " ", "\x1b]0;x\x07", "9" * 40, "-1", "0", "1e400", "nan", "inf", "１２３", "٣", "12\u202e34"]
)


def _is_sentence(message: str) -> None:
    assert message.strip(), "an error without words"
    assert "Traceback" not in message
    assert len(message) < 600, message


def _is_short_sentence(message: str) -> None:
    _is_sentence(message)
    if len(message) >= 120:  # a 5,000-digit number is not echoed back whole
        raise AssertionError(f"too long: {message[:200]}")


# --- CLI arguments -----------------------------------------------------------------------------------


@given(any_text)
def test_an_id_argument_is_a_64_bit_row_id_or_a_short_refusal(text: str) -> None:
    try:
        value = parsing.positive_int(text)
    except argparse.ArgumentTypeError as exc:
        _is_short_sentence(str(exc))
    else:
        assert 1 <= value <= 2**63 - 1
        assert value == int(text)


@given(any_text)
def test_wins_are_within_a_group_or_refused(text: str) -> None:
    try:
        value = parsing.wins_arg(text)
    except argparse.ArgumentTypeError as exc:
        _is_sentence(str(exc))
    else:
        assert 1 <= value <= MAX_GROUP_SIZE
        assert check_group_wins(value) == value


@given(st.integers() | st.booleans())
def test_the_store_bounds_wins_the_same_way(value: int) -> None:
    try:
        assert 1 <= check_group_wins(value) <= MAX_GROUP_SIZE
    except InputError as exc:
        _is_sentence(str(exc))


@given(any_text | st.floats().map(repr))
def test_a_lead_is_between_its_bounds_or_refused(text: str) -> None:
    try:
        lead = validate_lead(parsing.seconds_arg(text))
    except argparse.ArgumentTypeError as exc:
        _is_sentence(str(exc))
    except InputError as exc:
        _is_sentence(str(exc))
    else:
        assert MIN_LEAD_SECONDS <= lead <= MAX_LEAD_SECONDS


@given(any_text)
def test_a_group_name_is_plain_bounded_text_or_refused(text: str) -> None:
    try:
        name = check_group_name(text)
    except InputError as exc:
        _is_sentence(str(exc))
    else:
        assert name == text.strip()
        assert 0 < len(name) <= MAX_GROUP_NAME_LENGTH
        assert not has_control(name)


@given(any_text)
def test_an_item_reference_is_read_or_refused(text: str) -> None:
    try:
        ref = parse_item_ref(text)
    except InputError as exc:
        _is_sentence(str(exc))
    else:
        assert isinstance(ref, ItemRef)
        assert ref.legacy_id.isascii()
        assert ref.legacy_id.isdigit()


@given(st.integers(10**8, 10**15 - 1), st.text(st.characters(codec="ascii", categories=["L", "N"]), max_size=30))
def test_an_item_link_names_exactly_its_item(number: int, slug: str) -> None:
    for text in (str(number), f"https://www.ebay.com/itm/{slug or 'x'}/{number}?hash=item1", f"v1|{number}|0"):
        assert parse_item_ref(text).legacy_id == str(number)


@given(any_text, st.sampled_from(["USD", "GBP", "EUR", "JPY"]))
def test_an_amount_is_read_or_refused(text: str, currency: str) -> None:
    try:
        money = Money.parse(text, currency, expected_currency=currency)
    except InputError as exc:
        _is_sentence(str(exc))
    else:
        assert money.currency == currency
        assert money.minor > 0


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999"), places=2),
       st.sampled_from(["{}", " {} ", "${}", "$ {}", "{} USD", "USD {}", "US ${}"]))
def test_an_amount_typed_plainly_is_never_read_wrong(value: Decimal, form: str) -> None:
    text = form.format(f"{value:f}")
    assert Money.parse(text, "USD", expected_currency="USD").minor == int(value * 100)


@given(st.lists(any_text, min_size=1, max_size=4), st.sampled_from([
    ["snipe", "add"], ["snipe", "edit", "1", "--max"], ["snipe", "cancel"], ["group", "add"],
    ["history", "--limit"], ["snipe", "list", "--status"], ["config", "set", "default_lead_seconds"],
]))
def test_the_parser_gives_a_command_or_a_usage_sentence(args: list[str], prefix: list[str]) -> None:
    argv = prefix + [a for a in args if not a.startswith("-")]
    try:
        parsed = cli.build_parser().parse_args(argv)
    except cli.UsageError as exc:
        _is_sentence(str(exc))
    else:
        assert callable(parsed.handler)


@given(st.text(max_size=200))
def test_shown_text_has_no_control_characters_and_hides_nothing(text: str) -> None:
    shown = visible(text)
    assert not _CONTROL_OR_FORMAT.search(shown)
    if not _CONTROL_OR_FORMAT.search(text):
        assert shown == text
    kept = visible(text, keep_newlines=True)
    assert kept.count("\n") == text.count("\n")


@given(st.text(max_size=1000) | st.integers(0, 3).map(lambda n: "x" * (MAX_TITLE_LENGTH + n - 1)))
def test_titles_are_bounded(title: str) -> None:
    clipped = clip_title(title)
    assert len(clipped) <= MAX_TITLE_LENGTH
    assert clipped == title if len(title) <= MAX_TITLE_LENGTH else clipped.endswith("…")


# --- eBay's JSON -------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
amounts = st.fixed_dictionaries({
    "value": st.sampled_from(["25.00", "0.01", "1e3", "-1.00", "25.5", "99999999999.99", "", "NaN"])
    | st.decimals(min_value=0, max_value=10**6, places=2).map(lambda d: f"{d:f}"),
    "currency": st.sampled_from(["USD", "GBP", "usd", "", "XXX", "EUR"]),
})


def _browse_item() -> dict[str, Any]:
    return {
        "itemId": "v1|123456789012|0", "legacyItemId": "123456789012", "title": "Lens",
        "currentBidPrice": {"value": "25.00", "currency": "USD"},
        "minimumPriceToBid": {"value": "26.00", "currency": "USD"},
        "itemEndDate": "2030-01-01T00:00:00.000Z", "bidCount": 3, "buyingOptions": ["AUCTION"],
        "seller": {"username": "s", "feedbackScore": 10}, "itemWebUrl": "https://www.ebay.com/itm/123456789012",
    }


@given(st.dictionaries(st.sampled_from(sorted(_browse_item())), json_values | amounts, max_size=4))
def test_a_browse_item_is_read_or_refused(overrides: dict[str, Any]) -> None:
    data = _browse_item() | overrides
    try:
        item = ItemDetails.from_browse(data)
    except BadResponse as exc:
        _is_sentence(str(exc))
        return
    price = data.get("currentBidPrice")
    if item.current_price is not None and isinstance(price, dict) and price.get("value") is not None:
        # Whatever was accepted is exactly what eBay said.
        assert item.current_price.to_decimal() == Decimal(str(price["value"]))
        assert item.current_price.currency == price["currency"]


@given(st.dictionaries(st.sampled_from(["itemId", "auctionStatus", "currentPrice", "currentProxyBid",
                                        "highBidder", "suggestedBidAmounts", "auctionEndDate", "bidCount"]),
                       json_values | amounts, max_size=4))
def test_a_bidding_status_is_read_or_refused(overrides: dict[str, Any]) -> None:
    data = {"itemId": "v1|123456789012|0", "auctionStatus": "ACTIVE",
            "currentPrice": {"value": "10.00", "currency": "USD"}, "bidCount": 1} | overrides
    try:
        status = BiddingStatus.from_offer(data, currency="USD")
    except BadResponse as exc:
        _is_sentence(str(exc))
    else:
        assert status.current_price.currency == "USD"
        assert status.current_price.to_decimal() == Decimal(data["currentPrice"]["value"])


@given(st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_any_json_body_is_an_object_or_refused(body: bytes) -> None:
    try:
        data = p.load_json(body, "getItem")
    except BadResponse as exc:
        _is_sentence(str(exc))
    else:
        assert isinstance(data, dict)


# --- eBay's XML --------------------------------------------------------------------------------------

xml_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=30) | st.sampled_from(
    ["25.00", "1e5", "-3", "", "2030-01-01T00:00:00.000Z", "P1DT2H", "123456789012", "9" * 30, "NaN"]
)


@given(
    st.fixed_dictionaries({}, optional={
        "ItemID": xml_text, "Title": xml_text, "Price": xml_text, "Currency": st.sampled_from(["USD", "ZZZ", ""]),
        "BidCount": xml_text, "EndTime": xml_text, "TimeLeft": xml_text, "BuyItNow": xml_text,
    })
)
def test_a_watch_list_row_is_read_or_refused(fields: dict[str, str]) -> None:
    cur = escape(fields.get("Currency", "USD"), {'"': "&quot;"})
    xml = (
        "<GetMyeBayBuyingResponse><Ack>Success</Ack><WatchList><ItemArray><Item>"
        f"<ItemID>{escape(fields.get('ItemID', '123456789012'))}</ItemID>"
        f"<Title>{escape(fields.get('Title', 'Lens'))}</Title>"
        f"<SellingStatus><CurrentPrice currencyID=\"{cur}\">{escape(fields.get('Price', '25.00'))}</CurrentPrice>"
        f"<BidCount>{escape(fields.get('BidCount', '2'))}</BidCount></SellingStatus>"
        f"<ListingDetails><EndTime>{escape(fields.get('EndTime', '2030-01-01T00:00:00.000Z'))}</EndTime>"
        f"</ListingDetails><TimeLeft>{escape(fields.get('TimeLeft', 'P1D'))}</TimeLeft>"
        f"<BuyItNowPrice currencyID=\"{cur}\">{escape(fields.get('BuyItNow', '0.00'))}</BuyItNowPrice>"
        "</Item></ItemArray></WatchList></GetMyeBayBuyingResponse>"
    ).encode()
    try:
        root = p.load_xml(xml, "GetMyeBayBuying")
        element = root.find("WatchList/ItemArray/Item")
        assert element is not None
        item = WatchListItem.from_xml(element)
    except BadResponse as exc:
        _is_sentence(str(exc))
    else:
        if item.current_price is not None:
            assert item.current_price.to_decimal() == Decimal(fields.get("Price", "25.00").strip())


@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
@settings(max_examples=200)
def test_any_xml_body_is_a_document_or_refused(text: str) -> None:
    try:
        p.load_xml(text.encode("utf-8", "surrogatepass"), "GetMyeBayBuying")
    except BadResponse as exc:
        _is_sentence(str(exc))

