"""Exposure: the worst case owed per currency, groups counting only their N largest maxima."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sniper_app.domain.exposure import SnipeCost, added_by, exposure, snipe_cost, with_snipe
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
