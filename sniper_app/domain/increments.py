"""eBay's bid increment tables and the minimum next bid they imply, per marketplace."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from sniper_app.domain.errors import InputError
from sniper_app.domain.money import Money, MoneyError

# The currency every eBay marketplace id lists in (X-EBAY-C-MARKETPLACE-ID values).
MARKETPLACE_CURRENCIES: dict[str, str] = {
    "EBAY_US": "USD",
    "EBAY_MOTORS_US": "USD",
    "EBAY_GB": "GBP",
    "EBAY_DE": "EUR",
    "EBAY_AU": "AUD",
    "EBAY_CA": "CAD",
    "EBAY_FR": "EUR",
    "EBAY_IT": "EUR",
    "EBAY_ES": "EUR",
    "EBAY_AT": "EUR",
    "EBAY_BE": "EUR",
    "EBAY_NL": "EUR",
    "EBAY_IE": "EUR",
    "EBAY_CH": "CHF",
    "EBAY_PL": "PLN",
    "EBAY_HK": "HKD",
    "EBAY_SG": "SGD",
    "EBAY_MY": "MYR",
    "EBAY_PH": "PHP",
}


@dataclass(frozen=True, slots=True)
class _Band:
    from_price: str  # lowest current price (major units) this increment applies to
    increment: str


# Each table: bands in ascending order; a band applies from its price up to the next band's.
_TABLES: dict[str, tuple[_Band, ...]] = {
    # eBay US: the table in EBAY.md (ebay.com help, "Bid increments").
    "EBAY_US": (
        _Band("0.00", "0.05"),
        _Band("1.00", "0.25"),
        _Band("5.00", "0.50"),
        _Band("25.00", "1.00"),
        _Band("100.00", "2.50"),
        _Band("250.00", "5.00"),
        _Band("500.00", "10.00"),
        _Band("1000.00", "25.00"),
        _Band("2500.00", "50.00"),
        _Band("5000.00", "100.00"),
    ),
    # eBay UK: https://www.ebay.co.uk/pages/help/buy/bid-increments.html ("Bid Increments").
    "EBAY_GB": (
        _Band("0.00", "0.05"),
        _Band("1.00", "0.20"),
        _Band("5.00", "0.50"),
        _Band("15.00", "1.00"),
        _Band("60.00", "2.00"),
        _Band("150.00", "5.00"),
        _Band("300.00", "10.00"),
        _Band("600.00", "20.00"),
        _Band("1500.00", "50.00"),
        _Band("3000.00", "100.00"),
    ),
    # eBay Germany: ebay.de help "Automatisches Bietsystem bei eBay (Maximalgebot)", section
    # "Erhöhungsschritte" (https://www.ebay.de/help/buying/bidding/automatisches-bietsystem-bei-ebay-maximalgebot?id=4014).
    # eBay.de starts auctions at EUR 1,00, so its first band (1,00-49,99: 0,50) is extended down to 0.
    "EBAY_DE": (
        _Band("0.00", "0.50"),
        _Band("50.00", "1.00"),
        _Band("500.00", "5.00"),
        _Band("1000.00", "10.00"),
        _Band("5000.00", "50.00"),
    ),
}

# eBay Australia, Canada, France, Italy and Spain: NOT VERIFIED. eBay's published increment tables for these
# sites could not be found and checked, so each table here only mirrors the US bands in the site's own
# currency; the real ones may differ (a stand-in, not eBay's word, and no source to cite). UNVERIFIED_TABLES
# below makes the rules warn instead of refuse on these figures, and wherever Browse gives minimumPriceToBid
# (it does for auctions), eBay's own figure decides the least bid whatever this table says.
_US_SHAPED = _TABLES["EBAY_US"]
for _site in ("EBAY_AU", "EBAY_CA", "EBAY_FR", "EBAY_IT", "EBAY_ES"):
    _TABLES[_site] = _US_SHAPED

# Tables taken on trust (see above): a maximum below their figure is warned about, never refused.
UNVERIFIED_TABLES: frozenset[str] = frozenset({"EBAY_AU", "EBAY_CA", "EBAY_FR", "EBAY_IT", "EBAY_ES"})

SUPPORTED_MARKETPLACES: frozenset[str] = frozenset(_TABLES)


def _norm(marketplace: str) -> str:
    return marketplace.strip().upper() if isinstance(marketplace, str) else str(marketplace)


def marketplace_currency(marketplace: str) -> str:
    """The currency a marketplace lists in: EBAY_US -> USD, EBAY_GB -> GBP, EBAY_DE -> EUR ..."""
    currency = MARKETPLACE_CURRENCIES.get(_norm(marketplace))
    if currency is None:
        known = ", ".join(sorted(MARKETPLACE_CURRENCIES))
        raise InputError(f"{marketplace!r} is not an eBay marketplace this app knows; use one of {known}.")
    return currency


def marketplace_for_currency(currency: str) -> str | None:
    """The marketplace whose increments an item in ``currency`` follows, when the currency alone says so.

    USD -> EBAY_US, GBP -> EBAY_GB; None for a currency whose sites bid differently (EUR: Germany has its
    own table, France, Italy and Spain another) or that no known table covers: never a guess.
    """
    sites = sorted(m for m in SUPPORTED_MARKETPLACES if MARKETPLACE_CURRENCIES[m] == currency)
    if not sites or any(_TABLES[m] != _TABLES[sites[0]] for m in sites):
        return None
    # Several sites with one table (EBAY_US and EBAY_MOTORS_US would be): any of them gives the same steps.
    return sites[0]


def _table(marketplace: str) -> tuple[tuple[int, ...], tuple[Money, ...], str]:
    key = _norm(marketplace)
    bands = _TABLES.get(key)
    if bands is None:
        supported = ", ".join(sorted(SUPPORTED_MARKETPLACES))
        raise InputError(f"Bid increments for {marketplace!r} are not known; supported marketplaces are {supported}.")
    currency = MARKETPLACE_CURRENCIES[key]
    starts = tuple(Money.of(b.from_price, currency).minor for b in bands)
    steps = tuple(Money.of(b.increment, currency) for b in bands)
    return starts, steps, currency


def increment(price: Money, marketplace: str) -> Money:
    """The bid increment eBay applies at this current price on this marketplace."""
    starts, steps, currency = _table(marketplace)
    if price.currency != currency:
        raise MoneyError(f"{_norm(marketplace)} increments are in {currency}; this price is in {price.currency}.")
    if price.minor < 0:
        raise MoneyError("A price cannot be negative.")
    return steps[bisect_right(starts, price.minor) - 1]


def minimum_next_bid(current_price: Money, bid_count: int, marketplace: str) -> Money:
    """The least eBay accepts now: the start price with no bids, else current price plus one increment."""
    if isinstance(bid_count, bool) or not isinstance(bid_count, int) or bid_count < 0:
        raise InputError(f"A bid count must be a whole number of at least 0, not {bid_count!r}.")
    step = increment(current_price, marketplace)
    if bid_count == 0:
        return current_price
    return current_price + step
