"""The engine's decisions that cost the user money, apart from any I/O.

Each function takes facts (plain values and frozen dataclasses, the time among them) and returns a
decision; the engine gathers the facts (the store, eBay, the clock) and carries the decision out. Nothing
here reads a clock, the store or the network, so every rule can be tried alone on made-up instants.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from sniper_app.domain.endings import AUCTION_ENDED_ERROR, BOUGHT_OUTRIGHT_ERROR
from sniper_app.domain.money import Money
from sniper_app.domain.outcomes import OutcomeCode, OutcomeFacts
from sniper_app.domain.status import NOT_FIRED_STATUSES, SnipeStatus

if TYPE_CHECKING:
    from sniper_app.ebay.errors import EbayError
    from sniper_app.ebay.models import BiddingStatus

# The statuses of eBay's reply to placeProxyBid that mean the bid was taken.
ACCEPTED_STATUSES = frozenset({200, 201})
# Closer than this to the last instant any attempt may leave, a late bid is not worth handing over.
TOO_LATE_MARGIN_S = 0.05


class Plan(NamedTuple):
    """Where one snipe's bid sits on the local clock (``time.time()`` epoch seconds)."""

    send_at: float  # the planned send instant: end − lead − one-way latency
    retry_until: float  # the last instant any attempt may leave and still arrive before the end
    end_local: float  # the auction's end


# --- when to send -----------------------------------------------------------------------------------


class ArmVerdict(Enum):
    ARM = "arm"  # the send instant is ahead: arm as planned
    SEND_LATE = "send_late"  # it passed (the app was not running, or the computer slept) and time remains
    MISSED = "missed"  # too little time remains for a bid to arrive


def arm(plan: Plan, now: float, *, late_fire_min_s: float) -> ArmVerdict:
    """What arming a snipe that has not fired does at ``now``, at a start or any later reconcile."""
    if plan.send_at >= now:
        return ArmVerdict.ARM
    if plan.retry_until - now < late_fire_min_s:
        return ArmVerdict.MISSED
    return ArmVerdict.SEND_LATE


def send_instant(plan: Plan, now: float) -> float | None:
    """When a bid handed to the fire thread at ``now`` leaves: as planned, at once when the planned instant
    passed, or None when it is too late to send at all."""
    if plan.send_at >= now:
        return plan.send_at
    if plan.retry_until - now <= TOO_LATE_MARGIN_S:
        return None
    return now


def too_late_reason(plan: Plan, now: float) -> str:
    return f"Too late to bid: the auction ends {max(plan.end_local - now, 0):.1f} s from now."


class MissedWhy(Enum):
    CLOSED = "closed"  # no engine ran at the send instant
    ASLEEP = "asleep"  # the engine ran, knew the snipe, and still did not send: the computer slept or stood still
    PAUSED = "paused"  # the user had paused sniping


def missed_why(send_at: float, *, running_since: float | None, created_at: float, paused: bool,
               last_pause: tuple[float, float] | None) -> MissedWhy:
    """Why a send instant passed unsent. Asleep only when this engine was running before the instant and the
    snipe existed by then (one added after its own send instant was never due while the app ran)."""
    if paused or (last_pause is not None and last_pause[0] <= send_at <= last_pause[1]):
        return MissedWhy.PAUSED
    if running_since is not None and running_since < send_at and created_at < send_at:
        return MissedWhy.ASLEEP
    return MissedWhy.CLOSED


def may_send(now: float, retry_until: float | None) -> bool:
    """Whether an attempt may leave at ``now``: never at or after ``retry_until`` (None: no deadline)."""
    return retry_until is None or now < retry_until


def may_retry(now: float, *, pause_s: float, retry_until: float | None, stopping: bool) -> bool:
    """Whether a failed attempt is sent again after ``pause_s``: only with a deadline, and only when the
    retry would still leave before it."""
    return not stopping and retry_until is not None and now + pause_s < retry_until


def reply_timeout(send_at: float, retry_until: float, latency_s: float) -> float:
    """How long one attempt waits for eBay's reply: short enough that a retry after a silent server still
    arrives before the end, never so short that a normal reply is given up on."""
    return min(10.0, max(0.25, 4 * latency_s, (retry_until - send_at) / 2))


# --- the item re-read before the fire ---------------------------------------------------------------


