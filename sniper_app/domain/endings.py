"""How a snipe ended, told from what its row holds: the outcome code the engine gave it, or one derived.

Pure. The engine names the outcome where it decides the ending (it knows the verdict and its numbers); a
status change that came without one, and rows written before outcomes were kept, get a best-effort code
from the status, its reason and the timing record, marked as derived so no front end shows an empty cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

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


@dataclass(frozen=True, slots=True)
class StoredOutcome:
    code: OutcomeCode
    sentence: str
    derived: bool  # guessed from the status and its reason, not named by the engine at the ending


def late_by(row: EndedRow) -> tuple[float | None, LateCause]:
    """How long after the end the bid reached eBay, and why, from the timing record (None: not known)."""
    if row.sent_at is None:
        return None, LateCause.UNKNOWN
    offset_s = (row.clock_offset_ms or 0.0) / 1000
    latency_s = (row.latency_ms or 0.0) / 1000
    end_local = row.end_time - timedelta(seconds=offset_s)
    arrived = row.sent_at + timedelta(seconds=latency_s)
    late_s = (arrived - end_local).total_seconds()
    if row.planned_at is not None and (row.sent_at - row.planned_at).total_seconds() > 1.0:
        cause = LateCause.SLEEP  # it left well after its planned instant: the computer was not running it
    elif row.reply_at is not None and row.latency_ms is not None:
        half_trip = (row.reply_at - row.sent_at).total_seconds() / 2
        slow = half_trip > max(latency_s * _SLOW_FACTOR, latency_s + _SLOW_EXTRA_S)
        cause = LateCause.NETWORK if slow else LateCause.CLOCK
    else:
        cause = LateCause.UNKNOWN
    if late_s <= 0:
        # By this computer's reckoning the bid arrived in time, yet eBay saw it after the end: the clock.
        return None, LateCause.CLOCK if cause is not LateCause.SLEEP else cause
    return late_s, cause


def derive_code(row: EndedRow) -> OutcomeCode:
    """A best-effort code from the status and its reason, for an ending no code was given for."""
    status = row.status
    reason = (row.status_reason or "").lower()
    if status is SnipeStatus.WON:
        return OutcomeCode.WON
    if status is SnipeStatus.LOST:
        return OutcomeCode.TIE_LOST if row.final_price_minor == row.max_bid_minor else OutcomeCode.OUTBID
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
    if code is OutcomeCode.PRICE_PASSED_MAX:
        values["price_at_fire"] = _money(row.current_price_minor, row.currency)
    if code is OutcomeCode.LATE:
        values["late_by_s"], values["late_cause"] = late_by(row)
    if code is OutcomeCode.EBAY_REFUSED:
        values["ebay_message"] = row.ebay_message
    if code in (OutcomeCode.FAILED, OutcomeCode.NOT_SENT):
        values["detail"] = row.status_reason
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
