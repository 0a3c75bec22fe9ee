"""The facts the spending cap is checked on, read from the store: the profile's snipes as the exposure counts
them, and its wins.

Kept apart from the snipe room: these are reads for the money rules of :mod:`sniper_app.domain.spending`,
and their shape follows what those rules need. The engine reads them seconds before a fire, on its loop:
plain tuples of the few columns needed, and only the wins of the period asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sniper_app.domain.exposure import SnipeCost, snipe_cost
from sniper_app.domain.money import Money
from sniper_app.domain.spending import MAX_PERIOD_DAYS, Win
from sniper_app.domain.status import ACTIVE_STATUSES, SnipeStatus
from sniper_app.store.base import status_values
from sniper_app.store.models import Snipe, SnipeGroup
from sniper_app.store.store import Store


class _Row(NamedTuple):
    pk: int
    status: str
    maximum: int
    currency: str
    group: int | None
    end: datetime
    final: int | None
    includes_shipping: bool
    shipping_minor: int | None
    shipping_currency: str | None
    import_minor: int | None
    import_currency: str | None

    @property
    def shipping(self) -> Money | None:
        return _charge(self.shipping_minor, self.shipping_currency)

    @property
    def import_charges(self) -> Money | None:
        return _charge(self.import_minor, self.import_currency)


def _charge(minor: int | None, currency: str | None) -> Money | None:
    return Money(minor, currency) if minor is not None and currency else None


def _rows(query: Any) -> list[_Row]:
    return [_Row(*row) for row in query.tuples()]


_COLUMNS = (Snipe.id, Snipe.status, Snipe.max_bid_minor, Snipe.currency, Snipe.group, Snipe.end_time,
            Snipe.final_price_minor, Snipe.includes_shipping, Snipe.shipping_minor, Snipe.shipping_currency,
            Snipe.import_charges_minor, Snipe.import_charges_currency)


@dataclass(frozen=True, slots=True)
class SpendingFacts:
    """What the cap check needs: every snipe the exposure may count, and the wins of the period."""

    snipes: tuple[SnipeCost, ...]
    wins: tuple[Win, ...]


def spending_facts(store: Store, user_id: int, *, now: datetime, period_days: int = MAX_PERIOD_DAYS) \
        -> SpendingFacts:
    """The active snipes, the WON members of their groups, and the wins ended in the ``period_days`` up to
    ``now``, each with the shipping and import charges recorded for it.

    A win's cost is what was paid: its final price plus the charges; a WON snipe without a final price (eBay
    never said) counts at its landed cost, the most it could have cost."""
    mine = Snipe.user == user_id
    since = now - timedelta(days=period_days)
    # One snapshot: a snipe turning WON between two reads would otherwise count twice, or not at all.
    with store.database.atomic():
        active = _rows(Snipe.select(*_COLUMNS).where(mine & Snipe.status.in_(status_values(ACTIVE_STATUSES))))
        groups = {row.group for row in active if row.group is not None}
        recent = (Snipe.end_time > since) & (Snipe.end_time <= now)
        won_filter = mine & (Snipe.status == SnipeStatus.WON.value)
        counted = (recent | Snipe.group.in_(groups)) if groups else recent
        won = _rows(Snipe.select(*_COLUMNS).where(won_filter & counted))
        query: Any = SnipeGroup.select(SnipeGroup.id, SnipeGroup.target_wins).where(SnipeGroup.id.in_(groups))
        targets: dict[int, int] = dict(query.tuples()) if groups else {}
    costs = tuple(_cost(row, targets) for row in active + won
                  if row.status != SnipeStatus.WON.value or row.group in groups)
    wins = tuple(win for row in won if row.end > since for win in _paid(row))
    return SpendingFacts(costs, wins)


def _cost(row: _Row, targets: dict[int, int]) -> SnipeCost:
    return SnipeCost(snipe_id=row.pk, status=SnipeStatus(row.status), maximum=Money(row.maximum, row.currency),
                     group_id=row.group, group_wins=targets.get(row.group) if row.group is not None else None,
                     shipping=row.shipping, import_charges=row.import_charges,
                     maximum_includes_shipping=bool(row.includes_shipping))


def _paid(row: _Row) -> list[Win]:
    """What a win cost, one Win per currency: the final price plus the charges recorded (a charge in another
    currency than the listing's is owed in that currency, never converted)."""
    if row.final is None:
        # No final price from eBay: the most it could have cost, as the exposure counted it.
        paid = snipe_cost(_cost(row, {}))
    else:
        paid = {row.currency: row.final}
        for charge in (row.shipping, row.import_charges):
            if charge is not None and charge.minor > 0:
                paid[charge.currency] = paid.get(charge.currency, 0) + charge.minor
    return [Win(ended_at=row.end, amount=Money(minor, currency)) for currency, minor in paid.items()]
