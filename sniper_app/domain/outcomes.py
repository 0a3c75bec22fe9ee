"""Every ended snipe's outcome: a stable code (kept in the database and in JSON) and a sentence with the numbers.

Pure: facts in, text out. Templates go through ``translate`` before they are filled in, as in
:mod:`sniper_app.domain.timing`, so the window can hand in Qt's translator. Amounts show in the listing's own
currency, with eBay's conversion beside them ("£46.00 ≈ $58.97") when the facts carry one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sniper_app.domain.money import Money, near_price
from sniper_app.domain.spending import cap_sentence
from sniper_app.domain.status import SnipeStatus

Translate = Callable[[str], str]


def _same(text: str) -> str:
    return text


class OutcomeCode(StrEnum):
    """Stored and printed as is: never rename a value, only add new ones."""

    WON = "won"
    OUTBID = "outbid"  # LOST: another bidder's maximum was higher
    TIE_LOST = "tie_lost"  # LOST: an earlier bid of the same maximum wins the tie
    BELOW_MINIMUM = "below_minimum"  # the least bid eBay accepted at the fire was above the maximum
    PRICE_PASSED_MAX = "price_passed_max"  # SKIPPED: the price reached the maximum before the fire
    SPENDING_CAP = "spending_cap"  # SKIPPED: wins since the snipe was added used up the cap's room
    LATE = "late"  # the bid reached eBay after the end
    SIGN_IN_LOST = "sign_in_lost"  # the eBay sign-in was gone at the fire
    ENDED_EARLY = "ended_early"  # ended by the seller, or bought outright, before the fire
    EBAY_REFUSED = "ebay_refused"  # eBay answered the bid with an error
    NOT_SENT = "not_sent"  # the bid could not leave this computer (network down at the fire)
    MISSED_CLOSED = "missed_closed"  # the fire came while the app was closed or the computer asleep
    CANCELLED = "cancelled"  # by the user before it fired
    GROUP_DONE = "group_done"  # cancelled: its group had already won what it wanted
    FAILED = "failed"  # anything else that stopped the bid; the sentence carries the reason


# The statuses each code may end a snipe in: the wiring must never pair them otherwise.
_S = SnipeStatus
CODE_STATUSES: dict[OutcomeCode, frozenset[SnipeStatus]] = {
    OutcomeCode.WON: frozenset({_S.WON}),
    OutcomeCode.OUTBID: frozenset({_S.LOST}),
    OutcomeCode.TIE_LOST: frozenset({_S.LOST}),
    OutcomeCode.BELOW_MINIMUM: frozenset({_S.SKIPPED, _S.FAILED}),
    OutcomeCode.PRICE_PASSED_MAX: frozenset({_S.SKIPPED}),
    OutcomeCode.SPENDING_CAP: frozenset({_S.SKIPPED}),
    OutcomeCode.LATE: frozenset({_S.FAILED, _S.MISSED}),
    OutcomeCode.SIGN_IN_LOST: frozenset({_S.FAILED}),
    OutcomeCode.ENDED_EARLY: frozenset({_S.FAILED}),
    OutcomeCode.EBAY_REFUSED: frozenset({_S.FAILED}),
    OutcomeCode.NOT_SENT: frozenset({_S.FAILED}),
    OutcomeCode.MISSED_CLOSED: frozenset({_S.MISSED}),
    OutcomeCode.CANCELLED: frozenset({_S.CANCELLED}),
    OutcomeCode.GROUP_DONE: frozenset({_S.CANCELLED}),
    OutcomeCode.FAILED: frozenset({_S.FAILED, _S.MISSED}),
}

# Auctions taken part in and not won; the user's own choices (cancel, group done, cap) are neither won nor lost.
LOSS_CODES = frozenset(OutcomeCode) - {
    OutcomeCode.WON, OutcomeCode.CANCELLED, OutcomeCode.GROUP_DONE, OutcomeCode.SPENDING_CAP}
# Outcomes whose bid went out, so the lead time had its say in them.
FIRED_CODES = frozenset({OutcomeCode.WON, OutcomeCode.OUTBID, OutcomeCode.TIE_LOST, OutcomeCode.LATE})


class LateCause(StrEnum):
    NETWORK = "network"  # the bid took longer on the way than measured
    CLOCK = "clock"  # this computer's clock, corrected by the measured offset, was still off
    SLEEP = "sleep"  # the computer slept through the send instant
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Conversion:
    """eBay's conversion of the listing's price into the user's currency: the rate for the "≈" amounts."""

    own: Money
    converted: Money


