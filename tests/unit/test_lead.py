"""The automatic lead: the shortest that still absorbs the measured surprises, never below the least lead."""

from __future__ import annotations

import statistics

from hypothesis import given
from hypothesis import strategies as st

from sniper_app.domain.lead import AUTO_MARGIN_S, choose_lead
from sniper_app.domain.rules import DEFAULT_LEAD_SECONDS, MIN_LEAD_SECONDS

rtts = st.lists(st.floats(min_value=0.0, max_value=5.0, allow_nan=False), min_size=1, max_size=200)
clock = st.floats(min_value=0.0, max_value=2.0, allow_nan=False)


@given(rtts, clock)
def test_never_below_the_least_lead_nor_the_round_trip_and_margin(samples: list[float], uncertainty: float) -> None:
    choice = choose_lead(samples, uncertainty)
    assert choice.seconds >= MIN_LEAD_SECONDS
    assert choice.seconds >= statistics.median(samples) + 2 * uncertainty + AUTO_MARGIN_S - 1e-9
    assert round(choice.seconds * 10) == choice.seconds * 10  # tenths of a second


@given(rtts, clock, clock)
def test_a_less_certain_clock_never_shortens_the_lead(samples: list[float], a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert choose_lead(samples, low).seconds <= choose_lead(samples, high).seconds


def test_a_fast_steady_line_gets_the_least_lead_and_says_why() -> None:
    choice = choose_lead([0.040, 0.041, 0.039, 0.045, 0.040], 0.002)
    assert choice.seconds == MIN_LEAD_SECONDS
    assert choice.why.startswith("round trip 40 ms + 4 × spread")
    assert "raised to the least lead of 1 s" in choice.why


def test_a_jittery_line_gets_more() -> None:
    choice = choose_lead([0.2] * 8 + [0.9, 1.0], 0.01)
    assert choice.seconds == 3.6  # 0.2 + 4 × 0.7 + 2 × 0.01 + 0.5 = 3.52, rounded up to a tenth


def test_nothing_measured_yet_means_the_default_lead() -> None:
    choice = choose_lead([], 0.01)
    assert choice.seconds == DEFAULT_LEAD_SECONDS
    assert "no round trip" in choice.why
