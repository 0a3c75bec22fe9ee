"""What became of a bid: the fire's reply classified and recorded, eBay asked when the fate is unknown
or a crash interrupted it, and the WON / LOST result settled after the end."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx
from apscheduler.triggers.date import DateTrigger

from sniper_app.domain.endings import late_facts, lateness
from sniper_app.domain.history import HistoryAction
from sniper_app.domain.money import Money
from sniper_app.domain.outcomes import OutcomeCode, OutcomeFacts
from sniper_app.domain.status import SnipeStatus
from sniper_app.ebay import EbayError, NeedsRelink, NoBiddingActivity
from sniper_app.ebay.transport import rest_error
from sniper_app.engine.decisions import (
    ACCEPTED_STATUSES,
    Attempt,
    EbayAnswer,
    FireDecision,
    FireReply,
    FireVerdict,
    NoAnswer,
    Settle,
    Settlement,
    Standing,
    classify_fire,
    judge_result,
    recover_placing,
    settle_uncertain,
)
from sniper_app.engine.engine_state import EngineBase, _dt, _iso, _ref, bid_minor, outcome_fields
from sniper_app.engine.fire import FireResult
from sniper_app.store.models import Snipe
from sniper_app.store.snipes import ended_row

log = logging.getLogger(__name__)

CROSS_CHECK_GATHER_S = 5.0  # results settled within this share one read of the won/lost list


class Results(EngineBase):
    """Turns a fire's reply, or eBay's own record of the bid, into the snipe's next status."""

    # --- fire outcome -------------------------------------------------------------------------------

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
        decision = classify_fire(reply, Money(bid_minor(snipe), snipe.currency))
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
                self._set(pk, SnipeStatus.PLACING, SnipeStatus.FAILED, str(exc), details=details,
                          **outcome_fields(OutcomeCode.SIGN_IN_LOST))
                return
            await self._fire(pk, renewed=True)
        elif verdict is FireVerdict.REFUSED:
            self.bookkeeper.write(f"eBay's answer to snipe {pk}", partial(
                self.store.record_timing, pk, ebay_message=decision.ebay_message), assumed=None)
            self._set(pk, SnipeStatus.PLACING, SnipeStatus.FAILED, decision.reason, details=details,
                      **self._refusal_outcome(pk, decision))
        elif verdict is FireVerdict.NOT_SENT:
            # The tries that met the network tell why; a last "too late to send" only says the time ran out.
            tried = [a.error for a in attempts if a.error and a.error != "too late to send"]
            last = tried[-1] if tried else (attempts[-1].error if attempts else None)
            self._set(pk, SnipeStatus.PLACING, SnipeStatus.FAILED, decision.reason, details=details,
                      **outcome_fields(OutcomeFacts(OutcomeCode.NOT_SENT, Money(snipe.max_bid_minor, snipe.currency),
                                                    detail=last, attempts=len(tried) or None)))

    def _refusal_outcome(self, pk: int, decision: FireDecision) -> dict[str, Any]:
        """eBay's refusal told with its error id, or, for "the auction has ended", how late the bid was and why
        (the timing record just written)."""
        snipe = self.store.get_snipe(pk)
        maximum = Money(snipe.max_bid_minor, snipe.currency)
        if decision.outcome is OutcomeCode.LATE:
            return self._late_outcome(pk, SnipeStatus.FAILED, decision.ebay_message)
        if decision.outcome in (OutcomeCode.ENDED_EARLY, OutcomeCode.SIGN_IN_LOST):
            return outcome_fields(decision.outcome)
        if decision.outcome is OutcomeCode.BELOW_MINIMUM:
            return outcome_fields(OutcomeFacts(OutcomeCode.BELOW_MINIMUM, maximum))
        return outcome_fields(OutcomeFacts(
            OutcomeCode.EBAY_REFUSED, maximum, ebay_message=decision.ebay_message,
            ebay_error_id=None if decision.ebay_error_id is None else str(decision.ebay_error_id)))

    def _late_outcome(self, pk: int, status: SnipeStatus, ebay_message: str | None = None) -> dict[str, Any]:
        """A sent bid eBay did not get before the end, told from its timing record: how late, and why. The clock
        offset measured now shows whether the one the send was planned with was off."""
        snipe = self.store.get_snipe(pk)
        row = ended_row(snipe, {"status": status.value, "ebay_message": ebay_message or snipe.ebay_message})
        found = lateness(row, offset_now_ms=self.clock.offset_s * 1000)
        return outcome_fields(late_facts(Money(snipe.max_bid_minor, snipe.currency), found))

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

    def _settle(self, pk: int, settled: Settlement, details: dict[str, Any] | None = None, *,
                sent: bool = False) -> None:
        """Carry out eBay's verdict on a PLACING snipe: PLACED (then wait for the result), FAILED or MISSED.
        ``sent``: this run sent the bid and eBay never got it before the end, so it was late."""
        assert settled.reason is not None
        if settled.verdict is Settle.PLACED:
            self._set(pk, SnipeStatus.PLACING, SnipeStatus.PLACED, settled.reason, details=details,
                      proxy_bid_id=settled.bid_id)
            self._schedule_result(self.store.get_snipe(pk))
        else:
            new = SnipeStatus.MISSED if settled.verdict is Settle.MISSED else SnipeStatus.FAILED
            outcome = self._late_outcome(pk, new) if sent else {}
            self._set(pk, SnipeStatus.PLACING, new, settled.reason, details=details, **outcome)

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
            # Until the auction ends a bid held up on the way may still reach eBay: only then is "no bid" final.
            over = self.clock.ebay_now() >= snipe.end_time.timestamp()
            settled = settle_uncertain(answer, max_minor=bid_minor(snipe), why=reason, auction_over=over)
            if settled.verdict is not Settle.ASK_LATER:
                self._settle(pk, settled, details, sent=True)
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
        settled = recover_placing(answer, max_minor=bid_minor(snipe), plan=self._plan(snipe), now=self._now(),
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
        at = max(end_local + self.result_delay_s, self._now()) if delay_s is None else self._now() + delay_s
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
        decision = judge_result(status, answer, max_minor=bid_minor(snipe), end_epoch=snipe.end_time.timestamp(),
                                now=self._now(), ebay_now=self.clock.ebay_now(), result_delay_s=self.result_delay_s,
                                sent=snipe.sent_at is not None)
        for step in decision.transitions:
            fields = dict(step.fields)
            if step.new is SnipeStatus.MISSED and self.store.get_snipe(pk).sent_at is not None:
                # The timing record says this bid left (and eBay never got it): late, not missed while closed.
                fields |= self._late_outcome(pk, step.new)
            self._set(pk, step.old, step.new, step.reason, **fields)
        if decision.ask_again_in is not None:
            self._schedule_result(snipe, delay_s=decision.ask_again_in)
            return
        self._results.discard(pk)
        if decision.won and snipe.group_id is not None:
            self._after_group_win(int(snipe.group_id))
        if decision.cross_check:
            self._cross_check_due.add(pk)
            if self._cross_check_task is None or self._cross_check_task.done():
                self._cross_check_task = self._spawn(self._cross_check_results())

    async def _cross_check_results(self) -> None:
        """Trading's won/lost list as a second opinion (and its Timestamp as a clock cross-check), one list for
        every result settled meanwhile. The list holds every auction of the day: read once per result, with
        a result every second or so, the reads overlapped and the process held a dozen growing lists at once."""
        while self._cross_check_due:
            await asyncio.sleep(CROSS_CHECK_GATHER_S)
            due, self._cross_check_due = self._cross_check_due, set()
            try:
                results = await self.client.get_buying_results(1)
            except EbayError as exc:
                log.info("won/lost list unavailable for the cross-check: %s", exc)
                continue
            if results.timestamp is not None and results.timing is not None:
                self.clock.cross_check(results.timestamp, results.timing)
            won = {i.legacy_item_id for i in results.won}
            lost = {i.legacy_item_id for i in results.lost}
            del results
            for pk in sorted(due):
                snipe = self.store.get_snipe(pk)
                ours = SnipeStatus(snipe.status)
                other = "WON" if snipe.legacy_item_id in won else "LOST" if snipe.legacy_item_id in lost else None
                if other is not None and other != ours.value:
                    self.store.add_event(HistoryAction.NOTE, snipe_id=pk,
                                         message=f"eBay's won/lost list says {other.lower()}, getBidding said "
                                                 f"{ours.value.lower()}; check the item on eBay.")


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
