"""The rules a new or edited snipe must satisfy, as pure functions over plain values."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal

from sniper_app.domain.errors import InputError, RuleViolation
from sniper_app.domain.increments import (
    MARKETPLACE_CURRENCIES,
    SUPPORTED_MARKETPLACES,
    marketplace_currency,
    marketplace_for_currency,
    minimum_next_bid,
    table_is_verified,
)
from sniper_app.domain.money import Money
from sniper_app.domain.status import NOT_FIRED_STATUSES, SnipeStatus

# Bounds of a maximum bid, in major units of the item's currency (DESIGN.md).
MIN_MAX_BID = Decimal("1.00")
MAX_MAX_BID = Decimal("100000.00")

DEFAULT_MIN_SECONDS_BEFORE_END = 60
# eBay auctions run at most 10 days (and may be listed up to three weeks ahead): an end further away is
# a wrong date, not an auction to wait for.
MAX_DAYS_BEFORE_END = 31
WARN_SECONDS_BEFORE_END = 300

DEFAULT_LEAD_SECONDS = 5
MIN_LEAD_SECONDS = 1
MAX_LEAD_SECONDS = 120
AUTO_LEAD = 0.0  # a snipe's stored lead when the engine chooses it from measurements (--lead auto)
# Beyond this lead other bidders have time to answer the snipe; allowed, but worth a word.
WARN_LEAD_SECONDS = 30


def max_bid_bounds(currency: str) -> tuple[Money, Money]:
    """The least and the most a maximum bid may be in ``currency``."""
    return Money.of(MIN_MAX_BID, currency), Money.of(MAX_MAX_BID, currency)


def validate_lead(lead_seconds: float | int) -> float:
    """Return the lead time as seconds, or raise :class:`RuleViolation` outside 1..120 s."""
    if isinstance(lead_seconds, bool) or not isinstance(lead_seconds, int | float | Decimal):
        raise RuleViolation(f"Lead time must be a number of seconds between {MIN_LEAD_SECONDS} and {MAX_LEAD_SECONDS}.")
    lead = float(lead_seconds)
    if not math.isfinite(lead) or not MIN_LEAD_SECONDS <= lead <= MAX_LEAD_SECONDS:
        raise RuleViolation(f"Lead time must be between {MIN_LEAD_SECONDS} and {MAX_LEAD_SECONDS} seconds.")
    return lead


def validate_new_snipe(
    *,
    max_bid: Money,
    current_price: Money,
    bid_count: int,
    marketplace: str,
    end_time: datetime,
    now: datetime,
    lead_seconds: float,
    has_active_snipe_for_item: bool,
    min_seconds_before_end: float = DEFAULT_MIN_SECONDS_BEFORE_END,
    listing_marketplace: str | None = None,
    minimum_to_bid: Money | None = None,
) -> list[str]:
    """Check a new snipe; raise :class:`RuleViolation` on the first broken rule, else return warnings.

    ``marketplace`` is the user's; ``listing_marketplace`` the site the item is listed on, whose increments
    apply; ``minimum_to_bid`` eBay's own least acceptable bid, which wins over any table.
    """
    warnings = _check_snipe(
        max_bid=max_bid,
        current_price=current_price,
        bid_count=bid_count,
        marketplace=marketplace,
        listing_marketplace=listing_marketplace,
        minimum_to_bid=minimum_to_bid,
        end_time=end_time,
        now=now,
        lead_seconds=lead_seconds,
        min_seconds_before_end=min_seconds_before_end,
    )
    if has_active_snipe_for_item:
        raise RuleViolation("You already have a snipe on this item; edit or cancel it instead of adding another.")
    return warnings


def validate_edit(
    *,
    status: SnipeStatus,
    max_bid: Money,
    lead_seconds: float,
    current_price: Money,
    bid_count: int,
    marketplace: str,
    end_time: datetime,
    now: datetime,
    min_seconds_before_end: float = DEFAULT_MIN_SECONDS_BEFORE_END,
    listing_marketplace: str | None = None,
    minimum_to_bid: Money | None = None,
) -> list[str]:
    """Check the new maximum and lead of an existing snipe; only a snipe that has not fired may change."""
    if status not in NOT_FIRED_STATUSES:
        if status.is_final:
            raise RuleViolation(f"This snipe already ended as {status.value}; it can no longer be changed.")
        raise RuleViolation("This snipe is already being placed or was placed; it can no longer be changed.")
    return _check_snipe(
        max_bid=max_bid,
        current_price=current_price,
        bid_count=bid_count,
        marketplace=marketplace,
        listing_marketplace=listing_marketplace,
        minimum_to_bid=minimum_to_bid,
        end_time=end_time,
        now=now,
        lead_seconds=lead_seconds,
        min_seconds_before_end=min_seconds_before_end,
    )


def _check_snipe(
    *,
    max_bid: Money,
    current_price: Money,
    bid_count: int,
    marketplace: str,
    end_time: datetime,
    now: datetime,
    lead_seconds: float,
    min_seconds_before_end: float,
    listing_marketplace: str | None = None,
    minimum_to_bid: Money | None = None,
) -> list[str]:
    for name, value in (("end_time", end_time), ("now", now)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be a timezone-aware datetime")
    warnings: list[str] = []
    currency = current_price.currency

    if max_bid.currency != currency:
        raise RuleViolation(f"This item is priced in {currency}; enter your maximum in {currency}.")

    low, high = max_bid_bounds(currency)
    if max_bid < low:
        raise RuleViolation(f"Your maximum must be at least {low}.")
    if max_bid > high:
        raise RuleViolation(f"Your maximum can be at most {high}.")

    table = increment_site(currency, listing_marketplace=listing_marketplace, marketplace=marketplace)
    if minimum_to_bid is not None and minimum_to_bid.currency == currency:
        # eBay's own figure for this listing: nothing the app works out from a table can be truer.
        if max_bid < minimum_to_bid:
            raise RuleViolation(f"Your maximum {max_bid} is below the minimum next bid of {minimum_to_bid}.")
    elif table is not None:
        least = minimum_next_bid(current_price, bid_count, table)
        if max_bid < least and table_is_verified(table, current_price):
            raise RuleViolation(f"Your maximum {max_bid} is below the minimum next bid of {least}.")
        if max_bid < least:
            # An inferred band must not refuse a bid eBay may take: hold the line we know, and say the rest.
            if max_bid < current_price or (bid_count > 0 and max_bid == current_price):
                raise RuleViolation(f"Your maximum {max_bid} does not beat the current price of {current_price}.")
            warnings.append(
                f"Your maximum {max_bid} may be below eBay's minimum next bid: the app's bid increments for "
                f"{table} are not verified and would make it {least}. eBay refuses a bid below its own minimum."
            )
    else:
        # No increment table for this listing's site: hold the line we know, and say what we could not check.
        if max_bid < current_price or (bid_count > 0 and max_bid == current_price):
            raise RuleViolation(f"Your maximum {max_bid} does not beat the current price of {current_price}.")
        site = listing_marketplace or (marketplace if MARKETPLACE_CURRENCIES.get(marketplace) == currency else None)
        where = f" on {site.strip().upper()}" if site else ""
        warnings.append(
            f"The app does not know eBay's bid increments for this {currency} listing{where}; make sure your "
            "maximum is at least one increment above the current price, or eBay will refuse the bid."
        )

    left = (end_time - now).total_seconds()
    if left <= 0:
        raise RuleViolation("This auction has already ended.")
    if left > MAX_DAYS_BEFORE_END * 86400:
        raise RuleViolation(
            f"eBay gives this auction's end as {end_time:%Y-%m-%d}, more than {MAX_DAYS_BEFORE_END} days away; "
            "eBay auctions last at most 10 days, so the app will not schedule a bid on that date."
        )
    if left < min_seconds_before_end:
        raise RuleViolation(
            f"This auction ends in {_duration(left)}; a snipe needs at least "
            f"{_duration(min_seconds_before_end)} before the end."
        )

    lead = validate_lead(lead_seconds)
    if lead >= left:
        raise RuleViolation(
            f"The lead time of {_duration(lead)} is longer than the {_duration(left)} left in this auction."
        )

    if left < WARN_SECONDS_BEFORE_END:
        warnings.append(
            f"This auction ends in {_duration(left)}; the snipe is accepted, but there is little time "
            "left to fix anything if eBay or your connection has a problem."
        )
    if lead > WARN_LEAD_SECONDS:
        warnings.append(
            f"A lead time of {_duration(lead)} gives other bidders time to respond; "
            f"most snipes use {DEFAULT_LEAD_SECONDS} to 10 seconds."
        )
    return warnings


def _increment_marketplace(marketplace: str, currency: str) -> str | None:
    """The marketplace whose increment table applies to an item in ``currency`` seen from ``marketplace`` when
    eBay did not say where it is listed; None where no known table surely applies."""
    try:
        home_currency = marketplace_currency(marketplace)
    except InputError as err:
        raise RuleViolation(str(err)) from None
    key = marketplace.strip().upper()
    if key in SUPPORTED_MARKETPLACES and home_currency == currency:
        return key
    # A listing from another site keeps its own site's currency (a GBP item seen from EBAY_US); its
    # increments follow that site's table, where the currency alone names it.
    if home_currency != currency:
        return marketplace_for_currency(currency)
    return None


def increment_site(currency: str, *, listing_marketplace: str | None, marketplace: str) -> str | None:
    """The site whose increment table applies to a listing in ``currency``: the listing's own site when eBay
    named it, else what the currency and the user's ``marketplace`` imply; None where no known table surely
    applies (then nothing is guessed)."""
    if listing_marketplace:
        return _listing_table(listing_marketplace, currency)
    return _increment_marketplace(marketplace, currency)


def _listing_table(listing_marketplace: str, currency: str) -> str | None:
    """The listing's own site when the app has its table and the site lists in ``currency``; else None."""
    key = listing_marketplace.strip().upper()
    if key in SUPPORTED_MARKETPLACES and MARKETPLACE_CURRENCIES.get(key) == currency:
        return key
    return None


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "less than a second"
    whole = math.floor(seconds)
    if whole < 60:
        return f"{whole} second{'s' if whole != 1 else ''}"
    minutes, rest = divmod(whole, 60)
    text = f"{minutes} minute{'s' if minutes != 1 else ''}"
    if rest and minutes < 10:
        text += f" {rest} second{'s' if rest != 1 else ''}"
    return text
