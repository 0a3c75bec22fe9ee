"""The user's record: by UTC month, money saved, win rate by lead time, outcomes by count."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sniper_app.domain.money import Money
from sniper_app.domain.outcomes import FIRED_CODES, LOSS_CODES, OutcomeCode
from sniper_app.domain.stats import LEAD_EDGES, Ended, record

C = OutcomeCode


def usd(major: str) -> Money:
    return Money.of(major, "USD")


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def test_empty_record() -> None:
    got = record([])
    assert got.total == 0
    assert got.months == ()
    assert got.saved == {}
    assert all(b.tries == 0 and b.win_rate is None for b in got.leads)
    assert got.codes == ()


def test_won_and_lost_by_utc_month() -> None:
    # 23:30 on 31 October in New York is 1 November in UTC: the record goes by UTC.
    new_york = timezone(timedelta(hours=-4))
    ended = [
        Ended(datetime(2026, 10, 31, 23, 30, tzinfo=new_york), C.WON, usd("10"), usd("8")),
        Ended(at("2026-10-15"), C.OUTBID, usd("10"), usd("12")),
        Ended(at("2026-10-16"), C.CANCELLED, usd("10")),
        Ended(at("2026-11-02"), C.LATE, usd("10")),
        Ended(at("2026-09-30", 23), C.SPENDING_CAP, usd("10")),
    ]
    months = [(r.month, r.won, r.lost) for r in record(ended).months]
    assert months == [("2026-10", 0, 1), ("2026-11", 1, 1)]


def test_a_win_costs_its_price_plus_the_charges_and_saves_against_the_landed_cost_when_included() -> None:
    got = record([
        # $30.00 + $5.00 shipping against a $50.00 maximum that did not include it: $20.00 saved, $35.00 spent.
        Ended(at("2026-11-02"), C.WON, usd("50"), usd("30"), charges=usd("5")),
        # The same with a maximum that included the shipping: $15.00 saved.
        Ended(at("2026-11-03"), C.WON, usd("50"), usd("30"), charges=usd("5"), includes_shipping=True),
    ])
    assert got.saved == {"USD": usd("35")}
    assert got.spent == {"USD": usd("70")}


def test_money_saved_and_spent_per_currency() -> None:
    ended = [
        Ended(at("2026-11-01"), C.WON, usd("100"), usd("80")),
        Ended(at("2026-11-02"), C.WON, usd("50"), usd("50")),
        Ended(at("2026-11-03"), C.WON, Money.of("40", "GBP"), Money.of("31.50", "GBP")),
        Ended(at("2026-11-04"), C.WON, usd("30")),  # no final price: neither saved nor spent is known
        Ended(at("2026-11-05"), C.OUTBID, usd("500"), usd("600")),
    ]
    got = record(ended)
    assert got.saved == {"GBP": Money.of("8.50", "GBP"), "USD": usd("20")}
    assert got.spent == {"GBP": Money.of("31.50", "GBP"), "USD": usd("130")}


def test_win_rate_by_lead_time() -> None:
    ended = [
        Ended(at("2026-11-01"), C.WON, usd("1"), usd("1"), lead_seconds=1.0),
        Ended(at("2026-11-01"), C.OUTBID, usd("1"), usd("2"), lead_seconds=1.9),
        Ended(at("2026-11-01"), C.WON, usd("1"), usd("1"), lead_seconds=2.0),
        Ended(at("2026-11-01"), C.WON, usd("1"), usd("1"), lead_seconds=45),
        Ended(at("2026-11-01"), C.CANCELLED, usd("1"), lead_seconds=3),  # never fired: no say on leads
        Ended(at("2026-11-01"), C.OUTBID, usd("1"), usd("2")),  # lead unknown
    ]
    leads = {b.label: (b.tries, b.wins, b.win_rate) for b in record(ended).leads}
    assert leads == {
        "0–2 s": (2, 1, 0.5),
        "2–5 s": (1, 1, 1.0),
        "5–10 s": (0, 0, None),
        "10–30 s": (0, 0, None),
        "30 s or more": (1, 1, 1.0),
    }


def test_outcomes_by_count_most_frequent_first() -> None:
    ended = [Ended(at("2026-11-01"), code, usd("1")) for code in (C.LATE, C.WON, C.OUTBID, C.WON, C.OUTBID, C.WON)]
    assert record(ended).codes == ((C.WON, 3), (C.OUTBID, 2), (C.LATE, 1))


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        record([Ended(datetime(2026, 11, 1), C.WON, usd("1"))])  # noqa: DTZ001 - the mistake under test


def test_json_form_keeps_money_exact() -> None:
    got = record([Ended(at("2026-11-01"), C.WON, usd("100"), usd("80.05"), lead_seconds=4)]).as_dict()
    assert got["saved"] == [{"value": "19.95", "currency": "USD"}]
    assert got["outcomes"] == [{"code": "won", "count": 1}]
    assert got["lead_times"][-1]["to_s"] is None
    json.dumps(got)


# --- properties ---------------------------------------------------------------------------------------------

currencies = st.sampled_from(["USD", "GBP", "JPY"])


@st.composite
def ended_snipes(draw: st.DrawFn) -> Ended:
    cur = draw(currencies)
    when = draw(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1),  # noqa: DTZ001
                             timezones=st.sampled_from([UTC, timezone(timedelta(hours=-7)),
                                                        timezone(timedelta(hours=9))])))
    final = draw(st.none() | st.builds(Money, st.integers(0, 10**8), st.just(cur)))
    return Ended(when, draw(st.sampled_from(list(OutcomeCode))), Money(draw(st.integers(1, 10**8)), cur), final,
                 draw(st.none() | st.floats(0, 200, allow_nan=False)))


@given(st.lists(ended_snipes(), max_size=40))
def test_counts_add_up(ended: list[Ended]) -> None:
    got = record(ended)
    assert got.total == len(ended) == sum(n for _, n in got.codes)
    assert sum(r.won for r in got.months) == sum(1 for e in ended if e.code is C.WON)
    assert sum(r.lost for r in got.months) == sum(1 for e in ended if e.code in LOSS_CODES)
    assert [r.month for r in got.months] == sorted({r.month for r in got.months})
    fired = [e for e in ended if e.code in FIRED_CODES and e.lead_seconds is not None]
    assert sum(b.tries for b in got.leads) == len(fired)
    assert sum(b.wins for b in got.leads) == sum(1 for e in fired if e.code is C.WON)
    for bucket in got.leads:
        assert 0 <= bucket.wins <= bucket.tries
        assert bucket.win_rate is None or 0.0 <= bucket.win_rate <= 1.0
    assert len(got.leads) == len(LEAD_EDGES) - 1


@given(st.lists(ended_snipes(), max_size=40))
def test_saved_is_never_negative_and_never_above_the_maxima(ended: list[Ended]) -> None:
    got = record(ended)
    for cur, saved in got.saved.items():
        maxima = sum(e.maximum.minor for e in ended if e.code is C.WON and e.maximum.currency == cur)
        assert 0 <= saved.minor <= maxima
