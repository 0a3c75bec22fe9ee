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

# eBay Australia: the US bands in AUD. Published at pages.ebay.com.au/help/buy/bid-increments.html (now
# https://www.ebay.com.au/help/buying/bidding/automatic-bidding?id=4014, "Bid increments"); read as recorded by
# two long-lived open-source snipers, esniper (auctioninfo.c, AUIncrements) and JBidwatcher
# (ebayCurrencyTables.java, au_incrementTable), which agree band for band.
_TABLES["EBAY_AU"] = _TABLES["EBAY_US"]

# eBay Canada: published at pages.ebay.ca/help/buy/bid-increments.html (now
# https://www.ebay.ca/help/buying/bidding/automatic-bidding?id=4014). esniper (CADIncrements) and JBidwatcher
# (ca_incrementTable) record it identically but only up to "C$100.00 and up: C$2.50"; those five bands are the
# US ones, and a lone 2.50 step for any price is most likely where the copy stopped, not eBay's rule. So the
# bands below C$250 are taken as published, and from C$250 the table goes on with the US bands, an inference
# no source states: _VERIFIED_BELOW keeps the rules from refusing on that part (they warn instead), and
# Browse's minimumPriceToBid, given for auctions, decides whenever it is there.
_TABLES["EBAY_CA"] = _TABLES["EBAY_US"]

# eBay France, Italy and Spain: the one euro table eBay.de publishes (0.50 below 50, 1 to 500, 5 to 1000, 10 to
# 5000, then 50). esniper (EURIncrements) lists it for pages.ebay.fr/help/buy/bid-increments.html,
# pages.ebay.it/help/buy/bid-increments.html and pages.es.ebay.com/help/buy/bid-increments.html alike (with
# Germany, Austria, Belgium and the Netherlands); es-f's eBayIncrements.php repeats it, and JBidwatcher's EUR
# table is the same. JBidwatcher also keeps a French-franc table from before the euro: obsolete, not used.
for _site in ("EBAY_FR", "EBAY_IT", "EBAY_ES"):
    _TABLES[_site] = _TABLES["EBAY_DE"]

# Where a table is eBay's word only below some price (major units), the rules warn above it instead of refusing.
_VERIFIED_BELOW: dict[str, str] = {"EBAY_CA": "250.00"}

# eBay Motors US bids by eBay US's own help page; every other site without a table here stays unknown.
_SAME_TABLE_AS: dict[str, str] = {"EBAY_MOTORS_US": "EBAY_US"}

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

    USD -> EBAY_US, GBP -> EBAY_GB; None where a site that lists in the currency has no known table (EUR:
    eBay Ireland follows eBay UK's help, and Austria, Belgium and the Netherlands have no table here) or no
    known table covers it at all: never a guess.
    """
    sites = sorted(m for m, c in MARKETPLACE_CURRENCIES.items() if c == currency)
    tables = {_TABLES.get(_SAME_TABLE_AS.get(m, m)) for m in sites}
    if not sites or None in tables or len(tables) != 1:
        return None
    return min(m for m in sites if m in _TABLES)


def table_is_verified(marketplace: str, price: Money) -> bool:
    """Whether the increment at ``price`` on this marketplace is one eBay published (not an inference)."""
    key = _norm(marketplace)
    bound = _VERIFIED_BELOW.get(key)
    return bound is None or price.minor < Money.of(bound, price.currency).minor


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
