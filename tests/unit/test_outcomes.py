"""Every outcome code has a sentence with its numbers, in the listing's money and eBay's conversion beside it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sniper_app.domain.money import Money, near_price
from sniper_app.domain.outcomes import (
    CODE_STATUSES,
    FIRED_CODES,
    LOSS_CODES,
    Conversion,
    LateCause,
    OutcomeCode,
    OutcomeFacts,
    explain_outcome,
    outcome_sentence,
)
from sniper_app.domain.status import FINAL_STATUSES, SnipeStatus

C = OutcomeCode


def usd(major: str) -> Money:
    return Money.of(major, "USD")


MAX = usd("135")


def say(code: OutcomeCode, **kw: object) -> str:
    return outcome_sentence(OutcomeFacts(code, MAX, **kw))  # type: ignore[arg-type]


def test_codes_are_the_stable_strings_stored() -> None:
    assert {c.value for c in OutcomeCode} == {
        "won", "outbid", "tie_lost", "below_minimum", "price_passed_max", "spending_cap", "late", "sign_in_lost",
        "ended_early", "ebay_refused", "not_sent", "missed_closed", "cancelled", "group_done", "failed",
    }
    assert OutcomeCode("tie_lost") is C.TIE_LOST


def test_every_code_ends_a_snipe_in_a_final_status_and_every_final_status_has_a_code() -> None:
    assert set(CODE_STATUSES) == set(OutcomeCode)
    for statuses in CODE_STATUSES.values():
        assert statuses
        assert statuses <= FINAL_STATUSES
    assert set().union(*CODE_STATUSES.values()) == FINAL_STATUSES
    assert C.WON not in LOSS_CODES
    assert FIRED_CODES - {C.WON} <= LOSS_CODES
    assert CODE_STATUSES[C.PRICE_PASSED_MAX] == {SnipeStatus.SKIPPED}


@pytest.mark.parametrize(
    ("code", "kwargs", "expected"),
    [
        (C.WON, {"final_price": usd("120")}, "Won at $120.00, saving $15.00 below your maximum of $135.00."),
        (C.WON, {"final_price": usd("135")}, "Won at $135.00, your maximum was $135.00."),
        (C.WON, {}, "Won; eBay did not give the final price (your maximum was $135.00)."),
        (C.OUTBID, {"final_price": usd("137.50")}, "Outbid: it went for $137.50; your maximum was $135.00."),
        (C.OUTBID, {}, "Outbid: another bidder's maximum was higher than your $135.00."),
        (C.TIE_LOST, {"final_price": usd("135")},
         "Lost on a tie: another bidder placed the same maximum of $135.00 earlier, and eBay gives a tie to the "
         "earlier bid. It went for $135.00."),
        (C.BELOW_MINIMUM, {"minimum_bid": usd("136")},
         "Not bid: at the fire the least bid eBay accepted was $136.00, above your maximum of $135.00."),
        (C.PRICE_PASSED_MAX, {"price_at_fire": usd("140")},
         "Skipped: the price reached $140.00 before the fire, passing your maximum of $135.00; no bid was sent."),
        (C.SPENDING_CAP, {"cap": usd("300"), "cap_won": usd("280"), "cap_pending": usd("0"), "cap_period_days": 30},
         "Skipped: the bid of $135.00 would have passed your spending cap of $300.00 for 30 days: $280.00 won and "
         "$0.00 pending leave $20.00."),
        (C.SPENDING_CAP, {"cap": usd("300"), "cap_won": usd("150"), "cap_pending": usd("140"), "cap_period_days": 30,
                          "cap_pending_charges": usd("12.50")},
         "Skipped: the bid of $135.00 would have passed your spending cap of $300.00 for 30 days: $150.00 won and "
         "$140.00 pending including $12.50 shipping leave $10.00."),
        (C.LATE, {"late_by_s": 0.4321, "late_cause": LateCause.NETWORK},
         "Too late: the bid of $135.00 reached eBay about 0.43 s after the end, because the network was slower than "
         "measured."),
        (C.LATE, {"late_by_s": 0.4321, "late_cause": LateCause.NETWORK, "round_trip_s": 2.5, "latency_s": 0.04},
         "Too late: the bid of $135.00 reached eBay about 0.43 s after the end, because the network was slower than "
         "measured (its round trip took 2.50 s; 40 ms each way was measured)."),
        (C.LATE, {"late_cause": LateCause.NETWORK, "sent_before_end_s": 0.987, "latency_s": 0.04},
         "Too late: the bid of $135.00 left 0.99 s before the end but did not reach eBay in time, because the network "
         "was slower than measured (no answer came back; 40 ms each way was measured)."),
        (C.LATE, {"late_by_s": 1.5, "late_cause": LateCause.CLOCK},
         "Too late: the bid of $135.00 reached eBay about 1.50 s after the end, because this computer's clock was "
         "off."),
        (C.LATE, {"late_by_s": 1.04, "late_cause": LateCause.CLOCK, "clock_off_by_s": -2.0},
         "Too late: the bid of $135.00 reached eBay about 1.04 s after the end, because this computer's clock was "
         "off by 2.00 s."),
        (C.LATE, {}, "Too late: the bid of $135.00 did not reach eBay before the end."),
        (C.SIGN_IN_LOST, {},
         "Not bid: the eBay sign-in was lost before the bid of $135.00 could go out; sign in again to keep sniping."),
        (C.ENDED_EARLY, {"final_price": usd("99")},
         "The auction ended early at $99.00 (ended by the seller or bought outright) before your bid of $135.00 "
         "went out."),
        (C.EBAY_REFUSED, {"ebay_error_id": "120017", "ebay_message": "The bid amount is too low."},
         "eBay refused the bid of $135.00: The bid amount is too low (error 120017)."),
        (C.EBAY_REFUSED, {}, "eBay refused the bid of $135.00 without saying why."),
        (C.WON, {"final_price": usd("100"), "bid": usd("125")},
         "Won at $100.00 + $10.00 shipping = $110.00, saving $25.00 below your maximum of $135.00."),
        (C.WON, {"final_price": usd("125"), "bid": usd("125"), "charges_what": "shipping and import charges"},
         "Won at $125.00 + $10.00 shipping and import charges = $135.00, your maximum was $135.00."),
        (C.OUTBID, {"final_price": usd("126"), "bid": usd("125")},
         "Outbid: it went for $126.00; you bid $125.00, your maximum of $135.00 less $10.00 shipping."),
        (C.TIE_LOST, {"final_price": usd("125"), "bid": usd("125")},
         "Lost on a tie: another bidder placed the same bid of $125.00 earlier (your maximum of $135.00 less $10.00 "
         "shipping), and eBay gives a tie to the earlier bid. It went for $125.00."),
        (C.PRICE_PASSED_MAX, {"price_at_fire": usd("126"), "bid": usd("125")},
         "Skipped: the price reached $126.00 before the fire, passing your bid of $125.00 (your maximum of $135.00 "
         "less $10.00 shipping); no bid was sent."),
        (C.BELOW_MINIMUM, {"minimum_bid": usd("126"), "bid": usd("125")},
         "Not bid: at the fire the least bid eBay accepted was $126.00, above your bid of $125.00 (your maximum of "
         "$135.00 less $10.00 shipping)."),
        (C.NOT_SENT, {"detail": "connection refused."},
         "Not bid: the bid of $135.00 could not be sent (connection refused)."),
        (C.NOT_SENT, {"detail": "connect failed: ConnectionRefusedError", "attempts": 7},
         "Not bid: the bid of $135.00 could not leave this computer, because the network did not reach eBay (connect "
         "failed: ConnectionRefusedError); it tried 7 times before the end."),
        (C.NOT_SENT, {}, "Not bid: the bid of $135.00 could not be sent (no connection to eBay)."),
        (C.MISSED_CLOSED, {"asleep": True},
         "Missed: the computer was asleep when the bid of $135.00 was due, and the auction ended."),
        (C.MISSED_CLOSED, {},
         "Missed: the app was closed or the computer asleep when the bid of $135.00 was due, and the auction ended."),
        (C.CANCELLED, {}, "Cancelled before it fired: no bid of $135.00 was sent."),
        (C.GROUP_DONE, {"group_won": 2, "group_target": 2},
         "Cancelled: its group had already won 2 of the 2 you wanted, so the bid of $135.00 was not needed."),
        (C.FAILED, {"detail": "eBay does not have this bid."},
         "Failed: eBay does not have this bid (your maximum was $135.00)."),
    ],
)
def test_each_outcome_reads_with_its_numbers(code: OutcomeCode, kwargs: dict[str, object], expected: str) -> None:
    assert say(code, **kwargs) == expected


def test_converted_amounts_show_beside_the_listings_own() -> None:
    facts = OutcomeFacts(C.OUTBID, Money.of("46", "GBP"), final_price=Money.of("50", "GBP"),
                         conversion=Conversion(Money.of("50", "GBP"), usd("64")))
    assert outcome_sentence(facts) == "Outbid: it went for £50.00 ≈ $64.00; your maximum was £46.00 ≈ $58.88."


def test_templates_go_through_translate() -> None:
    seen: list[str] = []

    def translate(text: str) -> str:
        seen.append(text)
        return text.replace("Outbid", "Überboten")

    got = outcome_sentence(OutcomeFacts(C.OUTBID, MAX, final_price=usd("140")), translate)
    assert got.startswith("Überboten: it went for $140.00")
    assert seen == ["Outbid: it went for {price}; your maximum was {max}."]
    assert explain_outcome(OutcomeFacts(C.WON, MAX)).code is C.WON


# --- properties ---------------------------------------------------------------------------------------------

# The amounts each code's sentence shows (with the "≈" conversion), and the cap's figures shown as they are.
Shown = Callable[[OutcomeFacts], list[Money]]
SHOWN: dict[OutcomeCode, Shown] = {
    C.WON: lambda f: [f.maximum, *([f.final_price] if f.final_price else [])],
    C.OUTBID: lambda f: [f.maximum, *([f.final_price] if f.final_price else [])],
    C.TIE_LOST: lambda f: [f.maximum, *([f.final_price] if f.final_price else [])],
    C.BELOW_MINIMUM: lambda f: [f.maximum, *([f.minimum_bid] if f.minimum_bid else [])],
    C.PRICE_PASSED_MAX: lambda f: [f.maximum, *([f.price_at_fire] if f.price_at_fire else [])],
    C.ENDED_EARLY: lambda f: [f.maximum, *([f.final_price] if f.final_price else [])],
    **{c: (lambda f: [f.maximum]) for c in (C.SPENDING_CAP, C.LATE, C.SIGN_IN_LOST, C.EBAY_REFUSED, C.NOT_SENT,
                                            C.MISSED_CLOSED, C.CANCELLED, C.GROUP_DONE, C.FAILED)},
}


def test_the_table_of_shown_amounts_covers_every_code() -> None:
    assert set(SHOWN) == set(OutcomeCode)


currencies = st.sampled_from(["USD", "GBP", "EUR", "JPY", "CHF"])


@st.composite
def outcome_facts(draw: st.DrawFn) -> OutcomeFacts:
    cur = draw(currencies)

    def amount() -> Money | None:
        return draw(st.none() | st.builds(Money, st.integers(0, 10**9), st.just(cur)))

    maximum = Money(draw(st.integers(1, 10**9)), cur)
    conversion = None
    if draw(st.booleans()):
        conversion = Conversion(Money(draw(st.integers(1, 10**7)), cur),
                                Money(draw(st.integers(1, 10**7)), draw(currencies)))
    return OutcomeFacts(
        draw(st.sampled_from(list(OutcomeCode))), maximum,
        final_price=amount(), price_at_fire=amount(), minimum_bid=amount(),
        late_by_s=draw(st.none() | st.floats(0, 1000)), late_cause=draw(st.sampled_from(list(LateCause))),
        ebay_error_id=draw(st.none() | st.text(max_size=8)), ebay_message=draw(st.none() | st.text(max_size=40)),
        asleep=draw(st.none() | st.booleans()),
        cap=amount(), cap_won=amount(), cap_pending=amount(), cap_period_days=draw(st.none() | st.integers(1, 366)),
        detail=draw(st.none() | st.text(max_size=40)), conversion=conversion,
    )


@given(outcome_facts())
def test_the_sentence_always_carries_the_amounts_given(facts: OutcomeFacts) -> None:
    sentence = outcome_sentence(facts)
    assert sentence.strip()
    conv = facts.conversion
    for amount in SHOWN[facts.code](facts):
        shown = near_price(amount, conv.own, conv.converted) if conv else amount.format()
        assert shown in sentence
    if facts.code is C.WON and facts.final_price is not None and facts.final_price < facts.maximum:
        saved = facts.maximum - facts.final_price
        assert (near_price(saved, conv.own, conv.converted) if conv else saved.format()) in sentence
    if facts.code is C.SPENDING_CAP and None not in (facts.cap, facts.cap_won, facts.cap_pending,
                                                      facts.cap_period_days):
        for figure in (facts.cap, facts.cap_won, facts.cap_pending):
            assert figure is not None
            assert figure.format() in sentence
    if facts.code is C.EBAY_REFUSED and (facts.ebay_error_id or "").strip():
        assert (facts.ebay_error_id or "").strip() in sentence
