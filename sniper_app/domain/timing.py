"""A snipe's timing record and outcome told in sentences a user (or a bug report) can read.

Pure: plain values in, text out. The instants of the record (planned, sent, reply) were read on the local
clock, the auction end is eBay's; the clock offset used at the fire (eBay = local + offset) relates them.
Every template goes through ``translate`` before it is filled in, so the window can hand in Qt's
translator while tests and the CLI read plain English.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal

from sniper_app.domain.money import Money, MoneyError
from sniper_app.domain.status import SnipeStatus

Translate = Callable[[str], str]


def _same(text: str) -> str:
    return text


@dataclass(frozen=True, slots=True)
class TimingFacts:
    """What the explanation needs of a snipe: its plan, its timing record and its outcome."""

    status: SnipeStatus
    end_time: datetime  # eBay's clock, aware UTC
    lead_seconds: float
    currency: str
    max_bid_minor: int
    status_reason: str | None = None
    planned_at: datetime | None = None  # local clock
    sent_at: datetime | None = None  # local clock
    reply_at: datetime | None = None  # local clock
    clock_offset_ms: float | None = None
    latency_ms: float | None = None
    attempts: int = 0
    ebay_message: str | None = None
    final_price_minor: int | None = None
    # The ended snipe's outcome sentence (sniper_app.domain.outcomes): told in place of the status's own.
    outcome: str | None = None


def money_text(minor: int, currency: str) -> str:
    """``$1,234.50``; a currency the domain does not know still shows, with its code."""
    try:
        return Money(minor, currency).format()
    except MoneyError:
        return f"{currency} {Decimal(minor).scaleb(-2):,.2f}"


def duration_text(delta: timedelta, translate: Translate = _same) -> str:
    """A rough, friendly length: ``45 s``, ``3 min``, ``2 h 13 min``, ``2 days 5 h``."""
    total = max(int(delta.total_seconds()), 0)
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        unit = translate("1 day") if days == 1 else translate("{n} days").format(n=days)
        return unit if not hours else translate("{days} {h} h").format(days=unit, h=hours)
    if hours:
        return translate("{h} h {m} min").format(h=hours, m=minutes) if minutes else translate("{h} h").format(h=hours)
    if minutes:
        return translate("{m} min").format(m=minutes)
    return translate("{s} s").format(s=seconds)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?" else text + "."


def _clock_time(at: datetime, tz: tzinfo | None) -> str:
    return at.astimezone(tz).strftime("%H:%M:%S")


def _before_or_after(seconds: float, translate: Translate, digits: int) -> str:
    if seconds >= 0:
        return translate("{s} s before the end").format(s=f"{seconds:.{digits}f}")
    return translate("{s} s after the end").format(s=f"{-seconds:.{digits}f}")


def fire_record_sentences(facts: TimingFacts, translate: Translate = _same) -> list[str]:
    """The fire as it happened: when the bid left, when eBay got it, with which clock correction."""
    if facts.sent_at is None:
        return []
    offset_s = (facts.clock_offset_ms or 0.0) / 1000
    latency_s = (facts.latency_ms or 0.0) / 1000
    # The end as the local clock saw it: every instant of the record is on that clock.
    end_local = facts.end_time - timedelta(seconds=offset_s)
    sent_before = (end_local - facts.sent_at).total_seconds()
    first = translate("Bid sent {when}").format(when=_before_or_after(sent_before, translate, 3))
    if facts.planned_at is not None:
        planned_before = (end_local - facts.planned_at).total_seconds()
        first += translate(" (planned {s} s)").format(s=f"{planned_before:.3f}")
    arrived_before = sent_before - latency_s
    first += translate("; eBay received it about {when}").format(when=_before_or_after(arrived_before, translate, 2))
    sentences = [_sentence(first)]
    if facts.clock_offset_ms is not None or facts.latency_ms is not None:
        sentences.append(
            translate("Clock offset used {offset} s, latency {latency} ms.").format(
                offset=_signed_seconds(offset_s), latency=f"{(facts.latency_ms or 0.0):.0f}"
            )
        )
    if facts.attempts > 1:
        sentences.append(translate("Sent {n} times: the first attempts failed on the way.").format(n=facts.attempts))
    elif facts.reply_at is not None:
        reply_ms = (facts.reply_at - facts.sent_at).total_seconds() * 1000
        sentences.append(translate("eBay answered {ms} ms after the bid left.").format(ms=f"{reply_ms:.0f}"))
    return sentences


def _ebay_says(facts: TimingFacts, translate: Translate) -> list[str]:
    message = (facts.ebay_message or "").strip()
    if not message or message == (facts.status_reason or "").strip():
        return []
    return [_sentence(translate("eBay: {message}").format(message=message))]


def _reason(facts: TimingFacts) -> list[str]:
    reason = (facts.status_reason or "").strip()
    return [_sentence(reason)] if reason else []


def explain_snipe(
    facts: TimingFacts, now: datetime, *, tz: tzinfo | None = None, translate: Translate = _same
) -> list[str]:
    """Sentences that tell what became (or will become) of a snipe; ``tz`` None is the local zone."""
    status = facts.status
    maximum = money_text(facts.max_bid_minor, facts.currency)
    if facts.outcome and status.is_final:
        # One wording of every ending: the outcome's, after the fire record when a bid went out.
        fired = status in (SnipeStatus.WON, SnipeStatus.LOST, SnipeStatus.FAILED)
        record = fire_record_sentences(facts, translate) if fired else []
        told = (facts.ebay_message or "").strip().rstrip(".")
        says = fired and not (told and told in facts.outcome)
        return [*record, _sentence(facts.outcome), *(_ebay_says(facts, translate) if says else [])]
    if status in (SnipeStatus.PENDING, SnipeStatus.SCHEDULED):
        fire_at = facts.end_time - timedelta(seconds=facts.lead_seconds)
        lead = f"{facts.lead_seconds:g}"
        if fire_at <= now:
            first = translate("Due to fire now, {lead} s before the end.").format(lead=lead)
        else:
            first = translate("Fires at {time} local time, in {left}, so the bid reaches eBay {lead} s before the end.")
            first = first.format(time=_clock_time(fire_at, tz), left=duration_text(fire_at - now, translate), lead=lead)
        sentences = [first]
        if status is SnipeStatus.PENDING:
            sentences.append(translate("Not armed yet: the engine arms it when it runs and is not paused."))
        return sentences
    if status is SnipeStatus.PLACING:
        sentences = [translate("The bid of {max} is being sent to eBay now.").format(max=maximum)]
        return sentences + fire_record_sentences(facts, translate) + _ebay_says(facts, translate)
    if status is SnipeStatus.PLACED:
        sentences = fire_record_sentences(facts, translate)
        sentences.append(
            translate("eBay has the bid of {max}; the result comes when the auction ends at {time} local time.").format(
                max=maximum, time=_clock_time(facts.end_time, tz)
            )
        )
        return sentences + _ebay_says(facts, translate)
    if status is SnipeStatus.WON:
        sentences = fire_record_sentences(facts, translate)
        if facts.final_price_minor is None:
            sentences.append(translate("Won."))
        else:
            price = money_text(facts.final_price_minor, facts.currency)
            saving = facts.max_bid_minor - facts.final_price_minor
            if saving > 0:
                sentences.append(
                    translate("Won at {price}, {saving} below your maximum of {max}.").format(
                        price=price, saving=money_text(saving, facts.currency), max=maximum
                    )
                )
            else:
                sentences.append(translate("Won at {price}, your full maximum.").format(price=price))
        return sentences + _ebay_says(facts, translate)
    if status is SnipeStatus.LOST:
        sentences = fire_record_sentences(facts, translate)
        if facts.final_price_minor is None:
            lost = translate("Lost: another bidder's maximum was higher than your {max}.")
            sentences.append(lost.format(max=maximum))
        else:
            sentences.append(
                translate("Lost: the auction ended at {price}; your maximum was {max}.").format(
                    price=money_text(facts.final_price_minor, facts.currency), max=maximum
                )
            )
        return sentences + _ebay_says(facts, translate)
    if status is SnipeStatus.CANCELLED:
        return [translate("Cancelled before it fired: no bid was sent."), *_reason(facts)]
    if status is SnipeStatus.SKIPPED:
        return [translate("Skipped: no bid was sent."), *_reason(facts)]
    if status is SnipeStatus.MISSED:
        # A missed bid may have left (a crash mid-send) but eBay never had it: its record would mislead.
        return [translate("Missed: no bid reached eBay before the end."), *_reason(facts)]
    # FAILED
    reason = _sentence(facts.status_reason or translate("no reason given"))
    failed = translate("Failed: {reason}").format(reason=reason)
    return [*fire_record_sentences(facts, translate), failed, *_ebay_says(facts, translate)]


def _signed_seconds(seconds: float) -> str:
    """``+0.012``, ``-0.250``; an offset that rounds to nothing is ``+0.000``, never ``-0.000``."""
    # round() keeps the sign of a tiny negative (-0.0); adding 0.0 turns negative zero into zero.
    return f"{round(seconds, 3) + 0.0:+.3f}"