class ItemVerdict(Enum):
    BID = "bid"
    ENDED = "ended"  # ended early (by the seller, or bought with Buy It Now): the snipe fails unfired
    SKIP = "skip"  # the maximum can no longer win: the snipe is skipped, nothing is sent


@dataclass(frozen=True, slots=True)
class ItemCheck:
    verdict: ItemVerdict
    reason: str = ""
    outcome: OutcomeFacts | None = None  # how the snipe ends, with the numbers (ENDED, SKIP)


def check_item(*, end_epoch: float | None, price: Money | None, minimum: Money | None, bid_count: int,
               maximum: Money, ebay_now: float) -> ItemCheck:
    """Whether the bid of ``maximum`` still goes out after the item's re-read (``end_epoch`` and
    ``ebay_now`` on eBay's clock). Amounts in another currency than the maximum's say nothing about it."""
    if end_epoch is not None and end_epoch <= ebay_now:
        same = price if price is not None and price.currency == maximum.currency else None
        return ItemCheck(ItemVerdict.ENDED, "The auction ended early (ended by the seller or bought with Buy It Now).",
                         OutcomeFacts(OutcomeCode.ENDED_EARLY, maximum, final_price=same))
    # Bidders pushing the price past the maximum is the likelier story than a high first bid: told first.
    if price is not None and price.currency == maximum.currency and price.minor >= maximum.minor and bid_count > 0:
        return ItemCheck(ItemVerdict.SKIP, f"Skipped: the price ({price}) already reached your maximum ({maximum}).",
                         OutcomeFacts(OutcomeCode.PRICE_PASSED_MAX, maximum, price_at_fire=price))
    if minimum is not None and minimum.currency == maximum.currency and minimum.minor > maximum.minor:
        return ItemCheck(ItemVerdict.SKIP,
                         f"Skipped: the next bid eBay accepts ({minimum}) is above your maximum ({maximum}).",
                         OutcomeFacts(OutcomeCode.BELOW_MINIMUM, maximum, minimum_bid=minimum))
    return ItemCheck(ItemVerdict.BID)


# --- what eBay's reply to the bid means -------------------------------------------------------------


class FireVerdict(Enum):
    PLACED = "placed"  # eBay took the bid and its reply names it
    ASK_EBAY = "ask_ebay"  # the bid may or may not be on eBay: only getBidding can say
    RENEW_AND_RESEND = "renew_and_resend"  # eBay refused the sign-in (nothing placed): renew it, send once more
    REFUSED = "refused"  # eBay refused the bid: nothing placed
    NOT_SENT = "not_sent"  # no attempt left this computer: nothing placed
    LEAVE_PLACING = "leave_placing"  # the request was dropped before an answer: the next start asks eBay


@dataclass(frozen=True, slots=True)
class Attempt:
    sent: bool  # the send began (so the bid may have reached eBay)
    status: int | None = None  # the HTTP status of its reply
    error: str | None = None  # why it got no reply, or could not be sent


@dataclass(frozen=True, slots=True)
class FireReply:
    """What the fire thread reports of one handed-over bid."""

    outcome: Literal["replied", "failed", "cancelled"]
    attempts: tuple[Attempt, ...]
    status: int | None = None  # of the last reply
    bid_id: str | None = None  # the proxyBidId an accepted reply carried (None: none readable)
    error: EbayError | None = None  # eBay's error as the client reads it, for a reply not accepted
    renewed: bool = False  # this was the send again after a renewed sign-in
    earlier_run_unknown: bool = False  # sent late without knowing whether an earlier run had sent it


@dataclass(frozen=True, slots=True)
class FireDecision:
    verdict: FireVerdict
    reason: str
    bid_id: str | None = None
    ebay_message: str | None = None  # eBay's own words for a refusal, kept with the timing record
    ebay_error_id: int | None = None
    outcome: OutcomeCode | None = None  # how a REFUSED or NOT_SENT bid ends the snipe


