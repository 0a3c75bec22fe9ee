"""Exposure: the worst case owed per currency, groups counting only their N largest maxima."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sniper_app.domain.exposure import (
    ExposurePart,
    SnipeCost,
    added_by,
    exposure,
    exposure_parts,
    snipe_charges,
    snipe_cost,
    with_snipe,
)
from sniper_app.domain.money import Money
from sniper_app.domain.status import ACTIVE_STATUSES, SnipeStatus

S = SnipeStatus


def usd(major: str) -> Money:
    return Money.of(major, "USD")


def gbp(major: str) -> Money:
    return Money.of(major, "GBP")


def snipe(pk: int, maximum: Money, status: SnipeStatus = S.SCHEDULED, **kw: object) -> SnipeCost:
    return SnipeCost(pk, status, maximum, **kw)  # type: ignore[arg-type]


def test_nothing_active_is_no_exposure() -> None:
    assert exposure([]) == {}
    ended = [snipe(i, usd("10"), status) for i, status in enumerate(SnipeStatus) if not status.is_active]
    assert exposure(ended) == {}


def test_every_active_status_counts_placed_included() -> None:
    snipes = [snipe(i, usd("10"), status) for i, status in enumerate(sorted(ACTIVE_STATUSES))]
    assert exposure(snipes) == {"USD": usd("40")}


def test_currencies_are_counted_apart_and_ordered() -> None:
    got = exposure([snipe(1, usd("10")), snipe(2, gbp("5")), snipe(3, usd("2.50"))])
    assert got == {"GBP": gbp("5"), "USD": usd("12.50")}
    assert list(got) == ["GBP", "USD"]


def test_group_counts_only_its_n_largest() -> None:
    group = [snipe(i, usd(m), group_id=7, group_wins=2) for i, m in enumerate(["30", "50", "10", "40"])]
    assert exposure([*group, snipe(9, usd("5"))]) == {"USD": usd("95")}


def test_group_mixing_currencies_counts_n_largest_in_each() -> None:
    group = [
        snipe(1, usd("30"), group_id=1, group_wins=1),
        snipe(2, usd("50"), group_id=1, group_wins=1),
        snipe(3, gbp("20"), group_id=1, group_wins=1),
    ]
    # The one win could be the dollar item or the pound item: each currency's worst case is counted.
    assert exposure(group) == {"GBP": gbp("20"), "USD": usd("50")}


def test_won_members_use_up_the_groups_wins() -> None:
    group = [
        snipe(1, usd("30"), S.WON, group_id=1, group_wins=2),
        snipe(2, usd("50"), group_id=1, group_wins=2),
        snipe(3, usd("40"), group_id=1, group_wins=2),
    ]
    assert exposure(group) == {"USD": usd("50")}
    done = [*group, snipe(4, usd("1"), S.WON, group_id=1, group_wins=2)]
    assert exposure(done) == {"USD": usd("0")}


def test_shipping_and_import_charges_add_unless_the_maximum_includes_them() -> None:
    base = snipe(1, usd("100"), shipping=usd("12.50"), import_charges=usd("7"))
    assert snipe_cost(base) == {"USD": 119_50}
    included = snipe(1, usd("100"), shipping=usd("12.50"), import_charges=usd("7"), maximum_includes_shipping=True)
    assert snipe_cost(included) == {"USD": 100_00}


def test_shipping_in_another_currency_counts_in_its_own() -> None:
    cost = snipe_cost(snipe(1, usd("100"), shipping=gbp("9"), maximum_includes_shipping=True))
    assert cost == {"USD": 100_00, "GBP": 9_00}


def test_the_parts_say_how_much_of_the_exposure_is_shipping() -> None:
    snipes = [snipe(1, usd("100"), shipping=usd("12.50"), import_charges=usd("7")),
              snipe(2, usd("40"), shipping=usd("5"), maximum_includes_shipping=True),
              snipe(3, usd("10"))]
    assert exposure_parts(snipes) == {"USD": ExposurePart(usd("169.50"), usd("19.50"))}
    assert snipe_charges(snipes[1]) == {}


def test_a_group_ranks_its_members_by_landed_cost() -> None:
    # The $45.00 item with $10.00 shipping costs more than the $50.00 one shipped free: it is the one counted.
    group = [snipe(1, usd("50"), shipping=usd("0"), group_id=3, group_wins=1),
             snipe(2, usd("45"), shipping=usd("10"), group_id=3, group_wins=1),
             snipe(3, usd("30"), shipping=usd("20"), group_id=3, group_wins=1)]
    assert exposure_parts(group) == {"USD": ExposurePart(usd("55"), usd("10"))}
    two = [SnipeCost(s.snipe_id, s.status, s.maximum, 3, 2, s.shipping) for s in group]
    # $50.00 shipped free and $30.00 + $20.00 tie for second: the figure names the shipping that could be owed.
    assert exposure_parts(two) == {"USD": ExposurePart(usd("105"), usd("30"))}


def test_foreign_shipping_counts_in_its_own_currency_even_when_the_maximum_includes_it() -> None:
    # The bid cannot be lowered by pounds on a dollar listing (the app never converts), so the pounds are owed on
    # top, in pounds, and a group counts them among its pound costs.
    group = [snipe(1, usd("100"), shipping=gbp("9"), maximum_includes_shipping=True, group_id=1, group_wins=1),
             snipe(2, usd("80"), shipping=gbp("15"), group_id=1, group_wins=1)]
    assert exposure_parts(group) == {"GBP": ExposurePart(gbp("15"), gbp("15")),
                                     "USD": ExposurePart(usd("100"), usd("0"))}


def test_added_by_respects_groups_and_edits() -> None:
    group = [snipe(i, usd(m), group_id=1, group_wins=1) for i, m in enumerate(["50", "30"])]
    assert added_by(group, snipe(5, usd("20"), group_id=1, group_wins=1)) == {"USD": usd("0")}
    assert added_by(group, snipe(5, usd("80"), group_id=1, group_wins=1)) == {"USD": usd("30")}
    # Editing a snipe down adds nothing; editing it up adds the difference.
    alone = [snipe(1, usd("50")), snipe(2, usd("10"))]
    assert added_by(alone, snipe(1, usd("20"))) == {"USD": usd("20")}
    assert exposure(with_snipe(alone, snipe(1, usd("20")))) == {"USD": usd("30")}


# --- properties ---------------------------------------------------------------------------------------------

currencies = st.sampled_from(["USD", "GBP", "JPY"])
statuses = st.sampled_from(list(SnipeStatus))


@st.composite
def snipe_lists(draw: st.DrawFn, min_size: int = 0) -> list[SnipeCost]:
    n = draw(st.integers(min_size, 12))
    groups = draw(st.dictionaries(st.integers(1, 3), st.integers(1, 4), max_size=3))
    out = []
    for pk in range(n):
        group = draw(st.sampled_from([None, *groups]))
        out.append(SnipeCost(
            pk, draw(statuses), Money(draw(st.integers(100, 10**7)), draw(currencies)),
            group_id=group, group_wins=None if group is None else groups[group],
            shipping=draw(st.none() | st.builds(Money, st.integers(0, 10**5), currencies)),
            maximum_includes_shipping=draw(st.booleans()),
        ))
    return out


def _sum_of_costs(snipes: list[SnipeCost]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for s in snipes:
        if s.status.is_active:
            for cur, minor in snipe_cost(s).items():
                totals[cur] = totals.get(cur, 0) + minor
    return totals


@given(snipe_lists())
def test_exposure_never_exceeds_the_sum_of_costs(snipes: list[SnipeCost]) -> None:
    ceiling = _sum_of_costs(snipes)
    for cur, total in exposure(snipes).items():
        assert 0 <= total.minor <= ceiling[cur]


@given(snipe_lists(), st.data())
def test_adding_an_active_snipe_never_lowers_exposure(snipes: list[SnipeCost], data: st.DataObject) -> None:
    drawn = data.draw(snipe_lists(min_size=1)).pop()
    status = data.draw(st.sampled_from(sorted(ACTIVE_STATUSES)))
    extra = SnipeCost(10_000, status, drawn.maximum, drawn.group_id, drawn.group_wins, drawn.shipping,
                      maximum_includes_shipping=drawn.maximum_includes_shipping)
    before, after = exposure(snipes), exposure([*snipes, extra])
    for cur, total in before.items():
        assert after[cur].minor >= total.minor
    assert set(snipe_cost(extra)) <= set(after)


@given(st.lists(st.integers(100, 10**6), min_size=1, max_size=8), st.integers(0, 4))
def test_group_with_n_at_least_its_size_counts_all(maxima: list[int], spare: int) -> None:
    n = len(maxima) + spare
    group = [snipe(i, Money(m, "USD"), group_id=1, group_wins=n) for i, m in enumerate(maxima)]
    alone = [snipe(i, Money(m, "USD")) for i, m in enumerate(maxima)]
    assert exposure(group) == exposure(alone) == {"USD": Money(sum(maxima), "USD")}


@given(snipe_lists())
def test_exposure_is_at_least_the_maxima_and_the_parts_add_up(snipes: list[SnipeCost]) -> None:
    parts = exposure_parts(snipes)
    bare = exposure([SnipeCost(s.snipe_id, s.status, s.maximum, s.group_id, s.group_wins) for s in snipes])
    alone = [s for s in snipes if s.status.is_active and s.group_id is None]
    for cur, part in parts.items():
        assert 0 <= part.charges.minor <= part.total.minor
        # Shipping only ever adds: never below the same snipes counted at their maxima alone...
        assert part.total.minor >= bare.get(cur, Money(0, cur)).minor
        # ...and never below the sum of the maxima of the snipes outside groups.
        assert part.total.minor >= sum(s.maximum.minor for s in alone if s.maximum.currency == cur)
    assert set(bare) <= set(parts)
    assert exposure(snipes) == {cur: part.total for cur, part in parts.items()}


@given(st.lists(st.tuples(st.integers(100, 10**6), st.integers(0, 10**4), st.booleans()), min_size=1, max_size=8),
       st.integers(1, 8), st.lists(st.integers(100, 10**6), max_size=3))
def test_a_group_counts_exactly_its_n_largest_landed_costs(members: list[tuple[int, int, bool]], n: int,
                                                           outside: list[int]) -> None:
    group = [snipe(i, Money(m, "USD"), shipping=Money(ship, "USD"), maximum_includes_shipping=inc, group_id=1,
                   group_wins=n) for i, (m, ship, inc) in enumerate(members)]
    others = [snipe(100 + i, Money(m, "USD")) for i, m in enumerate(outside)]
    landed = sorted((m if inc else m + ship for m, ship, inc in members), reverse=True)
    assert exposure([*group, *others]) == {"USD": Money(sum(landed[:n]) + sum(outside), "USD")}


@given(snipe_lists(), st.integers(1, 10**5), st.booleans())
def test_shipping_in_another_currency_adds_to_that_currency_alone(snipes: list[SnipeCost], ship: int,
                                                                  includes: bool) -> None:
    # A new active dollar snipe whose shipping is charged in pounds: the pounds are owed on top whatever the
    # maximum includes (it cannot be lowered by them), and the dollars count its maximum alone.
    base = exposure(snipes)
    with_dollars = exposure([*snipes, SnipeCost(10_000, S.SCHEDULED, Money(5_000, "USD"))])
    with_pounds = exposure([*snipes, SnipeCost(10_000, S.SCHEDULED, Money(5_000, "USD"), shipping=Money(ship, "GBP"),
                                               maximum_includes_shipping=includes)])
    assert with_pounds["USD"] == with_dollars["USD"]
    assert with_pounds["GBP"].minor == base.get("GBP", Money(0, "GBP")).minor + ship
