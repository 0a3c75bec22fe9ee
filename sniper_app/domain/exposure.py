"""Exposure: the most the user could owe if every active snipe won, per currency.

Pure: the caller hands in plain facts about the snipes; nothing here reads the store or a clock.

What one snipe could cost is its maximum, plus the shipping and import charges eBay reports unless the user
said the maximum already includes them (then the bid is lowered so that the whole stays within it). A charge
in another currency than the maximum is counted in its own currency: the app never converts.

Groups ("win N of these") count only their N largest costs. The app never converts between currencies, so a
group that mixes currencies is counted per currency: in each currency, the N largest of its members' costs in
that currency. Every one of the N wins could fall in that currency, so each figure is the true worst case for
its currency alone. Together the figures may overstate what could happen at once (N wins cannot all be
both dollars and pounds), which errs on the safe side; a spending cap is set per currency, so the per-currency
worst case is exactly what it needs. Members of a group already WON take up wins, so the active members share
what is left of N.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sniper_app.domain.money import Money
from sniper_app.domain.status import ACTIVE_STATUSES, SnipeStatus


@dataclass(frozen=True, slots=True)
class SnipeCost:
    """What the exposure needs of one snipe."""

    snipe_id: int
    status: SnipeStatus
    maximum: Money
    group_id: int | None = None
    group_wins: int | None = None  # N of "win N of these"; None outside a group
    shipping: Money | None = None  # None: eBay reported none (yet)
    import_charges: Money | None = None
    maximum_includes_shipping: bool = False


def snipe_charges(snipe: SnipeCost) -> dict[str, int]:
    """The shipping and import charges this snipe adds on top of its maximum, in minor units per currency
    (none when the maximum includes them: the bid is lowered instead)."""
    charges: dict[str, int] = {}
    for extra in (snipe.shipping, snipe.import_charges):
        if extra is None or extra.minor <= 0:
            continue
        if snipe.maximum_includes_shipping and extra.currency == snipe.maximum.currency:
            # The bid is lowered by this charge, so bid plus charge is the maximum already counted.
            continue
        charges[extra.currency] = charges.get(extra.currency, 0) + extra.minor
    return charges


def snipe_cost(snipe: SnipeCost) -> dict[str, int]:
    """The most this snipe could cost if it won (its landed cost), in minor units per currency."""
    cost: dict[str, int] = {snipe.maximum.currency: snipe.maximum.minor}
    for currency, minor in snipe_charges(snipe).items():
        cost[currency] = cost.get(currency, 0) + minor
    return cost


@dataclass(frozen=True, slots=True)
class ExposurePart:
    """One currency of the exposure: the total, and how much of it is shipping and import charges."""

    total: Money
    charges: Money


def _largest(costs: list[tuple[int, int]], count: int) -> tuple[int, int]:
    """The sums of cost and charges of the ``count`` largest costs (ties: the larger charges, so the figure
    never hides shipping that could be owed)."""
    chosen = sorted(costs, reverse=True)[:count]
    return sum(c for c, _ in chosen), sum(x for _, x in chosen)


def exposure(snipes: Iterable[SnipeCost]) -> dict[str, Money]:
    """The worst case owed per currency if every active snipe won, groups counting only their N largest.

    Only currencies with an active snipe appear; the result is ordered by currency code.
    """
    return {currency: part.total for currency, part in exposure_parts(snipes).items()}


def exposure_parts(snipes: Iterable[SnipeCost]) -> dict[str, ExposurePart]:
    """:func:`exposure`, with the shipping and import charges inside each total. A group ranks its members
    by landed cost (maximum plus charges), so its N largest are the N that could cost the most."""
    totals: dict[str, int] = defaultdict(int)
    charges: dict[str, int] = defaultdict(int)
    # group id -> currency -> (cost, charges) of its active members in that currency
    group_costs: dict[int, dict[str, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
    group_target: dict[int, int] = {}
    group_won: dict[int, int] = defaultdict(int)
    for snipe in snipes:
        group_id, wins = snipe.group_id, snipe.group_wins
        grouped = group_id is not None and wins is not None
        if group_id is not None and wins is not None:
            # Members disagreeing on N (a group edited mid-way) count with the larger N: the safe side.
            group_target[group_id] = max(group_target.get(group_id, 0), wins)
            if snipe.status is SnipeStatus.WON:
                group_won[group_id] += 1
        if snipe.status not in ACTIVE_STATUSES:
            continue
        extras = snipe_charges(snipe)
        for currency, minor in snipe_cost(snipe).items():
            extra = extras.get(currency, 0)
            if grouped and group_id is not None:
                group_costs[group_id][currency].append((minor, extra))
            else:
                totals[currency] += minor
                charges[currency] += extra
    for group_id, by_currency in group_costs.items():
        left = max(group_target[group_id] - group_won[group_id], 0)
        for currency, costs in by_currency.items():
            cost, extra = _largest(costs, left)
            totals[currency] += cost
            charges[currency] += extra
    return {currency: ExposurePart(Money(totals[currency], currency), Money(charges[currency], currency))
            for currency in sorted(totals)}


def with_snipe(snipes: Iterable[SnipeCost], candidate: SnipeCost) -> list[SnipeCost]:
    """The snipes as they would be with ``candidate`` added, or replacing the snipe of the same id (an edit)."""
    return [s for s in snipes if s.snipe_id != candidate.snipe_id] + [candidate]


def added_by(snipes: Iterable[SnipeCost], candidate: SnipeCost) -> dict[str, Money]:
    """How much adding (or editing to) ``candidate`` raises the exposure, per currency it touches.

    A group already holding N larger maxima adds nothing; an edit down adds nothing (never a negative).
    """
    snipes = list(snipes)
    before = exposure(s for s in snipes if s.snipe_id != candidate.snipe_id)
    after = exposure(with_snipe(snipes, candidate))
    return {
        currency: Money(max(total.minor - _minor(before, currency), 0), currency)
        for currency, total in after.items()
        if currency in snipe_cost(candidate)
    }


def _minor(totals: Mapping[str, Money], currency: str) -> int:
    found = totals.get(currency)
    return 0 if found is None else found.minor
