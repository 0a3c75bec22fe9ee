"""The engine's money decisions alone, on made-up instants: no clock, store, network or thread."""

from __future__ import annotations

from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sniper_app.domain.money import Money
from sniper_app.domain.outcomes import OutcomeCode
from sniper_app.domain.rules import MIN_LEAD_SECONDS
from sniper_app.domain.status import NOT_FIRED_STATUSES, SnipeStatus
from sniper_app.ebay.errors import (
    AuctionEnded,
    AuthExpired,
    AuthInvalid,
    BidRejected,
    BidTooLow,
    EbayError,
    ItemNotFound,
    RateLimited,
    Transient,
)
from sniper_app.engine.decisions import (
    TOO_LATE_MARGIN_S,
    ArmVerdict,
    Attempt,
    FireReply,
    FireVerdict,
    ItemVerdict,
    Member,
    MissedWhy,
    NoAnswer,
    Plan,
    Settle,
    Standing,
    arm,
    check_item,
    classify_fire,
    fires_too_soon,
    group_cancellations,
    group_reached,
    judge_result,
    may_retry,
    may_send,
    missed_why,
    recover_placing,
    reply_timeout,
    send_instant,
    settle_uncertain,
    too_late_reason,
)

S = SnipeStatus
T0 = 1_900_000_000.0  # an arbitrary "now" on the local clock
MAX = Money(5000, "USD")
# Sent 5 s before an end 10 s away; the last attempt may leave until 0.15 s before it.
PLAN = Plan(send_at=T0 + 5.0, retry_until=T0 + 9.85, end_local=T0 + 10.0)


def _standing(max_minor: int | None, *, ended: bool = False, high: bool = False, price: int = 4200,
              end_epoch: float | None = None) -> Standing:
    amount = None if max_minor is None else Money(max_minor, "USD")
    return Standing(amount, ended, "PB-1" if amount else None, high, Money(price, "USD"), end_epoch)


# --- when to send ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("now", "verdict"), [
    (T0, ArmVerdict.ARM),  # the send instant is ahead
    (T0 + 5.0, ArmVerdict.ARM),  # exactly at it
    (T0 + 6.0, ArmVerdict.SEND_LATE),  # passed, 3.85 s left for the bid
    (T0 + 7.85, ArmVerdict.SEND_LATE),  # exactly the least time a late bid needs
    (T0 + 7.9, ArmVerdict.MISSED),  # less than that
    (T0 + 20.0, ArmVerdict.MISSED),  # the auction ended while the app was not running
])
def test_arming_after_a_restart_arms_sends_late_or_misses(now: float, verdict: ArmVerdict) -> None:
    assert arm(PLAN, now, late_fire_min_s=2.0) is verdict


@pytest.mark.parametrize(("now", "instant"), [
    (T0, T0 + 5.0),  # as planned
    (T0 + 6.0, T0 + 6.0),  # the planned instant passed: at once
    (T0 + 9.85 - TOO_LATE_MARGIN_S - 0.001, T0 + 9.85 - TOO_LATE_MARGIN_S - 0.001),
    (T0 + 9.85 - TOO_LATE_MARGIN_S, None),  # too close to the last instant any attempt may leave
    (T0 + 12.0, None),
])
def test_a_handed_over_bid_leaves_as_planned_at_once_or_not_at_all(now: float, instant: float | None) -> None:
    assert send_instant(PLAN, now) == instant


def test_too_late_says_how_long_the_auction_has_left_never_a_negative_time() -> None:
    assert too_late_reason(PLAN, T0 + 9.9) == "Too late to bid: the auction ends 0.1 s from now."
    assert too_late_reason(PLAN, T0 + 11.0) == "Too late to bid: the auction ends 0.0 s from now."


instants = st.floats(min_value=-100.0, max_value=100.0, allow_nan=False)


@given(lead=st.floats(min_value=MIN_LEAD_SECONDS, max_value=60.0), latency=st.floats(min_value=0.0, max_value=2.0),
       now=instants)
