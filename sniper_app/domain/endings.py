"""How a snipe ended, told from what its row holds: the outcome code the engine gave it, or one derived.

Pure. The engine names the outcome where it decides the ending (it knows the verdict and its numbers); a
status change that came without one, and rows written before outcomes were kept, get a best-effort code
from the status, its reason and the timing record, marked as derived so no front end shows an empty cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sniper_app.domain.landed import stored_bid_minor
from sniper_app.domain.money import Money, MoneyError
from sniper_app.domain.outcomes import (
    CODE_STATUSES,
    LateCause,
    Outcome,
    OutcomeCode,
    OutcomeFacts,
    explain_outcome,
)
from sniper_app.domain.status import FINAL_STATUSES, SnipeStatus

# eBay's placeProxyBid errors that say how the auction ended, not what was wrong with the bid.
AUCTION_ENDED_ERROR = 120012
BOUGHT_OUTRIGHT_ERROR = 120002

# A bid whose reply took this many times the measured latency (and at least this much longer) was held up
# on the way: the network, not the clock, made it late.
_SLOW_FACTOR = 2.0
_SLOW_EXTRA_S = 0.05
# Offsets measured apart by less than this are the same clock: SNTP over a network is not finer.
_CLOCK_NOISE_S = 0.05


@dataclass(frozen=True, slots=True)
class EndedRow:
    """What the store holds of an ended snipe."""

    status: SnipeStatus
    currency: str
    max_bid_minor: int
    end_time: datetime  # eBay's clock
    status_reason: str | None = None
    final_price_minor: int | None = None
    current_price_minor: int | None = None
    planned_at: datetime | None = None  # the timing record, on the local clock
    sent_at: datetime | None = None
    reply_at: datetime | None = None
    clock_offset_ms: float | None = None
    latency_ms: float | None = None
    ebay_message: str | None = None
    # The landed cost the bid was judged on: when the maximum includes the charges, the bid was less them.
    includes_shipping: bool = False
    shipping_minor: int | None = None
    shipping_currency: str | None = None
    import_charges_minor: int | None = None
    import_charges_currency: str | None = None

    def bid_minor(self) -> int:
        """What was bid: the maximum, or less the charges when the maximum includes them."""
        return stored_bid_minor(self.max_bid_minor, self.currency, includes_shipping=self.includes_shipping,
                                shipping=_charge(self.shipping_minor, self.shipping_currency),
                                import_charges=_charge(self.import_charges_minor, self.import_charges_currency))


def _charge(minor: int | None, currency: str | None) -> Money | None:
    return Money(minor, currency) if minor is not None and currency else None


@dataclass(frozen=True, slots=True)
class StoredOutcome:
    code: OutcomeCode
    sentence: str
    derived: bool  # guessed from the status and its reason, not named by the engine at the ending


@dataclass(frozen=True, slots=True)
class Lateness:
    """How late a bid was and why, as far as the timing record (and the clock measured since) can tell."""

    late_by_s: float | None  # after the end, on eBay's clock (None: not known)
    cause: LateCause
    sent_before_end_s: float | None = None  # how long before the end it left (negative: after)
    round_trip_s: float | None = None  # the last attempt's send to reply (None: no reply came)
    latency_s: float | None = None  # the one-way latency the plan allowed for
    clock_off_by_s: float | None = None  # how far the offset used was from the one measured since


def lateness(row: EndedRow, *, offset_now_ms: float | None = None) -> Lateness:
    """How long after the end the bid reached eBay, and why, from the timing record.

    ``offset_now_ms`` is eBay's clock offset as measured now, which may show the one the send was planned with
    was off. The arrival is estimated from the send instant plus the one-way trip: the measured latency, or
    half the round trip when the reply showed the network slower than that. A bid that got no reply at all
    had its trip held up on the network (or lost there)."""
    if row.sent_at is None:
        return Lateness(None, LateCause.UNKNOWN)
    used_s = (row.clock_offset_ms or 0.0) / 1000
    offset_s = used_s if offset_now_ms is None else offset_now_ms / 1000
    off_by = None if offset_now_ms is None or abs(offset_s - used_s) < _CLOCK_NOISE_S else offset_s - used_s
    latency_s = None if row.latency_ms is None else row.latency_ms / 1000
    before_end = (row.end_time - timedelta(seconds=offset_s) - row.sent_at).total_seconds()
    round_trip = None if row.reply_at is None else (row.reply_at - row.sent_at).total_seconds()
    one_way: float | None = latency_s or 0.0
    if row.planned_at is not None and (row.sent_at - row.planned_at).total_seconds() > 1.0:
        cause = LateCause.SLEEP  # it left well after its planned instant: the computer was not running it
    elif round_trip is not None and latency_s is not None and \
            round_trip / 2 > max(latency_s * _SLOW_FACTOR, latency_s + _SLOW_EXTRA_S):
        cause, one_way = LateCause.NETWORK, round_trip / 2
    elif round_trip is None and latency_s is not None and off_by is None:
        # Sent, and no answer ever came back: the network held it up (or lost it) for longer than it had.
        cause, one_way = LateCause.NETWORK, None
    elif off_by is not None or round_trip is not None:
        # By this computer's reckoning it arrived in time (or the offset measured since says otherwise), yet
        # eBay saw it after the end: the clock.
        cause = LateCause.CLOCK
    else:
        cause = LateCause.UNKNOWN
    late_s = None if one_way is None else one_way - before_end
    return Lateness(late_s if late_s is not None and late_s > 0 else None, cause, before_end, round_trip, latency_s,
                    off_by)


def _shown_cause(found: Lateness) -> LateCause:
    if found.cause is LateCause.UNKNOWN and found.late_by_s is None and found.sent_before_end_s is not None:
        return LateCause.CLOCK  # sent, in time by this computer's reckoning, and still late: the clock
    return found.cause


def late_fields(found: Lateness) -> dict[str, object]:
    """The :class:`OutcomeFacts` fields of a late bid."""
    return {"late_by_s": found.late_by_s, "late_cause": _shown_cause(found),
            "sent_before_end_s": found.sent_before_end_s, "round_trip_s": found.round_trip_s,
            "latency_s": found.latency_s, "clock_off_by_s": found.clock_off_by_s}


def late_facts(maximum: Money, found: Lateness) -> OutcomeFacts:
    """The facts of a late bid for its sentence."""
    return OutcomeFacts(
        OutcomeCode.LATE, maximum, late_by_s=found.late_by_s, late_cause=_shown_cause(found),
        sent_before_end_s=found.sent_before_end_s, round_trip_s=found.round_trip_s, latency_s=found.latency_s,
        clock_off_by_s=found.clock_off_by_s)


_NOT_SENT_REASON = re.compile(r"^The bid could not be sent \((?P<why>.*)\)\.?$", re.DOTALL)


def not_sent_detail(reason: str | None) -> str | None:
    """The cause inside the engine's reason "The bid could not be sent (connect failed: …).", so the sentence
    does not say it twice."""
    found = _NOT_SENT_REASON.match((reason or "").strip())
    return found.group("why") if found else reason


def late_by(row: EndedRow, *, offset_now_ms: float | None = None) -> tuple[float | None, LateCause]:
    """:func:`lateness`, its amount and cause alone (a sent bid of no known cause: the clock)."""
    found = lateness(row, offset_now_ms=offset_now_ms)
    if found.cause is LateCause.UNKNOWN and row.sent_at is not None:
        return found.late_by_s, LateCause.CLOCK if found.late_by_s is None else LateCause.UNKNOWN
    return found.late_by_s, found.cause


def derive_code(row: EndedRow) -> OutcomeCode:
    """A best-effort code from the status and its reason, for an ending no code was given for."""
    status = row.status
    reason = (row.status_reason or "").lower()
    if status is SnipeStatus.WON:
        return OutcomeCode.WON
    if status is SnipeStatus.LOST:
        return OutcomeCode.TIE_LOST if row.final_price_minor == row.bid_minor() else OutcomeCode.OUTBID
    if status is SnipeStatus.CANCELLED:
        return OutcomeCode.GROUP_DONE if "group" in reason else OutcomeCode.CANCELLED
    if status is SnipeStatus.SKIPPED:
        if "cap" in reason:
            return OutcomeCode.SPENDING_CAP
        if "next bid" in reason or "least bid" in reason or "minimum" in reason:
            return OutcomeCode.BELOW_MINIMUM
        return OutcomeCode.PRICE_PASSED_MAX
    if status is SnipeStatus.MISSED:
        return OutcomeCode.MISSED_CLOSED
    if "ended early" in reason or "buy it now" in reason:
        return OutcomeCode.ENDED_EARLY
    if "too late" in reason or "auction has ended" in reason:
        return OutcomeCode.LATE
    if "sign-in" in reason or "link" in reason or "sign in" in reason:
        return OutcomeCode.SIGN_IN_LOST
    if row.ebay_message:
        return OutcomeCode.EBAY_REFUSED
    if "could not be sent" in reason:
        return OutcomeCode.NOT_SENT
    return OutcomeCode.FAILED


def _money(minor: int | None, currency: str) -> Money | None:
    return None if minor is None else Money(minor, currency)


def row_facts(row: EndedRow, code: OutcomeCode, **extra: object) -> OutcomeFacts:
    """The facts of ``code`` that the row holds; ``extra`` fills in what only the engine knew."""
    values: dict[str, object] = {"code": code, "maximum": Money(row.max_bid_minor, row.currency)}
    if code in (OutcomeCode.WON, OutcomeCode.OUTBID, OutcomeCode.TIE_LOST, OutcomeCode.ENDED_EARLY):
        values["final_price"] = _money(row.final_price_minor, row.currency)
    bid = row.bid_minor()
    if code in (OutcomeCode.WON, OutcomeCode.OUTBID, OutcomeCode.TIE_LOST) and bid != row.max_bid_minor:
        values["bid"] = Money(bid, row.currency)
        values["charges_what"] = "shipping and import charges" if row.import_charges_minor else "shipping"
    if code is OutcomeCode.PRICE_PASSED_MAX:
        values["price_at_fire"] = _money(row.current_price_minor, row.currency)
    if code is OutcomeCode.LATE:
        values.update(late_fields(lateness(row)))
    if code is OutcomeCode.EBAY_REFUSED:
        values["ebay_message"] = row.ebay_message
    if code is OutcomeCode.FAILED:
        values["detail"] = row.status_reason
    if code is OutcomeCode.NOT_SENT:
        values["detail"] = not_sent_detail(row.status_reason)
    values.update(extra)
    return OutcomeFacts(**values)  # type: ignore[arg-type]


def outcome_of(row: EndedRow, code: OutcomeCode | None = None, **extra: object) -> StoredOutcome | None:
    """The outcome of a snipe that ended in ``row.status``: ``code`` if the engine named one that fits the
    status, else derived. None while the snipe has not ended."""
    if row.status not in FINAL_STATUSES:
        return None
    derived = code is None or row.status not in CODE_STATUSES[code]
    chosen = derive_code(row) if derived or code is None else code
    try:
        outcome: Outcome = explain_outcome(row_facts(row, chosen, **extra))
    except MoneyError:
        return StoredOutcome(chosen, (row.status_reason or row.status.value.title()).strip(), derived)
    return StoredOutcome(chosen, outcome.sentence, derived)


def read_outcome(row: EndedRow, code: str | None, sentence: str | None) -> StoredOutcome | None:
    """The stored outcome of a row, or one derived for a row stored without (older rows)."""
    if row.status not in FINAL_STATUSES:
        return None
    if code and sentence:
        try:
            return StoredOutcome(OutcomeCode(code), sentence, False)
        except ValueError:
            pass
    derived = outcome_of(row)
    assert derived is not None
    return StoredOutcome(derived.code, derived.sentence, True)
