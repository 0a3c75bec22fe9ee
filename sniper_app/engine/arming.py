"""Arming: the jobs derived from the database (reconcile, arm, disarm), the send plan and lead, and
the groups' rules that cancel or warn before a fire."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from apscheduler.events import JobExecutionEvent
from apscheduler.triggers.date import DateTrigger

from sniper_app.domain.history import HistoryAction
from sniper_app.domain.lead import AUTO_LEAD, LeadChoice, choose_lead
from sniper_app.domain.money import Money
from sniper_app.domain.outcomes import OutcomeCode, OutcomeFacts, explain_outcome
from sniper_app.domain.status import SnipeStatus
from sniper_app.engine.autolead import LEAD_KEY
from sniper_app.engine.bus import SnipeWarning
from sniper_app.engine.decisions import (
    ArmVerdict,
    Member,
    Plan,
    arm,
    fires_too_soon,
    group_cancellations,
    group_reached,
)
from sniper_app.engine.engine_state import _NOT_FIRED, EngineBase, _Armed, _iso, outcome_fields
from sniper_app.store.errors import DiskFull
from sniper_app.store.models import Snipe

log = logging.getLogger(__name__)


class Arming(EngineBase):
    """Derives the scheduler jobs of each snipe from the database, and plans when its bid leaves."""

    # --- derived state ------------------------------------------------------------------------------

    async def reconcile(self) -> None:
        """Re-read the database and bring the derived jobs in line with it."""
        if not self._started or self._stopping:
            return
        async with self._reconcile_lock:
            self._reconcile_now()

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
                if pk in self._claimed:
                    continue  # its bid left while the disk was full: the store catches up from the bookkeeper
                if not self._paused:
                    try:
                        self._arm(snipe)
                    except DiskFull as exc:
                        # Its bid time passed and that is not saved: the others are still armed, and this one
                        # is tried again at the next poll.
                        log.error("snipe %s could not be marked missed: %s", pk, exc)
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
        now = self._now()
        if arm(plan, now, late_fire_min_s=self.late_fire_min_s) is ArmVerdict.MISSED:
            reason = "The bid time passed while the app was not running (or the computer slept)."
            if self.store.set_status(pk, SnipeStatus.MISSED, reason=reason, expected=_NOT_FIRED, job_id=None,
                                     **outcome_fields(self._missed(snipe, send_at))):
                self._publish_status(pk, SnipeStatus(snipe.status), SnipeStatus.MISSED, reason)
            return
        job_id = f"snipe:{pk}"
        armed = self._armed[pk] = _Armed(end_epoch, snipe.lead_seconds)
        if SnipeStatus(snipe.status) is SnipeStatus.PENDING:
            # Armed in memory first: a failing disk must never delay the fire, so the SCHEDULED write goes
            # through the bookkeeper, and until it lands the claim accepts this PENDING snipe as armed.
            reason = (f"Armed: the bid goes out {snipe.lead_seconds:g} s before the end." if snipe.lead_seconds
                      else "Armed: the bid goes out at a lead chosen from the measured latency.")
            armed.arming = partial(
                self.store.set_status, pk, SnipeStatus.SCHEDULED, reason=reason, expected=SnipeStatus.PENDING,
                job_id=job_id, details={"send_at": _iso(send_at), "offset_ms": round(self.clock.offset_s * 1000, 3)},
            )
            self.bookkeeper.write(f"The arming of snipe {pk}", partial(self._save_arming, pk, armed.arming, reason),
                                  assumed=None)
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
        self._hand_over_early(pk, snipe, armed)

    def _save_arming(self, pk: int, arming: Callable[[], bool], reason: str) -> None:
        # False: the claim saved it first, or the snipe was cancelled or ended meanwhile (nothing to tell).
        if arming():
            self._publish_status(pk, SnipeStatus.PENDING, SnipeStatus.SCHEDULED, reason)

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

    def _on_job_missed(self, event: JobExecutionEvent) -> None:
        # With no grace limit this should not happen; if it does, the snipe still decides for itself.
        if event.job_id.startswith("snipe:"):
            self._spawn(self._job_snipe(int(event.job_id.split(":")[1])))

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
        told = explain_outcome(OutcomeFacts(OutcomeCode.GROUP_DONE, Money(snipe.max_bid_minor, snipe.currency),
                                            group_won=group.target_wins, group_target=group.target_wins))
        if self.store.set_status(pk, SnipeStatus.CANCELLED, reason=reason, expected=_NOT_FIRED,
                                 action=HistoryAction.CANCEL, job_id=None, outcome_code=told.code.value,
                                 outcome_text=told.sentence):
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
