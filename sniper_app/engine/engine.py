"""The runtime engine: arms every snipe from the database, checks it before the fire, hands the bid to the
fire thread at the right instant, and records what happened.

The database is the truth. APScheduler jobs (``snipe:{pk}``, ``result:{pk}``) are derived from it and
rebuilt at start, on every change another process makes (``PRAGMA data_version``), on ``reconcile()`` and
after a wall-clock jump.

Timeline of one snipe (local clock; ``S`` = send instant = end − lead − offset − one-way latency):
- hand-over, as soon as the fire is within ``handover_ahead_s`` and a token valid past it is in memory (at
  the latest at ``S − preflight_s``, after the token and clock checks): the exact request goes to the
  Firer, the snipe stays SCHEDULED. From here nothing but the fire thread stands between the bid and the
  wire: a frozen window or a busy loop cannot make it late.
- ``S − preflight_s``: token, clock, then the item re-read (SKIPPED / FAILED cancel the handed-over
  request), bounded so that it ends before the claim; unfinished, the bid goes on the last known facts
  and its record says so.
- ``S − prep_s``: if the loop is free, a fresh clock and token re-plan the request (cancel + hand over).
- ``S − handover_s``: the Firer's claim thread calls back: compare-and-set SCHEDULED → PLACING in the
  store, with the maximum read in the same transaction (an edit before it is sent, edits after it are
  refused). A cancel that lands before the compare-and-set wins (the request is dropped, nothing is sent);
  after it, the store refuses the cancel with "already sent" — there is no third outcome. A crash after it
  leaves PLACING, which the next start resolves by asking eBay. On a full disk the bid goes out while the
  PLACING write waits in the Bookkeeper: this process refuses a cancel meanwhile (``bid_left``), a cancel
  from another process is overruled when the write lands, and a start that finds a SCHEDULED snipe past
  its claim instant asks eBay (getBidding) before sending anything (``decisions.late_pick_up``).
- after the send: the loop catches up with the bookkeeping (PLACED / FAILED); after the end, getBidding
  says WON or LOST and the final price.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import itertools
import json
import logging
import ssl
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from sniper_app.config import Settings, changed_fields, needs_restart
from sniper_app.domain.history import HistoryAction
from sniper_app.domain.items import ItemRef
from sniper_app.domain.lead import AUTO_LEAD, LeadChoice, choose_lead
from sniper_app.domain.money import Money
from sniper_app.domain.status import NOT_FIRED_STATUSES, SnipeStatus
from sniper_app.ebay import (
    EbayClient,
    EbayError,
    ItemNotFound,
    NeedsRelink,
    NoBiddingActivity,
)
from sniper_app.ebay.transport import rest_error
from sniper_app.engine.autolead import LEAD_KEY
from sniper_app.engine.bookkeeping import Bookkeeper
from sniper_app.engine.bus import (
    AccountStateChanged,
    AuctionEndingSoon,
    EventBus,
    SettingsApplied,
    SnipeAtRisk,
    SnipeStatusChanged,
    SnipeWarning,
)
from sniper_app.engine.clock import ClockService
from sniper_app.engine.decisions import (
    ACCEPTED_STATUSES,
    ArmVerdict,
    Attempt,
    EbayAnswer,
    FireReply,
    FireVerdict,
    ItemVerdict,
    LateFire,
    Member,
    NoAnswer,
    Plan,
    Settle,
    Settlement,
    Standing,
    arm,
    check_item,
    classify_fire,
    fires_too_soon,
    group_cancellations,
    group_reached,
    judge_result,
    late_pick_up,
    may_have_left,
    recover_placing,
    reply_timeout,
    send_instant,
    settle_uncertain,
    too_late_reason,
)
from sniper_app.engine.fire import Firer, FireRequest, FireResult
from sniper_app.engine.keepawake import KeepAwake
from sniper_app.engine.live_settings import SettingsWatch
from sniper_app.engine.memory import give_back_free_memory
from sniper_app.engine.metrics import Metrics
from sniper_app.engine.sync import converted_fields, sync_watchlist
from sniper_app.store import Store
from sniper_app.store.errors import DiskFull
from sniper_app.store.models import Snipe

log = logging.getLogger(__name__)

_NOT_FIRED = frozenset(NOT_FIRED_STATUSES)
HEALTH_TIMEOUT_S = 15.0  # each check of the health check gives up after this (a slow answer is an answer)
# How long a stop waits for writes a full disk held back.
STOP_DRAIN_S = 2.0
HOUSEKEEPING_S = 30.0  # how often the C heap's free memory is given back to the system
TRIM_QUIET_S = 2.0  # no trim when a bid leaves within this


def _dt(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def _ref(snipe: Snipe) -> ItemRef:
    return ItemRef(snipe.legacy_item_id)


@dataclass
class _Armed:
    """What the engine derived for one snipe, to notice edits (end, lead) that need a re-arm."""

    end_epoch: float
    lead_s: float
    task: asyncio.Task[None] | None = None  # the preflight and the checks after it
    committed: bool = False  # past the compare-and-set: the bid is the Firer's now, never cancelled here
    fire_id: str | None = None  # the request the Firer holds for this snipe
    fire_task: asyncio.Task[None] | None = None  # awaits that request's result, then the bookkeeping
    send_at: float = 0.0
    token: str | None = None
    item_note: str | None = None  # why the bid went out without a fresh item re-read
    unchecked_repeat: bool = False  # sent late without knowing whether an earlier process had sent it

    def busy(self) -> bool:
        return any(t is not None and not t.done() for t in (self.task, self.fire_task))


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
        handover_ahead_s: float = 90.0,
        health_ahead_s: tuple[float, ...] = (900.0, 120.0),
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
        settings_watch: SettingsWatch | None = None,
    ) -> None:
        self.settings = settings
        self.settings_watch = settings_watch
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
        # wakepy's modes are not thread-safe: the hold is taken and released on this one thread.
        self._keepawake_thread: ThreadPoolExecutor | None = None
        self.poll_interval_s = poll_interval_s
        self.preflight_s = preflight_s
        self.prep_s = prep_s
        self.handover_s = handover_s
        self.handover_ahead_s = handover_ahead_s
        self.health_ahead_s = health_ahead_s
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
        self._fire_seq = itertools.count(1)
        self._leads_told: dict[int, float] = {}
        self._claimed: set[int] = set()  # snipes whose bid this process has let go: never a second claim
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
        self.scheduler.add_job(
            self._job_housekeeping, IntervalTrigger(seconds=HOUSEKEEPING_S, timezone=UTC), id="housekeeping",
            replace_existing=True,
        )
        await self.clock.measure()
        await self._probe_latency()
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
            await self._hold_awake(False)
        if self._keepawake_thread is not None:
            self._keepawake_thread.shutdown(wait=False)
            self._keepawake_thread = None
        if self._owns_client and self._client is not None:
            await self._client.aclose()
        self._started = False

    def apply_settings(self, new: Settings) -> list[str]:
        """Put ``new`` in force at once where it can be; returns the changed fields that wait for a restart
        (those keep their old values in :attr:`settings`, which is always what this engine runs on)."""
        old = self.settings
        changed = changed_fields(old, new)
        waiting = [name for name in changed if needs_restart(name)]
        applied = [name for name in changed if not needs_restart(name)]
        if not changed:
            return []
        self.settings = new.model_copy(update={name: getattr(old, name) for name in waiting})
        if "watchlist_sync_minutes" in applied:
            self.sync_period_s = new.watchlist_sync_minutes * 60.0
            if self.scheduler is not None and self._started and not self._stopping:
                # The next sync is one new period from now: a shorter period is felt within it.
                self.scheduler.reschedule_job("sync", trigger=IntervalTrigger(seconds=self.sync_period_s, timezone=UTC))
            log.info("the watch list now syncs every %d min", new.watchlist_sync_minutes)
        if "marketplace" in applied and self._client is not None:
            # A request header and Trading's site id, read per request: the client and its tokens stay.
            self._client.marketplace = new.marketplace
        if "time_server" in applied:
            self.clock.server = new.time_server
            if self._started and not self._stopping:
                self._spawn(self._job_clock())  # the old server's offset says nothing about the new one
        if "history_retention_days" in applied:
            self.store.retention = timedelta(days=new.history_retention_days)
        if applied:
            log.info("settings applied at once: %s", ", ".join(applied))
        if waiting:
            log.warning("settings saved that take effect when Sniper restarts: %s", ", ".join(waiting))
        self.bus.publish(SettingsApplied(settings=self.settings, applied=tuple(applied), waiting=tuple(waiting)))
        return waiting

    def bid_left(self, pk: int) -> bool:
        """True once this process has let the bid of snipe ``pk`` go, even if the store cannot say so yet."""
        return pk in self._claimed

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
                if armed is None or not armed.busy():
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
                self._hand_over_early(pk, snipe, armed)
                return
            self._disarm(pk)  # an edit moved the fire instant
            if self._armed.get(pk) is armed:
                return  # the claim thread has the request: the fire task re-arms if the claim drops it
        plan = self._plan(snipe)
        send_at = plan.send_at
        now = time.time()
        if arm(plan, now, late_fire_min_s=self.late_fire_min_s) is ArmVerdict.MISSED:
            reason = "The bid time passed while the app was not running (or the computer slept)."
            if self.store.set_status(pk, SnipeStatus.MISSED, reason=reason, expected=_NOT_FIRED, job_id=None):
                self._publish_status(pk, SnipeStatus(snipe.status), SnipeStatus.MISSED, reason)
            return
        job_id = f"snipe:{pk}"
        if SnipeStatus(snipe.status) is SnipeStatus.PENDING:
            reason = (f"Armed: the bid goes out {snipe.lead_seconds:g} s before the end." if snipe.lead_seconds
                      else "Armed: the bid goes out at a lead chosen from the measured latency.")
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
        for n, ahead in enumerate(self.health_ahead_s):
            if send_at - ahead > now:
                self.scheduler.add_job(
                    self._job_health, DateTrigger(run_date=datetime.fromtimestamp(send_at - ahead, UTC)), args=[pk],
                    id=f"health:{pk}:{n}", replace_existing=True,
                )
        self._hand_over_early(pk, snipe, self._armed[pk])

    def _disarm(self, pk: int) -> None:
        armed = self._armed.get(pk)
        if armed is not None and armed.committed:
            return
        if armed is not None and armed.fire_id is not None:
            if not self.firer.cancel(armed.fire_id):
                return  # being claimed or sent: the fire task does the bookkeeping (and re-arms if dropped)
            armed.fire_id = None
        self._armed.pop(pk, None)
        if self.scheduler is not None:
            for job_id in (f"snipe:{pk}", *(f"health:{pk}:{n}" for n in range(len(self.health_ahead_s)))):
                with contextlib.suppress(Exception):
                    self.scheduler.remove_job(job_id)
        if armed is not None and armed.task is not None and not armed.task.done():
            armed.task.cancel()

    def _disarm_all(self) -> None:
        for pk in list(self._armed):
            self._disarm(pk)

    def _lead(self, snipe: Snipe) -> float:
        return snipe.lead_seconds if snipe.lead_seconds != AUTO_LEAD else self._auto_lead().seconds

    def _auto_lead(self) -> LeadChoice:
        """The shortest safe lead now, from the round trips timed off the loop and the clock's uncertainty."""
        return choose_lead(self.clock.recent_rtts(), self.clock.uncertainty_s)

    def _tell_lead(self, pk: int, snipe: Snipe) -> None:
        """Record the automatic lead a hand-over used, when it differs from the one last recorded."""
        if snipe.lead_seconds != AUTO_LEAD:
            return
        choice = self._auto_lead()
        if self._leads_told.get(pk) == choice.seconds:
            return
        self._leads_told[pk] = choice.seconds
        self.store.add_event(HistoryAction.NOTE, snipe_id=pk, status=SnipeStatus(snipe.status),
                             message=f"Lead chosen: {choice.seconds:g} s ({choice.why}).",
                             details={LEAD_KEY: choice.seconds, "why": choice.why})

    def _plan(self, snipe: Snipe) -> Plan:
        offset = self.clock.offset_s if self.compensate else 0.0
        latency = self.clock.latency_s if self.compensate else 0.0
        end_local = snipe.end_time.timestamp() - offset
        send_at = end_local - self._lead(snipe) - latency
        retry_until = end_local - latency - self.end_margin_s
        return Plan(send_at, retry_until, end_local)

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
            token = await self._preflight(snipe)
            snipe = self.store.get_snipe(pk)
            if SnipeStatus(snipe.status) is not SnipeStatus.SCHEDULED or armed.committed:
                return
            if self._group_reached(snipe):
                self._cancel_for_group(snipe)
                return
            if (armed.fire_id is None and pk not in self._claimed
                    and may_have_left(self._plan(snipe), time.time(), claim_ahead_s=self.handover_s)):
                if not await self._ask_before_late_fire(pk, snipe, armed):
                    return
                snipe = self.store.get_snipe(pk)
                if SnipeStatus(snipe.status) is not SnipeStatus.SCHEDULED or armed.committed:
                    return
            if token is not None:
                self._hand_over(pk, snipe, armed, token, retime=False)
            if not await self._check_item(pk, armed):
                return
            self._warm(snipe)
            send_at = armed.send_at if armed.fire_id is not None else self._plan(snipe)[0]
            await self._sleep_until(send_at - self.prep_s)
            snipe = self.store.get_snipe(pk)
            if SnipeStatus(snipe.status) is not SnipeStatus.SCHEDULED or armed.committed or self._paused:
                return
            await self._prep(snipe, armed)
        except NeedsRelink as exc:
            self._on_needs_relink(exc)
            self._fail_unfired(pk, f"The bid could not be sent: {exc}")
        except asyncio.CancelledError:
            raise
        except DiskFull as exc:
            # Before the claim nothing was sent: take the plan back, and the next poll arms the snipe afresh.
            log.error("snipe %s: %s", pk, exc)
            if not armed.committed and (armed.fire_id is None or self.firer.cancel(armed.fire_id)):
                armed.fire_id = None
                self._armed.pop(pk, None)
                self._reconcile_again = True
        except Exception as exc:  # one snipe's bug must not take the engine down; it is recorded
            log.exception("snipe %s failed", pk)
            if armed.fire_id is None or self.firer.cancel(armed.fire_id):
                armed.fire_id = None
                self._fail_unfired(pk, f"Unexpected error before the bid: {type(exc).__name__}: {exc}")
        finally:
            current = self._armed.get(pk)
            if (current is armed and armed.fire_id is None
                    and SnipeStatus(self.store.get_snipe(pk).status) not in _NOT_FIRED):
                self._armed.pop(pk, None)

    async def _preflight(self, snipe: Snipe) -> str | None:
        """Clock and token checks well before the fire: the token to bid with (None: none usable now)."""
        pk = int(snipe.id)
        with self.metrics.timed("preflight"):
            await self.clock.ensure_fresh(self.clock_max_age_s)
            send_at, _, _ = self._plan(snipe)
            try:
                # Bounded: a keyring prompt or a hung sign-in must not keep the bid from being handed over.
                async with asyncio.timeout(max(1.0, min(30.0, send_at - time.time() - self.handover_s - 1.0))):
                    token = await self.client.ensure_user_token(max(60.0, send_at - time.time() + 60.0))
                return token.token
            except NeedsRelink as exc:
                self._on_needs_relink(exc)  # keep the snipe armed: a re-link before the fire saves it
            except (EbayError, TimeoutError) as exc:
                log.warning("preflight of snipe %s: token refresh failed: %s", pk, exc or "timed out")
            cached = self.client.cached_user_token(send_at - time.time() + 30.0)
            return cached.token if cached is not None else None

    async def _ask_before_late_fire(self, pk: int, snipe: Snipe, armed: _Armed) -> bool:
        """A SCHEDULED snipe picked up after its claim instant: an earlier process may have sent the bid and
        died before its PLACING write landed (a full disk). Ask eBay first; False when nothing is to be sent."""
        # Leave at least half of what remains for the send itself.
        budget = min(5.0, (self._plan(snipe).retry_until - time.time()) / 2)
        answer: EbayAnswer = NoAnswer.UNREACHABLE
        if budget > 0.1:
            try:
                async with asyncio.timeout(budget):
                    answer = await self._ask_ebay(snipe, "snipe %s: cannot ask eBay whether a late bid left: %s")
            except TimeoutError:
                log.warning("snipe %s: eBay did not say in time whether a late bid already left", pk)
        decision = late_pick_up(answer, max_minor=snipe.max_bid_minor)
        if decision is LateFire.SEND:
            return True
        if decision is LateFire.SEND_UNCHECKED:
            armed.unchecked_repeat = True
            self.bookkeeper.write(f"The unchecked late bid of snipe {pk}", partial(
                self.store.add_event, HistoryAction.NOTE, snipe_id=pk, status=SnipeStatus.SCHEDULED, message=(
                    "The bid time had passed and eBay could not be asked whether an earlier run already sent "
                    "this bid; it is sent now (eBay refuses a repeat of the same maximum, so it cannot count "
                    "twice).")), assumed=None)
            return True
        if decision is LateFire.ENDED:
            self._finish_unfired(pk, SnipeStatus.MISSED, "The bid time passed and the auction has ended.")
            return False
        assert isinstance(answer, Standing)
        # eBay already has this bid: an earlier run sent it and stopped before saving that. Never send again.
        if not self.store.set_status(pk, SnipeStatus.PLACING, reason="The bid was already at eBay.",
                                     expected=SnipeStatus.SCHEDULED, job_id=None, amount_minor=snipe.max_bid_minor):
            return False
        self._claimed.add(pk)
        armed.committed = True
        self._publish_status(pk, SnipeStatus.SCHEDULED, SnipeStatus.PLACING, None)
        self._set(pk, SnipeStatus.PLACING, SnipeStatus.PLACED,
                  f"eBay already has the bid of {answer.max_amount}: it was sent before the app restarted, "
                  "and is not sent again.", proxy_bid_id=answer.proxy_bid_id)
        self._schedule_result(self.store.get_snipe(pk))
        return False

    async def _check_item(self, pk: int, armed: _Armed) -> bool:
        """The item re-read, ended before the claim; False when the snipe ended here (nothing is sent)."""
        snipe = self.store.get_snipe(pk)
        send_at = armed.send_at if armed.fire_id is not None else self._plan(snipe)[0]
        # It must end before the claim: a verdict after it could no longer stop the bid.
        budget = send_at - self.handover_s - 0.1 - time.time()
        try:
            if budget <= 0:
                raise TimeoutError
            async with asyncio.timeout(budget):
                item = await self.client.get_item(_ref(snipe), marketplace=snipe.marketplace)
        except ItemNotFound as exc:
            return self._stop_before_fire(pk, armed, SnipeStatus.FAILED, f"The item is no longer on eBay: {exc}")
        except TimeoutError:
            self._note_item_unknown(pk, armed, "eBay did not answer the item re-read in time")
            return True
        except EbayError as exc:
            log.warning("preflight of snipe %s: item read failed (%s); firing anyway", pk, exc)
            self._note_item_unknown(pk, armed, f"the item re-read failed ({exc})")
            return True
        fields: dict[str, Any] = {"bid_count": item.bid_count}
        if item.current_price is not None and item.current_price.currency == snipe.currency:
            fields["current_price_minor"] = item.current_price.minor
            fields |= converted_fields(item)
        moved = item.end_time is not None and item.end_time != snipe.end_time
        if moved:
            fields["end_time"] = item.end_time
        self.bookkeeper.write(f"The item refresh of snipe {pk}", lambda: self.store.update_fields(
            pk, expected=SnipeStatus.SCHEDULED, **fields), assumed=True)
        check = check_item(
            end_epoch=None if item.end_time is None else item.end_time.timestamp(), price=item.current_price,
            minimum=item.minimum_to_bid, bid_count=item.bid_count, maximum=Money(snipe.max_bid_minor, snipe.currency),
            ebay_now=self.clock.ebay_now())
        if check.verdict is not ItemVerdict.BID:
            new = SnipeStatus.FAILED if check.verdict is ItemVerdict.ENDED else SnipeStatus.SKIPPED
            return self._stop_before_fire(pk, armed, new, check.reason)
        if moved:
            self._spawn(self.reconcile())  # the end moved: re-arm (the handed-over request is re-planned)
        return True

    def _stop_before_fire(self, pk: int, armed: _Armed, status: SnipeStatus, reason: str) -> bool:
        """End the snipe unfired, taking back its handed-over request; False (the snipe ended here), or True
        when the request is already being claimed or sent (its fire task does the bookkeeping)."""
        if armed.fire_id is not None:
            if not self.firer.cancel(armed.fire_id):
                log.warning("snipe %s: %s — but the bid was already on its way", pk, reason)
                return True
            armed.fire_id = None
        self._finish_unfired(pk, status, reason)
        return False

    def _note_item_unknown(self, pk: int, armed: _Armed, why: str) -> None:
        armed.item_note = f"The bid went out on the last known facts: {why}."
        self.bookkeeper.write(f"The unchecked item of snipe {pk}", partial(
            self.store.add_event, HistoryAction.NOTE, snipe_id=pk, status=SnipeStatus.SCHEDULED, message=(
                f"The item could not be checked before the bid ({why}); it goes out on the last known facts.")),
            assumed=None)

    async def _prep(self, snipe: Snipe, armed: _Armed) -> None:
        """Last checks a few seconds before the fire, if the loop is free: fresh clock, a token valid past
        the fire, the group; the handed-over request is re-planned when any of them changed it."""
        pk = int(snipe.id)
        await self.clock.ensure_fresh(self.clock_max_age_s)
        send_at, _, _ = self._plan(snipe)
        token: str | None = None
        try:
            async with asyncio.timeout(max(0.1, send_at - time.time() - self.handover_s - 0.2)):
                token = (await self.client.ensure_user_token(max(30.0, send_at - time.time() + 30.0))).token
        except NeedsRelink as exc:
            if armed.fire_id is None:
                raise
            self._on_needs_relink(exc)  # the token handed over may still be accepted: let it try
        except (EbayError, TimeoutError) as exc:
            log.warning("snipe %s: token refresh before the fire failed (%s); trying the current one", pk,
                        exc or "timed out")
        if self._group_reached(snipe):
            self._cancel_for_group(snipe)
            return
        if token is not None:
            self._hand_over(pk, snipe, armed, token, retime=True)
        elif armed.fire_id is None:
            self._fail_unfired(pk, "The bid could not be sent: no valid eBay sign-in before the fire.")
            return
        self._warm(snipe)

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
                    await self.client.ensure_user_token(max(60.0, send_at - time.time() + 60.0))
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

    # --- hand-over ----------------------------------------------------------------------------------

    def _hand_over_early(self, pk: int, snipe: Snipe, armed: _Armed) -> None:
        """Hand the request over now, without waiting for the preflight, when all it needs is at hand."""
        if armed.fire_id is not None or armed.committed or self._paused or not self.clock.synced:
            return
        if self.client.account is None or self._needs_relink:
            return
        send_at, _, _ = self._plan(snipe)
        now = time.time()
        if not now + self.handover_s < send_at <= now + self.handover_ahead_s:
            return
        token = self.client.cached_user_token(send_at - now + 60.0)
        if token is not None:
            self._hand_over(pk, snipe, armed, token.token, retime=False)

    def _hand_over(self, pk: int, snipe: Snipe, armed: _Armed, token: str, *, retime: bool) -> None:
        """Give the exact request to the Firer; with ``retime``, re-plan one already handed over when the
        send instant moved (fresh clock) or the token changed. The snipe stays SCHEDULED until the claim."""
        plan = self._plan(snipe)
        send_at, retry_until = plan.send_at, plan.retry_until
        now = time.time()
        if armed.fire_id is not None:
            if not retime or (abs(send_at - armed.send_at) < 0.001 and token == armed.token):
                return
            if not self.firer.cancel(armed.fire_id):
                return  # being claimed or sent: too late to re-plan, and no need
            armed.fire_id = None
        at = send_instant(plan, now)
        if at is None:
            self._finish_unfired(pk, SnipeStatus.MISSED, too_late_reason(plan, now))
            return
        send_at = at
        fire_id = f"snipe:{pk}:{next(self._fire_seq)}"
        fire = self._fire_request(snipe, fire_id, send_at, retry_until, token)
        claim = functools.partial(
            self._claim, pk, armed, fire_id, snipe.end_time, snipe.lead_seconds, snipe.max_bid_minor, fire.body,
            token, asyncio.get_running_loop(),
        )
        future = self.firer.schedule(dataclasses.replace(fire, claim=claim, claim_before_s=self.handover_s))
        armed.fire_id, armed.send_at, armed.token = fire_id, send_at, token
        self._tell_lead(pk, snipe)
        armed.fire_task = self._spawn(self._after_fire(
            pk, armed, fire_id, future,
            (self.clock.offset_s if self.compensate else 0.0) * 1000,
            (self.clock.latency_s if self.compensate else 0.0) * 1000,
        ))

    def _claim(
        self, pk: int, armed: _Armed, fire_id: str, end_time: datetime, lead_s: float, max_minor: int, body: bytes,
        token: str, loop: asyncio.AbstractEventLoop,
    ) -> bytes | None:
        """On the Firer's claim thread, just before the send: the compare-and-set SCHEDULED → PLACING and
        the body to send (re-built if the maximum was edited), or None to drop the request."""
        if self._paused or self._stopping or armed.fire_id != fire_id or pk in self._claimed:
            return None
        placing = False
        try:
            with self.store.database.atomic("IMMEDIATE"):
                snipe = self.store.get_snipe(pk)
                old = SnipeStatus(snipe.status)
                if old is not SnipeStatus.SCHEDULED or snipe.end_time != end_time or snipe.lead_seconds != lead_s:
                    return None  # cancelled, ended, or edited so the send instant moved: the loop re-plans it
                if self._group_reached(snipe) and snipe.group_id is not None:
                    group = self.store.get_group(snipe.group_id)
                    reason = (f"Group “{group.name}” already won {group.target_wins} item(s); "
                              "this snipe is no longer needed.")
                    self.store.set_status(pk, SnipeStatus.CANCELLED, reason=reason, expected=old,
                                          action=HistoryAction.CANCEL, job_id=None)
                    self._publish_from_thread(loop, pk, old, SnipeStatus.CANCELLED, reason)
                    return None
                placing = True
                self.store.set_status(pk, SnipeStatus.PLACING, reason="Sending the bid.", expected=old,
                                      job_id=None, amount_minor=snipe.max_bid_minor)
        except DiskFull as exc:
            if not placing:
                raise
            # A full disk must not cost a due bid: it goes out, and the hand-over is saved once there is room.
            # Until then the store still says SCHEDULED, so ``_claimed`` alone keeps this process from a second
            # claim of the same snipe.
            self._claimed.add(pk)  # before anything else: a cancel in this process now hears "already sent"
            log.error("snipe %s: the hand-over is not saved yet (%s); the bid goes out all the same", pk, exc)
            save = partial(self._save_late_hand_over, pk, old, snipe.max_bid_minor)
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(partial(
                    self.bookkeeper.write, f"The hand-over of snipe {pk} to the fire", save, assumed=None))
        self._claimed.add(pk)
        armed.committed = True
        self._publish_from_thread(loop, pk, old, SnipeStatus.PLACING, None)
        if snipe.max_bid_minor == max_minor:
            return body
        return self.client.bid_request(
            _ref(snipe), Money(snipe.max_bid_minor, snipe.currency), token, marketplace=snipe.marketplace
        ).content

    def _save_late_hand_over(self, pk: int, old: SnipeStatus, max_minor: int) -> None:
        """The hand-over a full disk held back, saved once there is room. Another process may have cancelled
        the snipe meanwhile (the store still said SCHEDULED), but the bid had already left: the truth wins."""
        if self.store.set_status(pk, SnipeStatus.PLACING, reason="Sending the bid.", expected=old, job_id=None,
                                 amount_minor=max_minor):
            return
        reason = "The cancel came after the bid had left for eBay: the bid was sent, and the cancel cannot stand."
        if self.store.hand_over_despite_cancel(pk, amount_minor=max_minor, reason=reason):
            log.warning("snipe %s: %s", pk, reason)
            self._publish_status(pk, SnipeStatus.CANCELLED, SnipeStatus.PLACING, reason)

    def _publish_from_thread(
        self, loop: asyncio.AbstractEventLoop, pk: int, old: SnipeStatus, new: SnipeStatus, reason: str | None
    ) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody left to tell
            loop.call_soon_threadsafe(self._publish_status, pk, old, new, reason)

    async def _after_fire(
        self, pk: int, armed: _Armed, fire_id: str, future: Future[FireResult], offset_ms: float, latency_ms: float
    ) -> None:
        """The loop catching up with a handed-over request: whatever it does, the bid has already gone."""
        try:
            result = await asyncio.wrap_future(future)
            self._count_sends(result)
            if not armed.committed:
                if armed.fire_id != fire_id:
                    return  # taken back by a cancel, a pause or a re-plan: whoever took it back carries on
                armed.fire_id = None
                if result.outcome == "failed":
                    why = result.attempts[-1].error if result.attempts else "unknown"
                    self._fail_unfired(pk, f"The bid could not be sent ({why}).")
                self._disarm(pk)  # dropped at the claim (cancelled, ended, edited): derive it from the store again
                if not self._stopping and not self._paused:
                    self._spawn(self.reconcile())
                return
            if armed.task is not None and not armed.task.done():
                armed.task.cancel()  # its checks are moot now
            if self._stopping or result.outcome == "cancelled":
                return  # stays PLACING: the next start asks eBay what became of it
            await self._record_fire(pk, self.store.get_snipe(pk), result, offset_ms, latency_ms, renewed=False,
                                    note=armed.item_note, unsure=armed.unchecked_repeat)
        except NeedsRelink as exc:
            self._on_needs_relink(exc)
            self._fail_unfired(pk, f"The bid could not be sent: {exc}")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("snipe %s failed after its bid was handed over", pk)
            self._fail_unfired(pk, f"Unexpected error after the bid: {type(exc).__name__}: {exc}")
        finally:
            if self._armed.get(pk) is armed and armed.committed:
                self._armed.pop(pk, None)

    # --- fire ---------------------------------------------------------------------------------------

    def _count_sends(self, result: FireResult) -> None:
        for attempt in result.attempts:
            if attempt.sent_at is not None:
                self.metrics.count_call("offer")  # the bid bypasses the client: count each send here

    def _fire_request(self, snipe: Snipe, fire_id: str, send_at: float, retry_until: float, token: str) -> FireRequest:
        request = self.client.bid_request(
            _ref(snipe), Money(snipe.max_bid_minor, snipe.currency), token, marketplace=snipe.marketplace
        )
        return FireRequest(
            fire_id=fire_id,
            send_at=send_at,
            url=self.client.endpoints.api_url,
            method=request.method,
            path=request.url.raw_path.decode("ascii"),
            headers={k: v for k, v in request.headers.items() if k.lower() not in ("accept-encoding", "connection")},
            body=request.content,
            retry_until=retry_until,
            timeout_s=reply_timeout(send_at, retry_until, self.clock.latency_s),
        )

    async def _fire(self, pk: int, *, renewed: bool = False) -> None:
        """Send now (or at the planned instant) a bid already PLACING: a retry with a renewed token, or one
        a crash interrupted and eBay has not got."""
        snipe = self.store.get_snipe(pk)
        plan = self._plan(snipe)
        retry_until = plan.retry_until
        offset_ms = (self.clock.offset_s if self.compensate else 0.0) * 1000
        latency_ms = (self.clock.latency_s if self.compensate else 0.0) * 1000
        now = time.time()
        send_at = send_instant(plan, now)
        if send_at is None:
            self._set(pk, SnipeStatus.PLACING, SnipeStatus.MISSED, too_late_reason(plan, now))
            return
        token = await self.client.ensure_user_token(max(30.0, send_at - now + 30.0))
        fire = self._fire_request(snipe, f"snipe:{pk}:{'r' if renewed else 'a'}{next(self._fire_seq)}", send_at,
                                  retry_until, token.token)
        with self.metrics.timed("fire"):
            result = await self.firer.fire(fire)
        self._count_sends(result)
        if self._stopping or result.outcome == "cancelled":
            return  # stays PLACING: the next start asks eBay what became of it
        await self._record_fire(pk, snipe, result, offset_ms, latency_ms, renewed=renewed)

    async def _record_fire(
        self, pk: int, snipe: Snipe, result: FireResult, offset_ms: float, latency_ms: float, *, renewed: bool,
        note: str | None = None, unsure: bool = False,
    ) -> None:
        """``unsure``: sent late without knowing whether an earlier run had sent it (a refusal is then
        settled by eBay's record)."""
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
        if note is not None:
            details["item_check"] = note
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
        reply = dataclasses.replace(_fire_reply(result, renewed), earlier_run_unknown=unsure)
        decision = classify_fire(reply, Money(snipe.max_bid_minor, snipe.currency))
        verdict = decision.verdict
        if verdict is FireVerdict.PLACED:
            self._set(pk, SnipeStatus.PLACING, SnipeStatus.PLACED, decision.reason, details=details,
                      proxy_bid_id=decision.bid_id)
            self._schedule_result(self.store.get_snipe(pk))
        elif verdict is FireVerdict.ASK_EBAY:
            await self._resolve_unknown(pk, decision.reason, details)
        elif verdict is FireVerdict.RENEW_AND_RESEND:
            self.store.add_event(HistoryAction.RETRY, snipe_id=pk, status=SnipeStatus.PLACING, message=decision.reason)
            try:
                await self.client.renew_user_token()
            except NeedsRelink as exc:
                self._on_needs_relink(exc)
                self._set(pk, SnipeStatus.PLACING, SnipeStatus.FAILED, str(exc), details=details)
                return
            await self._fire(pk, renewed=True)
        elif verdict is FireVerdict.REFUSED:
            self.bookkeeper.write(f"eBay's answer to snipe {pk}", partial(
                self.store.record_timing, pk, ebay_message=decision.ebay_message), assumed=None)
            self._set(pk, SnipeStatus.PLACING, SnipeStatus.FAILED, decision.reason, details=details)
        elif verdict is FireVerdict.NOT_SENT:
            self._set(pk, SnipeStatus.PLACING, SnipeStatus.FAILED, decision.reason, details=details)

    async def _ask_ebay(self, snipe: Snipe, cannot: str, *, timed: str | None = None) -> EbayAnswer:
        """eBay's record of this user's bid on the snipe's auction; ``cannot`` is the log line (snipe, error)
        when eBay cannot be asked now. NeedsRelink is left to the caller."""
        try:
            with self.metrics.timed(timed) if timed is not None else contextlib.nullcontext():
                status = await self.client.get_bidding(_ref(snipe), currency=snipe.currency)
        except NoBiddingActivity:
            return NoAnswer.NO_BIDS
        except NeedsRelink:
            raise
        except EbayError as exc:
            log.warning(cannot, int(snipe.id), exc)
            return NoAnswer.UNREACHABLE
        return Standing.of(status)

    def _settle(self, pk: int, settled: Settlement, details: dict[str, Any] | None = None) -> None:
        """Carry out eBay's verdict on a PLACING snipe: PLACED (then wait for the result), FAILED or MISSED."""
        assert settled.reason is not None
        if settled.verdict is Settle.PLACED:
            self._set(pk, SnipeStatus.PLACING, SnipeStatus.PLACED, settled.reason, details=details,
                      proxy_bid_id=settled.bid_id)
            self._schedule_result(self.store.get_snipe(pk))
        else:
            new = SnipeStatus.MISSED if settled.verdict is Settle.MISSED else SnipeStatus.FAILED
            self._set(pk, SnipeStatus.PLACING, new, settled.reason, details=details)

    async def _resolve_unknown(self, pk: int, reason: str, details: dict[str, Any] | None) -> None:
        """A bid whose fate is unknown: eBay's own record (getBidding) decides, never a guess."""
        snipe = self.store.get_snipe(pk)
        cannot = "snipe %s: checking an uncertain bid failed: %s"
        for delay in (0.0, 0.5, 1.0, 2.0, 4.0):
            await asyncio.sleep(delay)
            try:
                answer = await self._ask_ebay(snipe, cannot)
            except NeedsRelink as exc:
                log.warning(cannot, pk, exc)
                continue
            settled = settle_uncertain(answer, max_minor=snipe.max_bid_minor, why=reason)
            if settled.verdict is not Settle.ASK_LATER:
                self._settle(pk, settled, details)
                return
        # eBay cannot be asked now: stay PLACING; the result check after the end decides.
        self._schedule_result(snipe)

    async def _recover_placing(self, pk: int) -> None:
        """A snipe left PLACING by a crash: ask eBay; fire now only if eBay has no bid and time remains."""
        snipe = self.store.get_snipe(pk)
        try:
            answer = await self._ask_ebay(snipe, "snipe %s: cannot check an interrupted bid yet: %s")
        except NeedsRelink as exc:
            self._on_needs_relink(exc)
            return
        settled = recover_placing(answer, max_minor=snipe.max_bid_minor, plan=self._plan(snipe), now=time.time(),
                                  late_fire_min_s=self.late_fire_min_s)
        if settled.verdict is Settle.ASK_LATER:
            self._schedule_result(snipe)
        elif settled.verdict is Settle.FIRE_NOW:
            if settled.reason is not None:
                self.store.add_event(HistoryAction.NOTE, snipe_id=pk, status=SnipeStatus.PLACING,
                                     message=settled.reason)
            await self._fire(pk)
        else:
            self._settle(pk, settled)

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
        try:
            answer = await self._ask_ebay(snipe, "result of snipe %s not known yet: %s", timed="result")
        except NeedsRelink as exc:
            self._on_needs_relink(exc)
            self._schedule_result(snipe, delay_s=30.0)
            return
        decision = judge_result(status, answer, max_minor=snipe.max_bid_minor, end_epoch=snipe.end_time.timestamp(),
                                now=time.time(), ebay_now=self.clock.ebay_now(), result_delay_s=self.result_delay_s)
        for step in decision.transitions:
            self._set(pk, step.old, step.new, step.reason, **dict(step.fields))
        if decision.ask_again_in is not None:
            self._schedule_result(snipe, delay_s=decision.ask_again_in)
            return
        self._results.discard(pk)
        if decision.won and snipe.group_id is not None:
            self._after_group_win(int(snipe.group_id))
        if decision.cross_check:
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
        group_id = snipe.group_id
        if group_id is None:
            return False
        group = self.store.get_group(int(group_id))
        return group_reached(self.store.group_won_count(int(group_id)), group.target_wins)

    def _cancel_for_group(self, snipe: Snipe) -> None:
        if snipe.group_id is None:
            return
        group = self.store.get_group(snipe.group_id)
        reason = f"Group “{group.name}” already won {group.target_wins} item(s); this snipe is no longer needed."
        pk = int(snipe.id)
        old = SnipeStatus(snipe.status)
        if self.store.set_status(pk, SnipeStatus.CANCELLED, reason=reason, expected=_NOT_FIRED,
                                 action=HistoryAction.CANCEL, job_id=None):
            self._disarm(pk)
            self._publish_status(pk, old, SnipeStatus.CANCELLED, reason)

    def _after_group_win(self, group_id: int) -> None:
        group = self.store.get_group(group_id)
        members = {int(m.id): m for m in self.store.group_members(group_id)}
        facts = [Member(pk, SnipeStatus(m.status)) for pk, m in members.items()]
        for pk in group_cancellations(facts, group.target_wins):
            self._cancel_for_group(members[pk])

    def _check_group_spacing(self, snipes: list[Snipe]) -> None:
        """Warn when a group member fires before the previous member's result can be known."""
        groups: dict[int, list[Snipe]] = {}
        for s in snipes:
            gid = s.group_id
            if gid is not None:
                groups.setdefault(int(gid), []).append(s)
        needed = self.result_delay_s + self.handover_s + 2.0
        for members in groups.values():
            rows = {int(s.id): s for s in members}
            facts = [Member(pk, SnipeStatus(s.status), s.end_time.timestamp(),
                            s.end_time.timestamp() - self._lead(s) if SnipeStatus(s.status) in _NOT_FIRED else 0.0)
                     for pk, s in rows.items()]
            for earlier, later, gap in fires_too_soon(facts, needed_s=needed):
                if later.pk in self._close_warned:
                    continue
                self._close_warned.add(later.pk)
                before = rows[earlier.pk]
                name = before.title or before.legacy_item_id
                message = (
                    f"This snipe fires {gap:.0f} s after “{name}” ends — too soon to learn that result, so both may "
                    "be won."
                )
                self.store.add_event(HistoryAction.NOTE, snipe_id=later.pk, message=message)
                self.bus.publish(SnipeWarning(snipe_id=later.pk, message=message))

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
        for snipe in self.store.active_snipes(self.user_id):
            pk = int(snipe.id)
            to_end = snipe.end_time.timestamp() - self.clock.ebay_now()
            if to_end <= 0:
                continue
            if to_end - self._lead(snipe) < self.keepawake_ahead_s:
                due_soon = True
            if to_end <= horizon and pk not in self._ending_notified:
                self._ending_notified.add(pk)
                self.bus.publish(AuctionEndingSoon(snipe_id=pk, ends_at=snipe.end_time))
        if due_soon != self.keepawake.held:
            await self._hold_awake(due_soon)

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
        # The C heap keeps what was freed; giving it back briefly locks each allocator arena, the fire thread's
        # too, so not when a bid is about to leave.
        now = time.time()
        if any(a.fire_id is not None and a.send_at - now < TRIM_QUIET_S for a in self._armed.values()):
            return
        give_back_free_memory()

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


def _fire_reply(result: FireResult, renewed: bool) -> FireReply:
    """The facts of a fire's result, eBay's reply read as the client reads it."""
    replied = result.outcome == "replied" and result.status is not None
    accepted = replied and result.status in ACCEPTED_STATUSES
    error = None
    if replied and not accepted:
        assert result.status is not None
        response = httpx.Response(result.status, headers=list(result.headers), content=result.body)
        error = rest_error(response, "placeProxyBid")
    return FireReply(
        outcome=result.outcome,
        attempts=tuple(Attempt(a.sent_at is not None, a.status, a.error) for a in result.attempts),
        status=result.status,
        bid_id=_proxy_bid_id(result.body) if accepted else None,
        error=error,
        renewed=renewed,
    )


def _proxy_bid_id(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    value = data.get("proxyBidId") if isinstance(data, dict) else None
    return str(value) if isinstance(value, str | int) and str(value) else None


__all__ = ["Engine"]
