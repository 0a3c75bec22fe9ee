"""Snipe rules: each one refuses with the user's sentence, and near-end snipes get their warning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from sniper_app.domain.errors import InputError, RuleViolation
from sniper_app.domain.money import Money
from sniper_app.domain.rules import (
    DEFAULT_LEAD_SECONDS,
    DEFAULT_MIN_SECONDS_BEFORE_END,
    MAX_LEAD_SECONDS,
    MAX_MAX_BID,
    MIN_LEAD_SECONDS,
    MIN_MAX_BID,
    WARN_SECONDS_BEFORE_END,
    max_bid_bounds,
    validate_edit,
    validate_lead,
    validate_new_snipe,
)
from sniper_app.domain.status import SnipeStatus

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def usd(major: str) -> Money:
    return Money.of(major, "USD")


def new_snipe(**overrides: Any) -> list[str]:
    args: dict[str, Any] = {
        "max_bid": usd("30.00"),
        "current_price": usd("24.50"),
        "bid_count": 3,
        "marketplace": "EBAY_US",
        "end_time": NOW + timedelta(hours=2),
        "now": NOW,
        "lead_seconds": DEFAULT_LEAD_SECONDS,
        "has_active_snipe_for_item": False,
    }
    args.update(overrides)
    return validate_new_snipe(**args)


def edit(**overrides: Any) -> list[str]:
    args: dict[str, Any] = {
        "status": SnipeStatus.SCHEDULED,
        "max_bid": usd("30.00"),
        "lead_seconds": DEFAULT_LEAD_SECONDS,
        "current_price": usd("24.50"),
        "bid_count": 3,
        "marketplace": "EBAY_US",
        "end_time": NOW + timedelta(hours=2),
        "now": NOW,
    }
    args.update(overrides)
    return validate_edit(**args)


def test_constants_follow_the_design() -> None:
    assert (Money.of("1.00", "USD").to_decimal(), usd("100000.00").to_decimal()) == (MIN_MAX_BID, MAX_MAX_BID)
    assert DEFAULT_MIN_SECONDS_BEFORE_END == 60
    assert WARN_SECONDS_BEFORE_END == 300
    assert (DEFAULT_LEAD_SECONDS, MIN_LEAD_SECONDS, MAX_LEAD_SECONDS) == (5, 1, 120)
    assert max_bid_bounds("GBP") == (Money.of("1.00", "GBP"), Money.of("100000.00", "GBP"))
    assert max_bid_bounds("JPY") == (Money(1, "JPY"), Money(100000, "JPY"))


def test_a_good_snipe_passes_without_warnings() -> None:
    assert new_snipe() == []
    assert edit() == []


# --- lead ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lead", [1, 1.0, 5, 7.5, 120, 120.0])
def test_lead_inside_bounds(lead: float) -> None:
    assert validate_lead(lead) == float(lead)


@pytest.mark.parametrize("lead", [0, 0.99, -5, 120.01, 121, float("nan"), float("inf"), True, "5", None])
def test_lead_outside_bounds(lead: Any) -> None:
    with pytest.raises(RuleViolation, match=r"Lead time must be .*between 1 and 120"):
        validate_lead(lead)


def test_lead_message_exactly() -> None:
    with pytest.raises(RuleViolation) as info:
        validate_lead(0)
    assert str(info.value) == "Lead time must be between 1 and 120 seconds."


# --- each rule, in both validators ----------------------------------------------------------------

VIOLATIONS: list[tuple[dict[str, Any], str]] = [
    (
        {"max_bid": Money.of("30.00", "GBP")},
        "This item is priced in USD; enter your maximum in USD.",
    ),
    ({"max_bid": usd("0.99"), "current_price": usd("0.10"), "bid_count": 0}, "Your maximum must be at least $1.00."),
    ({"max_bid": usd("100000.01")}, "Your maximum can be at most $100,000.00."),
    (
        {"max_bid": usd("20.00"), "current_price": usd("24.50")},
        "Your maximum $20.00 is below the minimum next bid of $25.00.",
    ),
    (
        {"max_bid": usd("24.99"), "current_price": usd("24.50")},
        "Your maximum $24.99 is below the minimum next bid of $25.00.",
    ),
    (
        {"max_bid": usd("20.00"), "current_price": usd("24.50"), "bid_count": 0},
        "Your maximum $20.00 is below the minimum next bid of $24.50.",
    ),
    (
        {"max_bid": Money.of("9.40", "GBP"), "current_price": Money.of("9.00", "GBP"), "marketplace": "EBAY_GB"},
        "Your maximum £9.40 is below the minimum next bid of £9.50.",
    ),
    (
        {"max_bid": Money.of("50.50", "EUR"), "current_price": Money.of("50.00", "EUR"), "marketplace": "EBAY_DE"},
        "Your maximum €50.50 is below the minimum next bid of €51.00.",
    ),
    ({"end_time": NOW}, "This auction has already ended."),
    ({"end_time": NOW - timedelta(days=1)}, "This auction has already ended."),
    (
        {"end_time": NOW + timedelta(seconds=59)},
        "This auction ends in 59 seconds; a snipe needs at least 1 minute before the end.",
    ),
    (
        {"end_time": NOW + timedelta(milliseconds=300)},
        "This auction ends in less than a second; a snipe needs at least 1 minute before the end.",
    ),
    (
        {"end_time": NOW + timedelta(seconds=100), "min_seconds_before_end": 120},
        "This auction ends in 1 minute 40 seconds; a snipe needs at least 2 minutes before the end.",
    ),
    (
        {"end_time": NOW + timedelta(seconds=90), "lead_seconds": 90},
        "The lead time of 1 minute 30 seconds is longer than the 1 minute 30 seconds left in this auction.",
    ),
    (
        {"end_time": NOW + timedelta(seconds=80), "lead_seconds": 100},
        "The lead time of 1 minute 40 seconds is longer than the 1 minute 20 seconds left in this auction.",
    ),
    ({"lead_seconds": 0}, "Lead time must be between 1 and 120 seconds."),
    ({"lead_seconds": 500}, "Lead time must be between 1 and 120 seconds."),
    ({"marketplace": "EBAY_XX"}, "'EBAY_XX' is not an eBay marketplace this app knows"),
]


@pytest.mark.parametrize(("overrides", "message"), VIOLATIONS)
def test_new_snipe_violations(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleViolation) as info:
        new_snipe(**overrides)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(("overrides", "message"), VIOLATIONS)
def test_edit_violations(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleViolation) as info:
        edit(**overrides)
    assert str(info.value).startswith(message)


def test_rule_violation_is_an_input_error() -> None:
    with pytest.raises(InputError):
        new_snipe(max_bid=usd("0.50"))


def test_duplicate_active_snipe_is_refused_for_new_only() -> None:
    with pytest.raises(RuleViolation) as info:
        new_snipe(has_active_snipe_for_item=True)
    assert str(info.value) == ("You already have a snipe on this item; edit or cancel it instead of adding another.")
    assert edit() == []  # editing is how one changes the existing snipe


def test_first_broken_rule_wins() -> None:
    # Too low AND ending too soon AND duplicate: the amount is reported first.
    with pytest.raises(RuleViolation, match="below the minimum next bid"):
        new_snipe(max_bid=usd("20.00"), end_time=NOW + timedelta(seconds=10), has_active_snipe_for_item=True)


# --- boundaries that pass -----------------------------------------------------------------------------


def test_boundaries_that_are_accepted() -> None:
    assert new_snipe(max_bid=usd("25.00")) == []  # exactly the minimum next bid
    assert new_snipe(max_bid=usd("24.50"), bid_count=0) == []  # exactly the start price
    assert new_snipe(max_bid=usd("1.00"), current_price=usd("0.99"), bid_count=0) == []
    assert new_snipe(max_bid=usd("100000.00"), current_price=usd("5000.00")) == []
    warnings = new_snipe(end_time=NOW + timedelta(seconds=DEFAULT_MIN_SECONDS_BEFORE_END))
    assert len(warnings) == 1
    assert new_snipe(end_time=NOW + timedelta(seconds=WARN_SECONDS_BEFORE_END)) == []


def test_lead_just_under_time_left_is_accepted() -> None:
    warnings = new_snipe(end_time=NOW + timedelta(seconds=91), lead_seconds=90)
    assert any("ends in 1 minute 31 seconds" in w for w in warnings)


# --- warnings -----------------------------------------------------------------------------------------


def test_warning_when_ending_within_five_minutes() -> None:
    warnings = new_snipe(end_time=NOW + timedelta(minutes=4))
    assert warnings == [
        "This auction ends in 4 minutes; the snipe is accepted, but there is little time left to fix "
        "anything if eBay or your connection has a problem."
    ]
    assert edit(end_time=NOW + timedelta(minutes=4, seconds=30))[0].startswith(
        "This auction ends in 4 minutes 30 seconds;"
    )


def test_warning_for_a_long_lead() -> None:
    warnings = new_snipe(lead_seconds=45)
    assert warnings == [
        "A lead time of 45 seconds gives other bidders time to respond; most snipes use 5 to 10 seconds."
    ]


def test_marketplace_without_a_table_warns_and_still_checks_the_price() -> None:
    chf = Money.of
    warnings = new_snipe(max_bid=chf("30.00", "CHF"), current_price=chf("24.50", "CHF"), marketplace="EBAY_CH")
    assert len(warnings) == 1
    assert "does not know eBay's bid increments for this CHF listing on EBAY_CH;" in warnings[0]
    with pytest.raises(RuleViolation, match=r"Your maximum CHF 24.50 does not beat the current price"):
        new_snipe(max_bid=chf("24.50", "CHF"), current_price=chf("24.50", "CHF"), marketplace="EBAY_CH")
    assert new_snipe(max_bid=chf("24.50", "CHF"), current_price=chf("24.50", "CHF"), bid_count=0, marketplace="EBAY_CH")


@pytest.mark.parametrize(
    ("site", "currency", "max_bid", "least"),
    [("EBAY_AU", "AUD", "24.99", "25.00"), ("EBAY_CA", "CAD", "24.99", "25.00"),
     ("EBAY_FR", "EUR", "24.99", "25.00"), ("EBAY_IT", "EUR", "24.99", "25.00"), ("EBAY_ES", "EUR", "24.99", "25.00")],
)
def test_the_new_sites_tables_refuse_a_maximum_below_the_next_bid(
    site: str, currency: str, max_bid: str, least: str
) -> None:
    # At 24.50 Australia and Canada step by 0.50 (the US bands), France, Italy and Spain by 0.50 (eBay.de's).
    with pytest.raises(RuleViolation, match="minimum next bid of"):
        new_snipe(max_bid=Money.of(max_bid, currency), current_price=Money.of("24.50", currency),
                  marketplace="EBAY_US", listing_marketplace=site)
    assert new_snipe(max_bid=Money.of(least, currency), current_price=Money.of("24.50", currency),
                     marketplace="EBAY_US", listing_marketplace=site) == []
    # eBay's own minimum wins over the table, both ways.
    assert new_snipe(max_bid=Money.of("24.70", currency), current_price=Money.of("24.50", currency),
                     marketplace="EBAY_US", listing_marketplace=site, minimum_to_bid=Money.of("24.70", currency)) == []
    with pytest.raises(RuleViolation, match="minimum next bid"):
        new_snipe(max_bid=Money.of("25.00", currency), current_price=Money.of("24.50", currency),
                  marketplace="EBAY_US", listing_marketplace=site, minimum_to_bid=Money.of("25.50", currency))


def test_canadas_inferred_bands_warn_instead_of_refusing() -> None:
    # From C$250 the US bands are an inference (the published table stops early): 300 + 5 is warned about.
    cad = Money.of
    [warning] = new_snipe(max_bid=cad("302.50", "CAD"), current_price=cad("300.00", "CAD"), marketplace="EBAY_US",
                          listing_marketplace="EBAY_CA")
    assert "the app's bid increments for EBAY_CA are not verified and would make it C $305.00" in warning
    with pytest.raises(RuleViolation, match="does not beat the current price"):
        new_snipe(max_bid=cad("300.00", "CAD"), current_price=cad("300.00", "CAD"), marketplace="EBAY_US",
                  listing_marketplace="EBAY_CA")
    # Below C$250 the published bands refuse.
    with pytest.raises(RuleViolation, match="minimum next bid of C \\$202\\.50"):
        new_snipe(max_bid=cad("201.00", "CAD"), current_price=cad("200.00", "CAD"), marketplace="EBAY_US",
                  listing_marketplace="EBAY_CA")


def test_the_listing_site_decides_the_increments_not_the_users_marketplace() -> None:
    eur = Money.of
    # At 30.00 Germany, France, Italy and Spain step by 0.50, as the euro table says, whoever looks.
    assert new_snipe(max_bid=eur("30.50", "EUR"), current_price=eur("30.00", "EUR"), marketplace="EBAY_FR",
                     listing_marketplace="EBAY_DE") == []
    assert new_snipe(max_bid=eur("30.50", "EUR"), current_price=eur("30.00", "EUR"), marketplace="EBAY_DE",
                     listing_marketplace="EBAY_ES") == []
    # A Canadian listing seen from the US follows Canada's table, not the user's marketplace.
    with pytest.raises(RuleViolation, match="minimum next bid"):
        new_snipe(max_bid=eur("24.99", "CAD"), current_price=eur("24.50", "CAD"), marketplace="EBAY_US",
                  listing_marketplace="EBAY_CA")
    # A British listing seen from Germany follows the UK table (15.00 + 1.00), which refuses.
    with pytest.raises(RuleViolation, match=r"minimum next bid of £16\.00"):
        new_snipe(max_bid=eur("15.50", "GBP"), current_price=eur("15.00", "GBP"), marketplace="EBAY_DE",
                  listing_marketplace="EBAY_GB")


def test_a_euro_listing_of_unknown_site_warns_instead_of_guessing_a_table() -> None:
    warnings = new_snipe(max_bid=Money.of("30.50", "EUR"), current_price=Money.of("30.00", "EUR"))
    assert len(warnings) == 1
    assert "bid increments for this EUR listing; make sure" in warnings[0]


def test_ebays_minimum_to_bid_wins_over_any_table() -> None:
    # eBay asks more than the table would (a reserve, a rule the app does not know): eBay is right.
    with pytest.raises(RuleViolation, match=r"minimum next bid of \$27\.00"):
        new_snipe(max_bid=usd("26.00"), minimum_to_bid=usd("27.00"))
    # eBay asks less than the table would: eBay is right again, and no warning is needed even without a table.
    assert new_snipe(max_bid=usd("24.75"), minimum_to_bid=usd("24.75")) == []
    chf = Money.of
    assert new_snipe(max_bid=chf("25.00", "CHF"), current_price=chf("24.50", "CHF"), marketplace="EBAY_CH",
                     minimum_to_bid=chf("25.00", "CHF")) == []
    with pytest.raises(RuleViolation, match="minimum next bid"):
        edit(max_bid=usd("26.00"), minimum_to_bid=usd("27.00"))


def test_item_from_another_site_uses_its_own_currency_table() -> None:
    # A GBP listing seen from the US marketplace follows eBay UK's increments (9.00 + 0.50).
    gbp = Money.of
    with pytest.raises(RuleViolation, match=r"minimum next bid of £9\.50"):
        new_snipe(max_bid=gbp("9.40", "GBP"), current_price=gbp("9.00", "GBP"), marketplace="EBAY_US")
    assert new_snipe(max_bid=gbp("9.50", "GBP"), current_price=gbp("9.00", "GBP"), marketplace="EBAY_US") == []


def test_other_timezones_are_fine_naive_ones_are_not() -> None:
    tokyo = timezone(timedelta(hours=9))
    assert new_snipe(end_time=(NOW + timedelta(hours=1)).astimezone(tokyo)) == []
    with pytest.raises(ValueError, match="timezone-aware"):
        new_snipe(now=NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="timezone-aware"):
        edit(end_time=(NOW + timedelta(hours=1)).replace(tzinfo=None))


# --- edit: only a snipe that has not fired ------------------------------------------------------------


@pytest.mark.parametrize("status", [SnipeStatus.PENDING, SnipeStatus.SCHEDULED])
def test_edit_allowed_before_firing(status: SnipeStatus) -> None:
    assert edit(status=status) == []


@pytest.mark.parametrize("status", [SnipeStatus.PLACING, SnipeStatus.PLACED])
def test_edit_refused_once_fired(status: SnipeStatus) -> None:
    with pytest.raises(RuleViolation) as info:
        edit(status=status)
    assert str(info.value) == "This snipe is already being placed or was placed; it can no longer be changed."


@pytest.mark.parametrize(
    "status",
    [
        SnipeStatus.WON,
        SnipeStatus.LOST,
        SnipeStatus.FAILED,
        SnipeStatus.CANCELLED,
        SnipeStatus.MISSED,
        SnipeStatus.SKIPPED,
    ],
)
def test_edit_refused_when_finished(status: SnipeStatus) -> None:
    with pytest.raises(RuleViolation) as info:
        edit(status=status)
    assert str(info.value) == f"This snipe already ended as {status.value}; it can no longer be changed."