def classify_fire(reply: FireReply, amount: Money) -> FireDecision:
    """What a fire's outcome means for the bid of ``amount``."""
    # Imported here, not above: the fire thread's module uses the deadline rules of this one, and must load
    # without the eBay client's dependencies.
    from sniper_app.ebay.errors import AuthExpired, AuthInvalid, BidRejected, BidTooLow, ItemNotFound

    attempts = reply.attempts
    if reply.outcome == "cancelled":
        return FireDecision(FireVerdict.LEAVE_PLACING, "The bid was dropped before eBay answered.")
    if reply.outcome == "replied" and reply.status in ACCEPTED_STATUSES:
        if reply.bid_id is None:
            return FireDecision(FireVerdict.ASK_EBAY, "eBay accepted the bid but its reply is unreadable.")
        return FireDecision(FireVerdict.PLACED, f"eBay accepted the bid of {amount}.", bid_id=reply.bid_id)
    if reply.outcome == "replied" and reply.status is not None:
        error = reply.error
        if error is None:
            raise ValueError("a reply that did not accept the bid needs eBay's error")
        if isinstance(error, AuthExpired) and not reply.renewed:
            # 401: nothing was placed, and a token renewed at once still arrives before the end.
            return FireDecision(FireVerdict.RENEW_AND_RESEND,
                                "eBay refused the sign-in at the fire; renewed it and sent again.")
        if reply.earlier_run_unknown or any(a.sent and a.status is None for a in attempts[:-1]):
            # An earlier attempt (no reply), or an earlier run, may have landed: eBay then refuses the repeat
            # as "too low".
            return FireDecision(FireVerdict.ASK_EBAY, str(error))
        if isinstance(error, BidRejected | ItemNotFound) or (
            error.status is not None and error.status < 500 and error.status != 429
        ):
            code = {AUCTION_ENDED_ERROR: OutcomeCode.LATE, BOUGHT_OUTRIGHT_ERROR: OutcomeCode.ENDED_EARLY}.get(
                error.error_id or 0, OutcomeCode.EBAY_REFUSED)
            if isinstance(error, AuthExpired | AuthInvalid):
                code = OutcomeCode.SIGN_IN_LOST
            elif isinstance(error, BidTooLow):
                code = OutcomeCode.BELOW_MINIMUM
            return FireDecision(FireVerdict.REFUSED, str(error), ebay_message=error.ebay_message or str(error),
                                ebay_error_id=error.error_id, outcome=code)
        return FireDecision(FireVerdict.ASK_EBAY, f"{error} The retries ran out before the end.")
    if any(a.sent for a in attempts):
        last = attempts[-1].error or "no reply"
        return FireDecision(FireVerdict.ASK_EBAY, f"The bid was sent but eBay's answer was lost ({last}).")
    why = attempts[-1].error if attempts else "unknown"
    return FireDecision(FireVerdict.NOT_SENT, f"The bid could not be sent ({why}).", outcome=OutcomeCode.NOT_SENT)


# --- what eBay's own record (getBidding) says -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Standing:
    """eBay's getBidding answer: this buyer's standing in one auction."""

    max_amount: Money | None  # the maximum eBay holds for this buyer (None: no bid of theirs)
    ended: bool
    proxy_bid_id: str | None = None
    high_bidder: bool = False
    current_price: Money | None = None
    end_epoch: float | None = None  # the end on eBay's clock, when eBay gave it

    @classmethod
    def of(cls, status: BiddingStatus) -> Standing:
        """From the client's ``BiddingStatus``."""
        end = status.end_time
        return cls(status.max_amount, status.ended, status.proxy_bid_id, status.high_bidder, status.current_price,
                   None if end is None else end.timestamp())

    def holds(self, max_minor: int) -> bool:
        """Whether eBay holds a bid of this buyer's at least as high as ``max_minor``."""
        return self.max_amount is not None and self.max_amount.minor >= max_minor


class NoAnswer(Enum):
    NO_BIDS = "no_bids"  # eBay answered: this buyer has no bidding activity on the auction
    UNREACHABLE = "unreachable"  # eBay could not be asked now


EbayAnswer = Standing | NoAnswer


class Settle(Enum):
    PLACED = "placed"
    FAILED = "failed"
    MISSED = "missed"
    FIRE_NOW = "fire_now"
    ASK_LATER = "ask_later"  # eBay could not be asked: stay PLACING, the result check after the end decides


@dataclass(frozen=True, slots=True)
class Settlement:
    verdict: Settle
    reason: str | None = None  # the status reason (PLACED, FAILED, MISSED) or the note before a FIRE_NOW
    bid_id: str | None = None


