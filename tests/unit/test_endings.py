"""The outcome told from a stored row: derived codes for rows without one, and how late a bid was, and why."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sniper_app.domain.endings import EndedRow, late_by, lateness, outcome_of, read_outcome
from sniper_app.domain.outcomes import CODE_STATUSES, LateCause, OutcomeCode
from sniper_app.domain.status import FINAL_STATUSES, SnipeStatus

S = SnipeStatus
END = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _row(status: SnipeStatus, reason: str | None = None, **kw: object) -> EndedRow:
    return EndedRow(status=status, currency="USD", max_bid_minor=5000, end_time=END, status_reason=reason,
                    **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("row", "code", "words"), [
    (_row(S.WON, final_price_minor=4200), OutcomeCode.WON, "Won at $42.00, saving $8.00 below your maximum of $50.00."),
    (_row(S.LOST, final_price_minor=5100), OutcomeCode.OUTBID, "it went for $51.00; your maximum was $50.00"),
    (_row(S.LOST, final_price_minor=5000), OutcomeCode.TIE_LOST, "same maximum of $50.00 earlier"),
    (_row(S.SKIPPED, "Skipped: the next bid eBay accepts ($51.00) is above your maximum ($50.00)."),
     OutcomeCode.BELOW_MINIMUM, "least bid eBay accepted"),
    (_row(S.SKIPPED, "Skipped: the price ($50.00) already reached your maximum ($50.00).", current_price_minor=5000),
     OutcomeCode.PRICE_PASSED_MAX, "the price reached $50.00 before the fire"),
    (_row(S.MISSED, "The bid time passed while the app was not running."), OutcomeCode.MISSED_CLOSED, "Missed"),
    (_row(S.CANCELLED, "Cancelled by the user."), OutcomeCode.CANCELLED, "Cancelled before it fired"),
    (_row(S.CANCELLED, "Not needed: group “lenses” already won 1 of 1."), OutcomeCode.GROUP_DONE, "its group"),
    (_row(S.FAILED, "The auction ended early (ended by the seller or bought with Buy It Now)."),
     OutcomeCode.ENDED_EARLY, "ended early"),
    (_row(S.FAILED, "eBay refused the bid.", ebay_message="You are not eligible to bid on this item."),
     OutcomeCode.EBAY_REFUSED, "You are not eligible to bid on this item"),
    (_row(S.FAILED, "The bid could not be sent (connection refused)."), OutcomeCode.NOT_SENT, "could not be sent"),
    (_row(S.FAILED, "The bid could not be sent: no valid eBay sign-in before the fire."),
     OutcomeCode.SIGN_IN_LOST, "sign-in was lost"),
    (_row(S.FAILED, "Unexpected error after the bid: KeyError: 'x'"), OutcomeCode.FAILED, "KeyError"),
])
def test_an_old_row_gets_a_derived_code_and_a_sentence_with_its_numbers(
        row: EndedRow, code: OutcomeCode, words: str) -> None:
    outcome = read_outcome(row, None, None)
    assert outcome is not None
    assert (outcome.code, outcome.derived) == (code, True)
    assert words in outcome.sentence


def test_a_stored_outcome_is_read_as_stored_and_a_live_snipe_has_none() -> None:
    stored = read_outcome(_row(S.LOST, final_price_minor=5000), "outbid", "Outbid: as the engine said.")
    assert stored is not None
    assert (stored.code, stored.sentence, stored.derived) == (OutcomeCode.OUTBID, "Outbid: as the engine said.", False)
    assert read_outcome(_row(S.PLACED), None, None) is None
    assert outcome_of(_row(S.SCHEDULED), OutcomeCode.WON) is None


def test_a_code_that_does_not_fit_the_status_is_not_kept() -> None:
    outcome = outcome_of(_row(S.CANCELLED, "Cancelled by the user."), OutcomeCode.WON)
    assert outcome is not None
    assert (outcome.code, outcome.derived) == (OutcomeCode.CANCELLED, True)


@given(st.sampled_from(sorted(FINAL_STATUSES)), st.text(max_size=80), st.none() | st.integers(1, 10**7),
       st.none() | st.text(max_size=40))
def test_every_ended_row_gets_a_code_its_status_allows(status: SnipeStatus, reason: str, final: int | None,
                                                       message: str | None) -> None:
    outcome = read_outcome(_row(status, reason, final_price_minor=final, ebay_message=message), None, None)
    assert outcome is not None
    assert status in CODE_STATUSES[outcome.code]
    assert outcome.sentence.strip()


def _timed(sent_before_end_s: float, latency_ms: float, reply_ms: float, offset_ms: float = 0.0,
           planned_delay_s: float = 0.0) -> EndedRow:
    end_local = END - timedelta(milliseconds=offset_ms)
    sent = end_local - timedelta(seconds=sent_before_end_s)
    return _row(S.FAILED, planned_at=sent - timedelta(seconds=planned_delay_s), sent_at=sent,
                reply_at=sent + timedelta(milliseconds=reply_ms), latency_ms=latency_ms, clock_offset_ms=offset_ms)


def test_a_bid_held_up_on_the_way_was_late_because_of_the_network() -> None:
    late_s, cause = late_by(_timed(-0.2, latency_ms=100, reply_ms=1200))
    # Half the 1.2 s round trip on the way, not the 100 ms measured: it arrived 0.2 + 0.6 s after the end.
    assert late_s == pytest.approx(0.8)
    assert cause is LateCause.NETWORK


def test_an_old_not_sent_row_says_its_cause_once() -> None:
    found = outcome_of(_row(S.FAILED, "The bid could not be sent (connect failed: ConnectionRefusedError)."))
    assert found is not None
    assert found.sentence == ("Not bid: the bid of $50.00 could not leave this computer, because the network did not "
                              "reach eBay (connect failed: ConnectionRefusedError).")


def test_a_bid_that_never_got_an_answer_was_held_up_by_the_network_by_an_unknown_amount() -> None:
    row = dataclasses.replace(_timed(0.99, latency_ms=100, reply_ms=0), reply_at=None)
    found = lateness(row)
    assert (found.late_by_s, found.cause) == (None, LateCause.NETWORK)
    assert found.sent_before_end_s == pytest.approx(0.99)
    assert found.round_trip_s is None


def test_an_offset_measured_since_tells_how_far_the_clock_was_off_and_how_late_the_bid_was() -> None:
    # Planned with no offset; eBay's clock has since been measured 2 s ahead: sent 1 s before the end by this
    # computer's clock, it reached eBay 1 s (plus the 100 ms trip) after.
    found = lateness(_timed(1.0, latency_ms=100, reply_ms=210), offset_now_ms=2000)
    assert found.cause is LateCause.CLOCK
    assert found.clock_off_by_s == pytest.approx(2.0)
    assert found.late_by_s == pytest.approx(1.1)
    # The same offset measured again says nothing new.
    assert lateness(_timed(1.0, latency_ms=100, reply_ms=210), offset_now_ms=10).clock_off_by_s is None


def test_a_bid_that_by_this_clock_arrived_in_time_was_late_because_of_the_clock() -> None:
    late_s, cause = late_by(_timed(0.5, latency_ms=100, reply_ms=210))
    assert late_s is None
    assert cause is LateCause.CLOCK


def test_a_bid_that_left_long_after_its_plan_was_late_because_the_computer_slept() -> None:
    late_s, cause = late_by(_timed(-3.0, latency_ms=100, reply_ms=210, planned_delay_s=4.0))
    assert late_s == pytest.approx(3.1)
    assert cause is LateCause.SLEEP


def test_a_maximum_that_included_shipping_is_told_against_the_bid_and_the_landed_cost() -> None:
    landed = {"includes_shipping": True, "shipping_minor": 500, "shipping_currency": "USD"}
    won = outcome_of(_row(S.WON, final_price_minor=3000, **landed), OutcomeCode.WON)
    assert won is not None
    assert won.sentence == "Won at $30.00 + $5.00 shipping = $35.00, saving $15.00 below your maximum of $50.00."
    # Lost at exactly the $45.00 bid (not the $50.00 maximum): a tie.
    tie = outcome_of(_row(S.LOST, final_price_minor=4500, **landed))
    assert tie is not None
    assert tie.code is OutcomeCode.TIE_LOST
    outbid = outcome_of(_row(S.LOST, final_price_minor=4500, import_charges_minor=100, import_charges_currency="USD",
                             **landed))
    assert outbid is not None
    assert outbid.sentence == ("Outbid: it went for $45.00; you bid $44.00, your maximum of $50.00 less $6.00 "
                               "shipping and import charges.")
