"""How the read path turns a stored snipe into what the record counts: an outcome code the snipe's status
allows, and the lead its bid actually went out with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from sniper_app.domain.outcomes import CODE_STATUSES, OutcomeCode
from sniper_app.domain.rules import AUTO_LEAD
from sniper_app.domain.status import FINAL_STATUSES, SnipeStatus
from sniper_app.domain.views import SnipeView
from sniper_app.store.views import ended_of, fired_lead, outcome_code

END = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)


def _view(status: SnipeStatus, **fields: object) -> SnipeView:
    base: dict[str, object] = {"id": 1, "legacy_item_id": "1", "title": "t", "currency": "USD",
                               "max_bid_minor": 5_000, "lead_seconds": 5.0, "end_time": END, "status": status}
    return SnipeView(**(base | fields))  # type: ignore[arg-type]


@given(status=st.sampled_from(list(SnipeStatus)), final=st.none() | st.integers(1, 20_000),
       maximum=st.integers(1, 20_000))
def test_every_ended_snipe_gets_a_code_its_status_allows(status: SnipeStatus, final: int | None, maximum: int) -> None:
    view = _view(status, final_price_minor=final, max_bid_minor=maximum)
    code = outcome_code(view)
    if status not in FINAL_STATUSES:
        assert code is None
        assert ended_of(view) is None
        return
    assert code is not None
    assert status in CODE_STATUSES[code]
    ended = ended_of(view)
    assert ended is not None
    assert (ended.code, ended.maximum.minor, ended.ended_at) == (code, maximum, END)


def test_a_loss_at_exactly_the_maximum_is_a_lost_tie_and_any_other_loss_is_outbid() -> None:
    assert outcome_code(_view(SnipeStatus.LOST, final_price_minor=5_000)) is OutcomeCode.TIE_LOST
    assert outcome_code(_view(SnipeStatus.LOST, final_price_minor=5_100)) is OutcomeCode.OUTBID
    assert outcome_code(_view(SnipeStatus.LOST)) is OutcomeCode.OUTBID
    assert outcome_code(_view(SnipeStatus.MISSED)) is OutcomeCode.MISSED_CLOSED


def test_the_lead_is_the_one_the_fire_planned_with() -> None:
    # On a clock 400 ms behind eBay's, a send planned 2.5 s + 80 ms latency before the end as that clock saw it.
    planned = END + timedelta(milliseconds=400) - timedelta(seconds=2.5, milliseconds=80)
    fired = _view(SnipeStatus.WON, lead_seconds=AUTO_LEAD, planned_at=planned, clock_offset_ms=-400.0,
                  latency_ms=80.0)
    assert fired_lead(fired) == 2.5
    assert fired_lead(_view(SnipeStatus.LOST, lead_seconds=7.0)) == 7.0  # no record: the lead it was set to
    assert fired_lead(_view(SnipeStatus.WON, lead_seconds=AUTO_LEAD)) is None  # automatic, never recorded
    assert fired_lead(_view(SnipeStatus.CANCELLED)) is None  # never fired
