"""Money as integer minor units plus an ISO 4217 currency, read exactly from what users type and eBay sends."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sniper_app.domain.errors import InputError

# ISO 4217 minor-unit exponents of the currencies eBay marketplaces price in. TWD, HUF and INR keep
# ISO's 2 even where cash has no cents: eBay's Amount values follow ISO.
CURRENCY_EXPONENTS: dict[str, int] = {
    "USD": 2,
    "GBP": 2,
    "EUR": 2,
    "AUD": 2,
    "CAD": 2,
    "CHF": 2,
    "PLN": 2,
    "HKD": 2,
    "SGD": 2,
    "MYR": 2,
    "PHP": 2,
    "INR": 2,
    "CNY": 2,
    "TWD": 2,
    "NZD": 2,
    "SEK": 2,
    "DKK": 2,
    "NOK": 2,
    "CZK": 2,
    "HUF": 2,
    "MXN": 2,
    "ILS": 2,
    "JPY": 0,
}

# Currencies a bare "$" can stand for; a bare "¥" for the yen/yuan pair.
DOLLAR_CURRENCIES = frozenset({"USD", "AUD", "CAD", "HKD", "SGD", "NZD", "TWD"})
_YEN_CURRENCIES = frozenset({"JPY", "CNY"})

# The largest amount a person may type: far above any real bid, small enough that a stray paste of a
# phone number or an item number is caught rather than bid.
MAX_PARSE_MAJOR = Decimal("10000000")
_MAX_TEXT_LENGTH = 64

_DOLLAR = "$"  # a bare dollar sign: resolved against the expected/default currency
_YEN = "¥"

# How each currency is written for people. Every prefix here must read back to the same currency in
# ``parse`` with no other hint, so ``parse(format(m)) == m`` holds.
_DISPLAY_PREFIX: dict[str, str] = {
    "USD": "$",
    "GBP": "£",
    "EUR": "€",
    "AUD": "AU $",
    "CAD": "C $",
    "HKD": "HK$",
    "SGD": "S$",
    "NZD": "NZ$",
    "TWD": "NT$",
    "JPY": "¥",
}

_LETTER_DOLLARS: dict[str, str] = {
    "US": "USD",
    "AU": "AUD",
    "A": "AUD",
    "C": "CAD",
    "CA": "CAD",
    "HK": "HKD",
    "S": "SGD",
    "SG": "SGD",
    "NT": "TWD",
    "NZ": "NZD",
}
_SYMBOLS: dict[str, str] = {
    "$": _DOLLAR,
    "£": "GBP",
    "€": "EUR",
    "¥": _YEN,
    "￥": _YEN,
    "cn¥": "CNY",
    "jp¥": "JPY",
    "rmb": "CNY",
    "₹": "INR",
    "rs.": "INR",
    "₱": "PHP",
    "zł": "PLN",
    "rm": "MYR",
    "fr.": "CHF",
}

_MARKER = (
    r"(?:US|AU|A|C|CA|HK|S|SG|NT|NZ)\s?\$|CN¥|JP¥|RMB|Rs\.|Fr\.|zł|RM(?![A-Za-z])"
    r"|[$£€¥￥₹₱]|[A-Za-z]{3}(?![A-Za-z])"
)
_PREFIX_RE = re.compile(rf"^(?P<m>{_MARKER})\s*", re.IGNORECASE)
_SUFFIX_RE = re.compile(rf"\s*(?<![A-Za-z])(?P<m>{_MARKER})$", re.IGNORECASE)
_NUMBER_CHARS_RE = re.compile(r"^[0-9.,'\s\u00a0\u202f]*[0-9][0-9.,'\s\u00a0\u202f]*$")
_GROUP_CHARS = " '\u00a0\u202f"
_EBAY_VALUE_RE = re.compile(r"^(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]+))?$")

_MINUS_SIGNS = "-\u2212\u2013"
_EXAMPLE = "Type it like 25.00, $25.00 or 25,50 EUR."


class MoneyError(InputError):
    """An amount or currency that cannot be accepted; the message says what was expected."""


def _check_currency(currency: str) -> str:
    if not isinstance(currency, str) or currency not in CURRENCY_EXPONENTS:
        raise MoneyError(f"{currency!r} is not a currency code this app knows (e.g. USD, GBP, EUR).")
    return currency


def _normalise_currency_arg(currency: str | None) -> str | None:
    if currency is None:
        return None
    return _check_currency(currency.strip().upper() if isinstance(currency, str) else currency)


@dataclass(frozen=True, slots=True, eq=False)
class Money:
    """An exact amount: ``minor`` units (cents, pence, yen) of ``currency``."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise TypeError(f"Money.minor must be an int number of minor units, not {type(self.minor).__name__}")
        _check_currency(self.currency)

    # --- construction -------------------------------------------------------------------------------

    @classmethod
    def parse(
        cls,
        text: str,
        default_currency: str | None = None,
        *,
        expected_currency: str | None = None,
    ) -> Money:
        """Read an amount a person typed ("$1,234.50", "EUR 25,50", "7.99 £" ...) exactly, or explain why not."""
        default = _normalise_currency_arg(default_currency)
        expected = _normalise_currency_arg(expected_currency)
        if not isinstance(text, str):
            raise TypeError("Money.parse expects text")
        s = text.strip()
        if not s:
            raise MoneyError(f"Enter an amount. {_EXAMPLE}")
        if not any(ch.isdigit() for ch in s):
            raise MoneyError(f"Could not read {s!r} as an amount. {_EXAMPLE}")
        if len(s) > _MAX_TEXT_LENGTH:
            raise MoneyError(f"That is too long to be an amount. {_EXAMPLE}")
        if s[0] in _MINUS_SIGNS:
            raise MoneyError("The amount cannot be negative.")

        number, markers = _split_markers(s)
        if number[:1] and number[:1] in _MINUS_SIGNS:
            raise MoneyError("The amount cannot be negative.")
        if not _NUMBER_CHARS_RE.match(number):
            raise MoneyError(f"Could not read {s!r} as an amount. {_EXAMPLE}")
        currency = _resolve_currency(markers, default=default, expected=expected)
        if expected is not None and currency != expected:
            raise MoneyError(f"This item is priced in {expected}; enter the amount in {expected}.")

        value = _read_number(number, text=s, currency=currency)
        if value == 0:
            raise MoneyError("The amount must be more than zero.")
        if value > MAX_PARSE_MAJOR:
            limit = cls._from_decimal(MAX_PARSE_MAJOR, currency).format()
            raise MoneyError(f"That amount is too large; the most you can enter is {limit}.")
        return cls._from_decimal(value, currency)

    @classmethod
    def from_ebay(cls, value: str, currency: str) -> Money:
        """Read eBay's decimal string ("25.00", "7", "0.5") exactly; anything else is refused."""
        cur = _check_currency(currency)
        if not isinstance(value, str) or len(value) > 32:
            raise MoneyError(f"eBay sent an amount that is not a decimal string: {value!r}.")
        match = _EBAY_VALUE_RE.match(value)
        if match is None:
            raise MoneyError(f"eBay sent an amount that is not a plain decimal: {value!r}.")
        frac = match.group("frac") or ""
        if len(frac) > CURRENCY_EXPONENTS[cur]:
            raise MoneyError(f"eBay sent {value!r}, which has more decimals than {cur} allows.")
        return cls._from_decimal(Decimal(value), cur)

    @classmethod
    def of(cls, major: str | int | Decimal, currency: str) -> Money:
        """Exact amount from major units, for code and tests: ``Money.of("25.50", "USD")``."""
        cur = _check_currency(currency)
        if isinstance(major, bool) or not isinstance(major, str | int | Decimal):
            raise TypeError(f"Money.of takes str, int or Decimal, not {type(major).__name__}")
        try:
            value = Decimal(major) if not isinstance(major, str) else Decimal(major.strip())
        except InvalidOperation:
            raise MoneyError(f"{major!r} is not a number.") from None
        if not value.is_finite():
            raise MoneyError(f"{major!r} is not a finite amount.")
        scaled = value.scaleb(CURRENCY_EXPONENTS[cur])
        if scaled != scaled.to_integral_value():
            raise MoneyError(f"{major} has more decimals than {cur} allows.")
        return cls(int(scaled), cur)

    @classmethod
    def _from_decimal(cls, value: Decimal, currency: str) -> Money:
        return cls(int(value.scaleb(CURRENCY_EXPONENTS[currency])), currency)

    # --- views --------------------------------------------------------------------------------------

    @property
    def exponent(self) -> int:
        return CURRENCY_EXPONENTS[self.currency]

    def to_decimal(self) -> Decimal:
        return Decimal(self.minor).scaleb(-self.exponent)

    def to_ebay_value(self) -> str:
        """The string eBay expects in ``{"value": ...}``: "25.00", or "2500" for JPY."""
        return f"{self.to_decimal():f}"

    def format(self) -> str:
        """For people: "$1,234.50", "£7.99", "€7.99", "AU $10.00", "CHF 25.00", "¥2,500"."""
        number = format(abs(self.to_decimal()), f",.{self.exponent}f")
        prefix = _DISPLAY_PREFIX.get(self.currency, self.currency + " ")
        sign = "-" if self.minor < 0 else ""
        return f"{sign}{prefix}{number}"

    def __str__(self) -> str:
        return self.format()

    # --- arithmetic and comparison (same currency only) ---------------------------------------------

    def _same(self, other: Money, op: str) -> None:
        if self.currency != other.currency:
            raise MoneyError(f"Cannot {op} {self.currency} and {other.currency} amounts.")

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other, "add")
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other, "subtract")
        return Money(self.minor - other.minor, self.currency)

    def __mul__(self, factor: object) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            return NotImplemented
        return Money(self.minor * factor, self.currency)

    __rmul__ = __mul__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other, "compare")
        return self.minor == other.minor

    def __ne__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other, "compare")
        return self.minor != other.minor

    def __hash__(self) -> int:
        return hash((self.minor, self.currency))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other, "compare")
        return self.minor < other.minor

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other, "compare")
        return self.minor <= other.minor

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other, "compare")
        return self.minor > other.minor

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other, "compare")
        return self.minor >= other.minor


