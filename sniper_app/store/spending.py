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

from sniper_app.domain.exposure import SnipeCost
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


def _rows(query: Any) -> list[_Row]:
    return [_Row(*row) for row in query.tuples()]


_COLUMNS = (Snipe.id, Snipe.status, Snipe.max_bid_minor, Snipe.currency, Snipe.group, Snipe.end_time,
            Snipe.final_price_minor)


@dataclass(frozen=True, slots=True)
class SpendingFacts:
    """What the cap check needs: every snipe the exposure may count, and the wins of the period."""

    snipes: tuple[SnipeCost, ...]
    wins: tuple[Win, ...]


def spending_facts(store: Store, user_id: int, *, now: datetime, period_days: int = MAX_PERIOD_DAYS) \
        -> SpendingFacts:
    """The active snipes, the WON members of their groups, and the wins ended in the ``period_days`` up to
    ``now``.

    A win's cost is its final price; a WON snipe without one (eBay never said) counts at its maximum, the
    most it could have cost."""
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
    costs = tuple(
        SnipeCost(snipe_id=pk, status=SnipeStatus(status), maximum=Money(maximum, currency), group_id=group,
                  group_wins=targets.get(group) if group is not None else None)
        for pk, status, maximum, currency, group, _end, _final in active + won
        if status != SnipeStatus.WON.value or group in groups
    )
    wins = tuple(
        Win(ended_at=end, amount=Money(maximum if final is None else final, currency))
        for _pk, _status, maximum, currency, _group, end, final in won if end > since
    )
    return SpendingFacts(costs, wins)