@dataclass(frozen=True, slots=True)
class OutcomeFacts:
    code: OutcomeCode
    maximum: Money
    final_price: Money | None = None  # the price the auction ended at
    # won / outbid / tie_lost of a maximum that includes the charges: what was bid (the maximum less them), and
    # what they were ("shipping", "shipping and import charges").
    bid: Money | None = None
    charges_what: str = "shipping"
    price_at_fire: Money | None = None  # price_passed_max: the price that reached the maximum
    minimum_bid: Money | None = None  # below_minimum: the least bid eBay accepted
    late_by_s: float | None = None  # late: how long after the end the bid reached eBay
    late_cause: LateCause = LateCause.UNKNOWN
    sent_before_end_s: float | None = None  # late: how long before the end the bid left (when late_by_s is unknown)
    round_trip_s: float | None = None  # late, network: the round trip the reply took (None: no reply came)
    latency_s: float | None = None  # late, network: the one-way latency measured and planned with
    clock_off_by_s: float | None = None  # late, clock: how far the offset used was from the one measured since
    ebay_error_id: str | None = None
    ebay_message: str | None = None
    asleep: bool | None = None  # missed_closed: True asleep, False closed, None not known which
    paused: bool = False  # missed_closed: sniping was paused at the fire
    group_won: int | None = None  # group_done: the wins the group had
    group_target: int | None = None
    cap: Money | None = None  # spending_cap: the cap, the won and the pending it was judged on
    cap_won: Money | None = None
    cap_pending: Money | None = None
    cap_period_days: int | None = None
    cap_pending_charges: Money | None = None  # the shipping and import charges inside cap_pending
    detail: str | None = None  # failed / not_sent: the reason in the engine's words
    attempts: int | None = None  # not_sent: how many times the app tried to send it
    conversion: Conversion | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    code: OutcomeCode
    sentence: str


_LATE_CAUSES = {
    LateCause.NETWORK: "the network was slower than measured",
    LateCause.CLOCK: "this computer's clock was off",
    LateCause.SLEEP: "the computer was asleep at the send time",
}


def explain_outcome(facts: OutcomeFacts, translate: Translate = _same) -> Outcome:
    return Outcome(facts.code, outcome_sentence(facts, translate))


