"""How amounts and countdowns read in the window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sniper_app.ui.formatting import format_money, format_time_left
from sniper_app.ui.history import plain_amount

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("left", "text"),
    [
        (timedelta(days=2, hours=3, minutes=59), "2d 03h"),
        (timedelta(hours=3, minutes=4, seconds=59), "3h 04m"),
        (timedelta(minutes=4, seconds=5), "4m 05s"),
        (timedelta(seconds=9, milliseconds=999), "9s"),
        (timedelta(milliseconds=999), "ended"),
        (timedelta(seconds=-5), "ended"),
    ],
)
def test_countdown(left: timedelta, text: str) -> None:
    assert format_time_left(NOW + left, NOW) == text


def test_countdown_without_end_is_blank() -> None:
    assert format_time_left(None, NOW) == ""


def test_money_uses_the_domain_and_survives_unknown_currencies() -> None:
    assert format_money(123_450, "USD") == "$1,234.50"
    assert format_money(2_500, "JPY") == "¥2,500"
    assert format_money(799, "XYZ") == "XYZ 7.99"
    assert format_money(None, "USD") == ""
    assert plain_amount(123_450, "USD") == "1234.50"
    assert plain_amount(2_500, "JPY") == "2500"
    assert plain_amount(None, "USD") == ""
