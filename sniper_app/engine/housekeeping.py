"""The engine's upkeep: the health check that announces a snipe at risk, the database poll and the
heartbeat (wall-clock jumps, keep-awake, ending-soon), the clock and latency jobs, and memory trims."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sniper_app.domain.history import HistoryAction
from sniper_app.domain.lead import AUTO_LEAD
from sniper_app.domain.money import Money
from sniper_app.domain.status import SnipeStatus
from sniper_app.ebay import EbayError, ItemNotFound, NeedsRelink
from sniper_app.engine.bus import AuctionEndingSoon, SnipeAtRisk
from sniper_app.engine.engine_state import _NOT_FIRED, EngineBase, _ref
from sniper_app.engine.memory import give_back_free_memory

log = logging.getLogger(__name__)

HEALTH_TIMEOUT_S = 15.0  # each check of the health check gives up after this (a slow answer is an answer)
HOUSEKEEPING_S = 30.0  # how often the C heap's free memory is due to be given back to the system
TRIM_QUIET_S = 1.0  # no trim when a bid leaves within this (its claim comes 0.8 s before it)
TRIM_AFTER_S = 0.5  # nor just after a send, while its reply is read and a retry may follow


class Housekeeping(EngineBase):
    """The periodic jobs and loops that keep the engine's view of time, database and health current."""

    # --- health check -------------------------------------------------------------------------------

    async def _job_health(self, pk: int) -> None:
        self._spawn(self._check_health(pk))

    async def _check_health(self, pk: int) -> None:
        """Minutes before the fire, everything the bid will need: a snipe at risk is announced at once (tray,
        email, status bar, history) with what the user can still do about it."""
        snipe = self.store.get_snipe(pk)
        if SnipeStatus(snipe.status) not in _NOT_FIRED or self._paused or self._stopping:
            return
        problems: list[str] = []
        advice: list[str] = []

        def risk(problem: str, what_to_do: str) -> None:
            problems.append(problem)
            if what_to_do not in advice:
                advice.append(what_to_do)

        send_at, _, _ = self._plan(snipe)
        net = "check the internet connection (and any VPN or proxy)"
        if self.client.account is None:
            risk("no eBay account is linked", "link your eBay account (Account menu, or `sniper-app account link`)")
        else:
            try:
                async with asyncio.timeout(HEALTH_TIMEOUT_S):
                    await self.client.ensure_user_token(max(60.0, send_at - self._now() + 60.0))
            except NeedsRelink as exc:
                self._on_needs_relink(exc)
                risk("eBay no longer accepts the sign-in", "link your eBay account again")
            except (EbayError, TimeoutError):
                risk("eBay's sign-in service did not answer", net)
        await self.clock.ensure_fresh(self.clock_max_age_s)
        if not self.clock.synced or self.clock.last_error:
            risk(f"the clock could not be checked ({self.clock.last_error or 'no time server answered'})",
                 "check the time server setting (time_server) and the network")
        try:
            self.clock.note_probe(await asyncio.to_thread(self.firer.probe, self.client.endpoints.api_url, 3))
        except (OSError, ssl.SSLError) as exc:
            risk(f"eBay cannot be reached from this computer ({type(exc).__name__})", net)
        if getattr(self.keepawake, "supported", None) is False:
            risk("this computer cannot be kept awake until the bid",
                 "switch off sleep until the auction ends, or keep the computer in use")
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT_S):
                item = await self.client.get_item(_ref(snipe), marketplace=snipe.marketplace)
        except ItemNotFound:
            risk("the item is no longer on eBay", "check the listing on eBay")
        except (EbayError, TimeoutError):
            risk("the item could not be read from eBay", net)
        else:
            price, maximum = item.current_price, Money(snipe.max_bid_minor, snipe.currency)
            if item.end_time is not None and item.end_time.timestamp() <= self.clock.ebay_now():
                risk("the auction has already ended", "nothing: this snipe will not bid")
            elif (price is not None and price.currency == snipe.currency and price.minor >= snipe.max_bid_minor
                    and item.bid_count > 0):
                risk(f"the price ({price}) already reached your maximum ({maximum})",
                     "raise the maximum if you still want the item")
        if not problems:
            log.info("health check of snipe %s: ready", pk)
            return
        message = f"At risk: {'; '.join(problems)}. What you can do: {'; '.join(advice)}."
        self.store.add_event(HistoryAction.NOTE, snipe_id=pk, status=SnipeStatus(snipe.status), message=message,
                             details={"health": "at_risk", "problems": problems, "advice": advice})
        self.bus.publish(SnipeAtRisk(snipe_id=pk, message=message, problems=tuple(problems), advice=tuple(advice)))

    # --- background loops and jobs ------------------------------------------------------------------

    def _read_data_version(self) -> int:
        row = self.store.database.sql("PRAGMA data_version").fetchone()
        return int(row[0])

    async def _poll_loop(self) -> None:
        last_full = time.monotonic()
        while True:
            await asyncio.sleep(self.poll_interval_s)
            try:
                if self.settings_watch is not None and (new := self.settings_watch.changed()) is not None:
                    self.apply_settings(new)
                version = self._read_data_version()
                if version != self._data_version or self._reconcile_again or time.monotonic() - last_full > 15.0:
                    self._data_version = version
                    self._reconcile_again = False
                    last_full = time.monotonic()
                    await self.reconcile()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reading the database for changes failed")

    async def _heartbeat_loop(self, wall0: float, mono0: float) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            wall1, mono1 = self._wall(), self._monotonic()
            gap = (wall1 - wall0) - (mono1 - mono0)
            wall0, mono0 = wall1, mono1
            try:
                if abs(gap) > self.jump_threshold_s:
                    await self._on_clock_jump(gap)
                await self._tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("engine heartbeat failed")

    async def _on_clock_jump(self, gap: float) -> None:
        """Suspend/resume or a clock change: every timer armed on the monotonic clock is now wrong."""
        self.jumps += 1
        log.warning("the wall clock jumped by %+.1f s; re-measuring and rescheduling every snipe", gap)
        self.store.add_event(HistoryAction.NOTE, message=(
            f"The computer's clock jumped by {gap:+.0f} s (sleep or clock change); every snipe was rescheduled."))
        await self.clock.measure()
        self._disarm_all()
        for pk in list(self._results):
            self._results.discard(pk)
        await self.reconcile()

    async def _tick(self) -> None:
        due_soon = False
        horizon = self.settings.notify_ending_minutes * 60.0
        auto_lead: float | None = None
        for pk, end_time, lead_s in self.store.active_ends(self.user_id):
            to_end = end_time.timestamp() - self.clock.ebay_now()
            if to_end <= 0:
                continue
            if lead_s == AUTO_LEAD:
                auto_lead = self._auto_lead().seconds if auto_lead is None else auto_lead
                lead_s = auto_lead
            if to_end - lead_s < self.keepawake_ahead_s:
                due_soon = True
            if to_end <= horizon and pk not in self._ending_notified:
                self._ending_notified.add(pk)
                self.bus.publish(AuctionEndingSoon(snipe_id=pk, ends_at=end_time))
        if due_soon != self.keepawake.held:
            await self._hold_awake(due_soon)
        self._trim_if_quiet()

    async def _hold_awake(self, wanted: bool) -> None:
        if self._keepawake_thread is None:
            self._keepawake_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sniper-keepawake")
        await asyncio.get_running_loop().run_in_executor(self._keepawake_thread, self.keepawake.hold, wanted)

    async def _job_clock(self) -> None:
        await self.clock.measure()
        await self._probe_latency()

    async def _probe_latency(self) -> None:
        """The one-way latency to the bid endpoint, timed off the loop (requests handed over early are
        planned with it before any item read of the loop's has measured anything)."""
        try:
            rtts = await asyncio.to_thread(self.firer.probe, self.client.endpoints.api_url)
        except (OSError, ssl.SSLError) as exc:
            log.info("latency probe failed: %s", exc)
            return
        self.clock.note_probe(rtts)

    async def _job_housekeeping(self) -> None:
        self._trim_due = True

    def _trim_if_quiet(self) -> None:
        """Give the C heap's free memory back once it is due, at the first second no bid is about to leave.

        Trimming briefly locks each allocator arena, the fire thread's too. Only a send still ahead counts:
        waiting for every handed-over request to finish (as this once did) meant that with a fire every second
        or so the trim almost never ran, and the free-but-kept heap grew for as long as the fires went on."""
        if not self._trim_due:
            return
        if bid_leaving((a.send_at for a in self._armed.values() if a.fire_id is not None), self._now()):
            return
        self._trim_due = False
        give_back_free_memory()

    def _hook_timing(self) -> None:
        transport = self.client.transport
        previous = transport.on_timing

        def on_timing(what: str, timing: Any) -> None:
            self.clock.note_timing(what, timing)
            self.metrics.count_call(api_of(what))  # every HTTP exchange, retries included, spends quota
            if previous is not None:
                previous(what, timing)

        transport.on_timing = on_timing


def bid_leaving(send_ats: Iterable[float], now: float) -> bool:
    """Whether a handed-over bid is sent within ``TRIM_QUIET_S`` from ``now``, or was sent just before it."""
    return any(-TRIM_AFTER_S < at - now < TRIM_QUIET_S for at in send_ats)


def api_of(what: str) -> str:
    """Which of eBay's metered APIs a client call (named as the transport names it) belongs to."""
    if what.startswith("token"):
        return "token"
    if what in ("getBidding", "placeProxyBid"):
        return "offer"
    if what == "getUser":
        return "identity"
    if what[:1].isupper():  # Trading's calls are named in CamelCase: GetMyeBayBuying, ...
        return "trading"
    return "browse"
