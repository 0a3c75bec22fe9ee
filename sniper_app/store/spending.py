"""The facts the spending cap is checked on, read from the store: the profile's snipes as the exposure counts
them, and its wins.

Kept apart from the snipe room: these are reads for the money rules of :mod:`sniper_app.domain.spending`,
and their shape follows what those rules need.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sniper_app.domain.exposure import SnipeCost
from sniper_app.domain.money import Money
from sniper_app.domain.spending import MAX_PERIOD_DAYS, Win
from sniper_app.domain.status import ACTIVE_STATUSES, SnipeStatus
from sniper_app.store.base import status_values
from sniper_app.store.models import Snipe, SnipeGroup
from sniper_app.store.store import Store


@dataclass(frozen=True, slots=True)
class SpendingFacts:
    """What the cap check needs: every snipe the exposure may count, and the wins of the longest period."""

    snipes: tuple[SnipeCost, ...]
    wins: tuple[Win, ...]


def snipe_cost(snipe: Snipe, group_wins: int | None) -> SnipeCost:
    return SnipeCost(
        snipe_id=int(snipe.id),
        status=SnipeStatus(snipe.status),
        maximum=Money(snipe.max_bid_minor, snipe.currency),
        group_id=snipe.group_id,
        group_wins=group_wins if snipe.group_id is not None else None,
    )


def spending_facts(store: Store, user_id: int, *, now: datetime) -> SpendingFacts:
    """The active snipes, the WON members of their groups, and the wins ended since the longest period began.

    A win's cost is its final price; a WON snipe without one (eBay never said) counts at its maximum, the
    most it could have cost."""
    active = list(
        Snipe.select().where((Snipe.user == user_id) & Snipe.status.in_(status_values(ACTIVE_STATUSES)))
    )
    groups = {s.group_id for s in active if s.group_id is not None}
    since = now - timedelta(days=MAX_PERIOD_DAYS)
    won_filter = (Snipe.user == user_id) & (Snipe.status == SnipeStatus.WON.value)
    recent = Snipe.end_time > since
    won = list(Snipe.select().where(won_filter & ((recent | Snipe.group.in_(groups)) if groups else recent)))
    targets = {
        int(g.id): int(g.target_wins) for g in SnipeGroup.select().where(SnipeGroup.id.in_(groups))
    } if groups else {}
    costs = tuple(snipe_cost(s, targets.get(s.group_id or 0)) for s in active + won
                  if s.snipe_status is not SnipeStatus.WON or s.group_id in groups)
    wins = tuple(Win(ended_at=s.end_time, amount=Money(_cost_of_win(s), s.currency)) for s in won if s.end_time > since)
    return SpendingFacts(costs, wins)


def _cost_of_win(snipe: Snipe) -> int:
    return int(snipe.max_bid_minor if snipe.final_price_minor is None else snipe.final_price_minor)
