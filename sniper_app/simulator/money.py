"""Money for the simulator: integer minor units parsed with Decimal, and eBay's bid increment tables.

Independent of the app's own money code on purpose: a bug there must not hide behind the same bug here.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MARKETPLACE_CURRENCY: dict[str, str] = {
    "EBAY_US": "USD",
    "EBAY_GB": "GBP",
    "EBAY_DE": "EUR",
    "EBAY_AU": "AUD",
    "EBAY_CA": "CAD",
    "EBAY_FR": "EUR",
    "EBAY_IT": "EUR",
    "EBAY_ES": "EUR",
}
SUPPORTED_MARKETPLACES = tuple(MARKETPLACE_CURRENCY)
KNOWN_CURRENCIES = frozenset(MARKETPLACE_CURRENCY.values())

# The simulator's own conversion rates: units of each currency per US dollar. Fixed, so a test can work a
# localized amount out by hand; near enough to real rates that the demo looks believable.
_PER_USD: dict[str, Decimal] = {
    "USD": Decimal("1"),
    "GBP": Decimal("0.78"),
    "EUR": Decimal("0.92"),
    "AUD": Decimal("1.52"),
    "CAD": Decimal("1.37"),
}


def convert_minor(minor: int, from_currency: str, to_currency: str) -> int:
    """``minor`` units of ``from_currency`` in ``to_currency``, rounded half up to the minor unit."""
    if from_currency == to_currency:
        return minor
    value = Decimal(minor) / _PER_USD[from_currency] * _PER_USD[to_currency]
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def format_trading(minor: int) -> str:
    """An amount as the Trading API writes it: one decimal where the cents end in 0 ("10.0", "339.9")."""
    text = format_minor(minor)
    return text[:-1] if text.endswith("0") else text


# (lower bound of the current price in minor units, increment in minor units), ascending.
# ebay.com help, "Bid increments" (ebay.com/help/buying/bidding/automatic-bidding?id=4014).
_US = [
    (0, 5), (100, 25), (500, 50), (2500, 100), (10000, 250), (25000, 500),
    (50000, 1000), (100000, 2500), (250000, 5000), (500000, 10000),
]
# ebay.co.uk help, "Bid increments".
_GB = [
    (0, 5), (100, 20), (500, 50), (1500, 100), (6000, 200), (15000, 500),
    (30000, 1000), (60000, 2000), (150000, 5000), (300000, 10000),
]
# ebay.de help, "Erhöhungsschritte"; the same euro table serves eBay France, Italy and Spain
# (pages.ebay.fr, pages.ebay.it and pages.es.ebay.com /help/buy/bid-increments.html, as esniper records them).
_EUR = [(0, 50), (5000, 100), (50000, 500), (100000, 1000), (500000, 5000)]
# eBay Australia (pages.ebay.com.au/help/buy/bid-increments.html) publishes the US bands in AUD. eBay Canada
# (pages.ebay.ca/help/buy/bid-increments.html) is recorded with the US bands only up to C$100 and up: C$2.50;
# the simulator plays the US bands on, as the likelier rule, so a client that trusts a flat 2.50 gets caught.
INCREMENT_TABLES: dict[str, list[tuple[int, int]]] = {
    "EBAY_US": _US,
    "EBAY_CA": _US,
    "EBAY_AU": _US,
    "EBAY_GB": _GB,
    "EBAY_DE": _EUR,
    "EBAY_FR": _EUR,
    "EBAY_IT": _EUR,
    "EBAY_ES": _EUR,
}


class MoneyError(ValueError):
    """A money string that is not a valid amount (why is in the message)."""


def parse_minor(text: object, *, max_decimals: int = 2) -> int:
    """Parse an eBay decimal string ("12.50") into minor units; refuse floats, signs and extra decimals."""
    if not isinstance(text, str) or not text.strip():
        raise MoneyError("missing")
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise MoneyError("not a number") from exc
    if not value.is_finite() or value < 0:
        raise MoneyError("not a positive number")
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > max_decimals and value != value.quantize(Decimal(1).scaleb(-max_decimals)):
        raise MoneyError("too many decimals")
    return int(value.scaleb(max_decimals))


def format_minor(minor: int) -> str:
    """Minor units as eBay's decimal string: 1250 -> "12.50"."""
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole}.{cents:02d}"


def increment(marketplace: str, price_minor: int) -> int:
    """The bid increment at this current price on this marketplace."""
    table = INCREMENT_TABLES.get(marketplace, _US)
    step = table[0][1]
    for lower, inc in table:
        if price_minor >= lower:
            step = inc
        else:
            break
    return step
