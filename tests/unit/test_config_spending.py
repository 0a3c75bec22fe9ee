"""The spending cap settings: whatever is typed, a canonical cap or one sentence naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sniper_app.config import APPLIES, Settings, SettingsError, env_name, load_settings, save_settings
from sniper_app.domain.spending import parse_spending_cap

_AMOUNT = st.builds(lambda units, cents, code: f"{units}.{cents:02d} {code}", st.integers(0, 10**6),
                    st.integers(0, 99), st.sampled_from(["USD", "gbp", "EUR", "CAD"]))


@given(st.one_of(st.text(max_size=40), st.lists(_AMOUNT, max_size=3).map(", ".join)))
def test_any_text_is_a_canonical_cap_or_one_sentence(text: str) -> None:
    try:
        settings = load_settings(environ={env_name("spending_cap"): text}, path=Path("/nonexistent/settings.json"))
    except SettingsError as exc:
        message = str(exc)
        assert message.startswith(f"Setting 'spending_cap' (from {env_name('spending_cap')}): ")
        assert message.endswith(".")
        assert not message.endswith("..")
        assert "\n" not in message
        return
    # What is kept reads back to the same amounts, and is written the same way again.
    caps = parse_spending_cap(settings.spending_cap)
    assert caps == parse_spending_cap(text)
    assert Settings(spending_cap=settings.spending_cap).spending_cap == settings.spending_cap


@example("¹")  # a digit to str.isdigit, not to int()
@given(st.one_of(st.integers(-5, 400), st.text(max_size=5)))
def test_the_period_is_whole_days_from_1_to_366(value: int | str) -> None:
    try:
        days = Settings(spending_period_days=value).spending_period_days  # type: ignore[arg-type]
    except ValueError:
        text = str(value).strip()
        assert not (text.isascii() and text.isdigit() and 1 <= int(text) <= 366)
        return
    assert days == int(str(value).strip())
    assert 1 <= days <= 366


def test_the_cap_and_period_apply_live_and_save_canonical(tmp_path: Path) -> None:
    assert APPLIES["spending_cap"] == APPLIES["spending_period_days"] == "live"
    assert Settings().spending_cap == ""
    assert Settings().spending_period_days == 30
    saved = save_settings({"spending_cap": "300 usd; 1,000 JPY"}, path=tmp_path / "s.json")
    assert saved.spending_cap == "1000 JPY, 300.00 USD"
    with pytest.raises(SettingsError, match=r"^Setting 'spending_period_days' \(from your change\): The spending "
                                            r"period must be a whole number of days from 1 to 366, not '0'\.$"):
        save_settings({"spending_period_days": "0"}, path=tmp_path / "s.json")
