"""The runtime engine: arms every snipe from the database, checks it before the fire, hands the bid to the
fire thread at the right instant, and records what happened.

The database is the truth. APScheduler jobs (``snipe:{pk}``, ``result:{pk}``) are derived from it and
rebuilt at start, on every change another process makes (``PRAGMA data_version``), on ``reconcile()`` and
after a wall-clock jump.

Timeline of one snipe (local clock; ``S`` = send instant = end − lead − offset − one-way latency):
- ``S − preflight_s``: the job starts a task: token, clock, item re-read (SKIPPED / FAILED), warm-up.
- ``S − prep_s``: token valid past the fire, clock re-measured if stale, group target re-checked.
- ``S − handover_s``: compare-and-set SCHEDULED → PLACING, then the exact request goes to the Firer. A
  cancel that lands before the compare-and-set wins (nothing is handed over, nothing is sent); after it,
  the store refuses the cancel with "already sent" — there is no third outcome.
- after the end: getBidding says WON or LOST and the final price.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx
from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from sniper_app.config import Settings
from sniper_app.domain.history import HistoryAction
from sniper_app.domain.items import ItemRef
from sniper_app.domain.money import Money
from sniper_app.domain.status import NOT_FIRED_STATUSES, SnipeStatus
from sniper_app.ebay import (
    AuthExpired,
    BidRejected,
    EbayClient,
    EbayError,
    ItemNotFound,
    NeedsRelink,
    NoBiddingActivity,
)
from sniper_app.ebay.transport import rest_error
from sniper_app.engine.bookkeeping import Bookkeeper
from sniper_app.engine.bus import (
    AccountStateChanged,
    AuctionEndingSoon,
    EventBus,
    SnipeStatusChanged,
    SnipeWarning,
)
from sniper_app.engine.clock import ClockService
from sniper_app.engine.fire import Firer, FireRequest, FireResult
from sniper_app.engine.keepawake import KeepAwake
from sniper_app.engine.metrics import Metrics
from sniper_app.engine.sync import converted_fields, sync_watchlist
from sniper_app.store import Store
from sniper_app.store.errors import DiskFull
from sniper_app.store.models import Snipe

log = logging.getLogger(__name__)

_NOT_FIRED = frozenset(NOT_FIRED_STATUSES)
# How long a stop waits for writes a full disk held back.
STOP_DRAIN_S = 2.0


def _dt(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def _ref(snipe: Snipe) -> ItemRef:
    return ItemRef(snipe.legacy_item_id)


@dataclass
class _Armed:
    """What the engine derived for one snipe, to notice edits (end, lead) that need a re-arm."""

    end_epoch: float
    lead_s: float
    task: asyncio.Task[None] | None = None
    committed: bool = False  # past the compare-and-set: the bid is the Firer's now, never cancelled here


class Engine:
    """Runs snipes on the running asyncio loop (plain asyncio or qasync)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        user_id: int,
        bus: EventBus | None = None,
        metrics: Metrics | None = None,
        client: EbayClient | None = None,
        firer: Firer | None = None,
        clock_server: str | None = None,
        poll_interval_s: float = 0.5,
        preflight_s: float = 45.0,
        prep_s: float = 3.0,
        handover_s: float = 0.8,
        end_margin_s: float = 0.15,
        late_fire_min_s: float = 2.0,
        result_delay_s: float = 0.3,
        clock_period_s: float = 300.0,
        clock_max_age_s: float = 20.0,
        heartbeat_s: float = 1.0,
        jump_threshold_s: float = 2.0,
        keepawake_ahead_s: float = 180.0,
        sync_period_s: float | None = None,
        compensate: bool = True,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        keepawake: KeepAwake | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.user_id = user_id
        self.bus = bus or EventBus()
        self.metrics = metrics or Metrics()
        self._owns_client = client is None
        self._client = client
        self._owns_firer = firer is None
        self.firer = firer or Firer()
        self.clock = ClockService(clock_server or settings.time_server, bus=self.bus, metrics=self.metrics)
        self.keepawake = keepawake or KeepAwake()
        self.poll_interval_s = poll_interval_s
        self.preflight_s = preflight_s
        self.prep_s = prep_s
        self.handover_s = handover_s
        self.end_margin_s = end_margin_s
        self.late_fire_min_s = late_fire_min_s
        self.result_delay_s = result_delay_s
        self.clock_period_s = clock_period_s
        self.clock_max_age_s = clock_max_age_s
        self.heartbeat_s = heartbeat_s
        self.jump_threshold_s = jump_threshold_s
        self.keepawake_ahead_s = keepawake_ahead_s
        self.sync_period_s = sync_period_s or settings.watchlist_sync_minutes * 60.0
        self.compensate = compensate
        self._wall = wall
        self._monotonic = monotonic

        self.scheduler: AsyncIOScheduler | None = None
        self._armed: dict[int, _Armed] = {}
        self._results: set[int] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._reconcile_lock = asyncio.Lock()
        self._data_version: int | None = None
        self._ending_notified: set[int] = set()
        self._close_warned: set[int] = set()
        self._needs_relink = False
        self._paused = False
        self._started = False
        self._stopping = False
        self.jumps = 0  # wall-clock jumps seen (diagnostics, tests)
        # Writes about bids that a full disk refused, kept and saved in order once there is room.
        self.bookkeeper = Bookkeeper()
        self._reconcile_again = False

    # --- public -------------------------------------------------------------------------------------

    @property
    def client(self) -> EbayClient:
        if self._client is None:
            raise RuntimeError("the engine has no eBay client before start()")
        return self._client

    @property
    def paused(self) -> bool:
        return self._paused

    @paused.setter
    def paused(self, value: bool) -> None:
        """Pausing un-arms every snipe not yet handed to the fire thread; resuming re-arms from the DB."""
        if value == self._paused:
            return
        self._paused = value
        if self._started:
            if value:
                self._disarm_all()
            else:
                self._spawn(self.reconcile())

    async def start(self) -> None:
        if self._started:
            return
        loop = asyncio.get_running_loop()
        if self._client is None:
            from sniper_app.engine.wiring import build_client

            user = self.store.get_user(self.user_id)
            self._client = build_client(self.settings, account=user.ebay_username)
        self._hook_timing()
        self._needs_relink = bool(self.store.get_user(self.user_id).needs_relink)
        if self._owns_firer:
            self.firer.start()
        self.scheduler = AsyncIOScheduler(
            event_loop=loop,
            timezone=UTC,
            # A late job still runs (None = no grace limit): the snipe itself decides whether it is too late.
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        )
        self.scheduler.add_listener(self._on_job_missed, EVENT_JOB_MISSED)
        self.scheduler.start()
        self._started = True
        self.scheduler.add_job(
            self._job_clock, IntervalTrigger(seconds=self.clock_period_s, timezone=UTC), id="clock",
            replace_existing=True,
        )
        self.scheduler.add_job(
            # First run at start: the user sees a fresh watch list without waiting a whole period.
            self._job_sync, IntervalTrigger(seconds=self.sync_period_s, timezone=UTC),
            id="sync", replace_existing=True, next_run_time=datetime.now(UTC),
        )
        await self.clock.measure()
        self._data_version = self._read_data_version()
        await self.reconcile()
        self._loops.append(loop.create_task(self._poll_loop(), name="sniper-db-poll"))
        self._loops.append(loop.create_task(self._heartbeat_loop(self._wall(), self._monotonic()),
                                            name="sniper-heartbeat"))

    async def stop(self) -> None:
        if not self._started or self._stopping:
            return
        self._stopping = True
        for task in self._loops:
            task.cancel()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        if self._owns_firer:
            # Pending fires resolve as cancelled; their snipes stay PLACING and a restart asks eBay.
            await asyncio.to_thread(self.firer.stop)
        if self.bookkeeper.pending and not await self.bookkeeper.drain(STOP_DRAIN_S):
            for what in self.bookkeeper.abandon():
                log.error("%s was never saved: the disk stayed full until the engine stopped", what)
        tasks = [*self._tasks, *self._loops]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._armed.clear()
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.keepawake.hold, False)
        if self._owns_client and self._client is not None:
            await self._client.aclose()
        self._started = False

    def sync_soon(self) -> None:
        """Run the periodic watch-list sync now rather than at its next period (e.g. right after a link)."""
        if self.scheduler is not None and self._started and not self._stopping:
            self.scheduler.modify_job("sync", next_run_time=datetime.now(UTC))

    async def reconcile(self) -> None:
        """Re-read the database and bring the derived jobs in line with it."""
        if not self._started or self._stopping:
            return
        async with self._reconcile_lock:
            self._reconcile_now()

    # --- derived state ------------------------------------------------------------------------------

    def _reconcile_now(self) -> None:
        user = self.store.get_user(self.user_id)
        relinked = self._needs_relink and not user.needs_relink
        if relinked or user.ebay_username != self.client.account:
            # Linked, re-linked or unlinked, perhaps by another process: act for whoever is linked now, with
            # the tokens the keyring holds now (the cached ones may be dead).
            self._needs_relink = bool(user.needs_relink)
            self.client.set_account(user.ebay_username)
        snipes = self.store.active_snipes(self.user_id)
        seen: set[int] = set()
        for snipe in snipes:
            pk = int(snipe.id)
            seen.add(pk)
            status = SnipeStatus(snipe.status)
            if status in _NOT_FIRED:
                if not self._paused:
                    try:
                        self._arm(snipe)
                    except DiskFull as exc:
                        # The others are still armed; this one is tried again at the next poll.
                        log.error("snipe %s could not be scheduled: %s", pk, exc)
                        self._reconcile_again = True
            elif status is SnipeStatus.PLACING:
                armed = self._armed.get(pk)
                if armed is None or armed.task is None or armed.task.done():
                    self._armed[pk] = _Armed(snipe.end_time.timestamp(), snipe.lead_seconds, committed=True)
                    self._armed[pk].task = self._spawn(self._recover_placing(pk))
            elif status is SnipeStatus.PLACED and pk not in self._results:
                self._schedule_result(snipe)
        for pk in list(self._armed):
            if pk not in seen:
                self._disarm(pk)
        self._check_group_spacing(snipes)

    def _arm(self, snipe: Snipe) -> None:
        pk = int(snipe.id)
        end_epoch = snipe.end_time.timestamp()
        armed = self._armed.get(pk)
        if armed is not None:
            if armed.committed:
                return
            if armed.end_epoch == end_epoch and armed.lead_s == snipe.lead_seconds:
                return
            self._disarm(pk)  # an edit moved the fire instant
        send_at, retry_until, _ = self._plan(snipe)
        now = time.time()
        if send_at < now and retry_until - now < self.late_fire_min_s:
            reason = "The bid time passed while the app was not running (or the computer slept)."
            if self.store.set_status(pk, SnipeStatus.MISSED, reason=reason, expected=_NOT_FIRED, job_id=None):
                self._publish_status(pk, SnipeStatus(snipe.status), SnipeStatus.MISSED, reason)
            return
        job_id = f"snipe:{pk}"
        if SnipeStatus(snipe.status) is SnipeStatus.PENDING:
            reason = f"Armed: the bid goes out {snipe.lead_seconds:g} s before the end."
            if self.store.set_status(
                pk, SnipeStatus.SCHEDULED, reason=reason, expected=SnipeStatus.PENDING, job_id=job_id,
                details={"send_at": _iso(send_at), "offset_ms": round(self.clock.offset_s * 1000, 3)},
            ):
                self._publish_status(pk, SnipeStatus.PENDING, SnipeStatus.SCHEDULED, reason)
        self._armed[pk] = _Armed(end_epoch, snipe.lead_seconds)
        run_at = max(send_at - self.preflight_s, now)
        assert self.scheduler is not None
        self.scheduler.add_job(
            self._job_snipe, DateTrigger(run_date=datetime.fromtimestamp(run_at, UTC)), args=[pk], id=job_id,
            replace_existing=True,
        )

    def _disarm(self, pk: int) -> None:
        armed = self._armed.get(pk)
        if armed is not None and armed.committed:
            return
        self._armed.pop(pk, None)
        if self.scheduler is not None:
            with contextlib.suppress(Exception):
                self.scheduler.remove_job(f"snipe:{pk}")
        if armed is not None and armed.task is not None and not armed.task.done():
            armed.task.cancel()

    def _disarm_all(self) -> None:
        for pk in list(self._armed):
            self._disarm(pk)

    def _plan(self, snipe: Snipe) -> tuple[float, float, float]:
        """(send instant, last instant any attempt may leave, end) on the local clock."""
        offset = self.clock.offset_s if self.compensate else 0.0
        latency = self.clock.latency_s if self.compensate else 0.0
        end_local = snipe.end_time.timestamp() - offset
        send_at = end_local - snipe.lead_seconds - latency
        retry_until = end_local - latency - self.end_margin_s
        return send_at, retry_until, end_local

    # --- the snipe ----------------------------------------------------------------------------------

    async def _job_snipe(self, pk: int) -> None:
        armed = self._armed.get(pk)
        if armed is None or self._paused or self._stopping:
            return
        if armed.task is not None and not armed.task.done():
            return
        armed.task = self._spawn(self._run_snipe(pk, armed))

    async def _run_snipe(self, pk: int, armed: _Armed) -> None:
        try:
            snipe = self.store.get_snipe(pk)
            if SnipeStatus(snipe.status) is not SnipeStatus.SCHEDULED:
                return
            if not await self._preflight(snipe):
                return
            send_at, _, _ = self._plan(self.store.get_snipe(pk))
            await self._sleep_until(send_at - self.prep_s)
            snipe = self.store.get_snipe(pk)
            if SnipeStatus(snipe.status) is not SnipeStatus.SCHEDULED:
                return
            if not await self._prep(snipe):
                return
            send_at, _, _ = self._plan(self.store.get_snipe(pk))
            await self._sleep_until(send_at - self.handover_s)
            if self._paused or self._stopping:
                return
            snipe = self.store.get_snipe(pk)
            if self._group_reached(snipe):
                self._cancel_for_group(snipe)
                return
            # The compare-and-set: from here on the bid belongs to the Firer; a cancel is refused by the store.
            armed.committed = True
            # With the disk full the bid still goes out; the hand-over is saved when there is room.
            if not self.bookkeeper.write(f"The hand-over of snipe {pk} to the fire", lambda: self.store.set_status(
                pk, SnipeStatus.PLACING, reason="Sending the bid.", expected=SnipeStatus.SCHEDULED, job_id=None,
                amount_minor=snipe.max_bid_minor,
            ), assumed=True):
                armed.committed = False
                self._armed.pop(pk, None)
                return
            self._publish_status(pk, SnipeStatus.SCHEDULED, SnipeStatus.PLACING, None)
            await self._fire(pk)
        except NeedsRelink as exc:
            self._on_needs_relink(exc)
            self._fail_unfired(pk, f"The bid could not be sent: {exc}")
        except asyncio.CancelledError:
            raise
        except DiskFull as exc:
            # Before the hand-over nothing was sent: drop the plan, and the next poll arms the snipe afresh.
            log.error("snipe %s: %s", pk, exc)
            if not armed.committed:
                self._armed.pop(pk, None)
                self._reconcile_again = True
        except Exception as exc:  # one snipe's bug must not take the engine down; it is recorded
            log.exception("snipe %s failed", pk)
            self._fail_unfired(pk, f"Unexpected error before the bid: {type(exc).__name__}: {exc}")
        finally:
            current = self._armed.get(pk)
            if current is armed and (armed.committed or SnipeStatus(self.store.get_snipe(pk).status) not in _NOT_FIRED):
                self._armed.pop(pk, None)

    async def _preflight(self, snipe: Snipe) -> bool:
        """Item, token and clock checks well before the fire; False when the snipe ended here."""
        pk = int(snipe.id)
        with self.metrics.timed("preflight"):
            await self.clock.ensure_fresh(self.clock_max_age_s)
            send_at, _, _ = self._plan(snipe)
            try:
                await self.client.ensure_user_token(max(60.0, send_at - time.time() + 60.0))
            except NeedsRelink as exc:
                self._on_needs_relink(exc)  # keep the snipe armed: a re-link before the fire saves it
            except EbayError as exc:
                log.warning("preflight of snipe %s: token refresh failed: %s", pk, exc)
            try:
                item = await self.client.get_item(_ref(snipe), marketplace=snipe.marketplace)
            except ItemNotFound as exc:
                self._finish_unfired(pk, SnipeStatus.FAILED, f"The item is no longer on eBay: {exc}")
                return False
            except EbayError as exc:
                log.warning("preflight of snipe %s: item read failed (%s); firing anyway", pk, exc)
                item = None
            if item is not None:
                fields: dict[str, Any] = {"bid_count": item.bid_count}
                if item.current_price is not None and item.current_price.currency == snipe.currency:
                    fields["current_price_minor"] = item.current_price.minor
                    fields |= converted_fields(item)
                if item.end_time is not None and item.end_time != snipe.end_time:
                    fields["end_time"] = item.end_time
                self.bookkeeper.write(f"The item refresh of snipe {pk}", lambda: self.store.update_fields(
                    pk, expected=SnipeStatus.SCHEDULED, **fields), assumed=True)
                if item.end_time is not None and item.end_time.timestamp() <= self.clock.ebay_now():
                    self._finish_unfired(pk, SnipeStatus.FAILED, "The auction ended early (ended by the seller or "
                                         "bought with Buy It Now).")
                    return False
                price = item.current_price
                minimum = item.minimum_to_bid
                if minimum is not None and minimum.currency == snipe.currency and minimum.minor > snipe.max_bid_minor:
                    self._finish_unfired(pk, SnipeStatus.SKIPPED, (
                        f"Skipped: the next bid eBay accepts ({minimum}) is above your maximum "
                        f"({Money(snipe.max_bid_minor, snipe.currency)})."))
                    return False
                if (price is not None and price.currency == snipe.currency and price.minor >= snipe.max_bid_minor
                        and item.bid_count > 0):
                    self._finish_unfired(pk, SnipeStatus.SKIPPED, (
                        f"Skipped: the price ({price}) already reached your maximum "
                        f"({Money(snipe.max_bid_minor, snipe.currency)})."))
                    return False
            self._warm(snipe)
        return True

    async def _prep(self, snipe: Snipe) -> bool:
        """Last checks a few seconds before the fire: fresh clock, a token valid past the fire, the group."""
        pk = int(snipe.id)
        await self.clock.ensure_fresh(self.clock_max_age_s)
        send_at, _, _ = self._plan(snipe)
        try:
            await self.client.ensure_user_token(max(30.0, send_at - time.time() + 30.0))
        except NeedsRelink:
            raise
        except EbayError as exc:
            log.warning("snipe %s: token refresh before the fire failed (%s); trying the current one", pk, exc)
        if self._group_reached(snipe):
            self._cancel_for_group(snipe)
            return False
        self._warm(snipe)
        return True

    def _warm(self, snipe: Snipe) -> None:
        # Enough warm connections for every fire near this one (connections return to the pool after a reply).
        send_at, _, _ = self._plan(snipe)
        near = sum(
            1 for s in self._armed.values() if not s.committed and abs(s.end_epoch - s.lead_s - (send_at)) < 5.0
        )
        self.firer.warm(self.client.endpoints.api_url, count=max(2, near + 1), hold_s=self.preflight_s + 30.0)

    async def _sleep_until(self, local_epoch: float) -> None:
        # Loop timers are coarse and may wake early: sleep in steps and re-read the clock.
        while True:
            remaining = local_epoch - time.time()
            if remaining <= 0:
                return
            await asyncio.sleep(min(remaining, 1.0))

    # --- fire ---------------------------------------------------------------------------------------

    async def _fire(self, pk: int, *, renewed: bool = False) -> None:
        snipe = self.store.get_snipe(pk)
        send_at, retry_until, end_local = self._plan(snipe)
        offset_ms = (self.clock.offset_s if self.compensate else 0.0) * 1000
        latency_ms = (self.clock.latency_s if self.compensate else 0.0) * 1000
        now = time.time()
        if send_at < now:
            if retry_until - now <= 0.05:
                reason = f"Too late to bid: the auction ends {max(end_local - now, 0):.1f} s from now."
                self._set(pk, SnipeStatus.PLACING, SnipeStatus.MISSED, reason)
                return
            send_at = now
        token = await self.client.ensure_user_token(max(30.0, send_at - now + 30.0))
        request = self.client.bid_request(
            _ref(snipe), Money(snipe.max_bid_minor, snipe.currency), token.token, marketplace=snipe.marketplace
        )
        fire = FireRequest(
            fire_id=f"snipe:{pk}:{'r' if renewed else 'a'}",
            send_at=send_at,
            url=self.client.endpoints.api_url,
            method=request.method,
            path=request.url.raw_path.decode("ascii"),
            headers={k: v for k, v in request.headers.items() if k.lower() not in ("accept-encoding", "connection")},
            body=request.content,
            retry_until=retry_until,
            # Short enough that a retry after a silent server still arrives before the end.
            timeout_s=min(10.0, max(0.25, 4 * self.clock.latency_s, (retry_until - send_at) / 2)),
        )
        with self.metrics.timed("fire"):
            result = await self.firer.fire(fire)
        for attempt in result.attempts:
            if attempt.sent_at is not None:
                self.metrics.count_call("offer")  # the bid bypasses the client: count each send here
        if self._stopping or result.outcome == "cancelled":
            return  # stays PLACING: the next start asks eBay what became of it
        await self._record_fire(pk, snipe, result, offset_ms, latency_ms, renewed=renewed)

    async def _record_fire(
        self, pk: int, snipe: Snipe, result: FireResult, offset_ms: float, latency_ms: float, *, renewed: bool
    ) -> None:
        attempts = result.attempts
        sent = [a for a in attempts if a.sent_at is not None]
        for a in sent:
            if a.reply_at is not None:
                self.clock.note_rtt(a.reply_at - a.sent_at, fire=True)  # type: ignore[operator]
        details = {
            "attempts": [
                {"planned_at": _iso(a.planned_at), "sent_at": _iso(a.sent_at), "reply_at": _iso(a.reply_at),
                 "status": a.status, "error": a.error}
                for a in attempts
            ],
            "offset_ms": round(offset_ms, 3),
            "latency_ms": round(latency_ms, 3),
        }
        for n, a in enumerate(attempts[1:], start=2):
            prev = attempts[n - 2]
            self.bookkeeper.write(f"A retry of snipe {pk}", partial(
                self.store.add_event,
                HistoryAction.RETRY, snipe_id=pk, status=SnipeStatus.PLACING,
                message=f"Attempt {n - 1} failed ({prev.error or f'HTTP {prev.status}'}); sent again.",
                details={"attempt": n, "planned_at": _iso(a.planned_at), "sent_at": _iso(a.sent_at)},
            ), assumed=None)
        self.bookkeeper.write(f"The timing of snipe {pk}", partial(
            self.store.record_timing,
            pk,
            planned_at=_dt(attempts[0].planned_at) if attempts else None,
            sent_at=_dt(sent[0].sent_at) if sent else None,
            reply_at=_dt(attempts[-1].reply_at) if attempts else None,
            clock_offset_ms=offset_ms,
            latency_ms=latency_ms,
            attempts=len(sent),
        ), assumed=None)
        if result.outcome == "replied" and result.status in (200, 201):
            bid_id = _proxy_bid_id(result.body)
            if bid_id is None:
                await self._resolve_unknown(pk, "eBay accepted the bid but its reply is unreadable.", details)
                return
            self._set(pk, SnipeStatus.PLACING, SnipeStatus.PLACED,
                      f"eBay accepted the bid of {Money(snipe.max_bid_minor, snipe.currency)}.",
                      details=details, proxy_bid_id=bid_id)
            self._schedule_result(self.store.get_snipe(pk))
            return
        if result.outcome == "replied" and result.status is not None:
            error = rest_error(
                httpx.Response(result.status, headers=list(result.headers), content=result.body), "placeProxyBid"
            )
            if isinstance(error, AuthExpired) and not renewed:
                # eBay dropped the token early (401: nothing was placed): renew it and send again at once.
                self.store.add_event(HistoryAction.RETRY, snipe_id=pk, status=SnipeStatus.PLACING,
                                     message="eBay refused the sign-in at the fire; renewed it and sent again.")
                try:
                    await self.client.renew_user_token()
                except NeedsRelink as exc:
                    self._on_needs_relink(exc)
                    self._set(pk, SnipeStatus.PLACING, SnipeStatus.FAILED, str(exc), details=details)
                    return
                await self._fire(pk, renewed=True)
                return
            unsure = any(a.sent_at is not None and a.status is None for a in attempts[:-1])
            if unsure:
                # An earlier attempt may have landed (no reply): eBay then refuses the repeat as "too low".
                await self._resolve_unknown(pk, str(error), details)
                return
            if isinstance(error, BidRejected | ItemNotFound) or (error.status is not None and error.status < 500
                                                                   and error.status != 429):
                self.bookkeeper.write(f"eBay's answer to snipe {pk}", partial(
                    self.store.record_timing, pk, ebay_message=error.ebay_message or str(error)), assumed=None)
                self._set(pk, SnipeStatus.PLACING, SnipeStatus.FAILED, str(error), details=details)
                return
            await self._resolve_unknown(pk, f"{error} The retries ran out before the end.", details)
            return
        if sent:
            last = attempts[-1].error or "no reply"
            await self._resolve_unknown(pk, f"The bid was sent but eBay's answer was lost ({last}).", details)
            return
        why = attempts[-1].error if attempts else "unknown"
        self._set(pk, SnipeStatus.PLACING, SnipeStatus.FAILED, f"The bid could not be sent ({why}).", details=details)

    async def _resolve_unknown(self, pk: int, reason: str, details: dict[str, Any] | None) -> None:
        """A bid whose fate is unknown: eBay's own record (getBidding) decides, never a guess."""
        snipe = self.store.get_snipe(pk)
        for delay in (0.0, 0.5, 1.0, 2.0, 4.0):
            await asyncio.sleep(delay)
            try:
                standing = await self.client.get_bidding(_ref(snipe), currency=snipe.currency)
            except NoBiddingActivity:
                self._set(pk, SnipeStatus.PLACING, SnipeStatus.FAILED,
                          f"{reason} eBay has no bid from you on this auction.", details=details)
                return
            except EbayError as exc:
                log.warning("snipe %s: checking an uncertain bid failed: %s", pk, exc)
                continue
            if standing.max_amount is not None and standing.max_amount.minor >= snipe.max_bid_minor:
                self._set(pk, SnipeStatus.PLACING, SnipeStatus.PLACED,
                          f"eBay has the bid of {standing.max_amount} (confirmed after: {reason})",
                          details=details, proxy_bid_id=standing.proxy_bid_id)
                self._schedule_result(self.store.get_snipe(pk))
                return
            self._set(pk, SnipeStatus.PLACING, SnipeStatus.FAILED,
                      f"{reason} eBay does not have this bid.", details=details)
            return
        # eBay cannot be asked now: stay PLACING; the result check after the end decides.
        self._schedule_result(snipe)

    async def _recover_placing(self, pk: int) -> None:
        """A snipe left PLACING by a crash: ask eBay; fire now only if eBay has no bid and time remains."""
        snipe = self.store.get_snipe(pk)
        try:
            standing = await self.client.get_bidding(_ref(snipe), currency=snipe.currency)
        except NoBiddingActivity:
            _, retry_until, _ = self._plan(snipe)
            if retry_until - time.time() > self.late_fire_min_s:
                self.store.add_event(HistoryAction.NOTE, snipe_id=pk, status=SnipeStatus.PLACING,
                                     message="The app stopped while sending this bid; eBay never got it: sending now.")
                await self._fire(pk)
            else:
                self._set(pk, SnipeStatus.PLACING, SnipeStatus.MISSED,
                          "The app stopped while sending this bid and eBay never got it; the auction has ended.")
            return
        except NeedsRelink as exc:
            self._on_needs_relink(exc)
            return
        except EbayError as exc:
            log.warning("snipe %s: cannot check an interrupted bid yet: %s", pk, exc)
            self._schedule_result(snipe)
            return
        if standing.max_amount is not None and standing.max_amount.minor >= snipe.max_bid_minor:
            self._set(pk, SnipeStatus.PLACING, SnipeStatus.PLACED,
                      f"eBay has the bid of {standing.max_amount} (sent before the app stopped).",
                      proxy_bid_id=standing.proxy_bid_id)
            self._schedule_result(self.store.get_snipe(pk))
        elif standing.ended:
            self._set(pk, SnipeStatus.PLACING, SnipeStatus.MISSED,
                      "The app stopped while sending this bid and eBay never got it; the auction has ended.")
        else:
            await self._fire(pk)

    # --- results ------------------------------------------------------------------------------------

    def _schedule_result(self, snipe: Snipe, delay_s: float | None = None) -> None:
        if self.scheduler is None or self._stopping:
            return
        pk = int(snipe.id)
        end_local = snipe.end_time.timestamp() - self.clock.offset_s
        at = max(end_local + self.result_delay_s, time.time()) if delay_s is None else time.time() + delay_s
        self._results.add(pk)
        self.scheduler.add_job(
            self._job_result, DateTrigger(run_date=datetime.fromtimestamp(at, UTC)), args=[pk],
            id=f"result:{pk}", replace_existing=True,
        )

    async def _job_result(self, pk: int) -> None:
        self._spawn(self._check_result(pk))

    async def _check_result(self, pk: int) -> None:
        snipe = self.store.get_snipe(pk)
        status = SnipeStatus(snipe.status)
        if status not in (SnipeStatus.PLACED, SnipeStatus.PLACING):
            self._results.discard(pk)
            return
        retry_in = 1.0 if time.time() - snipe.end_time.timestamp() < 120 else 30.0
        try:
            with self.metrics.timed("result"):
                standing = await self.client.get_bidding(_ref(snipe), currency=snipe.currency)
        except NoBiddingActivity:
            if status is SnipeStatus.PLACING:
                self._set(pk, status, SnipeStatus.MISSED, "eBay never got this bid (the app stopped while sending).")
            else:
                self._set(pk, status, SnipeStatus.LOST, "eBay no longer shows your bid on this auction.")
            self._results.discard(pk)
            return
        except NeedsRelink as exc:
            self._on_needs_relink(exc)
            self._schedule_result(snipe, delay_s=30.0)
            return
        except EbayError as exc:
            log.warning("result of snipe %s not known yet: %s", pk, exc)
            self._schedule_result(snipe, delay_s=retry_in)
            return
        if status is SnipeStatus.PLACING:
            if standing.max_amount is None or standing.max_amount.minor < snipe.max_bid_minor:
                if standing.ended:
                    self._set(pk, status, SnipeStatus.MISSED, "eBay never got this bid; the auction has ended.")
                    self._results.discard(pk)
                    return
            else:
                self._set(pk, status, SnipeStatus.PLACED, f"eBay has the bid of {standing.max_amount}.",
                          proxy_bid_id=standing.proxy_bid_id)
                status = SnipeStatus.PLACED
        if not standing.ended:
            self._schedule_result(snipe, delay_s=retry_in if standing.end_time is None else max(
                0.2, min(retry_in, standing.end_time.timestamp() - self.clock.ebay_now() + self.result_delay_s)))
            return
        self._results.discard(pk)
        if status is not SnipeStatus.PLACED:
            return
        price = standing.current_price
        if standing.high_bidder:
            self._set(pk, status, SnipeStatus.WON, f"Won for {price}.", final_price_minor=price.minor)
            if snipe.group_id is not None:  # type: ignore[attr-defined]
                self._after_group_win(int(snipe.group_id))  # type: ignore[attr-defined]
        else:
            self._set(pk, status, SnipeStatus.LOST, f"Lost: the auction ended at {price}.",
                      final_price_minor=price.minor)
        self._spawn(self._cross_check_results(pk))

    async def _cross_check_results(self, pk: int) -> None:
        """Trading's won/lost list as a second opinion (and its Timestamp as a clock cross-check)."""
        try:
            results = await self.client.get_buying_results(1)
        except EbayError as exc:
            log.info("won/lost list unavailable for the cross-check: %s", exc)
            return
        if results.timestamp is not None and results.timing is not None:
            self.clock.cross_check(results.timestamp, results.timing)
        snipe = self.store.get_snipe(pk)
        won = {i.legacy_item_id for i in results.won}
        lost = {i.legacy_item_id for i in results.lost}
        ours = SnipeStatus(snipe.status)
        other = "WON" if snipe.legacy_item_id in won else "LOST" if snipe.legacy_item_id in lost else None
        if other is not None and other != ours.value:
            self.store.add_event(HistoryAction.NOTE, snipe_id=pk,
                                 message=f"eBay's won/lost list says {other.lower()}, getBidding said "
                                         f"{ours.value.lower()}; check the item on eBay.")

    # --- groups -------------------------------------------------------------------------------------

    def _group_reached(self, snipe: Snipe) -> bool:
        group_id = snipe.group_id  # type: ignore[attr-defined]
        if group_id is None:
            return False
        group = self.store.get_group(int(group_id))
        return self.store.group_won_count(int(group_id)) >= group.target_wins

    def _cancel_for_group(self, snipe: Snipe) -> None:
        group = self.store.get_group(int(snipe.group_id))  # type: ignore[attr-defined]
        reason = f"Group “{group.name}” already won {group.target_wins} item(s); this snipe is no longer needed."
        pk = int(snipe.id)
        old = SnipeStatus(snipe.status)
        if self.store.set_status(pk, SnipeStatus.CANCELLED, reason=reason, expected=_NOT_FIRED,
                                 action=HistoryAction.CANCEL, job_id=None):
            self._disarm(pk)
            self._publish_status(pk, old, SnipeStatus.CANCELLED, reason)

    def _after_group_win(self, group_id: int) -> None:
        group = self.store.get_group(group_id)
        if self.store.group_won_count(group_id) < group.target_wins:
            return
        for member in self.store.group_members(group_id):
            if SnipeStatus(member.status) in _NOT_FIRED:
                self._cancel_for_group(member)

    def _check_group_spacing(self, snipes: list[Snipe]) -> None:
        """Warn when a group member fires before the previous member's result can be known."""
        groups: dict[int, list[Snipe]] = {}
        for s in snipes:
            gid = s.group_id  # type: ignore[attr-defined]
            if gid is not None:
                groups.setdefault(int(gid), []).append(s)
        needed = self.result_delay_s + self.handover_s + 2.0
        for members in groups.values():
            members.sort(key=lambda s: s.end_time)
            for earlier, later in itertools.pairwise(members):
                pk = int(later.id)
                if pk in self._close_warned or SnipeStatus(later.status) not in _NOT_FIRED:
                    continue
                fire = later.end_time.timestamp() - later.lead_seconds
                if fire - earlier.end_time.timestamp() < needed:
                    self._close_warned.add(pk)
                    name = earlier.title or earlier.legacy_item_id
                    message = (
                        f"This snipe fires {fire - earlier.end_time.timestamp():.0f} s after “{name}” ends — too soon "
                        "to learn that result, so both may be won."
                    )
                    self.store.add_event(HistoryAction.NOTE, snipe_id=pk, message=message)
                    self.bus.publish(SnipeWarning(snipe_id=pk, message=message))

    # --- account ------------------------------------------------------------------------------------

    def _on_needs_relink(self, exc: Exception) -> None:
        if self._needs_relink:
            return
        self._needs_relink = True
        message = str(exc) or str(NeedsRelink())
        user = self.store.set_needs_relink(self.user_id, True, reason=message)
        self.bus.publish(AccountStateChanged(username=user.ebay_username, state="needs_relink", message=message))
        for snipe in self.store.active_snipes(self.user_id):
            if SnipeStatus(snipe.status) in _NOT_FIRED:
                self.store.add_event(
                    HistoryAction.NOTE, snipe_id=int(snipe.id),
                    message="At risk: the eBay account must be linked again before this snipe's bid time.",
                )
                self.bus.publish(
                    SnipeWarning(snipe_id=int(snipe.id), message="At risk: the eBay account needs re-linking.")
                )

    # --- status helpers -----------------------------------------------------------------------------

    def _set(self, pk: int, old: SnipeStatus, new: SnipeStatus, reason: str, *,
             details: dict[str, Any] | None = None, **fields: Any) -> bool:
        done = self.bookkeeper.write(f"Snipe {pk} becoming {new.value}", partial(
            self.store.set_status, pk, new, reason=reason, expected=old, details=details, **fields), assumed=True)
        if done:
            self._publish_status(pk, old, new, reason)
        return done

    def _finish_unfired(self, pk: int, new: SnipeStatus, reason: str) -> None:
        old = SnipeStatus(self.store.get_snipe(pk).status)
        if old in _NOT_FIRED and self.store.set_status(pk, new, reason=reason, expected=_NOT_FIRED, job_id=None):
            self._armed.pop(pk, None)
            self._publish_status(pk, old, new, reason)

    def _fail_unfired(self, pk: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            status = SnipeStatus(self.store.get_snipe(pk).status)
            if status in _NOT_FIRED:
                self._finish_unfired(pk, SnipeStatus.FAILED, reason)
            elif status is SnipeStatus.PLACING:
                self._set(pk, status, SnipeStatus.FAILED, reason)

    def _publish_status(self, pk: int, old: SnipeStatus | None, new: SnipeStatus, reason: str | None) -> None:
        self.bus.publish(SnipeStatusChanged(snipe_id=pk, old=old, new=new, reason=reason))

    # --- background loops and jobs ------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("engine task failed", exc_info=task.exception())

    def _on_job_missed(self, event: JobExecutionEvent) -> None:
        # With no grace limit this should not happen; if it does, the snipe still decides for itself.
        if event.job_id.startswith("snipe:"):
            self._spawn(self._job_snipe(int(event.job_id.split(":")[1])))

    def _read_data_version(self) -> int:
        row = self.store.database.sql("PRAGMA data_version").fetchone()
        return int(row[0])

    async def _poll_loop(self) -> None:
        last_full = time.monotonic()
        while True:
            await asyncio.sleep(self.poll_interval_s)
            try:
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
        for snipe in self.store.active_snipes(self.user_id):
            pk = int(snipe.id)
            to_end = snipe.end_time.timestamp() - self.clock.ebay_now()
            if to_end <= 0:
                continue
            if to_end - snipe.lead_seconds < self.keepawake_ahead_s:
                due_soon = True
            if to_end <= horizon and pk not in self._ending_notified:
                self._ending_notified.add(pk)
                self.bus.publish(AuctionEndingSoon(snipe_id=pk, ends_at=snipe.end_time))
        if due_soon != self.keepawake.held:
            await asyncio.to_thread(self.keepawake.hold, due_soon)

    async def _job_clock(self) -> None:
        await self.clock.measure()

    async def _job_sync(self) -> None:
        if self.client.account is None or self._needs_relink:
            return  # nothing to sync until an account is linked (again)
        try:
            await sync_watchlist(self.store, self.client, self.user_id, bus=self.bus, metrics=self.metrics)
        except NeedsRelink as exc:
            self._on_needs_relink(exc)
        except Exception:
            log.exception("periodic watch-list sync failed")

    def _hook_timing(self) -> None:
        transport = self.client.transport
        previous = transport.on_timing

        def on_timing(what: str, timing: Any) -> None:
            self.clock.note_timing(what, timing)
            self.metrics.count_call(api_of(what))  # every HTTP exchange, retries included, spends quota
            if previous is not None:
                previous(what, timing)

        transport.on_timing = on_timing


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


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


def _proxy_bid_id(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    value = data.get("proxyBidId") if isinstance(data, dict) else None
    return str(value) if isinstance(value, str | int) and str(value) else None


__all__ = ["Engine"]