def test_a_bid_is_never_planned_to_leave_in_the_past_or_after_its_deadline(lead: float, latency: float,
                                                                          now: float) -> None:
    end = 10.0
    plan = Plan(end - lead - latency, end - latency - 0.15, end)
    at = send_instant(plan, now)
    if at is not None:
        assert now <= at <= plan.retry_until
        assert may_send(at, plan.retry_until)
    else:
        assert plan.retry_until - now <= TOO_LATE_MARGIN_S
    if arm(plan, now, late_fire_min_s=2.0) is not ArmVerdict.MISSED:
        assert at is not None  # what arming keeps, the hand-over can still send


@pytest.mark.parametrize(("now", "until", "ok"), [
    (0.0, None, True),  # no deadline: the first attempt goes whenever it can
    (9.99, 10.0, True),
    (10.0, 10.0, False),  # never at the deadline
    (10.5, 10.0, False),
])
def test_an_attempt_never_leaves_at_or_after_its_deadline(now: float, until: float | None, ok: bool) -> None:
    assert may_send(now, until) is ok


@pytest.mark.parametrize(("now", "pause", "until", "stopping", "ok"), [
    (9.0, 0.0, 10.0, False, True),
    (9.0, 0.05, 10.0, False, True),
    (9.96, 0.05, 10.0, False, False),  # the retry would leave after the deadline
    (9.95, 0.05, 10.0, False, False),  # ... or exactly at it
    (9.0, 0.0, None, False, False),  # no deadline means no retries
    (9.0, 0.0, 10.0, True, False),  # stopping: nothing more is sent
])
def test_retry_or_not_by_the_deadline(now: float, pause: float, until: float | None, stopping: bool,
                                      ok: bool) -> None:
    assert may_retry(now, pause_s=pause, retry_until=until, stopping=stopping) is ok


@given(now=instants, pause=st.floats(min_value=0.0, max_value=5.0), until=st.none() | instants,
       stopping=st.booleans())
def test_a_retry_is_never_sent_after_the_deadline(now: float, pause: float, until: float | None,
                                                  stopping: bool) -> None:
    if may_retry(now, pause_s=pause, retry_until=until, stopping=stopping):
        assert until is not None
        assert now + pause < until
        assert may_send(now + pause, until)


@pytest.mark.parametrize(("send_at", "until", "latency", "timeout"), [
    (0.0, 60.0, 0.05, 10.0),  # far from the end: the usual 10 s
    (0.0, 3.0, 0.05, 1.5),  # half the time left, so a retry still fits
    (0.0, 0.2, 0.05, 0.25),  # never below a quarter second
    (0.0, 0.2, 0.5, 2.0),  # nor below four one-way latencies
])
def test_the_reply_timeout_leaves_room_for_a_retry(send_at: float, until: float, latency: float,
                                                   timeout: float) -> None:
    assert reply_timeout(send_at, until, latency) == timeout


# --- the item re-read before the fire ---------------------------------------------------------------


END_AHEAD = T0 + 10.0


def _usd(minor: int | None) -> Money | None:
    return None if minor is None else Money(minor, "USD")


@pytest.mark.parametrize(("end", "price", "minimum", "bids", "verdict", "reason"), [
    (END_AHEAD, 4000, 4100, 3, ItemVerdict.BID, ""),
    (END_AHEAD, 4000, 5000, 3, ItemVerdict.BID, ""),  # the maximum still meets the next bid eBay accepts
    (None, 4000, None, 3, ItemVerdict.BID, ""),  # eBay gave no end: nothing says it ended
    (T0, 4000, 4100, 3, ItemVerdict.ENDED, "The auction ended early (ended by the seller or bought with Buy It Now)."),
    (END_AHEAD, 4000, 5001, 3, ItemVerdict.SKIP,
     "Skipped: the next bid eBay accepts ($50.01) is above your maximum ($50.00)."),
    (END_AHEAD, 5000, None, 3, ItemVerdict.SKIP, "Skipped: the price ($50.00) already reached your maximum ($50.00)."),
    (END_AHEAD, 5000, None, 0, ItemVerdict.BID, ""),  # a starting price equal to the maximum can still be bid
])
def test_the_item_re_read_decides_bid_skip_or_ended(end: float | None, price: int | None, minimum: int | None,
                                                    bids: int, verdict: ItemVerdict, reason: str) -> None:
    check = check_item(end_epoch=end, price=_usd(price), minimum=_usd(minimum), bid_count=bids, maximum=MAX,
                       ebay_now=T0)
    assert (check.verdict, check.reason) == (verdict, reason)