def with_converted(own: Money, converted: Money | None) -> str:
    """The listing's own amount, and eBay's conversion for the user beside it: "£179.95 ≈ $257.87".

    The converted amount is for reading only; it is never bid, stored as a maximum or compared.
    """
    if converted is None or converted.currency == own.currency:
        return own.format()
    return f"{own.format()} ≈ {converted.format()}"


def at_rate_of(amount: Money | None, own: Money | None, converted: Money | None) -> Money | None:
    """``amount`` at the rate eBay converted ``own`` into ``converted``, for an "≈" beside it only.

    Nothing computed here is ever bid, stored as a maximum or compared: it only tells the user roughly what an
    amount in the listing's currency means in theirs. None where eBay gave no conversion to go by.
    """
    if amount is None or own is None or converted is None or not own.minor or converted.currency == own.currency:
        return None
    if amount.currency != own.currency:
        return None
    try:
        rate = Decimal(converted.minor) / Decimal(own.minor)
        return Money(int((amount.minor * rate).to_integral_value(ROUND_HALF_UP)), converted.currency)
    except (MoneyError, ArithmeticError):
        return None


def near_price(amount: Money, price: Money | None, converted: Money | None) -> str:
    """An amount of a listing (a maximum, a least bid, shipping) with "≈" at the rate eBay converted its price:
    "£46.00 ≈ $58.97"; just the amount where eBay converted nothing."""
    return with_converted(amount, at_rate_of(amount, price, converted))


