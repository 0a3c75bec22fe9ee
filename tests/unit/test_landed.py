"""Landed cost (maximum + shipping + import charges) and the bid when the maximum includes them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sniper_app.domain.errors import RuleViolation
from sniper_app.domain.landed import LandedError, bid_for_maximum, landed_cost
from sniper_app.domain.money import Money


def usd(major: str) -> Money:
    return Money.of(major, "USD")


def gbp(major: str) -> Money:
    return Money.of(major, "GBP")


def test_landed_cost_adds_shipping_and_import_charges() -> None:
    got = landed_cost(usd("100"), usd("12.50"), usd("7.25"))
    assert got.total == usd("119.75")
    assert got.foreign == ()
    assert got.sentence == "$100.00 + $12.50 shipping + $7.25 import charges = $119.75."


def test_free_shipping_still_shows() -> None:
    assert landed_cost(usd("100"), usd("0")).sentence == "$100.00 + $0.00 shipping = $100.00."


def test_unknown_shipping_is_said() -> None:
    got = landed_cost(usd("100"), None)
    assert got.total == usd("100")
    assert got.sentence == "$100.00; eBay reports no shipping cost."


def test_shipping_in_another_currency_is_named_not_converted() -> None:
    got = landed_cost(usd("100"), gbp("9"))
    assert got.total == usd("100")
    assert got.foreign == (gbp("9"),)
    assert "shipping of £9.00 is charged in GBP, not USD" in got.sentence


def test_a_maximum_without_shipping_is_bid_as_is() -> None:
    got = bid_for_maximum(usd("100"), includes_shipping=False, shipping=usd("12.50"))
    assert got.bid == usd("100")
    assert got.sentence == "Bids $100.00; landed cost $100.00 + $12.50 shipping = $112.50."


def test_a_maximum_with_shipping_bids_less_the_charges() -> None:
    got = bid_for_maximum(usd("100"), includes_shipping=True, shipping=usd("12.50"), import_charges=usd("7.50"))
    assert got.bid == usd("80")
    assert got.landed.total == usd("120")
    assert got.sentence == "Bids $80.00: your maximum of $100.00 includes $12.50 shipping and $7.50 import charges."


def test_free_shipping_bids_the_whole_maximum() -> None:
    assert bid_for_maximum(usd("100"), includes_shipping=True, shipping=usd("0")).bid == usd("100")


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"shipping": None}, "eBay reports no shipping cost"),
        ({"shipping": gbp("5")}, "charged in GBP and the item is priced in USD"),
        ({"shipping": usd("5"), "import_charges": gbp("5")}, "import charges of £5.00 are charged in GBP"),
        ({"shipping": usd("20")}, "less $20.00 shipping leaves nothing to bid"),
        ({"shipping": usd("25")}, "leaves nothing to bid"),
        ({"shipping": usd("12"), "minimum_bid": usd("9")}, "leaves $8.00, below the least bid eBay accepts ($9.00)"),
    ],
)
def test_a_maximum_that_cannot_include_its_charges_is_refused(kwargs: dict[str, Money | None], words: str) -> None:
    with pytest.raises(LandedError) as caught:
        bid_for_maximum(usd("20"), includes_shipping=True, **kwargs)  # type: ignore[arg-type]
    assert words in str(caught.value)
    assert isinstance(caught.value, RuleViolation)


def test_the_least_bid_itself_is_allowed() -> None:
    got = bid_for_maximum(usd("20"), includes_shipping=True, shipping=usd("11"), minimum_bid=usd("9"))
    assert got.bid == usd("9")


minor = st.integers(1, 10**7)


@given(minor, st.integers(0, 10**6), st.none() | st.integers(0, 10**6))
def test_bid_plus_charges_never_exceeds_the_maximum(maximum: int, shipping: int, imports: int | None) -> None:
    mx = Money(maximum, "USD")
    charges = [Money(shipping, "USD")] + ([] if imports is None else [Money(imports, "USD")])
    try:
        got = bid_for_maximum(mx, includes_shipping=True, shipping=charges[0],
                              import_charges=charges[1] if len(charges) > 1 else None)
    except LandedError:
        assert sum(c.minor for c in charges) >= maximum
        return
    assert got.bid.minor > 0
    assert got.bid.minor + sum(c.minor for c in charges) == maximum
    assert got.landed.total == Money(maximum + sum(c.minor for c in charges), "USD")
