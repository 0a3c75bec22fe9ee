"""How commands show times and money, in text and in JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sniper_app.domain.money import Money, near_price, with_converted

if TYPE_CHECKING:
    from sniper_app.domain.views import SnipeView, WatchView


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "-"


def amount(minor: int | None, currency: str | None) -> str | None:
    return Money(minor, currency).to_ebay_value() if minor is not None and currency else None


def price_shown(minor: int | None, currency: str | None, row: SnipeView | WatchView) -> str:
    """A current price in the listing's currency, with eBay's conversion beside it: "£179.95 ≈ $257.87"."""
    if minor is None or not currency:
        return "-"
    conv_minor, conv_currency = row.converted_price_minor, row.converted_currency
    converted = Money(conv_minor, conv_currency) if conv_minor is not None and conv_currency else None
    return with_converted(Money(minor, currency), converted)


def max_shown(snipe: SnipeView) -> str:
    """The maximum in the listing's currency, with "≈" at the rate eBay converted the price: "£50.00 ≈ $64.10"."""
    own = Money(snipe.max_bid_minor, snipe.currency)
    if snipe.current_price_minor is None or snipe.converted_price_minor is None or not snipe.converted_currency:
        return own.format()
    return near_price(own, Money(snipe.current_price_minor, snipe.currency),
                      Money(snipe.converted_price_minor, snipe.converted_currency))


def converted_data(row: SnipeView | WatchView) -> dict[str, str] | None:
    # For display only: the snipe's own currency is what is bid.
    if row.converted_price_minor is None or not row.converted_currency:
        return None
    return {"currency": row.converted_currency, "value": Money(row.converted_price_minor, row.converted_currency)
            .to_ebay_value()}


def with_warnings(text: str, warnings: list[str]) -> str:
    return "\n".join([text, *(f"Warning: {w}" for w in warnings)])