def test_amounts_in_another_currency_never_skip_a_bid() -> None:
    check = check_item(end_epoch=T0 + 10, price=Money(999_999, "GBP"), minimum=Money(999_999, "GBP"), bid_count=5,
                       maximum=MAX, ebay_now=T0)
    assert check.verdict is ItemVerdict.BID


@given(price=st.none() | st.integers(1, 20_000), minimum=st.none() | st.integers(1, 20_000), bids=st.integers(0, 50),
       maximum=st.integers(1, 20_000), end=st.none() | instants)
def test_a_bid_that_could_still_win_is_never_skipped(price: int | None, minimum: int | None, bids: int, maximum: int,
                                                     end: float | None) -> None:
    check = check_item(end_epoch=end, price=_usd(price), minimum=_usd(minimum), bid_count=bids,
                       maximum=Money(maximum, "USD"), ebay_now=0.0)
    if check.verdict is ItemVerdict.SKIP:
        assert (minimum is not None and minimum > maximum) or (price is not None and price >= maximum and bids > 0)
    if check.verdict is ItemVerdict.BID:
        assert end is None or end > 0.0  # never a bid on an auction eBay's clock says has ended


# --- what eBay's reply to the bid means -------------------------------------------------------------


SENT = Attempt(sent=True, status=201)
LOST = Attempt(sent=True, error="no reply within 1 s")
NOT_SENT = Attempt(sent=False, error="connect failed: ConnectionRefusedError")


def _reply(outcome: Literal["replied", "failed", "cancelled"], attempts: tuple[Attempt, ...], status: int | None = None,
           *, bid_id: str | None = None, error: EbayError | None = None, renewed: bool = False) -> FireReply:
    return FireReply(outcome, attempts, status, bid_id, error, renewed)


@pytest.mark.parametrize(("reply", "verdict", "reason"), [
    (_reply("replied", (SENT,), 201, bid_id="PB-9"), FireVerdict.PLACED, "eBay accepted the bid of $50.00."),
    (_reply("replied", (SENT,), 200), FireVerdict.ASK_EBAY, "eBay accepted the bid but its reply is unreadable."),
    (_reply("replied", (Attempt(True, 401),), 401, error=AuthExpired(status=401)), FireVerdict.RENEW_AND_RESEND,
     "eBay refused the sign-in at the fire; renewed it and sent again."),
    # After one renewal a second 401 is not renewed again: it is a refusal like any other 4xx.
    (_reply("replied", (Attempt(True, 401),), 401, error=AuthExpired(status=401), renewed=True), FireVerdict.REFUSED,
     AuthExpired.default_message),
    (_reply("replied", (Attempt(True, 401),), 401, error=AuthInvalid(status=401)), FireVerdict.REFUSED,
     AuthInvalid.default_message),
    (_reply("replied", (Attempt(True, 400),), 400, error=BidTooLow("too low", status=400, ebay_message="Raise it")),
     FireVerdict.REFUSED, "too low"),
    (_reply("replied", (Attempt(True, 409),), 409, error=AuctionEnded(status=409)), FireVerdict.REFUSED,
     AuctionEnded.default_message),
    (_reply("replied", (Attempt(True, 404),), 404, error=ItemNotFound(status=404)), FireVerdict.REFUSED,
     ItemNotFound.default_message),
    # A reply after a silent first attempt: that one may have landed, so eBay decides.
    (_reply("replied", (LOST, Attempt(True, 400)), 400, error=BidTooLow("too low", status=400)),
     FireVerdict.ASK_EBAY, "too low"),
    (_reply("replied", (Attempt(True, 503),), 503, error=Transient("eBay hiccup", status=503)), FireVerdict.ASK_EBAY,
     "eBay hiccup The retries ran out before the end."),
    (_reply("replied", (Attempt(True, 429),), 429, error=RateLimited(status=429)), FireVerdict.ASK_EBAY,
     f"{RateLimited.default_message} The retries ran out before the end."),
    (_reply("failed", (LOST,)), FireVerdict.ASK_EBAY,
     "The bid was sent but eBay's answer was lost (no reply within 1 s)."),
    (_reply("failed", (LOST, Attempt(True))), FireVerdict.ASK_EBAY,
     "The bid was sent but eBay's answer was lost (no reply)."),
    (_reply("failed", (NOT_SENT,)), FireVerdict.NOT_SENT,
     "The bid could not be sent (connect failed: ConnectionRefusedError)."),
    (_reply("failed", ()), FireVerdict.NOT_SENT, "The bid could not be sent (unknown)."),
    (_reply("cancelled", ()), FireVerdict.LEAVE_PLACING, "The bid was dropped before eBay answered."),
])
def test_what_a_fire_reply_means(reply: FireReply, verdict: FireVerdict, reason: str) -> None:
    decision = classify_fire(reply, MAX)
    assert (decision.verdict, decision.reason) == (verdict, reason)
    assert (decision.bid_id is not None) == (verdict is FireVerdict.PLACED)


