"""The spending cap (reading it, adding and editing against it, the check at the fire) and the typo guard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sniper_app.domain.errors import InputError
from sniper_app.domain.exposure import SnipeCost
from sniper_app.domain.money import CURRENCY_EXPONENTS, Money
from sniper_app.domain.spending import (
    DEFAULT_PERIOD_DAYS,
    MAX_PERIOD_DAYS,
    TYPO_FLOOR_MINOR,
    SpendingCapError,
    Win,
    cap_overview,
    check_cap,
    check_cap_at_fire,
    format_spending_cap,
    parse_spending_cap,
    typo_warning,
    validate_period_days,
    wins_in_period,
)
from sniper_app.domain.status import SnipeStatus

S = SnipeStatus
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def usd(major: str) -> Money:
    return Money.of(major, "USD")


def gbp(major: str) -> Money:
    return Money.of(major, "GBP")


# --- reading the cap ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("300.00 USD", {"USD": usd("300")}),
        ("300 usd", {"USD": usd("300")}),
        ("  USD 300  ", {"USD": usd("300")}),
        ("300 USD, 250.00 GBP", {"USD": usd("300"), "GBP": gbp("250")}),
        ("300USD,250 gbp", {"USD": usd("300"), "GBP": gbp("250")}),
        ("1,000.00 USD; GBP 2,500.50", {"USD": usd("1000"), "GBP": gbp("2500.50")}),
        ("5000 JPY", {"JPY": Money(5000, "JPY")}),
        ("", {}),
        ("   ", {}),
    ],
)
def test_cap_is_read_per_currency(text: str, expected: dict[str, Money]) -> None:
    assert parse_spending_cap(text) == expected


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("$300", "'$300'"),
        ("300", "'300'"),
        ("300 XYZ", "'XYZ'"),
        ("0 USD", "'0 USD'"),
        ("-5 USD", "'-5 USD'"),
        ("abc USD", "'abc USD'"),
        ("300 USD 250 GBP", "'300 USD 250 GBP'"),
        ("300 USD, 20 usd", "USD twice"),
        ("300.5 JPY", "'300.5 JPY'"),
        ("300 usd,, 20 gbp", "', 20 gbp'"),
    ],
)
def test_a_bad_cap_is_one_sentence_naming_the_bad_part(text: str, names: str) -> None:
    with pytest.raises(SpendingCapError) as caught:
        parse_spending_cap(text)
    message = str(caught.value)
    assert names in message
    assert message.endswith(".")
    assert "\n" not in message
    assert isinstance(caught.value, InputError)


amounts = st.builds(Money, st.integers(1, 10**7), st.sampled_from(sorted(CURRENCY_EXPONENTS)))


@given(st.lists(amounts, max_size=5, unique_by=lambda m: m.currency))
def test_the_canonical_text_reads_back(caps: list[Money]) -> None:
    as_dict = {m.currency: m for m in caps}
    assert parse_spending_cap(format_spending_cap(as_dict)) == as_dict


def test_period_days_default_and_bounds() -> None:
    assert validate_period_days() == DEFAULT_PERIOD_DAYS == 30
    assert validate_period_days(7) == 7
    assert validate_period_days(" 14 ") == 14
    assert validate_period_days(MAX_PERIOD_DAYS) == MAX_PERIOD_DAYS
    for bad in (0, -1, MAX_PERIOD_DAYS + 1, True, 2.5, "two", ""):
        with pytest.raises(SpendingCapError, match="spending period"):
            validate_period_days(bad)


def test_wins_in_period_counts_only_the_window() -> None:
    wins = [
        Win(NOW - timedelta(days=31), usd("1000")),
        Win(NOW - timedelta(days=29), usd("20")),
        Win(NOW - timedelta(hours=1), usd("30")),
        Win(NOW - timedelta(hours=1), gbp("5")),
        Win(NOW + timedelta(hours=1), usd("999")),  # not yet: a clock the caller got wrong
    ]
    assert wins_in_period(wins, now=NOW, period_days=30) == {"GBP": gbp("5"), "USD": usd("50")}
    since = wins_in_period(wins, now=NOW, period_days=30, since=NOW - timedelta(days=2))
    assert since == {"GBP": gbp("5"), "USD": usd("30")}


# --- adding and editing against the cap -------------------------------------------------------------------


def snipe(pk: int, maximum: Money, status: SnipeStatus = S.SCHEDULED, **kw: object) -> SnipeCost:
    return SnipeCost(pk, status, maximum, **kw)  # type: ignore[arg-type]


CAP = {"USD": usd("300")}
WINS = [Win(NOW - timedelta(days=3), usd("120"))]
PENDING = [snipe(1, usd("100")), snipe(2, usd("50"))]


def test_a_snipe_within_the_room_is_accepted_with_the_numbers() -> None:
    got = check_cap(CAP, 30, wins=WINS, snipes=PENDING, candidate=snipe(9, usd("30")), now=NOW)
    assert got.ok
    assert (got.cap, got.won, got.pending, got.room, got.needed) == (
        usd("300"), usd("120"), usd("150"), usd("30"), usd("30"))
    assert "$30.00" in got.sentence


def test_a_snipe_past_the_room_is_refused_naming_cap_won_pending_and_room() -> None:
    got = check_cap(CAP, 30, wins=WINS, snipes=PENDING, candidate=snipe(9, usd("30.01")), now=NOW)
    assert not got.ok
    assert got.sentence == ("This would pass your spending cap of $300.00 for 30 days: $120.00 won and $150.00 "
                            "pending leave $30.00, and it needs $30.01.")


def test_an_edit_replaces_the_snipe_it_edits() -> None:
    raised = check_cap(CAP, 30, wins=WINS, snipes=PENDING, candidate=snipe(1, usd("130")), now=NOW)
    assert raised.ok
    assert raised.pending == usd("50")
    assert raised.room == usd("130")
    too_much = check_cap(CAP, 30, wins=WINS, snipes=PENDING, candidate=snipe(1, usd("131")), now=NOW)
    assert not too_much.ok


def test_lowering_a_snipe_is_never_refused_even_over_the_cap() -> None:
    # The cap was lowered after these were added: the user must still be able to edit them down.
    got = check_cap({"USD": usd("100")}, 30, wins=WINS, snipes=PENDING, candidate=snipe(1, usd("90")), now=NOW)
    assert got.ok
    assert got.room == usd("0")


def test_groups_count_against_the_cap_by_their_n_largest() -> None:
    group = [snipe(i, usd("100"), group_id=4, group_wins=1) for i in (1, 2)]
    # One of three at $100 wins at most once: the third adds nothing.
    got = check_cap(CAP, 30, wins=WINS, snipes=group, candidate=snipe(3, usd("100"), group_id=4, group_wins=1),
                    now=NOW)
    assert got.ok
    assert got.needed == usd("0")
    bigger = check_cap(CAP, 30, wins=WINS, snipes=group,
                       candidate=snipe(3, usd("181"), group_id=4, group_wins=1), now=NOW)
    assert not bigger.ok
    assert bigger.needed == usd("81")


def test_wins_outside_the_period_free_the_room() -> None:
    old = [Win(NOW - timedelta(days=40), usd("290"))]
    assert check_cap(CAP, 30, wins=old, snipes=[], candidate=snipe(9, usd("300")), now=NOW).ok
    assert not check_cap(CAP, 60, wins=old, snipes=[], candidate=snipe(9, usd("300")), now=NOW).ok


def test_a_currency_without_a_cap_is_not_counted_and_says_so() -> None:
    got = check_cap(CAP, 30, wins=WINS, snipes=PENDING, candidate=snipe(9, gbp("5000")), now=NOW)
    assert got.ok
    assert got.uncapped == ("GBP",)
    assert "No spending cap is set for GBP" in got.sentence
    assert check_cap({}, 30, wins=WINS, snipes=PENDING, candidate=snipe(9, gbp("5000")), now=NOW).sentence == ""


def test_foreign_shipping_is_checked_against_its_own_cap() -> None:
    caps = {"USD": usd("300"), "GBP": gbp("10")}
    cand = snipe(9, usd("10"), shipping=gbp("12"))
    got = check_cap(caps, 30, wins=[], snipes=[], candidate=cand, now=NOW)
    assert not got.ok
    assert got.cap == gbp("10")
    assert got.needed == gbp("12")


def test_the_cap_counts_landed_cost_and_says_so() -> None:
    caps = {"USD": usd("100")}
    pending = [snipe(1, usd("50"), shipping=usd("10"))]
    # $35.00 fits beside the $60.00 pending; $35.00 plus $6.00 shipping does not.
    assert check_cap(caps, 30, wins=[], snipes=pending, candidate=snipe(9, usd("35")), now=NOW).ok
    got = check_cap(caps, 30, wins=[], snipes=pending, candidate=snipe(9, usd("35"), shipping=usd("6")), now=NOW)
    assert not got.ok
    assert (got.pending, got.pending_charges, got.needed, got.room) == (usd("60"), usd("10"), usd("41"), usd("40"))
    assert got.sentence == ("This would pass your spending cap of $100.00 for 30 days: $0.00 won and $60.00 pending "
                            "including $10.00 shipping leave $40.00, and it needs $41.00 ($35.00 + $6.00 shipping).")
    # A maximum that includes the shipping needs only itself.
    included = snipe(9, usd("40"), shipping=usd("6"), maximum_includes_shipping=True)
    fits = check_cap(caps, 30, wins=[], snipes=pending, candidate=included, now=NOW)
    assert fits.ok
    assert fits.sentence == ("Within your spending cap of $100.00 for 30 days: $0.00 won and $60.00 pending including "
                             "$10.00 shipping leave $40.00; this snipe needs $40.00.")


def test_a_group_member_that_displaces_a_smaller_one_needs_the_difference_without_a_split() -> None:
    group = [snipe(1, usd("50"), shipping=usd("5"), group_id=2, group_wins=1)]
    cand = snipe(2, usd("90"), shipping=usd("20"), group_id=2, group_wins=1)
    got = check_cap({"USD": usd("100")}, 30, wins=[], snipes=group, candidate=cand, now=NOW)
    assert not got.ok
    assert got.sentence == ("This would pass your spending cap of $100.00 for 30 days: $0.00 won and $55.00 pending "
                            "including $5.00 shipping leave $45.00, and it needs $55.00.")


def test_foreign_shipping_is_named_as_such_in_the_sentence() -> None:
    got = check_cap({"GBP": gbp("10")}, 30, wins=[], snipes=[], candidate=snipe(9, usd("10"), shipping=gbp("12")),
                    now=NOW)
    assert got.sentence.startswith("This would pass your spending cap of £10.00 for 30 days: £0.00 won and £0.00 "
                                   "pending leave £10.00, and it needs £12.00 of shipping charged in GBP.")


def test_the_overview_carries_the_shipping_inside_each_exposure() -> None:
    rows = cap_overview({"USD": usd("100")}, 30, wins=[], now=NOW,
                        snipes=[snipe(1, usd("20"), shipping=usd("4.50")), snipe(2, gbp("5"))])
    assert [(r.currency, r.pending, r.pending_charges, r.room) for r in rows] == [
        ("GBP", gbp("5"), gbp("0"), None), ("USD", usd("24.50"), usd("4.50"), usd("75.50"))]


@given(st.integers(1, 10**6), st.lists(st.tuples(st.integers(1, 10**5), st.integers(0, 10**4)), max_size=6),
       st.integers(1, 10**5), st.integers(0, 10**4), st.booleans())
def test_the_cap_holds_wins_plus_landed_costs(cap: int, pending: list[tuple[int, int]], new: int, ship: int,
                                              includes: bool) -> None:
    snipes = [snipe(i, Money(m, "USD"), shipping=Money(s, "USD")) for i, (m, s) in enumerate(pending)]
    cand = snipe(99, Money(new, "USD"), shipping=Money(ship, "USD"), maximum_includes_shipping=includes)
    got = check_cap({"USD": Money(cap, "USD")}, 30, wins=[], snipes=snipes, candidate=cand, now=NOW)
    landed = sum(m + s for m, s in pending) + new + (0 if includes else ship)
    assert got.ok == (landed <= cap)
    assert got.pending_charges == Money(sum(s for _, s in pending), "USD")


# --- at the fire --------------------------------------------------------------------------------------------


def test_wins_since_adding_skip_the_snipe_at_the_fire() -> None:
    firing = snipe(9, usd("30"), S.SCHEDULED)
    assert check_cap(CAP, 30, wins=WINS, snipes=PENDING, candidate=firing, now=NOW).ok
    # Later another auction was won for $160: with the $120 before, $280 leaves less than the $30 it needs.
    later = [*WINS, Win(NOW + timedelta(hours=2), usd("160"))]
    at_fire = check_cap_at_fire(CAP, 30, wins=later, snipes=[*PENDING, firing], firing=firing,
                                now=NOW + timedelta(hours=3))
    assert not at_fire.ok
    assert at_fire.sentence.startswith("Skipped: this bid would pass your spending cap of $300.00 for 30 days: "
                                       "$280.00 won and $0.00 pending leave $20.00, and it needs $30.00.")


def test_at_the_fire_only_bids_already_out_count_beside_the_wins() -> None:
    firing = snipe(9, usd("150"))
    others = [snipe(1, usd("100"), S.PLACED), snipe(2, usd("500"), S.SCHEDULED)]
    got = check_cap_at_fire(CAP, 30, wins=WINS, snipes=others, firing=firing, now=NOW)
    assert not got.ok
    assert got.pending == usd("100")
    assert check_cap_at_fire(CAP, 30, wins=WINS, snipes=others, firing=snipe(9, usd("80")), now=NOW).ok


def test_at_the_fire_a_group_already_won_adds_nothing() -> None:
    won = snipe(1, usd("50"), S.WON, group_id=2, group_wins=1)
    firing = snipe(3, usd("250"), group_id=2, group_wins=1)
    got = check_cap_at_fire(CAP, 30, wins=[Win(NOW, usd("50"))], snipes=[won], firing=firing, now=NOW)
    assert got.ok
    assert got.needed == usd("0")


@given(st.integers(1, 10**6), st.integers(0, 10**6), st.lists(st.integers(1, 10**5), max_size=6),
       st.integers(1, 10**5))
def test_accepted_snipes_keep_wins_plus_exposure_within_the_cap(cap: int, won: int, pending: list[int],
                                                                 new: int) -> None:
    caps = {"USD": Money(cap, "USD")}
    snipes = [snipe(i, Money(m, "USD")) for i, m in enumerate(pending)]
    got = check_cap(caps, 30, wins=[Win(NOW, Money(won, "USD"))], snipes=snipes,
                    candidate=snipe(99, Money(new, "USD")), now=NOW)
    assert got.ok == (won + sum(pending) + new <= cap)
    assert got.room is not None
    assert got.room.minor >= 0


# --- the typo guard -----------------------------------------------------------------------------------------


def test_every_currency_has_a_typo_floor() -> None:
    assert set(TYPO_FLOOR_MINOR) == set(CURRENCY_EXPONENTS)


def test_a_maximum_far_above_the_price_needs_confirming() -> None:
    warning = typo_warning(usd("4000"), usd("40"))
    assert warning is not None
    assert warning.sentence == ("Your maximum of $4,000.00 is more than 5 times the current price of $40.00; check "
                                "it is the amount you meant.")


@pytest.mark.parametrize(
    ("maximum", "price"),
    [
        (usd("200"), usd("40")),  # exactly 5 times
        (usd("15"), usd("1")),  # 15 times, but under the floor
        (usd("20"), usd("1")),  # at the floor
        (usd("4000"), None),  # nothing to compare with
        (usd("4000"), gbp("40")),  # another currency says nothing
    ],
)
def test_no_warning_where_the_maximum_looks_meant(maximum: Money, price: Money | None) -> None:
    assert typo_warning(maximum, price) is None


def test_floor_is_per_currency() -> None:
    assert typo_warning(Money(2_500, "JPY"), Money(100, "JPY")) is None
    assert typo_warning(Money(3_001, "JPY"), Money(100, "JPY")) is not None


def test_overview_lists_every_currency_with_its_room() -> None:
    rows = cap_overview(CAP, 30, wins=[*WINS, Win(NOW, gbp("7"))], snipes=[*PENDING, snipe(5, Money(900, "JPY"))],
                        now=NOW)
    assert [(r.currency, r.won, r.pending, r.cap, r.room) for r in rows] == [
        ("GBP", gbp("7"), gbp("0"), None, None),
        ("JPY", Money(0, "JPY"), Money(900, "JPY"), None, None),
        ("USD", usd("120"), usd("150"), usd("300"), usd("30")),
    ]


@given(st.lists(amounts, min_size=1, max_size=4, unique_by=lambda m: m.currency), st.data())
def test_case_and_spacing_do_not_matter(caps: list[Money], data: st.DataObject) -> None:
    parts = []
    for m in caps:
        code = "".join(data.draw(st.sampled_from([ch.lower(), ch])) for ch in m.currency)
        space = data.draw(st.sampled_from(["", " ", "  "]))
        number = f"{m.to_decimal():f}"
        parts.append(f"{code}{space}{number}" if data.draw(st.booleans()) else f"{number}{space}{code}")
    separator = data.draw(st.sampled_from([",", ", ", " , ", ";", "; "]))
    text = data.draw(st.sampled_from(["", " "])) + separator.join(parts) + data.draw(st.sampled_from(["", "  "]))
    assert parse_spending_cap(text) == {m.currency: m for m in caps}


def test_a_comma_between_two_amounts_splits_them_even_between_digits() -> None:
    assert parse_spending_cap("USD 1,000.00,250 GBP") == {"USD": usd("1000"), "GBP": gbp("250")}
    with pytest.raises(SpendingCapError, match="ambiguous"):
        parse_spending_cap("USD 1,000,250 GBP")
    assert parse_spending_cap("aud0.01,0.01cad") == {"AUD": Money(1, "AUD"), "CAD": Money(1, "CAD")}