def names_currency(text: str) -> bool:
    """Whether ``text`` carries a currency sign or code ("$40", "40 GBP"), as opposed to a bare number."""
    try:
        _number, markers = _split_markers(text.strip())
    except MoneyError:
        return True
    return bool(markers)


# --- parsing helpers -------------------------------------------------------------------------------


def _marker_currency(marker: str) -> str:
    """Map a matched symbol or code to a currency code, or to the bare-dollar/bare-yen placeholders."""
    compact = marker.replace(" ", "")
    if compact.endswith("$") and len(compact) > 1:
        return _LETTER_DOLLARS[compact[:-1].upper()]
    symbol = _SYMBOLS.get(compact.lower())
    if symbol is not None:
        return symbol
    code = compact.upper()
    if code in {"NAN", "INF"}:
        raise MoneyError(f"{marker!r} is not an amount. {_EXAMPLE}")
    if code not in CURRENCY_EXPONENTS:
        known = ", ".join(sorted(CURRENCY_EXPONENTS))
        raise MoneyError(f"{marker} is not a currency this app knows; use one of {known}.")
    return code


def _split_markers(s: str) -> tuple[str, list[str]]:
    markers: list[str] = []
    prefix = _PREFIX_RE.match(s)
    if prefix is not None:
        markers.append(_marker_currency(prefix.group("m")))
        s = s[prefix.end() :]
    suffix = _SUFFIX_RE.search(s)
    if suffix is not None and suffix.start() > 0:
        markers.append(_marker_currency(suffix.group("m")))
        s = s[: suffix.start()]
    return s.strip(), markers


