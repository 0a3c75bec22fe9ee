"""Money: exact parsing of what people type and what eBay sends, formatting, and same-currency arithmetic."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sniper_app.domain.errors import InputError
from sniper_app.domain.money import CURRENCY_EXPONENTS, Money, MoneyError, near_price

DOMAIN = Path(__file__).resolve().parents[2] / "sniper_app" / "domain"


def usd(major: str) -> Money:
    return Money.of(major, "USD")


# --- what users type -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "default", "expected"),
    [
        ("25", "USD", Money(2500, "USD")),
        ("  25  ", "USD", Money(2500, "USD")),
        ("25.5", "USD", Money(2550, "USD")),
        ("25.50", "USD", Money(2550, "USD")),
        ("25,50", "EUR", Money(2550, "EUR")),
        (".50", "USD", Money(50, "USD")),
        ("0.01", "USD", Money(1, "USD")),
        ("$1,234.50", None, Money(123450, "USD")),
        ("$1,234,567.89", None, Money(123456789, "USD")),
        ("$ 25", None, Money(2500, "USD")),
        ("US $25.00", None, Money(2500, "USD")),
        ("US$25.00", None, Money(2500, "USD")),
        ("25 USD", None, Money(2500, "USD")),
        ("25usd", None, Money(2500, "USD")),
        ("USD 25", None, Money(2500, "USD")),
        ("EUR 25,50", None, Money(2550, "EUR")),
        ("£7.99", None, Money(799, "GBP")),
        ("7.99 GBP", None, Money(799, "GBP")),
        ("€ 7,99", None, Money(799, "EUR")),
        ("7,99 €", None, Money(799, "EUR")),
        ("1.234,50 EUR", None, Money(123450, "EUR")),
        ("1.234.567,89 EUR", None, Money(123456789, "EUR")),
        ("1 234,50 €", None, Money(123450, "EUR")),
        ("1\u00a0234,50 €", None, Money(123450, "EUR")),
        ("CHF 1'234.50", None, Money(123450, "CHF")),
        ("AU $10", None, Money(1000, "AUD")),
        ("AU$10.50", None, Money(1050, "AUD")),
        ("C $5", None, Money(500, "CAD")),
        ("HK$100", None, Money(10000, "HKD")),
        ("10 zł", None, Money(1000, "PLN")),
        ("¥2,500", None, Money(2500, "JPY")),
        ("2500 JPY", None, Money(2500, "JPY")),
        ("1,234,567 JPY", None, Money(1234567, "JPY")),
        ("$25 CAD", None, Money(2500, "CAD")),
        ("10,000,000.00 USD", None, Money(1_000_000_000, "USD")),
    ],
)
def test_parse_accepts_what_people_type(text: str, default: str | None, expected: Money) -> None:
    result = Money.parse(text, default)
    assert result.currency == expected.currency
    assert result.minor == expected.minor


@pytest.mark.parametrize(
    ("default", "expected_currency", "currency"),
    [
        ("CAD", None, "CAD"),  # "$" means the default when that is a dollar currency
        ("AUD", None, "AUD"),
        ("GBP", None, "USD"),  # ... and US dollars otherwise
        (None, None, "USD"),
        (None, "CAD", "CAD"),  # the item's dollar currency wins
        ("AUD", "CAD", "CAD"),
    ],
)
def test_bare_dollar_sign(default: str | None, expected_currency: str | None, currency: str) -> None:
    result = Money.parse("$10", default, expected_currency=expected_currency)
    assert (result.minor, result.currency) == (1000, currency)


def test_plain_number_takes_the_item_currency_before_the_default() -> None:
    result = Money.parse("5", "USD", expected_currency="GBP")
    assert (result.minor, result.currency) == (500, "GBP")


def test_parse_is_exact_where_float_is_not() -> None:
    # int(float("19.99") * 100) == 1998: the classic float bug this type exists to avoid.
    assert int(float("19.99") * 100) == 1998
    assert Money.parse("19.99", "USD").minor == 1999
    assert Money.parse("0.29", "USD").minor == 29
    assert Money.parse("1.15", "EUR").minor == 115


@pytest.mark.parametrize(
    ("text", "default", "expected_currency", "message"),
    [
        ("", "USD", None, "Enter an amount."),
        ("   ", "USD", None, "Enter an amount."),
        ("-5", "USD", None, "The amount cannot be negative."),
        ("-$5", None, None, "The amount cannot be negative."),
        ("$-5", None, None, "The amount cannot be negative."),
        ("\u22125", "USD", None, "The amount cannot be negative."),
        ("0", "USD", None, "The amount must be more than zero."),
        ("$0.00", None, None, "The amount must be more than zero."),
        ("25.505", "GBP", None, "ambiguous"),
        ("25.5051", "GBP", None, "GBP amounts have at most 2 decimals."),
        ("25,12345 EUR", None, None, "EUR amounts have at most 2 decimals."),
        ("¥25.5", None, None, "JPY amounts are whole numbers; leave out the decimals."),
        ("10,000,000.01", "USD", None, "That amount is too large; the most you can enter is $10,000,000.00."),
        ("99999999999", "USD", None, "That amount is too large"),
        ("NaN", "USD", None, "Could not read 'NaN' as an amount."),
        ("inf", "USD", None, "Could not read 'inf' as an amount."),
        ("NaN 5", "USD", None, "'NaN' is not an amount."),
        ("Infinity", "USD", None, "Could not read 'Infinity' as an amount."),
        ("1e3", "USD", None, "Could not read '1e3' as an amount."),
        ("2.5E+2", "USD", None, "Could not read"),
        ("abc", "USD", None, "Could not read 'abc' as an amount."),
        ("twenty", "USD", None, "Could not read"),
        ("25 dollars", None, None, "Could not read"),
        ("1,2.34", "USD", None, "Could not read '1,2.34' as an amount."),
        ("1.234.5", "USD", None, "Could not read"),
        ("12 34", "USD", None, "Could not read"),
        ("25.", "USD", None, "Could not read"),
        ("1,234", "USD", None, "'1,234' is ambiguous; write 1234, or 1,234.00 to show the decimals."),
        ("1.234 EUR", None, None, "'1.234 EUR' is ambiguous; write 1234, or 1.234,00 to show the decimals."),
        ("25", None, None, "Which currency? Add a symbol or a code"),
        ("25 XYZ", None, None, "XYZ is not a currency this app knows"),
        ("€25 USD", None, None, "The amount names two currencies (EUR and USD); use one."),
        ("$25 EUR", None, None, "A $ sign does not go with EUR"),
        ("£5", None, "USD", "This item is priced in USD; enter the amount in USD."),
        ("25 EUR", "EUR", "GBP", "This item is priced in GBP; enter the amount in GBP."),
        ("AU $10", None, "USD", "This item is priced in USD; enter the amount in USD."),
        ("9" * 80, "USD", None, "That is too long to be an amount."),
    ],
)
def test_parse_rejects_with_a_sentence(
    text: str, default: str | None, expected_currency: str | None, message: str
) -> None:
    with pytest.raises(MoneyError) as info:
        Money.parse(text, default, expected_currency=expected_currency)
    assert message in str(info.value)
    # The user's sentence ends like a sentence.
    assert str(info.value).endswith(".")


def test_money_error_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"^Could not read 'junk' as an amount\. Type it like 25\.00"):
        Money.parse("junk", "USD")
    assert issubclass(MoneyError, ValueError)


def test_parse_refuses_unknown_default_currency() -> None:
    with pytest.raises(MoneyError, match="not a currency code"):
        Money.parse("25", "XXX")


# --- what eBay sends ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [
        ("25.00", "USD", 2500),
        ("7", "GBP", 700),
        ("0.5", "EUR", 50),
        ("0.00", "USD", 0),
        ("0", "USD", 0),
        ("19.99", "USD", 1999),
        ("2500", "JPY", 2500),
        ("123456789.12", "USD", 12345678912),
    ],
)
def test_from_ebay_reads_decimal_strings_exactly(value: str, currency: str, minor: int) -> None:
    money = Money.from_ebay(value, currency)
    assert (money.minor, money.currency) == (minor, currency)


@pytest.mark.parametrize(
    ("value", "currency"),
    [
        ("", "USD"),
        (" 25.00", "USD"),
        ("25.00 ", "USD"),
        ("+25", "USD"),
        ("-1.00", "USD"),
        ("1e3", "USD"),
        ("NaN", "USD"),
        ("25.001", "USD"),
        ("25.5", "JPY"),
        ("1,000.00", "USD"),
        ("25,00", "EUR"),
        ("$25", "USD"),
        (".5", "USD"),
        ("5.", "USD"),
        ("1" * 40, "USD"),
    ],
)
def test_from_ebay_is_strict(value: str, currency: str) -> None:
    with pytest.raises(MoneyError):
        Money.from_ebay(value, currency)


def test_from_ebay_rejects_unknown_currency_and_non_strings() -> None:
    with pytest.raises(MoneyError, match="not a currency code"):
        Money.from_ebay("1.00", "usd")
    with pytest.raises(MoneyError):
        Money.from_ebay(25.0, "USD")  # type: ignore[arg-type]


# --- construction ---------------------------------------------------------------------------------


def test_of_is_exact() -> None:
    assert Money.of("25.5", "USD").minor == 2550
    assert Money.of(25, "USD").minor == 2500
    assert Money.of(Decimal("0.10"), "GBP").minor == 10
    assert Money.of(2500, "JPY").minor == 2500
    assert Money.of("-3.25", "USD").minor == -325


@pytest.mark.parametrize("major", ["1.005", "abc", "NaN", "Infinity"])
def test_of_refuses_inexact_or_non_numbers(major: str) -> None:
    with pytest.raises(MoneyError):
        Money.of(major, "USD")


def test_of_and_constructor_refuse_floats_and_bools() -> None:
    with pytest.raises(TypeError):
        Money.of(19.99, "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money.of(True, "USD")
    with pytest.raises(TypeError):
        Money(19.99, "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(True, "USD")


@pytest.mark.parametrize("currency", ["usd", "XXX", "", "US"])
def test_constructor_requires_a_known_upper_case_currency(currency: str) -> None:
    with pytest.raises(MoneyError):
        Money(100, currency)


def test_money_is_immutable() -> None:
    money = usd("1.00")
    with pytest.raises(AttributeError):
        money.minor = 5  # type: ignore[misc]


# --- views ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("money", "decimal", "ebay", "text"),
    [
        (Money(2500, "USD"), Decimal("25.00"), "25.00", "$25.00"),
        (Money(5, "USD"), Decimal("0.05"), "0.05", "$0.05"),
        (Money(123450, "USD"), Decimal("1234.50"), "1234.50", "$1,234.50"),
        (Money(799, "GBP"), Decimal("7.99"), "7.99", "£7.99"),
        (Money(799, "EUR"), Decimal("7.99"), "7.99", "€7.99"),
        (Money(1000, "AUD"), Decimal("10.00"), "10.00", "AU $10.00"),
        (Money(500, "CAD"), Decimal("5.00"), "5.00", "C $5.00"),
        (Money(2500, "CHF"), Decimal("25.00"), "25.00", "CHF 25.00"),
        (Money(2500, "JPY"), Decimal("2500"), "2500", "¥2,500"),
        (Money(0, "USD"), Decimal("0.00"), "0.00", "$0.00"),
        (Money(-500, "USD"), Decimal("-5.00"), "-5.00", "-$5.00"),
    ],
)
def test_views(money: Money, decimal: Decimal, ebay: str, text: str) -> None:
    assert money.to_decimal() == decimal
    assert str(money.to_decimal()) == str(decimal)
    assert money.to_ebay_value() == ebay
    assert money.format() == text
    assert str(money) == text


# --- arithmetic and comparison ---------------------------------------------------------------------


def test_arithmetic_in_one_currency() -> None:
    assert usd("1.10") + usd("2.25") == usd("3.35")
    assert usd("5.00") - usd("0.01") == usd("4.99")
    assert usd("2.50") * 3 == usd("7.50")
    assert 3 * usd("2.50") == usd("7.50")
    assert usd("1.00") < usd("1.01") <= usd("1.01") < usd("2.00")
    assert usd("2.00") > usd("1.99") >= usd("1.99")
    assert usd("1.00") != usd("1.01")
    assert hash(usd("1.00")) == hash(Money(100, "USD"))
    assert len({usd("1.00"), Money(100, "USD")}) == 1


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
        lambda a, b: a == b,
        lambda a, b: a != b,
    ],
)
def test_mixing_currencies_is_refused(operation: object) -> None:
    with pytest.raises(MoneyError, match="USD and GBP"):
        operation(usd("1.00"), Money(100, "GBP"))  # type: ignore[operator]


def test_no_arithmetic_with_plain_numbers() -> None:
    with pytest.raises(TypeError):
        usd("1.00") + 1  # type: ignore[operator]
    with pytest.raises(TypeError):
        usd("1.00") * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        usd("1.00") * usd("1.00")  # type: ignore[operator]
    assert (usd("1.00") == 100) is False


# --- properties -----------------------------------------------------------------------------------

currencies = st.sampled_from(sorted(CURRENCY_EXPONENTS))


@st.composite
def parseable_money(draw: st.DrawFn) -> Money:
    currency = draw(currencies)
    most = 10_000_000 * 10 ** CURRENCY_EXPONENTS[currency]
    return Money(draw(st.integers(min_value=1, max_value=most)), currency)


@given(parseable_money())
def test_parse_of_format_round_trips(money: Money) -> None:
    assert Money.parse(money.format()) == money
    assert Money.parse(money.format(), money.currency) == money
    assert Money.parse(money.format(), expected_currency=money.currency) == money


@given(currencies, st.integers(min_value=0, max_value=10**15))
def test_from_ebay_of_to_ebay_value_round_trips(currency: str, minor: int) -> None:
    money = Money(minor, currency)
    assert Money.from_ebay(money.to_ebay_value(), currency) == money


@given(currencies, st.integers(min_value=-(10**12), max_value=10**12))
def test_of_to_decimal_round_trips(currency: str, minor: int) -> None:
    money = Money(minor, currency)
    assert Money.of(money.to_decimal(), currency) == money
    assert Money.of(str(money.to_decimal()), currency) == money


@given(
    st.integers(min_value=1, max_value=10**9),
    st.sampled_from(["USD", "EUR", "GBP"]),
    st.sampled_from([(",", "."), (".", ","), (" ", ","), ("'", ".")]),
)
def test_parse_reads_grouped_numbers_in_either_convention(minor: int, currency: str, seps: tuple[str, str]) -> None:
    group, point = seps
    whole, cents = divmod(minor, 100)
    text = f"{whole:,}".replace(",", group) + point + f"{cents:02d}" + " " + currency
    assert Money.parse(text) == Money(minor, currency)


def test_no_float_in_money_code() -> None:
    for name in ("money.py", "increments.py"):
        source = (DOMAIN / name).read_text(encoding="utf-8")
        assert not re.search(r"\bfloat\b", source), f"{name} mentions float"


def test_an_amount_near_a_converted_price_shows_at_ebays_rate_and_only_then() -> None:
    price, converted = Money.of("45.00", "GBP"), Money.of("57.69", "USD")
    # 46.00 x 57.69 / 45.00 = 58.974: rounded half up to the cent.
    assert near_price(Money.of("46.00", "GBP"), price, converted) == "£46.00 ≈ $58.97"
    assert near_price(Money.of("46.00", "GBP"), price, None) == "£46.00"
    assert near_price(Money.of("46.00", "GBP"), Money.of("0.00", "GBP"), converted) == "£46.00"
    # Never a rate from another currency's price, and nothing beside an amount eBay did not convert.
    assert near_price(Money.of("46.00", "EUR"), price, converted) == "€46.00"
    assert near_price(Money.of("46.00", "GBP"), price, Money.of("45.00", "GBP")) == "£46.00"