def settle_uncertain(answer: EbayAnswer, *, max_minor: int, why: str, auction_over: bool = True) -> Settlement:
    """A bid sent whose fate the reply did not tell (``why``): eBay's own record decides, never a guess.

    Before the auction is over (``auction_over`` False) eBay not having the bid yet decides nothing: a bid
    held up on the way may still arrive, so it is asked again later."""
    if answer is NoAnswer.UNREACHABLE:
        return Settlement(Settle.ASK_LATER)
    if not auction_over and not (isinstance(answer, Standing) and (answer.holds(max_minor) or answer.ended)):
        return Settlement(Settle.ASK_LATER)
    if answer is NoAnswer.NO_BIDS:
        return Settlement(Settle.FAILED, f"{why} eBay has no bid from you on this auction.")
    if answer.holds(max_minor):
        return Settlement(Settle.PLACED, f"eBay has the bid of {answer.max_amount} (confirmed after: {why})",
                          answer.proxy_bid_id)
    return Settlement(Settle.FAILED, f"{why} eBay does not have this bid.")


_NEVER_GOT = "The app stopped while sending this bid and eBay never got it; the auction has ended."


def recover_placing(answer: EbayAnswer, *, max_minor: int, plan: Plan, now: float,
                    late_fire_min_s: float) -> Settlement:
    """A snipe a stop or crash left PLACING: send it again only when eBay answered that it has no such bid
    and time remains; a bid eBay may hold is never sent twice."""
    if answer is NoAnswer.UNREACHABLE:
        return Settlement(Settle.ASK_LATER)
    if answer is NoAnswer.NO_BIDS:
        if plan.retry_until - now > late_fire_min_s:
            return Settlement(Settle.FIRE_NOW,
                              "The app stopped while sending this bid; eBay never got it: sending now.")
        return Settlement(Settle.MISSED, _NEVER_GOT)
    if answer.holds(max_minor):
        return Settlement(Settle.PLACED, f"eBay has the bid of {answer.max_amount} (sent before the app stopped).",
                          answer.proxy_bid_id)
    if answer.ended:
        return Settlement(Settle.MISSED, _NEVER_GOT)
    return Settlement(Settle.FIRE_NOW)


class LateFire(Enum):
    SEND = "send"  # eBay has no bid of ours at this maximum: send it now
    ALREADY_THERE = "already_there"  # eBay already has it: record it as placed, never send again
    ENDED = "ended"  # the auction ended without our bid: nothing can be sent any more
    SEND_UNCHECKED = "send_unchecked"  # eBay could not be asked in time: send, and let eBay's record decide


def may_have_left(plan: Plan, now: float, *, claim_ahead_s: float) -> bool:
    """Whether an earlier run could already have claimed (and sent) this SCHEDULED snipe's bid: its claim
    instant has passed. A run that claims on a full disk sends while the store still says SCHEDULED (the
    PLACING write waits for room); if it dies before the write lands, only eBay knows the bid left."""
    return now >= plan.send_at - claim_ahead_s


def late_pick_up(answer: EbayAnswer, *, max_minor: int) -> LateFire:
    """What to do with a SCHEDULED snipe whose bid may already have left, given eBay's answer."""
    if answer is NoAnswer.UNREACHABLE:
        # eBay refuses a repeat of the same maximum (409, error 120008 "bid too low") rather than counting
        # it twice, so sending cannot double the bid; not sending would lose it in the far more common case
        # where no earlier run ever sent it (the app simply started late). The refusal, if it comes, is
        # settled by eBay's record (FireReply.earlier_run_unknown), never read as a failure.
        return LateFire.SEND_UNCHECKED
    if answer is NoAnswer.NO_BIDS:
        return LateFire.SEND
    if answer.holds(max_minor):
        return LateFire.ALREADY_THERE
    if answer.ended:
        return LateFire.ENDED
    return LateFire.SEND


# --- the result after the end -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Transition:
    old: SnipeStatus
    new: SnipeStatus
    reason: str
    fields: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class ResultDecision:
    transitions: tuple[Transition, ...] = ()
    ask_again_in: float | None = None  # seconds; None: the result is settled, stop asking
    won: bool = False  # the snipe ended WON (its group may now be complete)
    cross_check: bool = False  # a WON or LOST to compare with Trading's won/lost list


