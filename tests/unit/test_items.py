"""Item references: every form a user pastes is reduced to the right item, everything else refused."""

from __future__ import annotations

import re

import pytest

from sniper_app.domain.errors import InputError
from sniper_app.domain.items import ITEM_REF_HELP, ItemRef, parse_item_ref

ID = "123456789012"


@pytest.mark.parametrize(
    "text",
    [
        ID,
        f"  {ID}\n",
        f"\t{ID} ",
        f"https://www.ebay.com/itm/{ID}",
        f"https://www.ebay.com/itm/{ID}/",
        f"http://www.ebay.com/itm/{ID}",
        f"https://www.ebay.com/itm/{ID}?hash=item1cbe991a0c:g:abcAAOSw&amdata=enc%3AAQ",
        f"https://www.ebay.co.uk/itm/Vintage-Camera-Lens-50mm/{ID}?hash=item1c",
        f"ebay.co.uk/itm/some-title/{ID}?hash=item1c",
        f"www.ebay.com/itm/{ID}",
        f"https://m.ebay.de/itm/{ID}",
        f"https://www.ebay.com.au/itm/{ID}",
        f"https://www.ebay.fr/itm/{ID}",
        f"https://www.ebay.ca/itm/{ID}",
        f"https://www.ebay.it/itm/{ID}",
        f"https://www.ebay.es/itm/{ID}",
        f"https://www.ebay.at/itm/{ID}",
        f"https://www.ebay.ch/itm/{ID}",
        f"https://www.ebay.ie/itm/{ID}",
        f"https://www.ebay.nl/itm/{ID}",
        f"https://www.ebay.be/itm/{ID}",
        f"https://www.ebay.pl/itm/{ID}",
        f"https://benl.ebay.be/itm/{ID}",
        f"https://befr.ebay.be/itm/titre/{ID}",
        f"HTTPS://WWW.EBAY.COM/itm/{ID}",
        f"https://www.ebay.com:443/itm/{ID}",
        f"https://www.ebay.com./itm/{ID}",
        f"https://cgi.ebay.com/ws/eBayISAPI.dll?ViewItem&item={ID}",
        f"cgi.ebay.co.uk/ws/eBayISAPI.dll?ViewItem&item={ID}&ssPageName=STRK",
        f"https://www.ebay.com/?item={ID}",
        f"https://www.ebay.com/p/2254562813?iid={ID}",
        f"v1|{ID}|0",
        f"v1%7C{ID}%7C0",
    ],
)
def test_accepts_item_numbers_links_and_ids(text: str) -> None:
    ref = parse_item_ref(text)
    assert ref.legacy_id == ID
    assert ref.variation_id == "0"
    assert ref.rest_id == f"v1|{ID}|0"


@pytest.mark.parametrize(
    ("text", "variation"),
    [
        (f"v1|{ID}|456789012345", "456789012345"),
        (f"https://www.ebay.com/itm/{ID}?var=456789012345", "456789012345"),
        (f"https://www.ebay.co.uk/itm/title/{ID}?hash=x&var=77", "77"),
    ],
)
def test_keeps_the_variation(text: str, variation: str) -> None:
    ref = parse_item_ref(text)
    assert ref.legacy_id == ID
    assert ref.variation_id == variation
    assert ref.rest_id == f"v1|{ID}|{variation}"


@pytest.mark.parametrize("digits", ["123456789", "1234567890123456789"])
def test_item_number_lengths_nine_to_nineteen(digits: str) -> None:
    assert parse_item_ref(digits).legacy_id == digits


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "12345678",  # too short
        "12345678901234567890",  # too long
        "12345678901a",
        "-123456789012",
        "123 456 789 012",
        "item 123456789012",
        "v1|123456789012",
        "v2|123456789012|0",
        "v1|123456789012|x",
        f"https://www.ebay.com.evil.org/itm/{ID}",
        f"https://ebay.com.evil.org/itm/{ID}",
        f"https://evil-ebay.com/itm/{ID}",
        f"https://myebay.com/itm/{ID}",
        f"https://ebay.co/itm/{ID}",
        f"https://www.ebay.com@evil.org/itm/{ID}",
        f"https://user:pw@www.ebay.com/itm/{ID}",
        f"https://www.amazon.com/dp/{ID}",
        f"ftp://www.ebay.com/itm/{ID}",
        f"javascript:alert(1)//www.ebay.com/itm/{ID}",
        "https://www.ebay.com/itm/",
        "https://www.ebay.com/itm/not-a-number",
        "https://www.ebay.com/sch/i.html?_nkw=camera",
        f"https://www.ebay.com/itm/{ID}1234567890",
        f"https://www.ebay.com:99999/itm/{ID}",
        "https://ebay.us/abc123",
        "x" * 3000,
    ],
)
def test_rejects_everything_else_with_the_help_sentence(text: str) -> None:
    with pytest.raises(InputError) as info:
        parse_item_ref(text)
    assert str(info.value) == ITEM_REF_HELP
    assert str(info.value) == (
        "Expected an eBay item number (e.g. 123456789012), an item link (https://www.ebay.com/itm/…) "
        "or an id like v1|123456789012|0."
    )


def test_item_ref_validates_itself() -> None:
    with pytest.raises(InputError, match=re.escape(ITEM_REF_HELP)):
        ItemRef("12")
    with pytest.raises(InputError, match=re.escape(ITEM_REF_HELP)):
        ItemRef(ID, "x")
    ref = ItemRef(ID)
    assert ref == ItemRef(ID, "0")
    assert ref.url == f"https://www.ebay.com/itm/{ID}"
    assert str(ref) == ID
    assert str(ItemRef(ID, "5")) == f"v1|{ID}|5"
    assert hash(ref) == hash(ItemRef(ID))