def outcome_sentence(facts: OutcomeFacts, translate: Translate = _same) -> str:
    """The outcome in one or two sentences, with every amount the facts give for it."""
    t = translate

    def fmt(amount: Money) -> str:
        conv = facts.conversion
        return near_price(amount, conv.own, conv.converted) if conv is not None else amount.format()

    mx = fmt(facts.maximum)
    code = facts.code
    price = facts.final_price
    bid = facts.bid if facts.bid is not None and facts.bid.currency == facts.maximum.currency else None
    if bid is not None and code in (OutcomeCode.WON, OutcomeCode.OUTBID, OutcomeCode.TIE_LOST):
        return _landed_ending(facts, bid, fmt, t)
    if code is OutcomeCode.WON:
        if price is None:
            return t("Won; eBay did not give the final price (your maximum was {max}).").format(max=mx)
        saved = facts.maximum - price if price.currency == facts.maximum.currency else None
        if saved is not None and saved.minor > 0:
            return t("Won at {price}, saving {saved} below your maximum of {max}.").format(
                price=fmt(price), saved=fmt(saved), max=mx)
        return t("Won at {price}, your maximum was {max}.").format(price=fmt(price), max=mx)
    if code is OutcomeCode.OUTBID:
        if price is None:
            return t("Outbid: another bidder's maximum was higher than your {max}.").format(max=mx)
        return t("Outbid: it went for {price}; your maximum was {max}.").format(price=fmt(price), max=mx)
    if code is OutcomeCode.TIE_LOST:
        went = "" if price is None else t(" It went for {price}.").format(price=fmt(price))
        return t("Lost on a tie: another bidder placed the same maximum of {max} earlier, and eBay gives a tie to "
                 "the earlier bid.").format(max=mx) + went
    if code in (OutcomeCode.BELOW_MINIMUM, OutcomeCode.PRICE_PASSED_MAX) and bid is not None:
        # What could not win was the bid, the maximum less the charges it includes.
        less = t("your maximum of {max} less {charges} {what}").format(
            max=mx, charges=fmt(facts.maximum - bid), what=t(facts.charges_what))
        yours = t("your bid of {bid} ({less})").format(bid=fmt(bid), less=less)
    else:
        yours = t("your maximum of {max}").format(max=mx)
    if code is OutcomeCode.BELOW_MINIMUM:
        if facts.minimum_bid is None:
            return t("Not bid: at the fire the least bid eBay accepted was above {yours}.").format(yours=yours)
        return t("Not bid: at the fire the least bid eBay accepted was {minimum}, above {yours}.").format(
            minimum=fmt(facts.minimum_bid), yours=yours)
    if code is OutcomeCode.PRICE_PASSED_MAX:
        if facts.price_at_fire is None:
            return t("Skipped: the price passed {yours} before the fire; no bid was sent.").format(yours=yours)
        return t("Skipped: the price reached {price} before the fire, passing {yours}; no bid was sent.").format(
            price=fmt(facts.price_at_fire), yours=yours)
    if code is OutcomeCode.SPENDING_CAP:
        cap, won, pending, days = facts.cap, facts.cap_won, facts.cap_pending, facts.cap_period_days
        if cap is None or won is None or pending is None or days is None:
            return t("Skipped: the bid of {max} would have passed your spending cap.").format(max=mx)
        numbers = cap_sentence(cap, days, won, pending, pending_charges=facts.cap_pending_charges)
        return t("Skipped: the bid of {max} would have passed {numbers}.").format(max=mx, numbers=numbers)
    if code is OutcomeCode.LATE:
        return _late(facts, mx, t)
    if code is OutcomeCode.SIGN_IN_LOST:
        return t("Not bid: the eBay sign-in was lost before the bid of {max} could go out; sign in again to keep "
                 "sniping.").format(max=mx)
    if code is OutcomeCode.ENDED_EARLY:
        at = "" if price is None else t(" at {price}").format(price=fmt(price))
        return t("The auction ended early{at} (ended by the seller or bought outright) before your bid of {max} "
                 "went out.").format(at=at, max=mx)
    if code is OutcomeCode.EBAY_REFUSED:
        return _refused(facts, mx, t)
    if code is OutcomeCode.NOT_SENT:
        return _not_sent(facts, mx, t)
    if code is OutcomeCode.MISSED_CLOSED:
        if facts.paused:
            where = t("sniping was paused")
        elif facts.asleep is None:
            where = t("the app was closed or the computer asleep")
        else:
            where = t("the computer was asleep") if facts.asleep else t("the app was closed")
        return t("Missed: {where} when the bid of {max} was due, and the auction ended.").format(where=where, max=mx)
    if code is OutcomeCode.CANCELLED:
        return t("Cancelled before it fired: no bid of {max} was sent.").format(max=mx)
    if code is OutcomeCode.GROUP_DONE:
        if facts.group_won is None or facts.group_target is None:
            return t("Cancelled: its group had already won what you wanted, so the bid of {max} was not "
                     "needed.").format(max=mx)
        return t("Cancelled: its group had already won {won} of the {target} you wanted, so the bid of {max} was "
                 "not needed.").format(won=facts.group_won, target=facts.group_target, max=mx)
    why = _clause(facts.detail) or t("no reason was given")
    return t("Failed: {why} (your maximum was {max}).").format(why=why, max=mx)


