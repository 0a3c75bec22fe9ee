"""The snipe's run-up to its fire: the token, clock and item checks minutes and seconds before it, the
question to eBay before a late fire, and the last re-plan of the handed-over request."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sniper_app.domain.history import HistoryAction
from sniper_app.domain.money import Money
from sniper_app.domain.outcomes import OutcomeCode, OutcomeFacts
from sniper_app.domain.spending import check_cap_at_fire, parse_spending_cap
from sniper_app.domain.status import SnipeStatus
from sniper_app.ebay import EbayError, ItemNotFound, NeedsRelink
from sniper_app.engine.decisions import (
    EbayAnswer,
    ItemVerdict,
    LateFire,
    NoAnswer,
    Standing,
    check_item,
    late_pick_up,
    may_have_left,
)
from sniper_app.engine.engine_state import _NOT_FIRED, EngineBase, _Armed, _ref, bid_minor
from sniper_app.engine.sync import charge_fields, converted_fields
from sniper_app.store.errors import DiskFull
from sniper_app.store.models import Snipe
from sniper_app.store.spending import spending_facts

log = logging.getLogger(__name__)


class Preflight(EngineBase):
    """A snipe's checks before its fire, ending before the claim so that a verdict can still stop it."""

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
            if not armed.holds(SnipeStatus(snipe.status)):
                return
            token = await self._preflight(snipe)
            snipe = self.store.get_snipe(pk)
            if not armed.holds(SnipeStatus(snipe.status)) or armed.committed:
                return
            if self._group_reached(snipe):
                self._cancel_for_group(snipe)
                return
            if (armed.fire_id is None and pk not in self._claimed
                    and may_have_left(self._plan(snipe), self._now(), claim_ahead_s=self.handover_s)):
                if not await self._ask_before_late_fire(pk, snipe, armed):
                    return
                snipe = self.store.get_snipe(pk)
                if not armed.holds(SnipeStatus(snipe.status)) or armed.committed:
                    return
            if token is not None:
                self._hand_over(pk, snipe, armed, token, retime=False)
            if not await self._check_item(pk, armed):
                return
            if not self._check_cap(pk, armed):
                return
            self._warm(snipe)
            send_at = armed.send_at if armed.fire_id is not None else self._plan(snipe)[0]
            await self._sleep_until(send_at - self.prep_s)
            snipe = self.store.get_snipe(pk)
            if not armed.holds(SnipeStatus(snipe.status)) or armed.committed or self._paused:
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
                async with asyncio.timeout(max(1.0, min(30.0, send_at - self._now() - self.handover_s - 1.0))):
                    token = await self.client.ensure_user_token(max(60.0, send_at - self._now() + 60.0))
                return token.token
            except NeedsRelink as exc:
                self._on_needs_relink(exc)  # keep the snipe armed: a re-link before the fire saves it
            except (EbayError, TimeoutError) as exc:
                log.warning("preflight of snipe %s: token refresh failed: %s", pk, exc or "timed out")
            cached = self.client.cached_user_token(send_at - self._now() + 30.0)
            return cached.token if cached is not None else None

    async def _ask_before_late_fire(self, pk: int, snipe: Snipe, armed: _Armed) -> bool:
        """A snipe picked up after its claim instant: an earlier process may have sent the bid and died before
        its PLACING write landed (a full disk; the store then says SCHEDULED, or PENDING when the arming write
        waited too). Ask eBay first; False when nothing is to be sent."""
        # Leave at least half of what remains for the send itself.
        budget = min(5.0, (self._plan(snipe).retry_until - self._now()) / 2)
        answer: EbayAnswer = NoAnswer.UNREACHABLE
        if budget > 0.1:
            try:
                async with asyncio.timeout(budget):
                    answer = await self._ask_ebay(snipe, "snipe %s: cannot ask eBay whether a late bid left: %s")
            except TimeoutError:
                log.warning("snipe %s: eBay did not say in time whether a late bid already left", pk)
        decision = late_pick_up(answer, max_minor=bid_minor(snipe))
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
            self._finish_unfired(pk, SnipeStatus.MISSED, "The bid time passed and the auction has ended.",
                                 self._missed(snipe, self._plan(snipe).send_at))
            return False
        assert isinstance(answer, Standing)
        # eBay already has this bid: an earlier run sent it and stopped before saving that. Never send again.
        with self.store.transaction():
            if armed.arming is not None:
                armed.arming()  # the SCHEDULED write first (if it still waits), so the history keeps its order
            if not self.store.set_status(pk, SnipeStatus.PLACING, reason="The bid was already at eBay.",
                                         expected=SnipeStatus.SCHEDULED, job_id=None, amount_minor=bid_minor(snipe)):
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
        budget = send_at - self.handover_s - 0.1 - self._now()
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
        fields: dict[str, Any] = {"bid_count": item.bid_count} | charge_fields(item)
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
            minimum=item.minimum_to_bid, bid_count=item.bid_count, maximum=Money(bid_minor(snipe), snipe.currency),
            ebay_now=self.clock.ebay_now())
        if check.verdict is not ItemVerdict.BID:
            new = SnipeStatus.FAILED if check.verdict is ItemVerdict.ENDED else SnipeStatus.SKIPPED
            outcome = check.outcome
            if outcome is not None and bid_minor(snipe) != snipe.max_bid_minor:
                # Judged on the bid (the maximum less the charges it includes): told against both.
                outcome = dataclasses.replace(outcome, maximum=Money(snipe.max_bid_minor, snipe.currency),
                                              bid=outcome.maximum, charges_what="shipping and import charges"
                                              if snipe.import_charges_minor else "shipping")
            return self._stop_before_fire(pk, armed, new, check.reason, outcome)
        if moved:
            self._spawn(self.reconcile())  # the end moved: re-arm (the handed-over request is re-planned)
        return True

    def _check_cap(self, pk: int, armed: _Armed) -> bool:
        """The spending cap against the wins of the period and the bids already out (wins since the snipe was
        added may have used up its room), ended before the claim; False when the snipe was skipped here
        (nothing is sent). One short read of the local store: a read that fails lets the bid go out, since a
        cap the app cannot check must not cost the user an auction they wanted."""
        try:
            caps = parse_spending_cap(self.settings.spending_cap)
            if not caps:
                return True
            snipe = self.store.get_snipe(pk)
            # eBay's clock: the wins' end times are eBay's instants.
            now = datetime.fromtimestamp(self.clock.ebay_now(), UTC)
            facts = spending_facts(self.store, snipe.user_id, now=now, period_days=self.settings.spending_period_days)
            firing = next((s for s in facts.snipes if s.snipe_id == pk), None)
            if firing is None:
                return True
            check = check_cap_at_fire(caps, self.settings.spending_period_days, wins=facts.wins,
                                      snipes=facts.snipes, firing=firing, now=now)
        except Exception as exc:
            log.warning("snipe %s: the spending cap could not be checked (%s); bidding all the same", pk, exc)
            return True
        if check.ok:
            return True
        outcome = OutcomeFacts(code=OutcomeCode.SPENDING_CAP, maximum=firing.maximum, cap=check.cap,
                               cap_won=check.won, cap_pending=check.pending,
                               cap_period_days=self.settings.spending_period_days,
                               cap_pending_charges=check.pending_charges)
        return self._stop_before_fire(pk, armed, SnipeStatus.SKIPPED, check.sentence, outcome)

    def _stop_before_fire(self, pk: int, armed: _Armed, status: SnipeStatus, reason: str,
                          outcome: OutcomeFacts | None = None) -> bool:
        """End the snipe unfired, taking back its handed-over request; False (the snipe ended here), or True
        when the request is already being claimed or sent (its fire task does the bookkeeping)."""
        if armed.fire_id is not None:
            if not self.firer.cancel(armed.fire_id):
                log.warning("snipe %s: %s — but the bid was already on its way", pk, reason)
                return True
            armed.fire_id = None
        self._finish_unfired(pk, status, reason, outcome)
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
            async with asyncio.timeout(max(0.1, send_at - self._now() - self.handover_s - 0.2)):
                token = (await self.client.ensure_user_token(max(30.0, send_at - self._now() + 30.0))).token
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
        if not self._check_cap(pk, armed):
            return
        if token is not None:
            self._hand_over(pk, snipe, armed, token, retime=True)
        elif armed.fire_id is None:
            self._fail_unfired(pk, "The bid could not be sent: no valid eBay sign-in before the fire.",
                               OutcomeCode.SIGN_IN_LOST)
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
            remaining = local_epoch - self._now()
            if remaining <= 0:
                return
            await asyncio.sleep(min(remaining, 1.0))
