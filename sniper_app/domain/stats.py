"""The user's record: won and lost by month, money saved against maxima, win rate by lead time, outcomes by count.

Pure: a list of ended snipes in, figures out. Months are UTC calendar months, so the record reads the same
whatever zone the computer is in.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sniper_app.domain.money import Money
from sniper_app.domain.outcomes import FIRED_CODES, LOSS_CODES, OutcomeCode


@dataclass(frozen=True, slots=True)
class Ended:
    """One ended snipe, as the record needs it."""

    ended_at: datetime  # aware
    code: OutcomeCode
    maximum: Money  # its currency is the snipe's
    final_price: Money | None = None
    lead_seconds: float | None = None  # the lead the bid was sent with (None: it never fired)
    charges: Money | None = None  # the shipping and import charges paid on top of the final price
    includes_shipping: bool = False  # the maximum includes the charges: the saving is counted on the landed cost


@dataclass(frozen=True, slots=True)
class MonthRow:
    month: str  # "2026-11"
    won: int
    lost: int


@dataclass(frozen=True, slots=True)
class LeadBucket:
    label: str  # "2–5 s"
    low_s: float  # inclusive
    high_s: float  # exclusive; inf for the last
    tries: int  # snipes whose bid went out with a lead in this range
    wins: int

    @property
    def win_rate(self) -> float | None:
        """Wins per try, None with no tries (no rate is better than a made-up 0 %)."""
        return self.wins / self.tries if self.tries else None


@dataclass(frozen=True, slots=True)
class Record:
    months: tuple[MonthRow, ...]  # oldest first, only months with a won or lost snipe
    saved: dict[str, Money]  # per currency: the maxima less the final prices (landed, where a maximum included it)
    spent: dict[str, Money]  # per currency: what the wins cost, the final prices plus the charges
    leads: tuple[LeadBucket, ...]
    codes: tuple[tuple[OutcomeCode, int], ...]  # most frequent first, ties by code
    total: int

    def as_dict(self) -> dict[str, Any]:
        """For ``--json``: amounts as their eBay decimal strings with the currency, never floats."""
        def money(m: Money) -> dict[str, str]:
            return {"value": m.to_ebay_value(), "currency": m.currency}

        return {
            "total": self.total,
            "months": [{"month": r.month, "won": r.won, "lost": r.lost} for r in self.months],
            "saved": [money(m) for m in self.saved.values()],
            "spent": [money(m) for m in self.spent.values()],
            "lead_times": [
                {"label": b.label, "from_s": b.low_s, "to_s": None if math.isinf(b.high_s) else b.high_s,
                 "tries": b.tries, "wins": b.wins, "win_rate": b.win_rate}
                for b in self.leads
            ],
            "outcomes": [{"code": c.value, "count": n} for c, n in self.codes],
        }


# Lead-time ranges in seconds: finer where snipes usually sit (a few seconds), one bucket for the long ones.
LEAD_EDGES: tuple[float, ...] = (0.0, 2.0, 5.0, 10.0, 30.0, math.inf)


def _label(low: float, high: float) -> str:
    if math.isinf(high):
        return f"{low:g} s or more"
    return f"{low:g}–{high:g} s"


def _month(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("an ended snipe's time must be aware")
    return at.astimezone(UTC).strftime("%Y-%m")


def _totals(amounts: dict[str, int]) -> dict[str, Money]:
    return {c: Money(amounts[c], c) for c in sorted(amounts)}


def record(ended: Iterable[Ended]) -> Record:
    """The user's record from their ended snipes."""
    rows = list(ended)
    won_by: Counter[str] = Counter()
    lost_by: Counter[str] = Counter()
    saved: dict[str, int] = {}
    spent: dict[str, int] = {}
    tries = [0] * (len(LEAD_EDGES) - 1)
    wins = [0] * (len(LEAD_EDGES) - 1)
    for e in rows:
        month = _month(e.ended_at)
        if e.code is OutcomeCode.WON:
            won_by[month] += 1
            price = e.final_price
            if price is not None and price.currency == e.maximum.currency:
                cur = price.currency
                extra = e.charges.minor if e.charges is not None and e.charges.currency == cur else 0
                spent[cur] = spent.get(cur, 0) + price.minor + extra
                cost = price.minor + (extra if e.includes_shipping else 0)
                # A final price above the maximum (a record mixed up by hand) saved nothing rather than a debt.
                saved[cur] = saved.get(cur, 0) + max(e.maximum.minor - cost, 0)
        elif e.code in LOSS_CODES:
            lost_by[month] += 1
        lead = e.lead_seconds
        if e.code in FIRED_CODES and lead is not None and math.isfinite(lead) and lead >= 0:
            i = _bucket(lead)
            tries[i] += 1
            wins[i] += e.code is OutcomeCode.WON
    months = tuple(MonthRow(m, won_by[m], lost_by[m]) for m in sorted(set(won_by) | set(lost_by)))
    leads = tuple(
        LeadBucket(_label(lo, hi), lo, hi, tries[i], wins[i])
        for i, (lo, hi) in enumerate(itertools.pairwise(LEAD_EDGES))
    )
    counts = Counter(e.code for e in rows)
    codes = tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].value)))
    return Record(months, _totals(saved), _totals(spent), leads, codes, len(rows))


def _bucket(lead: float) -> int:
    for i in range(len(LEAD_EDGES) - 1):
        if LEAD_EDGES[i] <= lead < LEAD_EDGES[i + 1]:
            return i
    return len(LEAD_EDGES) - 2