def test_a_refusal_keeps_ebays_own_words_or_the_sentence() -> None:
    words = classify_fire(_reply("replied", (Attempt(True, 400),), 400,
                                 error=BidTooLow("too low", status=400, ebay_message="Raise it")), MAX)
    assert words.ebay_message == "Raise it"
    bare = classify_fire(_reply("replied", (Attempt(True, 409),), 409, error=AuctionEnded(status=409)), MAX)
    assert bare.ebay_message == AuctionEnded.default_message


def test_a_refused_reply_without_the_error_read_from_it_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match=r"^a reply that did not accept the bid needs eBay's error$"):
        classify_fire(_reply("replied", (Attempt(True, 400),), 400), MAX)


statuses = st.sampled_from([200, 201, 400, 401, 404, 409, 429, 500, 502, 503])
attempts = st.lists(st.builds(Attempt, st.booleans(), st.none() | statuses, st.none() | st.just("boom")),
                    max_size=4).map(tuple)
errors = st.sampled_from([AuthExpired, AuthInvalid, BidTooLow, AuctionEnded, ItemNotFound, RateLimited, Transient,
                          EbayError])


@given(outcome=st.sampled_from(["replied", "failed", "cancelled"]), attempts=attempts, status=st.none() | statuses,
       bid_id=st.none() | st.just("PB-1"), error=errors, renewed=st.booleans())
def test_a_bid_that_may_have_landed_is_never_called_failed_without_asking_ebay(
    outcome: Literal["replied", "failed", "cancelled"], attempts: tuple[Attempt, ...], status: int | None,
    bid_id: str | None, error: type[EbayError], renewed: bool,
) -> None:
    accepted = outcome == "replied" and status in (200, 201)
    reply = _reply(outcome, attempts, status, bid_id=bid_id if accepted else None,
                   error=None if accepted or status is None else error(status=status), renewed=renewed)
    decision = classify_fire(reply, MAX)
    if decision.verdict is FireVerdict.PLACED:
        assert accepted
        assert decision.bid_id == bid_id
    if decision.verdict is FireVerdict.NOT_SENT:
        assert not any(a.sent for a in attempts)  # nothing left: nothing can be on eBay
    if decision.verdict is FireVerdict.REFUSED:  # eBay's own reply said no, and no earlier attempt is in doubt
        assert outcome == "replied"
        assert status is not None
        assert issubclass(error, BidRejected | ItemNotFound) or (status < 500 and status != 429)
        assert not any(a.sent and a.status is None for a in attempts[:-1])
    if decision.verdict is FireVerdict.RENEW_AND_RESEND:
        assert not renewed
        assert error is AuthExpired


# --- what eBay's own record says after an uncertain bid or a restart ----------------------------------


