"""The shared state of the engine's rooms: the settings, store, clock and Firer it runs on, the snipes it
has armed, and the status helpers every room uses."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from sniper_app.config import Settings
from sniper_app.domain.history import HistoryAction
from sniper_app.domain.items import ItemRef
from sniper_app.domain.landed import stored_bid_minor
from sniper_app.domain.lead import LeadChoice
from sniper_app.domain.money import Money
from sniper_app.domain.outcomes import OutcomeCode, OutcomeFacts, explain_outcome
from sniper_app.domain.status import NOT_FIRED_STATUSES, SnipeStatus
from sniper_app.ebay import EbayClient, NeedsRelink
from sniper_app.engine.bookkeeping import Bookkeeper
from sniper_app.engine.bus import AccountStateChanged, EventBus, SnipeStatusChanged, SnipeWarning
from sniper_app.engine.clock_service import ClockService
from sniper_app.engine.decisions import EbayAnswer, MissedWhy, Plan, missed_why
from sniper_app.engine.fire import Firer, FireResult
from sniper_app.engine.keepawake import KeepAwake
from sniper_app.engine.live_settings import SettingsWatch
from sniper_app.engine.metrics import Metrics
from sniper_app.store import Store
from sniper_app.store.models import Snipe

log = logging.getLogger(__name__)

_NOT_FIRED = frozenset(NOT_FIRED_STATUSES)


def _dt(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


def outcome_fields(outcome: OutcomeFacts | OutcomeCode | None) -> dict[str, Any]:
    """The columns an ending is written with: a code alone (the store words it from the row), or a code and
    the sentence told from facts only the engine had (the price at the fire, eBay's least bid)."""
    if outcome is None:
        return {}
    if isinstance(outcome, OutcomeCode):
        return {"outcome_code": outcome.value}
    told = explain_outcome(outcome)
    return {"outcome_code": told.code.value, "outcome_text": told.sentence}


def _charge(minor: int | None, currency: str | None) -> Money | None:
    return Money(minor, currency) if minor is not None and currency else None


def bid_minor(snipe: Snipe) -> int:
    """What the fire sends for this snipe: its maximum, or less the charges when the maximum includes them.
    Read from the stored row at the hand-over, so the bid path only carries the prepared amount."""
    return stored_bid_minor(
        snipe.max_bid_minor, snipe.currency, includes_shipping=bool(snipe.includes_shipping),
        shipping=_charge(snipe.shipping_minor, snipe.shipping_currency),
        import_charges=_charge(snipe.import_charges_minor, snipe.import_charges_currency))


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
    # The PENDING → SCHEDULED write this arming made (a compare-and-set, so saving it twice is harmless). While
    # the store still says PENDING it waits in the bookkeeper, and the snipe counts as SCHEDULED here.
    arming: Callable[[], bool] | None = None

    def busy(self) -> bool:
        return any(t is not None and not t.done() for t in (self.task, self.fire_task))

    def holds(self, status: SnipeStatus) -> bool:
        """Whether a snipe the store says is in ``status`` is still armed as this arming left it: SCHEDULED, or
        PENDING while this arming's SCHEDULED write has not landed yet."""
        return status is SnipeStatus.SCHEDULED or (status is SnipeStatus.PENDING and self.arming is not None)


class EngineBase:
    """The state every room of the engine shares, and the helpers they all use."""

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
        # "Now" for every decision against a planned instant (late or not, hand over yet, retry or give up,
        # when to ask for the result). Those instants are in the fire thread's frame: it sends by the real
        # time.time() itself, and the clock offset is measured against it too. So this is not ``wall``,
        # which only jump detection reads: a simulated jump there must not move decisions the fire thread
        # would not follow. One seam, so a decision's "now" is read in one way everywhere.
        self._now: Callable[[], float] = time.time

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
        self._running_since: float | None = None  # when start() began: a fire due after it was missed asleep
        self._pause_began: float | None = None
        self._last_pause: tuple[float, float] | None = None  # the last pause, begun and ended
        self._stopping = False
        self._fire_seq = itertools.count(1)
        self._leads_told: dict[int, float] = {}
        self._claimed: set[int] = set()  # snipes whose bid this process has let go: never a second claim
        self.jumps = 0  # wall-clock jumps seen (diagnostics, tests)
        # Writes about bids that a full disk refused, kept and saved in order once there is room.
        self.bookkeeper = Bookkeeper()
        self._reconcile_again = False
        self._cross_check_due: set[int] = set()  # results to compare with the next read of the won/lost list
        self._cross_check_task: asyncio.Task[None] | None = None
        self._trim_due = False  # the C heap's free memory is to be given back at the next quiet second

    # --- public -------------------------------------------------------------------------------------

    @property
    def client(self) -> EbayClient:
        if self._client is None:
            raise RuntimeError("the engine has no eBay client before start()")
        return self._client

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

    def _finish_unfired(self, pk: int, new: SnipeStatus, reason: str,
                        outcome: OutcomeFacts | OutcomeCode | None = None) -> None:
        old = SnipeStatus(self.store.get_snipe(pk).status)
        if old in _NOT_FIRED and self.store.set_status(pk, new, reason=reason, expected=_NOT_FIRED, job_id=None,
                                                       **outcome_fields(outcome)):
            self._armed.pop(pk, None)
            self._publish_status(pk, old, new, reason)

    def _missed(self, snipe: Snipe, send_at: float) -> OutcomeFacts:
        """A fire whose instant passed unsent: while the app was running (the computer slept or stood still), or
        before it started (the app was closed)."""
        why = missed_why(send_at, running_since=self._running_since, created_at=snipe.created_at.timestamp(),
                         paused=self._paused, last_pause=self._last_pause)
        return OutcomeFacts(OutcomeCode.MISSED_CLOSED, Money(snipe.max_bid_minor, snipe.currency),
                            asleep=why is MissedWhy.ASLEEP if why is not MissedWhy.PAUSED else None,
                            paused=why is MissedWhy.PAUSED)

    def _fail_unfired(self, pk: int, reason: str, outcome: OutcomeCode | None = None) -> None:
        with contextlib.suppress(Exception):
            status = SnipeStatus(self.store.get_snipe(pk).status)
            if status in _NOT_FIRED:
                self._finish_unfired(pk, SnipeStatus.FAILED, reason, outcome)
            elif status is SnipeStatus.PLACING:
                self._set(pk, status, SnipeStatus.FAILED, reason, **outcome_fields(outcome))

    def _publish_status(self, pk: int, old: SnipeStatus | None, new: SnipeStatus, reason: str | None) -> None:
        self.bus.publish(SnipeStatusChanged(snipe_id=pk, old=old, new=new, reason=reason))

    # --- tasks --------------------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("engine task failed", exc_info=task.exception())

    if TYPE_CHECKING:
        # Each room calls into others; the assembled Engine has them all.
        def apply_settings(self, new: Settings) -> list[str]: ...
        async def reconcile(self) -> None: ...
        def _disarm(self, pk: int) -> None: ...
        def _disarm_all(self) -> None: ...
        def _lead(self, snipe: Snipe) -> float: ...
        def _auto_lead(self) -> LeadChoice: ...
        def _tell_lead(self, pk: int, snipe: Snipe) -> None: ...
        def _plan(self, snipe: Snipe) -> Plan: ...
        async def _job_snipe(self, pk: int) -> None: ...
        async def _job_health(self, pk: int) -> None: ...
        def _hand_over_early(self, pk: int, snipe: Snipe, armed: _Armed) -> None: ...
        def _hand_over(self, pk: int, snipe: Snipe, armed: _Armed, token: str, *, retime: bool) -> None: ...
        async def _fire(self, pk: int, *, renewed: bool = False) -> None: ...
        async def _record_fire(
            self, pk: int, snipe: Snipe, result: FireResult, offset_ms: float, latency_ms: float, *, renewed: bool,
            note: str | None = None, unsure: bool = False,
        ) -> None: ...
        async def _ask_ebay(self, snipe: Snipe, cannot: str, *, timed: str | None = None) -> EbayAnswer: ...
        async def _recover_placing(self, pk: int) -> None: ...
        def _schedule_result(self, snipe: Snipe, delay_s: float | None = None) -> None: ...
        def _group_reached(self, snipe: Snipe) -> bool: ...
        def _cancel_for_group(self, snipe: Snipe) -> None: ...
        def _after_group_win(self, group_id: int) -> None: ...
        async def _job_clock(self) -> None: ...
