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

Engine assembles its rooms, each a mixin over ``engine_state.EngineBase`` (the shared state and status
helpers): ``arming`` (jobs derived from the database, the plan, groups), ``preflight`` (the checks before
the fire), ``handover`` (the request given to the fire thread, and the claim), ``outcomes`` (the reply and
eBay's record turned into a status, results), ``housekeeping`` (health check, polls, heartbeat, clock and
memory jobs), ``settings_apply`` and ``watchlist_driver``. What it keeps itself is starting and stopping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from apscheduler.events import EVENT_JOB_MISSED
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from sniper_app.engine.arming import Arming
from sniper_app.engine.engine_state import EngineBase
from sniper_app.engine.handover import HandOver
from sniper_app.engine.housekeeping import HOUSEKEEPING_S, Housekeeping
from sniper_app.engine.memory import settle_allocator
from sniper_app.engine.preflight import Preflight
from sniper_app.engine.results import Results
from sniper_app.engine.settings_apply import SettingsApplier
from sniper_app.engine.watchlist_driver import WatchlistDriver

log = logging.getLogger(__name__)

# How long a stop waits for writes a full disk held back.
STOP_DRAIN_S = 2.0


class Engine(Arming, Preflight, HandOver, Results, Housekeeping, SettingsApplier, WatchlistDriver, EngineBase):
    """Runs snipes on the running asyncio loop (plain asyncio, or the window's Qt-driven one)."""

    # --- public -------------------------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return self._paused

    @paused.setter
    def paused(self, value: bool) -> None:
        """Pausing un-arms every snipe not yet handed to the fire thread; resuming re-arms from the DB."""
        if value == self._paused:
            return
        self._paused = value
        if value:
            self._pause_began = self._now()
        elif self._pause_began is not None:
            self._last_pause = (self._pause_began, self._now())
        if self._started:
            if value:
                self._disarm_all()
            else:
                self._spawn(self.reconcile())

    async def start(self) -> None:
        if self._started:
            return
        settle_allocator()  # the engine runs for days: keep reply-sized blocks out of the C heap
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
        self._running_since = self._now()
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

    def bid_left(self, pk: int) -> bool:
        """True once this process has let the bid of snipe ``pk`` go, even if the store cannot say so yet."""
        return pk in self._claimed


__all__ = ["Engine"]