@pytest.mark.parametrize(("answer", "verdict", "reason"), [
    (NoAnswer.UNREACHABLE, Settle.ASK_LATER, None),
    (NoAnswer.NO_BIDS, Settle.FAILED, "Lost reply. eBay has no bid from you on this auction."),
    (_standing(5000), Settle.PLACED, "eBay has the bid of $50.00 (confirmed after: Lost reply.)"),
    (_standing(6000), Settle.PLACED, "eBay has the bid of $60.00 (confirmed after: Lost reply.)"),
    (_standing(4000), Settle.FAILED, "Lost reply. eBay does not have this bid."),
    (_standing(None), Settle.FAILED, "Lost reply. eBay does not have this bid."),
])
def test_an_uncertain_bid_is_settled_by_ebays_record(answer: Standing | NoAnswer, verdict: Settle,
                                                     reason: str | None) -> None:
    settled = settle_uncertain(answer, max_minor=5000, why="Lost reply.")
    assert (settled.verdict, settled.reason) == (verdict, reason)
    assert settled.bid_id == ("PB-1" if verdict is Settle.PLACED else None)


@pytest.mark.parametrize(("answer", "verdict"), [
    (NoAnswer.NO_BIDS, Settle.ASK_LATER),  # a bid held up on the way may still arrive
    (_standing(None), Settle.ASK_LATER),
    (_standing(4000), Settle.ASK_LATER),
    (_standing(5000), Settle.PLACED),  # eBay has it: settled at once
    (_standing(4000, ended=True), Settle.FAILED),  # eBay says the auction is over: nothing more can arrive
    (NoAnswer.UNREACHABLE, Settle.ASK_LATER),
])
def test_before_the_end_ebay_not_having_the_bid_yet_settles_nothing(answer: Standing | NoAnswer,
                                                                      verdict: Settle) -> None:
    assert settle_uncertain(answer, max_minor=5000, why="Lost reply.", auction_over=False).verdict is verdict


NEVER_GOT = "The app stopped while sending this bid and eBay never got it; the auction has ended."


@pytest.mark.parametrize(("answer", "now", "verdict", "reason"), [
    (NoAnswer.UNREACHABLE, T0, Settle.ASK_LATER, None),
    (NoAnswer.NO_BIDS, T0, Settle.FIRE_NOW, "The app stopped while sending this bid; eBay never got it: sending now."),
    (NoAnswer.NO_BIDS, T0 + 7.85, Settle.MISSED, NEVER_GOT),  # exactly the least time a late bid needs: not more
    (_standing(5000), T0, Settle.PLACED, "eBay has the bid of $50.00 (sent before the app stopped)."),
    (_standing(5000, ended=True), T0 + 60, Settle.PLACED, "eBay has the bid of $50.00 (sent before the app stopped)."),
    (_standing(3000, ended=True), T0 + 60, Settle.MISSED, NEVER_GOT),
    (_standing(None), T0, Settle.FIRE_NOW, None),
])
def test_a_restart_resolves_a_placing_snipe_by_asking_ebay(answer: Standing | NoAnswer, now: float, verdict: Settle,
                                                          reason: str | None) -> None:
    settled = recover_placing(answer, max_minor=5000, plan=PLAN, now=now, late_fire_min_s=2.0)
    assert (settled.verdict, settled.reason) == (verdict, reason)


answers = st.sampled_from(list(NoAnswer)) | st.builds(
    lambda m, ended: _standing(m, ended=ended), st.none() | st.integers(1, 10_000), st.booleans())


@given(answer=answers, max_minor=st.integers(1, 10_000), now=instants)
def test_a_restart_never_sends_a_bid_ebay_may_already_hold(answer: Standing | NoAnswer, max_minor: int,
                                                           now: float) -> None:
    plan = Plan(5.0, 9.85, 10.0)
    settled = recover_placing(answer, max_minor=max_minor, plan=plan, now=now, late_fire_min_s=2.0)
    if settled.verdict is Settle.FIRE_NOW:
        assert answer is not NoAnswer.UNREACHABLE  # eBay was asked and answered
        if isinstance(answer, Standing):
            assert not answer.holds(max_minor)
            assert not answer.ended
        else:
            assert plan.retry_until - now > 2.0
    if settled.verdict is Settle.PLACED:
        assert isinstance(answer, Standing)
        assert answer.holds(max_minor)
    uncertain = settle_uncertain(answer, max_minor=max_minor, why="?")
    assert uncertain.verdict in (Settle.PLACED, Settle.FAILED, Settle.ASK_LATER)  # never a second send
    assert (uncertain.verdict is Settle.PLACED) == (isinstance(answer, Standing) and answer.holds(max_minor))


