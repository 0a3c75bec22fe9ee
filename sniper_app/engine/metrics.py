"""Operation metrics kept locally: counts, durations and errors per operation, eBay calls per API per day,
and the clock offset/latency series — what the diagnostics view and ``diagnostics --json`` show."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

OPERATIONS = ("sync", "preflight", "fire", "result", "token_refresh", "email", "clock")
SERIES_LENGTH = 720  # a sample every few minutes over a day or more, bounded so memory stays flat


@dataclass
class OperationStats:
    count: int = 0
    errors: int = 0
    total_s: float = 0.0
    max_s: float = 0.0
    last_s: float | None = None
    last_error: str | None = None
    last_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "errors": self.errors,
            "mean_ms": round(self.total_s / self.count * 1000, 3) if self.count else None,
            "max_ms": round(self.max_s * 1000, 3),
            "last_ms": round(self.last_s * 1000, 3) if self.last_s is not None else None,
            "last_error": self.last_error,
            "last_at": self.last_at.isoformat() if self.last_at else None,
        }


@dataclass(frozen=True, slots=True)
class ClockPoint:
    at: datetime
    offset_ms: float
    latency_ms: float | None  # None: no round trip to eBay timed yet (the latency is only a default guess)


def _round(ms: float | None) -> float | None:
    return None if ms is None else round(ms, 3)


@dataclass
class Metrics:
    operations: dict[str, OperationStats] = field(default_factory=lambda: {op: OperationStats() for op in OPERATIONS})
    clock: deque[ClockPoint] = field(default_factory=lambda: deque(maxlen=SERIES_LENGTH))
    calls: dict[tuple[date, str], int] = field(default_factory=dict)

    def record(self, operation: str, duration_s: float, error: str | None = None) -> None:
        stats = self.operations.setdefault(operation, OperationStats())
        stats.count += 1
        stats.total_s += duration_s
        stats.max_s = max(stats.max_s, duration_s)
        stats.last_s = duration_s
        stats.last_at = datetime.now(UTC)
        if error is not None:
            stats.errors += 1
            stats.last_error = error

    @contextmanager
    def timed(self, operation: str) -> Iterator[None]:
        """Time a block; an exception counts as an error (with its sentence) and propagates."""
        start = time.perf_counter()
        try:
            yield
        except BaseException as exc:
            self.record(operation, time.perf_counter() - start, str(exc) or type(exc).__name__)
            raise
        self.record(operation, time.perf_counter() - start)

    def record_clock(self, offset_s: float, latency_s: float | None, at: datetime | None = None) -> None:
        self.clock.append(ClockPoint(at or datetime.now(UTC), offset_s * 1000,
                                     None if latency_s is None else latency_s * 1000))

    def count_call(self, api: str, at: datetime | None = None) -> int:
        """Count one call to eBay's ``api`` (browse, offer, trading, token, identity) for its UTC day."""
        key = ((at or datetime.now(UTC)).date(), api)
        self.calls[key] = self.calls.get(key, 0) + 1
        return self.calls[key]

    def calls_today(self, api: str, today: date | None = None) -> int:
        return self.calls.get((today or datetime.now(UTC).date(), api), 0)

    def snapshot(self) -> dict[str, Any]:
        today = datetime.now(UTC).date()
        return {
            "operations": {name: stats.as_dict() for name, stats in self.operations.items()},
            "clock": [
                {"at": p.at.isoformat(), "offset_ms": round(p.offset_ms, 3), "latency_ms": _round(p.latency_ms)}
                for p in self.clock
            ],
            "calls_today": {api: n for (day, api), n in sorted(self.calls.items()) if day == today},
        }
