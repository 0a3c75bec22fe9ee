from __future__ import annotations

import logging

import pytest

from sniper_app.domain.status import SnipeStatus
from sniper_app.engine.bus import ClockMeasured, Event, EventBus, SnipeStatusChanged


def test_handlers_receive_only_their_event_type_in_order() -> None:
    bus = EventBus()
    seen: list[str] = []
    bus.subscribe(SnipeStatusChanged, lambda e: seen.append(f"a:{e.new}"))
    bus.subscribe(Event, lambda e: seen.append(f"all:{type(e).__name__}"))
    bus.subscribe(ClockMeasured, lambda e: seen.append(f"clock:{e.offset_s}"))
    bus.publish(SnipeStatusChanged(snipe_id=1, old=SnipeStatus.SCHEDULED, new=SnipeStatus.PLACING))
    bus.publish(ClockMeasured(offset_s=2.5, rtt_s=0.04, source="sntp"))
    assert seen == ["a:PLACING", "all:SnipeStatusChanged", "all:ClockMeasured", "clock:2.5"]


def test_a_failing_handler_is_logged_and_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    seen: list[int] = []

    def broken(event: SnipeStatusChanged) -> None:
        raise RuntimeError("tray gone")

    bus.subscribe(SnipeStatusChanged, broken)
    bus.subscribe(SnipeStatusChanged, lambda e: seen.append(e.snipe_id))
    with caplog.at_level(logging.ERROR):
        bus.publish(SnipeStatusChanged(snipe_id=7, old=None, new=SnipeStatus.PENDING))
    assert seen == [7]
    assert "tray gone" in caplog.text


def test_unsubscribe_stops_delivery() -> None:
    bus = EventBus()
    seen: list[int] = []
    unsubscribe = bus.subscribe(SnipeStatusChanged, lambda e: seen.append(e.snipe_id))
    bus.publish(SnipeStatusChanged(snipe_id=1, old=None, new=SnipeStatus.PENDING))
    unsubscribe()
    unsubscribe()
    bus.publish(SnipeStatusChanged(snipe_id=2, old=None, new=SnipeStatus.PENDING))
    assert seen == [1]


def test_event_times_are_aware_utc() -> None:
    event = ClockMeasured(offset_s=0.0, rtt_s=0.0, source="sntp")
    assert event.at.utcoffset() is not None
    assert event.at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
