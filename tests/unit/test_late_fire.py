"""The decision before a late fire: eBay's answer decides whether a bid that may have left is sent again."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sniper_app.domain.money import Money
from sniper_app.ebay.errors import BidTooLow
from sniper_app.engine.decisions import (
    Attempt,
    FireReply,
    FireVerdict,
    LateFire,
    NoAnswer,
    Plan,
    Standing,
    classify_fire,
    late_pick_up,
    may_have_left,
)

MAXES = st.integers(min_value=2, max_value=10**8)


def _standing(max_minor: int | None, *, ended: bool = False) -> Standing:
    return Standing(None if max_minor is None else Money(max_minor, "USD"), ended)


def test_the_claim_instant_is_the_line() -> None:
    plan = Plan(send_at=100.0, retry_until=104.0, end_local=105.0)
    assert not may_have_left(plan, 99.1, claim_ahead_s=0.8)
    assert may_have_left(plan, 99.2, claim_ahead_s=0.8)
    assert may_have_left(plan, 150.0, claim_ahead_s=0.8)


@given(MAXES, st.booleans())
def test_our_bid_already_at_ebay_is_never_sent_again(max_minor: int, ended: bool) -> None:
    assert late_pick_up(_standing(max_minor, ended=ended), max_minor=max_minor) is LateFire.ALREADY_THERE


@given(MAXES, st.booleans())
def test_a_bid_above_ours_means_ours_is_there(max_minor: int, ended: bool) -> None:
    # A maximum edited down after the send leaves eBay with the older, higher one: still not sent again.
    assert late_pick_up(_standing(max_minor + 1, ended=ended), max_minor=max_minor) is LateFire.ALREADY_THERE


@given(MAXES)
def test_no_bid_or_a_lower_one_on_an_open_auction_is_sent(max_minor: int) -> None:
    assert late_pick_up(NoAnswer.NO_BIDS, max_minor=max_minor) is LateFire.SEND
    assert late_pick_up(_standing(None), max_minor=max_minor) is LateFire.SEND
    assert late_pick_up(_standing(max_minor - 1), max_minor=max_minor) is LateFire.SEND


def test_an_ended_auction_without_our_bid_is_not_sent() -> None:
    assert late_pick_up(_standing(None, ended=True), max_minor=4000) is LateFire.ENDED
    assert late_pick_up(_standing(3000, ended=True), max_minor=4000) is LateFire.ENDED


@given(MAXES)
def test_when_ebay_cannot_be_asked_the_bid_goes_out_marked_unchecked(max_minor: int) -> None:
    assert late_pick_up(NoAnswer.UNREACHABLE, max_minor=max_minor) is LateFire.SEND_UNCHECKED


def test_a_too_low_refusal_of_an_unchecked_late_bid_is_settled_by_ebay_not_read_as_a_failure() -> None:
    refusal = BidTooLow("The bid amount is too low.", status=409)
    reply = FireReply("replied", (Attempt(True, 409),), 409, error=refusal)
    assert classify_fire(reply, Money(4000, "USD")).verdict is FireVerdict.REFUSED
    unchecked = FireReply("replied", (Attempt(True, 409),), 409, error=refusal, earlier_run_unknown=True)
    assert classify_fire(unchecked, Money(4000, "USD")).verdict is FireVerdict.ASK_EBAY