def _landed_ending(facts: OutcomeFacts, bid: Money, fmt: Callable[[Money], str], t: Translate) -> str:
    """Won, outbid or tied with a maximum that includes the charges: the bid was the maximum less them, and
    what winning cost is the price plus them."""
    charges = facts.maximum - bid
    what = t(facts.charges_what)
    mx, price = fmt(facts.maximum), facts.final_price
    less = t("your maximum of {max} less {charges} {what}").format(max=mx, charges=fmt(charges), what=what)
    if facts.code is OutcomeCode.WON:
        if price is None or price.currency != bid.currency:
            return t("Won; eBay did not give the final price (you bid {bid}, {less}).").format(bid=fmt(bid), less=less)
        paid = price + charges
        saved = facts.maximum - paid
        landed = t("{price} + {charges} {what} = {paid}").format(price=fmt(price), charges=fmt(charges), what=what,
                                                                   paid=fmt(paid))
        if saved.minor > 0:
            return t("Won at {landed}, saving {saved} below your maximum of {max}.").format(
                landed=landed, saved=fmt(saved), max=mx)
        return t("Won at {landed}, your maximum was {max}.").format(landed=landed, max=mx)
    if facts.code is OutcomeCode.TIE_LOST:
        went = "" if price is None else t(" It went for {price}.").format(price=fmt(price))
        return t("Lost on a tie: another bidder placed the same bid of {bid} earlier ({less}), and eBay gives a tie to "
                 "the earlier bid.").format(bid=fmt(bid), less=less) + went
    if price is None:
        return t("Outbid: another bidder's maximum was higher than your bid of {bid} ({less}).").format(
            bid=fmt(bid), less=less)
    return t("Outbid: it went for {price}; you bid {bid}, {less}.").format(price=fmt(price), bid=fmt(bid), less=less)


def _late(facts: OutcomeFacts, mx: str, t: Translate) -> str:
    cause = _LATE_CAUSES.get(facts.late_cause)
    because = "" if cause is None else t(", because {cause}").format(cause=t(cause))
    if facts.late_cause is LateCause.CLOCK and facts.clock_off_by_s is not None:
        because += t(" by {s} s").format(s=f"{abs(facts.clock_off_by_s):.2f}")
    if facts.late_cause is LateCause.NETWORK and facts.latency_s is not None:
        ms = facts.latency_s * 1000
        measured = t("{ms} ms").format(ms=f"{ms:.0f}") if ms >= 1 else t("under 1 ms")
        if facts.round_trip_s is not None:
            because += t(" (its round trip took {rt} s; {measured} each way was measured)").format(
                rt=f"{facts.round_trip_s:.2f}", measured=measured)
        else:
            because += t(" (no answer came back; {measured} each way was measured)").format(measured=measured)
    if facts.late_by_s is not None:
        return t("Too late: the bid of {max} reached eBay about {s} s after the end{because}.").format(
            max=mx, s=f"{max(facts.late_by_s, 0.0):.2f}", because=because)
    if facts.sent_before_end_s is not None and facts.sent_before_end_s > 0:
        return t("Too late: the bid of {max} left {s} s before the end but did not reach eBay in "
                 "time{because}.").format(max=mx, s=f"{facts.sent_before_end_s:.2f}", because=because)
    return t("Too late: the bid of {max} did not reach eBay before the end{because}.").format(
        max=mx, because=because)


# The fire's words for an attempt that never left: this computer could not reach eBay over the network.
_NETWORK_ERRORS = ("connect failed", "send failed")


def _not_sent(facts: OutcomeFacts, mx: str, t: Translate) -> str:
    why = _clause(facts.detail)
    tries = ""
    if facts.attempts is not None and facts.attempts > 1:
        tries = t("; it tried {n} times before the end").format(n=facts.attempts)
    if not why:
        return t("Not bid: the bid of {max} could not be sent (no connection to eBay){tries}.").format(
            max=mx, tries=tries)
    if why.startswith(_NETWORK_ERRORS):
        return t("Not bid: the bid of {max} could not leave this computer, because the network did not reach eBay "
                 "({why}){tries}.").format(max=mx, why=why, tries=tries)
    return t("Not bid: the bid of {max} could not be sent ({why}){tries}.").format(max=mx, why=why, tries=tries)


def _refused(facts: OutcomeFacts, mx: str, t: Translate) -> str:
    message = _clause(facts.ebay_message)
    error_id = (facts.ebay_error_id or "").strip()
    if message and error_id:
        return t("eBay refused the bid of {max}: {message} (error {id}).").format(max=mx, message=message, id=error_id)
    if message:
        return t("eBay refused the bid of {max}: {message}.").format(max=mx, message=message)
    if error_id:
        return t("eBay refused the bid of {max} with error {id}.").format(max=mx, id=error_id)
    return t("eBay refused the bid of {max} without saying why.").format(max=mx)


def _clause(text: str | None) -> str:
    """Text to embed mid-sentence: trimmed, without its closing full stop."""
    return (text or "").strip().rstrip(".").strip()
