"""Bid increment tables per marketplace and the minimum next bid eBay would accept."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sniper_app.domain.errors import InputError
from sniper_app.domain.increments import (
    MARKETPLACE_CURRENCIES,
    SUPPORTED_MARKETPLACES,
    increment,
    marketplace_currency,
    marketplace_for_currency,
    minimum_next_bid,
    table_is_verified,
)
from sniper_app.domain.money import Money, MoneyError
from sniper_app.simulator import money as sim_money

# (price, increment) at every band edge, from the tables published by each site.
US = [
    ("0.00", "0.05"),
    ("0.01", "0.05"),
    ("0.99", "0.05"),
    ("1.00", "0.25"),
    ("4.99", "0.25"),
    ("5.00", "0.50"),
    ("24.99", "0.50"),
    ("25.00", "1.00"),
    ("99.99", "1.00"),
    ("100.00", "2.50"),
    ("249.99", "2.50"),
    ("250.00", "5.00"),
    ("499.99", "5.00"),
    ("500.00", "10.00"),
    ("999.99", "10.00"),
    ("1000.00", "25.00"),
    ("2499.99", "25.00"),
    ("2500.00", "50.00"),
    ("4999.99", "50.00"),
    ("5000.00", "100.00"),
    ("99999.99", "100.00"),
]
GB = [
    ("0.01", "0.05"),
    ("0.99", "0.05"),
    ("1.00", "0.20"),
    ("4.99", "0.20"),
    ("5.00", "0.50"),
    ("14.99", "0.50"),
    ("15.00", "1.00"),
    ("59.99", "1.00"),
    ("60.00", "2.00"),
    ("149.99", "2.00"),
    ("150.00", "5.00"),
    ("299.99", "5.00"),
    ("300.00", "10.00"),
    ("599.99", "10.00"),
    ("600.00", "20.00"),
    ("1499.99", "20.00"),
    ("1500.00", "50.00"),
    ("2999.99", "50.00"),
    ("3000.00", "100.00"),
]
DE = [
    ("1.00", "0.50"),
    ("49.99", "0.50"),
    ("50.00", "1.00"),
    ("499.99", "1.00"),
    ("500.00", "5.00"),
    ("999.99", "5.00"),
    ("1000.00", "10.00"),
    ("4999.99", "10.00"),
    ("5000.00", "50.00"),
]


@pytest.mark.parametrize(
    ("marketplace", "currency", "price", "step"),
    [("EBAY_US", "USD", p, s) for p, s in US]
    + [("EBAY_GB", "GBP", p, s) for p, s in GB]
    + [("EBAY_DE", "EUR", p, s) for p, s in DE]
    # Australia publishes the US bands in AUD; Canada the same up to C$250, and the US bands go on above.
    + [("EBAY_AU", "AUD", p, s) for p, s in US]
    + [("EBAY_CA", "CAD", p, s) for p, s in US]
    # France, Italy and Spain bid in eBay.de's euro steps.
    + [(site, "EUR", p, s) for site in ("EBAY_FR", "EBAY_IT", "EBAY_ES") for p, s in [("0.00", "0.50"), *DE]],
)
def test_increment_at_band_edges(marketplace: str, currency: str, price: str, step: str) -> None:
    assert increment(Money.of(price, currency), marketplace) == Money.of(step, currency)


def test_minimum_next_bid_examples() -> None:
    assert minimum_next_bid(Money.of("24.50", "USD"), 3, "EBAY_US") == Money.of("25.00", "USD")
    assert minimum_next_bid(Money.of("25.00", "USD"), 3, "EBAY_US") == Money.of("26.00", "USD")
    assert minimum_next_bid(Money.of("9.00", "GBP"), 1, "EBAY_GB") == Money.of("9.50", "GBP")
    assert minimum_next_bid(Money.of("50.00", "EUR"), 7, "EBAY_DE") == Money.of("51.00", "EUR")


def test_with_no_bids_the_start_price_is_the_minimum() -> None:
    start = Money.of("24.99", "USD")
    assert minimum_next_bid(start, 0, "EBAY_US") == start


def test_supported_marketplaces_and_currencies() -> None:
    assert {"EBAY_US", "EBAY_GB", "EBAY_DE"} <= SUPPORTED_MARKETPLACES
    assert marketplace_currency("EBAY_US") == "USD"
    assert marketplace_currency("EBAY_GB") == "GBP"
    assert marketplace_currency("EBAY_DE") == "EUR"
    assert marketplace_currency("EBAY_AU") == "AUD"
    assert marketplace_currency("EBAY_CA") == "CAD"
    assert marketplace_currency(" ebay_fr ") == "EUR"
    for marketplace in SUPPORTED_MARKETPLACES:
        assert marketplace in MARKETPLACE_CURRENCIES
    assert marketplace_for_currency("USD") == "EBAY_US"
    assert marketplace_for_currency("GBP") == "EBAY_GB"
    assert marketplace_for_currency("AUD") == "EBAY_AU"
    assert marketplace_for_currency("CAD") == "EBAY_CA"
    # Germany, France, Italy and Spain share one table, but eBay Ireland (UK-style) and others list in euros
    # too: the euro alone names no table.
    assert marketplace_for_currency("EUR") is None
    assert marketplace_for_currency("JPY") is None
    assert marketplace_for_currency("CHF") is None


def test_unknown_marketplace_names_the_supported_ones() -> None:
    with pytest.raises(
        InputError, match="supported marketplaces are EBAY_AU, EBAY_CA, EBAY_DE, EBAY_ES, EBAY_FR, EBAY_GB, EBAY_IT"
    ):
        increment(Money.of("1.00", "USD"), "EBAY_XX")
    with pytest.raises(InputError, match="supported marketplaces are"):
        minimum_next_bid(Money.of("1.00", "CHF"), 1, "EBAY_CH")
    with pytest.raises(InputError, match="not an eBay marketplace this app knows; use one of EBAY_AT"):
        marketplace_currency("EBAY_XX")


def test_price_in_another_currency_is_refused() -> None:
    with pytest.raises(MoneyError, match=re.escape("EBAY_GB increments are in GBP; this price is in USD.")):
        increment(Money.of("1.00", "USD"), "EBAY_GB")
    with pytest.raises(MoneyError):
        minimum_next_bid(Money.of("1.00", "USD"), 0, "EBAY_DE")


@pytest.mark.parametrize("bid_count", [-1, True, "3"])
def test_bad_bid_count_is_refused(bid_count: object) -> None:
    with pytest.raises(InputError, match="bid count"):
        minimum_next_bid(Money.of("1.00", "USD"), bid_count, "EBAY_US")  # type: ignore[arg-type]


def test_negative_price_is_refused() -> None:
    with pytest.raises(MoneyError, match="cannot be negative"):
        increment(Money(-1, "USD"), "EBAY_US")


markets = st.sampled_from(sorted(SUPPORTED_MARKETPLACES))
prices = st.integers(min_value=0, max_value=100_000_000)


@given(markets, prices, prices)
def test_increment_never_decreases_as_price_rises(marketplace: str, a: int, b: int) -> None:
    currency = marketplace_currency(marketplace)
    low, high = sorted((a, b))
    assert increment(Money(low, currency), marketplace) <= increment(Money(high, currency), marketplace)


@given(markets, prices, st.integers(min_value=0, max_value=500))
def test_minimum_next_bid_is_above_current_once_bid(marketplace: str, minor: int, bid_count: int) -> None:
    current = Money(minor, marketplace_currency(marketplace))
    least = minimum_next_bid(current, bid_count, marketplace)
    assert least >= current
    if bid_count > 0:
        assert least > current
        assert least - current == increment(current, marketplace)
    else:
        assert least == current


def test_french_italian_and_spanish_euros_step_like_germany_not_like_the_us() -> None:
    # At 30.00 the US bands would ask 1.00 more; eBay's euro table asks 0.50.
    for site in ("EBAY_FR", "EBAY_IT", "EBAY_ES", "EBAY_DE"):
        assert minimum_next_bid(Money.of("30.00", "EUR"), 2, site) == Money.of("30.50", "EUR")
        assert minimum_next_bid(Money.of("50.00", "EUR"), 2, site) == Money.of("51.00", "EUR")


@pytest.mark.parametrize(
    ("price", "verified"),
    [("0.00", True), ("100.00", True), ("249.99", True), ("250.00", False), ("10000.00", False)],
)
def test_canadas_bands_are_ebays_word_only_below_250(price: str, verified: bool) -> None:
    assert table_is_verified("EBAY_CA", Money.of(price, "CAD")) is verified


@pytest.mark.parametrize("marketplace", sorted(SUPPORTED_MARKETPLACES))
def test_every_other_table_is_verified_at_any_price(marketplace: str) -> None:
    if marketplace == "EBAY_CA":
        return
    currency = marketplace_currency(marketplace)
    assert table_is_verified(marketplace, Money.of("0.00", currency))
    assert table_is_verified(marketplace, Money.of("99999.99", currency))


@given(markets, prices, prices)
def test_next_bid_rises_strictly_with_the_price(marketplace: str, a: int, b: int) -> None:
    # A higher current price never lets a lower (or equal) next bid through.
    currency = marketplace_currency(marketplace)
    if a == b:
        return
    low, high = sorted((a, b))
    next_low = minimum_next_bid(Money(low, currency), 1, marketplace)
    assert next_low < minimum_next_bid(Money(high, currency), 1, marketplace)


def test_app_and_simulator_know_the_same_sites() -> None:
    assert set(sim_money.INCREMENT_TABLES) == set(SUPPORTED_MARKETPLACES)
    for marketplace in SUPPORTED_MARKETPLACES:
        assert sim_money.MARKETPLACE_CURRENCY[marketplace] == marketplace_currency(marketplace)


@pytest.mark.parametrize("marketplace", sorted(SUPPORTED_MARKETPLACES))
def test_app_and_simulator_agree_at_every_band_edge(marketplace: str) -> None:
    currency = marketplace_currency(marketplace)
    edges = {lower for lower, _ in sim_money.INCREMENT_TABLES[marketplace]}
    for edge in sorted(edges | {e - 1 for e in edges if e > 0}):
        assert increment(Money(edge, currency), marketplace).minor == sim_money.increment(marketplace, edge)


@given(markets, prices)
def test_app_and_simulator_agree_at_any_price(marketplace: str, minor: int) -> None:
    currency = marketplace_currency(marketplace)
    assert increment(Money(minor, currency), marketplace).minor == sim_money.increment(marketplace, minor)