# --- the result after the end ---------------------------------------------------------------------


END = T0 + 10.0


def _judge(status: SnipeStatus, answer: Standing | NoAnswer, now: float = END + 1.0,
           ebay_now: float = END + 1.0) -> tuple[list[tuple[SnipeStatus, SnipeStatus, str]], float | None, bool]:
    decision = judge_result(status, answer, max_minor=5000, end_epoch=END, now=now, ebay_now=ebay_now,
                            result_delay_s=0.3)
    steps = [(t.old, t.new, t.reason) for t in decision.transitions]
    return steps, decision.ask_again_in, decision.won


def test_a_bid_this_run_sent_that_ebay_never_got_does_not_blame_a_stopped_app() -> None:
    decision = judge_result(S.PLACING, NoAnswer.NO_BIDS, max_minor=5000, end_epoch=END, now=END + 1.0,
                            ebay_now=END + 1.0, result_delay_s=0.3, sent=True)
    assert [(t.new, t.reason) for t in decision.transitions] == [
        (S.MISSED, "eBay never got this bid (it was sent, but did not reach eBay before the end).")]


def test_a_placed_bid_that_is_high_at_the_end_is_won_at_the_final_price() -> None:
    decision = judge_result(S.PLACED, _standing(5000, ended=True, high=True, price=4200), max_minor=5000,
                            end_epoch=END, now=END + 1, ebay_now=END + 1, result_delay_s=0.3)
    assert [(t.new, t.reason, dict(t.fields)) for t in decision.transitions] == [
        (S.WON, "Won for $42.00.", {"final_price_minor": 4200, "outcome_code": OutcomeCode.WON})]
    assert (decision.ask_again_in, decision.won, decision.cross_check) == (None, True, True)


@pytest.mark.parametrize(("price", "code"), [(5100, OutcomeCode.OUTBID), (5000, OutcomeCode.TIE_LOST)])
def test_a_lost_auction_that_ended_at_the_maximum_was_a_tie(price: int, code: OutcomeCode) -> None:
    decision = judge_result(S.PLACED, _standing(5000, ended=True, high=False, price=price), max_minor=5000,
                            end_epoch=END, now=END + 1, ebay_now=END + 1, result_delay_s=0.3)
    assert [dict(t.fields)["outcome_code"] for t in decision.transitions] == [code]


def test_the_item_check_names_the_outcome_with_its_numbers() -> None:
    m = Money(5000, "USD")
    below = check_item(end_epoch=END, price=Money(4000, "USD"), minimum=Money(5100, "USD"), bid_count=1,
                       maximum=m, ebay_now=END - 10)
    passed = check_item(end_epoch=END, price=Money(5000, "USD"), minimum=None, bid_count=1, maximum=m,
                        ebay_now=END - 10)
    ended = check_item(end_epoch=END, price=Money(4500, "USD"), minimum=None, bid_count=1, maximum=m,
                       ebay_now=END + 1)
    assert below.outcome is not None
    assert below.outcome.code is OutcomeCode.BELOW_MINIMUM
    assert below.outcome.minimum_bid == Money(5100, "USD")
    assert passed.outcome is not None
    assert passed.outcome.code is OutcomeCode.PRICE_PASSED_MAX
    assert passed.outcome.price_at_fire == Money(5000, "USD")
    assert ended.outcome is not None
    assert ended.outcome.code is OutcomeCode.ENDED_EARLY


def test_an_outbid_placed_bid_is_lost_at_the_final_price() -> None:
    steps, again, won = _judge(S.PLACED, _standing(5000, ended=True, high=False, price=5100))
    assert steps == [(S.PLACED, S.LOST, "Lost: the auction ended at $51.00.")]
    assert (again, won) == (None, False)


