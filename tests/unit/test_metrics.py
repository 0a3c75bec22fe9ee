from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sniper_app.engine.metrics import SERIES_LENGTH, Metrics


def test_timed_counts_successes_and_errors_with_their_sentence() -> None:
    metrics = Metrics()
    with metrics.timed("sync"):
        pass
    with pytest.raises(RuntimeError), metrics.timed("sync"):
        raise RuntimeError("eBay is unreachable")
    stats = metrics.snapshot()["operations"]["sync"]
    assert stats["count"] == 2
    assert stats["errors"] == 1
    assert stats["last_error"] == "eBay is unreachable"
    assert stats["mean_ms"] is not None


def test_call_budget_is_counted_per_api_per_utc_day() -> None:
    metrics = Metrics()
    today = datetime.now(UTC)
    for _ in range(3):
        metrics.count_call("browse", today)
    metrics.count_call("browse", today - timedelta(days=1))
    metrics.count_call("offer", today)
    assert metrics.calls_today("browse") == 3
    assert metrics.snapshot()["calls_today"] == {"browse": 3, "offer": 1}


def test_clock_series_is_bounded() -> None:
    metrics = Metrics()
    for i in range(SERIES_LENGTH + 10):
        metrics.record_clock(offset_s=i / 1000, latency_s=0.02)
    series = metrics.snapshot()["clock"]
    assert len(series) == SERIES_LENGTH
    assert series[-1]["offset_ms"] == pytest.approx(SERIES_LENGTH + 9)
    assert series[0]["latency_ms"] == pytest.approx(20)
