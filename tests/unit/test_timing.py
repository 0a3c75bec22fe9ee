"""The words a user reads about a snipe's fire and outcome, for every status."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from sniper_app.domain.status import SnipeStatus
from sniper_app.domain.timing import TimingFacts, duration_text, explain_snipe, money_text

END = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
PLUS2 = timezone(timedelta(hours=2))
# eBay's clock runs 2.5 s ahead of the local one: the local clock reads the end at END - 2.5 s.
END_LOCAL = END - timedelta(seconds=2.5)

BASE = TimingFacts(
    status=SnipeStatus.PLACED,
    end_time=END,
    lead_seconds=2.0,
    currency="USD",
    max_bid_minor=150_000,
)
FIRED = replace(
    BASE,
    planned_at=END_LOCAL - timedelta(seconds=2.040),
    sent_at=END_LOCAL - timedelta(seconds=2.043),
    reply_at=END_LOCAL - timedelta(seconds=1.963),
    clock_offset_ms=2500.0,
    latency_ms=40.0,
    attempts=1,
)


def text(facts: TimingFacts, now: datetime = END + timedelta(minutes=5)) -> str:
    return " ".join(explain_snipe(facts, now, tz=PLUS2))


def test_not_fired_yet_says_when_in_local_time_and_how_long() -> None:
    now = END - timedelta(minutes=3, seconds=2)
    scheduled = replace(BASE, status=SnipeStatus.SCHEDULED, lead_seconds=6.0)
    assert text(scheduled, now) == (
        "Fires at 13:59:54 local time, in 2 min, so the bid reaches eBay 6 s before the end."
    )
    pending = replace(scheduled, status=SnipeStatus.PENDING)
    assert text(pending, END - timedelta(hours=2, minutes=20)) == (
        "Fires at 13:59:54 local time, in 2 h 19 min, so the bid reaches eBay 6 s before the end. "
        "Not armed yet: the engine arms it when it runs and is not paused."
    )
    assert text(scheduled, END - timedelta(seconds=3)) == "Due to fire now, 6 s before the end."


def test_fired_and_placed_tells_the_timing_record_against_ebays_clock() -> None:
    assert text(replace(FIRED, ebay_message="outbid by a higher maximum")) == (
        "Bid sent 2.043 s before the end (planned 2.040 s); eBay received it about 2.00 s before the end. "
        "Clock offset used +2.500 s, latency 40 ms. eBay answered 80 ms after the bid left. "
        "eBay has the bid of $1,500.00; the result comes when the auction ends at 14:00:00 local time. "
        "eBay: outbid by a higher maximum."
    )


def test_a_late_bid_says_after_the_end_and_counts_retries() -> None:
    late = replace(FIRED, sent_at=END_LOCAL + timedelta(seconds=0.25), attempts=3, status=SnipeStatus.FAILED,
                   status_reason="eBay says the auction has ended", ebay_message="The auction has ended.")
    assert text(late) == (
        "Bid sent 0.250 s after the end (planned 2.040 s); eBay received it about 0.29 s after the end. "
        "Clock offset used +2.500 s, latency 40 ms. Sent 3 times: the first attempts failed on the way. "
        "Failed: eBay says the auction has ended. eBay: The auction has ended."
    )


def test_won_says_the_price_and_the_saving_against_the_maximum() -> None:
    won = replace(FIRED, status=SnipeStatus.WON, final_price_minor=123_450, status_reason="Won for $1,234.50.")
    assert text(won).endswith("Won at $1,234.50, $265.50 below your maximum of $1,500.00.")
    assert text(replace(won, final_price_minor=150_000)).endswith("Won at $1,500.00, your full maximum.")
    assert text(replace(BASE, status=SnipeStatus.WON)) == "Won."


def test_lost_says_where_the_auction_ended() -> None:
    lost = replace(FIRED, status=SnipeStatus.LOST, final_price_minor=160_000)
    assert text(lost).endswith("Lost: the auction ended at $1,600.00; your maximum was $1,500.00.")
    assert text(replace(BASE, status=SnipeStatus.LOST)) == (
        "Lost: another bidder's maximum was higher than your $1,500.00."
    )


def test_ends_without_a_bid_give_their_reason() -> None:
    assert text(replace(BASE, status=SnipeStatus.CANCELLED, status_reason="Cancelled by the user.")) == (
        "Cancelled before it fired: no bid was sent. Cancelled by the user."
    )
    assert text(replace(BASE, status=SnipeStatus.SKIPPED, status_reason="The price $1,600.00 passed your maximum")) == (
        "Skipped: no bid was sent. The price $1,600.00 passed your maximum."
    )
    missed = replace(FIRED, status=SnipeStatus.MISSED, status_reason="The app was closed at the fire instant.")
    assert text(missed) == "Missed: no bid reached eBay before the end. The app was closed at the fire instant."
    assert text(replace(BASE, status=SnipeStatus.FAILED, status_reason=None)) == "Failed: no reason given."


def test_placing_and_translation_hook() -> None:
    placing = replace(BASE, status=SnipeStatus.PLACING)
    assert text(placing) == "The bid of $1,500.00 is being sent to eBay now."
    marked = explain_snipe(placing, END, translate=lambda template: f"<{template}>")
    assert marked == ["<The bid of $1,500.00 is being sent to eBay now.>"]  # templates pass through it


def test_small_helpers() -> None:
    assert duration_text(timedelta(seconds=45)) == "45 s"
    assert duration_text(timedelta(days=2, hours=5, minutes=3)) == "2 days 5 h"
    assert duration_text(timedelta(days=1)) == "1 day"
    assert duration_text(timedelta(hours=3)) == "3 h"
    assert duration_text(timedelta(seconds=-5)) == "0 s"
    assert money_text(799, "GBP") == "£7.99"
    assert money_text(1234, "XYZ") == "XYZ 12.34"


def test_a_zero_or_vanishing_clock_offset_reads_plus_zero_never_minus_zero() -> None:
    for offset_ms in (0.0, -0.0, -0.0004, 0.0004):
        words = text(replace(FIRED, clock_offset_ms=offset_ms))
        assert "Clock offset used +0.000 s, latency 40 ms." in words
        assert "-0.000" not in words
    assert "Clock offset used -0.120 s" in text(replace(FIRED, clock_offset_ms=-120.0))