def _resolve_currency(markers: list[str], *, default: str | None, expected: str | None) -> str:
    concrete = {m for m in markers if m not in (_DOLLAR, _YEN)}
    if len(concrete) > 1:
        raise MoneyError(f"The amount names two currencies ({' and '.join(sorted(concrete))}); use one.")
    generic = {m for m in markers if m in (_DOLLAR, _YEN)}
    if concrete:
        currency = concrete.pop()
        if _DOLLAR in generic and currency not in DOLLAR_CURRENCIES:
            raise MoneyError(f"A $ sign does not go with {currency}; write the amount in one currency.")
        if _YEN in generic and currency not in _YEN_CURRENCIES:
            raise MoneyError(f"A ¥ sign does not go with {currency}; write the amount in one currency.")
        return currency
    if _DOLLAR in generic:
        for hint in (expected, default):
            if hint is not None and hint in DOLLAR_CURRENCIES:
                return hint
        return "USD"
    if _YEN in generic:
        for hint in (expected, default):
            if hint is not None and hint in _YEN_CURRENCIES:
                return hint
        return "JPY"
    # With no sign at all the amount is in the item's currency when that is known.
    fallback = expected or default
    if fallback is None:
        raise MoneyError("Which currency? Add a symbol or a code, e.g. $25.00, £25.00 or 25 EUR.")
    return fallback


def _read_number(number: str, *, text: str, currency: str) -> Decimal:
    """Read the digits and separators of ``number``, deciding which separator is the decimal point."""
    garbage = MoneyError(f"Could not read {text!r} as an amount. {_EXAMPLE}")
    if not _NUMBER_CHARS_RE.match(number):
        raise garbage
    exponent = CURRENCY_EXPONENTS[currency]
    last_dot, last_comma = number.rfind("."), number.rfind(",")
    dots, commas = number.count("."), number.count(",")

    decimal_sep: str | None = None
    if dots and commas:
        decimal_sep = "." if last_dot > last_comma else ","
        if number.count(decimal_sep) != 1:
            raise garbage
    elif dots == 1 or commas == 1:
        sep = "." if dots else ","
        after = number[number.rfind(sep) + 1 :]
        # One separator followed by exactly three digits reads as 1234 to some and 1.234 to others.
        if len(after) == 3 and after.isdigit() and number[: number.rfind(sep)].strip(_GROUP_CHARS):
            if exponent == 0:
                decimal_sep = None
            else:
                with_decimals = f"{number}.00" if sep == "," else f"{number},00"
                raise MoneyError(
                    f"{text!r} is ambiguous; write {_digits(number)}, or {with_decimals} to show the decimals."
                )
        else:
            decimal_sep = sep

    if decimal_sep is None:
        int_part, frac = number, ""
    else:
        int_part, _, frac = number.partition(decimal_sep)
        if not frac or not frac.isdigit():
            raise garbage
    int_digits = _strip_grouping(int_part.strip(), garbage)

    if len(frac) > exponent:
        if exponent == 0:
            raise MoneyError(f"{currency} amounts are whole numbers; leave out the decimals.")
        raise MoneyError(f"{currency} amounts have at most {exponent} decimals.")
    return Decimal(f"{int_digits or '0'}.{frac or '0'}")


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def _strip_grouping(int_part: str, garbage: MoneyError) -> str:
    """Remove thousands separators, insisting on groups of three so "1,2345" or "12 34" are refused."""
    if int_part.isdigit() or int_part == "":
        return int_part
    separators = {ch for ch in int_part if not ch.isdigit()}
    if len(separators) != 1:
        raise garbage
    groups = int_part.split(separators.pop())
    if not (1 <= len(groups[0]) <= 3) or any(len(g) != 3 for g in groups[1:]):
        raise garbage
    if not all(g.isdigit() for g in groups):
        raise garbage
    return "".join(groups)