@pytest.mark.parametrize(("status", "answer", "steps", "again"), [
    (S.PLACED, NoAnswer.UNREACHABLE, [], 1.0),
    (S.PLACED, NoAnswer.NO_BIDS, [(S.PLACED, S.LOST, "eBay no longer shows your bid on this auction.")], None),
    (S.PLACING, NoAnswer.NO_BIDS,
     [(S.PLACING, S.MISSED, "eBay never got this bid (the app stopped while sending).")], None),
    (S.PLACING, _standing(4000, ended=True), [(S.PLACING, S.MISSED, "eBay never got this bid; the auction has ended.")],
     None),
    (S.PLACING, _standing(4000), [], 1.0),  # not ended, no bid of ours yet: keep asking
    (S.PLACING, _standing(5000), [(S.PLACING, S.PLACED, "eBay has the bid of $50.00.")], 1.0),
    (S.PLACING, _standing(5000, ended=True, high=True),
     [(S.PLACING, S.PLACED, "eBay has the bid of $50.00."), (S.PLACED, S.WON, "Won for $42.00.")], None),
])
def test_the_result_check(status: SnipeStatus, answer: Standing | NoAnswer,
                          steps: list[tuple[SnipeStatus, SnipeStatus, str]], again: float | None) -> None:
    assert _judge(status, answer)[:2] == (steps, again)


@pytest.mark.parametrize(("now", "end_epoch", "again"), [
    (END + 1.0, None, 1.0),  # just after the end: ask again every second
    (END + 200.0, None, 30.0),  # long after: every 30 s
    (END - 5.0, END, 1.0),  # before eBay's end: no later than a second from now
    (END - 0.5, END, 0.8),  # ... or just after eBay's end
    (END + 0.5, END, 0.2),  # never sooner than 0.2 s
])
def test_the_result_is_asked_again_until_the_auction_ended(now: float, end_epoch: float | None, again: float) -> None:
    _, ask, _ = _judge(S.PLACED, _standing(5000, end_epoch=end_epoch), now=now, ebay_now=now)
    assert ask == pytest.approx(again)


standings = st.builds(
    lambda m, ended, high, end: _standing(m, ended=ended, high=high, end_epoch=end),
    st.none() | st.integers(1, 10_000), st.booleans(), st.booleans(), st.none() | instants,
)


@given(status=st.sampled_from([S.PLACING, S.PLACED]), answer=st.sampled_from(list(NoAnswer)) | standings,
       max_minor=st.integers(1, 10_000), now=instants)
def test_a_result_is_won_only_when_ebay_says_so_and_never_settled_before_the_end(
    status: SnipeStatus, answer: Standing | NoAnswer, max_minor: int, now: float,
) -> None:
    decision = judge_result(status, answer, max_minor=max_minor, end_epoch=0.0, now=now, ebay_now=now,
                            result_delay_s=0.3)
    finals = [t.new for t in decision.transitions if t.new.is_final]
    assert len(finals) <= 1
    if decision.won:
        assert isinstance(answer, Standing)
        assert answer.ended
        assert answer.high_bidder
        assert status is S.PLACED or answer.holds(max_minor)  # eBay confirmed the bid it now says won
        assert finals == [S.WON]
    if isinstance(answer, Standing) and not answer.ended:
        assert finals == []  # still running: ask again, decide nothing final
        assert decision.ask_again_in is not None
        assert decision.ask_again_in >= 0.2
    if decision.ask_again_in is None and answer is not NoAnswer.UNREACHABLE:
        assert finals  # stopped asking: the snipe ended one way or another
    old = status  # every step starts where the one before it left off
    for step in decision.transitions:
        assert step.old is old
        old = step.new


# --- groups: "win N of these" -----------------------------------------------------------------------


def test_a_group_is_complete_once_it_won_its_target() -> None:
    assert [group_reached(won, 2) for won in range(4)] == [False, False, True, True]


def test_a_complete_group_cancels_what_has_not_fired_and_keeps_the_rest() -> None:
    members = [Member(1, S.WON), Member(2, S.PLACED), Member(3, S.SCHEDULED), Member(4, S.PENDING),
               Member(5, S.PLACING), Member(6, S.LOST), Member(7, S.WON)]
    assert group_cancellations(members, 2) == (3, 4)
    assert group_cancellations(members, 3) == ()  # two of three won: every member still counts


