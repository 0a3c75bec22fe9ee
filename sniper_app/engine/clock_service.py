"""How far this machine's clock is from eBay's, and how long a request takes to reach eBay.

The offset comes from SNTP to ``settings.time_server`` (the simulator runs one); eBay reply timestamps
are a cross-check. The one-way latency is half the round trip of cheap requests to the API host (item
reads, warm-ups, the bids' own replies): the fire path must send ``latency`` early to arrive on time.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
from collections import deque
from datetime import datetime

from sniper_app.ebay import ClockUnavailable, Timing, measure_offset
from sniper_app.ebay.clock_offset import ClockCheck, ClockSample, cross_check, offset_from_server_time
from sniper_app.engine.bus import ClockMeasured, EventBus
from sniper_app.engine.metrics import Metrics

log = logging.getLogger(__name__)

# Requests whose round trip says something about the path a bid takes (same host, small, no server work).
LATENCY_CALLS = frozenset({"getItem", "getItemByLegacyId", "getBidding", "warm-up", "placeProxyBid", "fire"})
DEFAULT_LATENCY_S = 0.05
GOOD_SNTP_RTT_S = 0.005


class ClockService:
    """Offset (true = local + offset) and one-way latency, re-measured on demand; Qt- and thread-free."""

    def __init__(
        self,
        server: str,
        *,
        bus: EventBus | None = None,
        metrics: Metrics | None = None,
        samples: int = 4,
        timeout_s: float = 1.0,
        window: int = 16,
    ) -> None:
        self.server = server
        self.bus = bus
        self.metrics = metrics
        self._samples = samples
        self._timeout = timeout_s
        self.offset_s = 0.0
        self.sample: ClockSample | None = None
        self.measured_at_monotonic: float | None = None
        self.last_error: str | None = None
        self._rtts: deque[float] = deque(maxlen=window)
        self._fire_rtts: deque[float] = deque(maxlen=window)
        self._probe_rtt: float | None = None
        # Round trips timed off the loop (bids' own, probes) over the last hours: the automatic lead's evidence.
        self._history: deque[tuple[float, float]] = deque(maxlen=4096)

    # --- offset -------------------------------------------------------------------------------------

    @property
    def synced(self) -> bool:
        return self.sample is not None

    def age_s(self) -> float:
        """Seconds since the last good measurement (infinite before the first)."""
        if self.measured_at_monotonic is None:
            return float("inf")
        return time.monotonic() - self.measured_at_monotonic

    async def measure(self) -> ClockSample | None:
        """One SNTP measurement; on failure the previous offset is kept (and the error recorded)."""
        start = time.perf_counter()
        sample: ClockSample | None = None
        try:
            # A reply read late (busy loop, GIL held by the UI) skews the offset by half the delay and shows
            # as a long round trip: try again briefly and keep the tightest exchange.
            for _ in range(3):
                got = await measure_offset(self.server, self._samples, self._timeout)
                if sample is None or got.rtt_s < sample.rtt_s:
                    sample = got
                if sample.rtt_s <= GOOD_SNTP_RTT_S:
                    break
                await asyncio.sleep(0.05)
        except ClockUnavailable as exc:
            if sample is None:
                self.last_error = str(exc)
                if self.metrics is not None:
                    self.metrics.record("clock", time.perf_counter() - start, str(exc))
                log.warning("clock measurement failed: %s", exc)
                return None
        assert sample is not None
        previous = self.sample
        if (previous is not None and previous.server == sample.server and self.age_s() < 120.0
                and sample.rtt_s > 2 * previous.rtt_s + GOOD_SNTP_RTT_S):
            # A recent tight measurement beats a loose new one: keep its offset, just note the time
            # (not across a change of time server: the old server's offset says nothing about the new one).
            sample = ClockSample(previous.offset_s, previous.rtt_s, sample.measured_at, previous.server,
                                 previous.stratum)
        self.sample = sample
        self.offset_s = sample.offset_s
        self.measured_at_monotonic = time.monotonic()
        self.last_error = None
        if self.metrics is not None:
            self.metrics.record("clock", time.perf_counter() - start)
            # A guess is not a measurement: the series leaves it out rather than plot it as a spike.
            self.metrics.record_clock(sample.offset_s, self.latency_s if self.latency_measured else None,
                                      sample.measured_at)
        if self.bus is not None:
            self.bus.publish(ClockMeasured(offset_s=sample.offset_s, rtt_s=sample.rtt_s, source=sample.server))
        log.info("clock offset %+.1f ms (SNTP rtt %.1f ms), latency %.1f ms%s",
                 sample.offset_s * 1000, sample.rtt_s * 1000, self.latency_s * 1000,
                 "" if self.latency_measured else " (assumed: no eBay round trip timed yet)")
        return sample

    async def ensure_fresh(self, max_age_s: float) -> None:
        if self.age_s() > max_age_s:
            await self.measure()

    def cross_check(self, server_time: datetime, timing: Timing) -> ClockCheck | None:
        """Compare an eBay reply timestamp with SNTP; a disagreement is logged (SNTP stays the reference)."""
        if self.sample is None:
            return None
        check = cross_check(self.sample, offset_from_server_time(server_time, timing))
        if not check.agrees:
            log.warning("eBay's reply timestamp disagrees with the time server by %.1f ms (allowed %.1f ms)",
                        check.difference_s * 1000, check.allowed_s * 1000)
        return check

    # --- latency ------------------------------------------------------------------------------------

    def note_timing(self, what: str, timing: Timing) -> None:
        """Hook for the eBay client's ``on_timing``: keeps the round trips of requests like a bid."""
        if what in LATENCY_CALLS:
            self.note_rtt(timing.rtt_s)

    def note_probe(self, rtts: list[float]) -> None:
        """Round trips measured off the event loop on a raw connection (see ``Firer.probe``): the tightest is
        the path's own, the others carry scheduling noise."""
        good = [r for r in rtts if 0.0 <= r < 10.0]
        if good:
            self._probe_rtt = min(good)
            self._history.append((time.monotonic(), self._probe_rtt))

    def note_rtt(self, rtt_s: float, *, fire: bool = False) -> None:
        if 0.0 <= rtt_s < 10.0:
            (self._fire_rtts if fire else self._rtts).append(rtt_s)
            if fire:
                self._history.append((time.monotonic(), rtt_s))

    def recent_rtts(self, hours: float = 6.0) -> list[float]:
        """The round trips timed off the loop in the last ``hours``."""
        since = time.monotonic() - hours * 3600
        return [rtt for at, rtt in self._history if at >= since]

    @property
    def uncertainty_s(self) -> float:
        """How far off the offset may be: half the SNTP round trip it came from (1 s when never measured)."""
        return self.sample.rtt_s / 2 if self.sample is not None else 1.0

    @property
    def latency_measured(self) -> bool:
        """False while ``latency_s`` is still the default guess."""
        return bool(self._probe_rtt is not None or self._rtts or len(self._fire_rtts) >= 3)

    @property
    def latency_s(self) -> float:
        """Expected one-way latency: half a recent round trip.

        The fire path's own round trips (raw socket, warm connection) are the best evidence, then probes
        timed the same way; the client's calls queue behind each other when many run at once (and behind
        a busy loop), so only their lower quartile is trusted.
        """
        if len(self._fire_rtts) >= 3:
            return statistics.median(self._fire_rtts) / 2
        if self._probe_rtt is not None:
            return self._probe_rtt / 2
        if not self._rtts:
            return DEFAULT_LATENCY_S
        ordered = sorted(self._rtts)
        return ordered[len(ordered) // 4] / 2

    # --- conversions --------------------------------------------------------------------------------

    def ebay_now(self) -> float:
        return time.time() + self.offset_s
