"""The simulator's clock (the machine's clock plus an adjustable offset) and how eBay writes its instants."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class SimClock:
    """sim time = time.time() + offset_s (the offset may be changed while running)."""

    def __init__(self, offset_s: float = 0.0) -> None:
        self.offset_s = float(offset_s)

    def now(self) -> float:
        return time.time() + self.offset_s


def iso_ms(epoch: float) -> str:
    """Epoch seconds as eBay writes instants: UTC with milliseconds and a Z."""
    stamp = datetime.fromtimestamp(epoch, tz=UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def iso_duration(seconds: float) -> str:
    """A non-negative span as the ISO-8601 duration Trading uses for TimeLeft (PT0S when over)."""
    total = max(0, int(seconds))
    if total == 0:
        return "PT0S"
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    out = "P" + (f"{days}D" if days else "")
    time_part = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + (f"{secs}S" if secs else "")
    return out + ("T" + time_part if time_part else "")
