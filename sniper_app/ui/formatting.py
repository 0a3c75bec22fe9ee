"""How the window writes money and countdowns for people (Qt-free, so it is unit-tested)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sniper_app.domain.money import Money, MoneyError, near_price


def format_money(minor: int | None, currency: str | None) -> str:
    """``$1,234.50``; an amount in a currency the domain does not know still shows, with its code."""
    if minor is None or not currency:
        return ""
    try:
        return Money(minor, currency).format()
    except MoneyError:
        return f"{currency} {Decimal(minor).scaleb(-2):,.2f}"


def format_price(
    minor: int | None, currency: str | None, converted_minor: int | None, converted_currency: str | None
) -> str:
    """The listing's own price, and eBay's conversion for the user beside it: ``£179.95 ≈ $257.87``."""
    own = format_money(minor, currency)
    if not own or converted_minor is None or not converted_currency or converted_currency == currency:
        return own
    converted = format_money(converted_minor, converted_currency)
    return f"{own} ≈ {converted}" if converted else own


def format_near_price(
    minor: int | None, currency: str | None, price_minor: int | None, converted_minor: int | None,
    converted_currency: str | None,
) -> str:
    """An amount of the listing (a maximum, a least bid) with "≈" at the rate eBay converted its price."""
    own = format_money(minor, currency)
    if not own or minor is None or not currency or price_minor is None or converted_minor is None \
            or not converted_currency:
        return own
    try:
        return near_price(Money(minor, currency), Money(price_minor, currency),
                          Money(converted_minor, converted_currency))
    except MoneyError:
        return own


def time_left(end: datetime | None, now: datetime) -> timedelta | None:
    return None if end is None else end - now


def format_time_left(end: datetime | None, now: datetime, *, ended: str = "ended") -> str:
    """A countdown that stays short: ``2d 03h``, ``3h 04m``, ``4m 05s``, ``9s``, or ``ended``."""
    if end is None:
        return ""
    total = int((end - now).total_seconds())
    if total <= 0:
        return ended
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {seconds:02d}s"
    return f"{seconds}s"
