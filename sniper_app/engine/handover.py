"""The hand-over to the fire thread: the exact request given to the Firer, the compare-and-set claim
it calls back just before the send, and the loop catching up with a request once it has gone."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from functools import partial

from sniper_app.domain.history import HistoryAction
from sniper_app.domain.money import Money
from sniper_app.domain.outcomes import OutcomeCode
from sniper_app.domain.status import SnipeStatus
from sniper_app.ebay import NeedsRelink
from sniper_app.engine.decisions import reply_timeout, send_instant, too_late_reason
from sniper_app.engine.engine_state import EngineBase, _Armed, _ref, bid_minor
from sniper_app.engine.fire import FireRequest, FireResult
from sniper_app.store.errors import DiskFull
from sniper_app.store.models import Snipe

log = logging.getLogger(__name__)


class HandOver(EngineBase):
    """Gives the request to the fire thread and takes the compare-and-set claim on its thread."""

    # --- hand-over ----------------------------------------------------------------------------------

    def _hand_over_early(self, pk: int, snipe: Snipe, armed: _Armed) -> None:
        """Hand the request over now, without waiting for the preflight, when all it needs is at hand."""
        if armed.fire_id is not None or armed.committed or self._paused or not self.clock.synced:
            return
        if self.client.account is None or self._needs_relink:
            return
        send_at, _, _ = self._plan(snipe)
        now = self._now()
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
        now = self._now()
        if armed.fire_id is not None:
            if not retime or (abs(send_at - armed.send_at) < 0.001 and token == armed.token):
                return
            if not self.firer.cancel(armed.fire_id):
                return  # being claimed or sent: too late to re-plan, and no need
            armed.fire_id = None
        at = send_instant(plan, now)
        if at is None:
            self._finish_unfired(pk, SnipeStatus.MISSED, too_late_reason(plan, now), self._missed(snipe, send_at))
            return
        send_at = at
        fire_id = f"snipe:{pk}:{next(self._fire_seq)}"
        fire = self._fire_request(snipe, fire_id, send_at, retry_until, token)
        claim = functools.partial(
            self._claim, pk, armed, fire_id, snipe.end_time, snipe.lead_seconds, bid_minor(snipe), fire.body,
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
        the body to send (re-built if the maximum was edited), or None to drop the request.

        A snipe still PENDING in the store whose arming write waits for room on the disk counts as SCHEDULED:
        that write is saved here first, in the same transaction, so the history keeps its order."""
        if self._paused or self._stopping or armed.fire_id != fire_id or pk in self._claimed:
            return None
        placing = False
        arming: Callable[[], bool] | None = None
        try:
            with self.store.transaction():
                snipe = self.store.get_snipe(pk)
                old = SnipeStatus(snipe.status)
                if not armed.holds(old) or snipe.end_time != end_time or snipe.lead_seconds != lead_s:
                    return None  # cancelled, ended, or edited so the send instant moved: the loop re-plans it
                if old is SnipeStatus.PENDING:
                    arming = armed.arming
                if self._group_reached(snipe) and snipe.group_id is not None:
                    group = self.store.get_group(snipe.group_id)
                    reason = (f"Group “{group.name}” already won {group.target_wins} item(s); "
                              "this snipe is no longer needed.")
                    self.store.set_status(pk, SnipeStatus.CANCELLED, reason=reason, expected=old,
                                          action=HistoryAction.CANCEL, job_id=None)
                    self._publish_from_thread(loop, pk, old, SnipeStatus.CANCELLED, reason)
                    return None
                placing = True
                if arming is not None:
                    arming()
                self.store.set_status(pk, SnipeStatus.PLACING, reason="Sending the bid.",
                                      expected=SnipeStatus.SCHEDULED, job_id=None, amount_minor=bid_minor(snipe))
        except DiskFull as exc:
            if not placing:
                raise
            # A full disk must not cost a due bid: it goes out, and the hand-over is saved once there is room.
            # Until then the store still says SCHEDULED (or PENDING), so ``_claimed`` alone keeps this process
            # from a second claim of the same snipe.
            self._claimed.add(pk)  # before anything else: a cancel in this process now hears "already sent"
            log.error("snipe %s: the hand-over is not saved yet (%s); the bid goes out all the same", pk, exc)
            save = partial(self._save_late_hand_over, pk, arming, bid_minor(snipe))
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(partial(
                    self.bookkeeper.write, f"The hand-over of snipe {pk} to the fire", save, assumed=None))
        self._claimed.add(pk)
        armed.committed = True
        self._publish_from_thread(loop, pk, old, SnipeStatus.PLACING, None)
        if bid_minor(snipe) == max_minor:
            return body
        return self.client.bid_request(
            _ref(snipe), Money(bid_minor(snipe), snipe.currency), token, marketplace=snipe.marketplace
        ).content

    def _save_late_hand_over(self, pk: int, arming: Callable[[], bool] | None, max_minor: int) -> None:
        """The hand-over a full disk held back, saved once there is room (after the arming write, when that
        waited too). Another process may have cancelled the snipe meanwhile (the store still said SCHEDULED or
        PENDING), but the bid had already left: the truth wins."""
        with self.store.transaction():
            if arming is not None:
                arming()  # normally saved already, just ahead in the queue; a compare-and-set, so harmless
            if self.store.set_status(pk, SnipeStatus.PLACING, reason="Sending the bid.",
                                     expected=SnipeStatus.SCHEDULED, job_id=None, amount_minor=max_minor):
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
                    self._fail_unfired(pk, f"The bid could not be sent ({why}).", OutcomeCode.NOT_SENT)
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
            self._fail_unfired(pk, f"The bid could not be sent: {exc}", OutcomeCode.SIGN_IN_LOST)
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
            _ref(snipe), Money(bid_minor(snipe), snipe.currency), token, marketplace=snipe.marketplace
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
        now = self._now()
        send_at = send_instant(plan, now)
        if send_at is None:
            self._set(pk, SnipeStatus.PLACING, SnipeStatus.MISSED, too_late_reason(plan, now),
                      outcome_code=OutcomeCode.MISSED_CLOSED.value)
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