members_st = st.lists(st.sampled_from(list(SnipeStatus)), max_size=12).map(
    lambda statuses: [Member(pk, s) for pk, s in enumerate(statuses, start=1)])


@given(members=members_st, target=st.integers(1, 5))
def test_group_targets_never_cancel_a_fired_snipe_and_never_keep_more_than_needed(members: list[Member],
                                                                                 target: int) -> None:
    cancelled = set(group_cancellations(members, target))
    by_pk = {m.pk: m for m in members}
    assert cancelled <= set(by_pk)
    assert all(by_pk[pk].status in NOT_FIRED_STATUSES for pk in cancelled)  # never a won, sent or ended one
    won = sum(1 for m in members if m.status is S.WON)
    kept_unfired = [m for m in members if m.status in NOT_FIRED_STATUSES and m.pk not in cancelled]
    if won >= target:
        assert kept_unfired == []  # nothing left that could win one more than wanted
    else:
        assert cancelled == set()  # still short of the target: every member is needed


def test_members_firing_before_the_previous_result_is_known_are_named() -> None:
    members = [
        Member(1, S.SCHEDULED, end_epoch=100.0, fire_epoch=95.0),
        Member(2, S.SCHEDULED, end_epoch=104.0, fire_epoch=101.0),  # 1 s after #1 ends: too soon
        Member(3, S.SCHEDULED, end_epoch=200.0, fire_epoch=195.0),
        Member(4, S.PLACED, end_epoch=201.0, fire_epoch=196.0),  # already sent: nothing to warn about
    ]
    close = fires_too_soon(list(reversed(members)), needed_s=3.3)
    assert [(a.pk, b.pk, gap) for a, b, gap in close] == [(1, 2, 1.0)]


@pytest.mark.parametrize(("error", "code"), [
    (AuctionEnded(status=409, error_id=120012), OutcomeCode.LATE),
    (AuctionEnded(status=409, error_id=120002), OutcomeCode.ENDED_EARLY),
    (BidTooLow("too low", status=409, error_id=120008), OutcomeCode.BELOW_MINIMUM),
    (AuthInvalid(status=401), OutcomeCode.SIGN_IN_LOST),
    (BidRejected("no", status=409, error_id=120004, ebay_message="You are not eligible."), OutcomeCode.EBAY_REFUSED),
])
def test_a_refusal_names_its_outcome_from_ebays_error(error: EbayError, code: OutcomeCode) -> None:
    reply = _reply("replied", (Attempt(True, error.status),), error.status, error=error)
    decision = classify_fire(reply, MAX)
    assert (decision.verdict, decision.outcome, decision.ebay_error_id) == (FireVerdict.REFUSED, code, error.error_id)


# --- why a send instant passed unsent -------------------------------------------------------------------------


@pytest.mark.parametrize(("running_since", "created_at", "paused", "last_pause", "why"), [
    (None, 0.0, False, None, MissedWhy.CLOSED),  # no engine ran at all
    (150.0, 0.0, False, None, MissedWhy.CLOSED),  # started after the send instant: the app was closed
    (50.0, 0.0, False, None, MissedWhy.ASLEEP),  # running and knowing the snipe, and still not sent
    (50.0, 120.0, False, None, MissedWhy.CLOSED),  # added after its own send instant: never due while running
    (50.0, 0.0, True, None, MissedWhy.PAUSED),
    (50.0, 0.0, False, (90.0, 110.0), MissedWhy.PAUSED),  # a pause that covered the send instant
    (50.0, 0.0, False, (10.0, 20.0), MissedWhy.ASLEEP),  # an earlier pause says nothing about this one
])
def test_why_a_send_instant_passed_unsent(running_since: float | None, created_at: float, paused: bool,
                                          last_pause: tuple[float, float] | None, why: MissedWhy) -> None:
    assert missed_why(100.0, running_since=running_since, created_at=created_at, paused=paused,
                      last_pause=last_pause) is why