def judge_result(status: SnipeStatus, answer: EbayAnswer, *, max_minor: int, end_epoch: float, now: float,
                 ebay_now: float, result_delay_s: float, sent: bool = False) -> ResultDecision:
    """What eBay's record says of a PLACED (or still PLACING) snipe: keep asking until the auction ended,
    then WON or LOST (outbid) at the final price."""
    retry_in = 1.0 if now - end_epoch < 120 else 30.0
    if answer is NoAnswer.UNREACHABLE:
        return ResultDecision(ask_again_in=retry_in)
    if answer is NoAnswer.NO_BIDS:
        if status is SnipeStatus.PLACING:
            # ``sent``: the timing record says the bid left, so the app did not stop before sending it.
            why = "it was sent, but did not reach eBay before the end" if sent else "the app stopped while sending"
            return ResultDecision((Transition(status, SnipeStatus.MISSED, f"eBay never got this bid ({why})."),))
        return ResultDecision((Transition(status, SnipeStatus.LOST, "eBay no longer shows your bid on this auction."),))
    steps: list[Transition] = []
    if status is SnipeStatus.PLACING:
        if answer.holds(max_minor):
            steps.append(Transition(status, SnipeStatus.PLACED, f"eBay has the bid of {answer.max_amount}.",
                                    (("proxy_bid_id", answer.proxy_bid_id),)))
            status = SnipeStatus.PLACED
        elif answer.ended:
            return ResultDecision((Transition(status, SnipeStatus.MISSED,
                                              "eBay never got this bid; the auction has ended."),))
    if not answer.ended:
        delay = retry_in if answer.end_epoch is None else max(
            0.2, min(retry_in, answer.end_epoch - ebay_now + result_delay_s))
        return ResultDecision(tuple(steps), ask_again_in=delay)
    if status is not SnipeStatus.PLACED:
        return ResultDecision(tuple(steps))
    price = answer.current_price
    final = (("final_price_minor", price.minor if price is not None else None),)
    if answer.high_bidder:
        won = (*final, ("outcome_code", OutcomeCode.WON))
        steps.append(Transition(status, SnipeStatus.WON, f"Won for {price}.", won))
        return ResultDecision(tuple(steps), won=True, cross_check=True)
    # eBay gives a tie to the earlier bid: an auction that ended at exactly this maximum, not ours, was one.
    tie = price is not None and price.minor == max_minor
    lost = (*final, ("outcome_code", OutcomeCode.TIE_LOST if tie else OutcomeCode.OUTBID))
    steps.append(Transition(status, SnipeStatus.LOST, f"Lost: the auction ended at {price}.", lost))
    return ResultDecision(tuple(steps), cross_check=True)


# --- groups: "win N of these" -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Member:
    pk: int
    status: SnipeStatus
    end_epoch: float = 0.0
    fire_epoch: float = 0.0  # end − lead: roughly when its bid leaves


def group_reached(won: int, target_wins: int) -> bool:
    """Whether a group has won all it wanted, so its members that have not fired are no longer needed."""
    return won >= target_wins


def group_cancellations(members: Iterable[Member], target_wins: int) -> tuple[int, ...]:
    """The members to cancel: once ``target_wins`` of them are WON, every one that has not fired; else none.
    A bid already sent cannot be taken back, so those are kept whatever they become."""
    members = tuple(members)
    if not group_reached(sum(1 for m in members if m.status is SnipeStatus.WON), target_wins):
        return ()
    return tuple(m.pk for m in members if m.status in NOT_FIRED_STATUSES)


def fires_too_soon(members: Sequence[Member], *, needed_s: float) -> list[tuple[Member, Member, float]]:
    """Pairs (earlier, later, gap) of one group where the later member, not yet fired, fires less than
    ``needed_s`` after the earlier one ends: too soon to learn that result, so both may be won."""
    ordered = sorted(members, key=lambda m: m.end_epoch)
    close = []
    for earlier, later in itertools.pairwise(ordered):
        if later.status not in NOT_FIRED_STATUSES:
            continue
        gap = later.fire_epoch - earlier.end_epoch
        if gap < needed_s:
            close.append((earlier, later, gap))
    return close
