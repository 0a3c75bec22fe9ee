"""The snipe list's layout: a title cut to the columns left, counting wide characters as two."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sniper_app.cli.snipe import _clip, _columns


def test_a_title_that_fits_is_left_whole_and_a_long_one_ends_in_an_ellipsis() -> None:
    assert _clip("Lamp", 10) == "Lamp"
    assert _clip("Brass desk lamp", 10) == "Brass des…"
    # Each of these takes two columns in a terminal.
    assert _columns("カメラ") == 6
    assert _clip("カメラレンズ", 7) == "カメラ…"


@given(st.text(max_size=120), st.integers(1, 100))
def test_a_clipped_title_never_takes_more_columns_than_given(title: str, width: int) -> None:
    clipped = _clip(title, width)
    assert _columns(clipped) <= width
    if _columns(title) <= width:
        assert clipped == title
    else:
        assert clipped.endswith("…")
        assert title.startswith(clipped[:-1])
