"""What the engine chose for a snipe with an automatic lead, read back from its history for any front end.

The engine records each choice (and why) as a history note when it hands the bid over; the window's detail
view and ``snipe list`` show the latest one.
"""

from __future__ import annotations

from sniper_app.domain.history import HistoryAction
from sniper_app.domain.lead import AUTO_LEAD, LeadChoice
from sniper_app.domain.views import SnipeView
from sniper_app.store import Store

LEAD_KEY = "lead_auto_s"


def latest_lead_choice(store: Store, snipe_id: int) -> LeadChoice | None:
    for event in store.history_page(snipe_id=snipe_id, actions=HistoryAction.NOTE, limit=50).rows:
        details = event.details
        if isinstance(details, dict) and isinstance(details.get(LEAD_KEY), int | float):
            return LeadChoice(float(details[LEAD_KEY]), str(details.get("why") or ""))
    return None


def lead_text(snipe: SnipeView, choice: LeadChoice | None) -> str:
    """The lead as a person reads it: "5 s", or "auto: 1.2 s (why)" once the engine has chosen."""
    if snipe.lead_seconds != AUTO_LEAD:
        return f"{snipe.lead_seconds:g} s"
    if choice is None:
        return "auto (chosen when the bid is handed over, from the measured latency)"
    return f"auto: {choice.seconds:g} s ({choice.why})"
