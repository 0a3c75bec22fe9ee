"""The lead a snipe picks for itself (``--lead auto``): the shortest that still lands the bid in time.

The bid is timed to arrive ``lead`` seconds before the end; the lead is what absorbs the surprises: a round
trip slower than expected, a clock estimate that is off, and one quick resend after a failed first attempt.
So it is the usual round trip, plus four times its spread (the slow tail over the last hours), plus twice
the clock's uncertainty, plus a margin; never below the least lead a snipe may have.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from sniper_app.domain.rules import AUTO_LEAD, DEFAULT_LEAD_SECONDS, MIN_LEAD_SECONDS

__all__ = ["AUTO_LEAD", "LeadChoice", "choose_lead"]

AUTO_MARGIN_S = 0.5
SPREAD_FACTOR = 4


@dataclass(frozen=True, slots=True)
class LeadChoice:
    seconds: float
    why: str


def choose_lead(
    rtts_s: Sequence[float], clock_uncertainty_s: float, *, margin_s: float = AUTO_MARGIN_S,
    floor_s: float = MIN_LEAD_SECONDS,
) -> LeadChoice:
    """The lead for measured round trips ``rtts_s`` (seconds) and a clock known to ± ``clock_uncertainty_s``,
    rounded up to a tenth of a second."""
    rtts = sorted(r for r in rtts_s if math.isfinite(r) and r >= 0)
    if not rtts:
        return LeadChoice(float(DEFAULT_LEAD_SECONDS),
                          f"no round trip to eBay measured yet, so the default {DEFAULT_LEAD_SECONDS} s")
    typical = statistics.median(rtts)
    slow = rtts[min(len(rtts) - 1, math.ceil(0.9 * len(rtts)) - 1)]
    spread = max(0.0, slow - typical)
    clock = max(0.0, clock_uncertainty_s) if math.isfinite(clock_uncertainty_s) else 1.0
    raw = typical + SPREAD_FACTOR * spread + 2 * clock + margin_s
    seconds = max(float(floor_s), math.ceil(raw * 10 - 1e-9) / 10)
    why = (f"round trip {typical * 1000:.0f} ms + {SPREAD_FACTOR} × spread {spread * 1000:.0f} ms + "
           f"2 × clock ± {clock * 1000:.0f} ms + margin {margin_s:g} s")
    if seconds == floor_s and raw < floor_s:
        why += f", raised to the least lead of {floor_s:g} s"
    return LeadChoice(seconds, why)
