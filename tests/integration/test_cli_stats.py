"""``sniper-app stats``: the record of a store seeded through the store's own writes, read by a real process."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sniper_app.domain.status import SnipeStatus
from sniper_app.store import Store
from tests.support.cli import run_cli

_S = SnipeStatus
FIRED_WON = (_S.SCHEDULED, _S.PLACING, _S.PLACED, _S.WON)
FIRED_LOST = (_S.SCHEDULED, _S.PLACING, _S.PLACED, _S.LOST)


def _seed(store: Store, item: str, currency: str, max_minor: int, end: datetime, path: tuple[SnipeStatus, ...],
          *, final: int | None = None, lead: float = 5.0, planned_lead: float | None = None) -> None:
    user = store.get_or_create_user()
    pk = int(store.create_snipe(int(user.id), legacy_item_id=item, currency=currency, max_bid_minor=max_minor,
                                end_time=end, lead_seconds=lead, title=f"Item {item}").id)
    for step in path:
        fields: dict[str, Any] = {"final_price_minor": final} if step in (_S.WON, _S.LOST) else {}
        if step is _S.PLACED and planned_lead is not None:
            # The record of the fire: sent with a 120 ms latency on a clock 250 ms ahead of eBay's.
            planned = end + timedelta(milliseconds=250 - 120) - timedelta(seconds=planned_lead)
            store.record_timing(pk, planned_at=planned, clock_offset_ms=-250.0, latency_ms=120.0, attempts=1)
        store.set_status(pk, step, **fields)


@pytest.fixture
def seeded(isolated_dirs: Path) -> Path:
    store = Store.open(isolated_dirs / "data")
    try:
        oct_, nov = datetime(2026, 10, 3, 18, 0, tzinfo=UTC), datetime(2026, 11, 30, 23, 59, tzinfo=UTC)
        _seed(store, "1001", "USD", 10_000, oct_, FIRED_WON, final=8_000, planned_lead=3.0)  # 2–5 s, saved $20
        _seed(store, "1002", "USD", 5_000, oct_, FIRED_LOST, final=6_000, lead=7.0)  # outbid, 5–10 s
        _seed(store, "1003", "USD", 4_000, nov, FIRED_LOST, final=4_000, planned_lead=1.5)  # tie, 0–2 s
        _seed(store, "1004", "GBP", 3_000, nov, FIRED_WON, final=2_550, lead=7.0)  # 5–10 s, saved £4.50
        _seed(store, "1005", "USD", 2_000, nov, (_S.CANCELLED,))
        _seed(store, "1006", "USD", 2_000, nov, (_S.SKIPPED,))
        _seed(store, "1007", "USD", 2_000, datetime.now(UTC) + timedelta(days=2), ())  # active: not in the record
    finally:
        store.close()
    return isolated_dirs


def test_stats_prints_the_record_as_a_table(seeded: Path) -> None:
    result = run_cli("stats")
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip("\n") == "\n".join([
        "Your record over 6 ended snipes.",
        "",
        "Won and lost by month (UTC):",
        "Month    Won  Lost",
        "2026-10    1     1",
        "2026-11    1     2",  # the tie and the skip: auctions taken part in and not won
        "",
        "Money saved against your maxima:",
        "Currency   Saved   Spent",
        "GBP        £4.50  £25.50",
        "USD       $20.00  $80.00",
        "",
        "Win rate by lead time (bids that went out):",
        "Lead          Tries  Wins  Rate",
        "0–2 s             1     0    0%",
        "2–5 s             1     1  100%",
        "5–10 s            2     1   50%",
        "10–30 s           0     0     —",
        "30 s or more      0     0     —",
        "",
        "Outcomes:",
        "Outcome           Count",
        "won                   2",
        "cancelled             1",
        "outbid                1",
        "price_passed_max      1",
        "tie_lost              1",
    ])


def test_stats_json_is_the_record(seeded: Path) -> None:
    result = run_cli("stats", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["total"] == 6
    assert data["months"] == [{"month": "2026-10", "won": 1, "lost": 1}, {"month": "2026-11", "won": 1, "lost": 2}]
    assert data["saved"] == [{"value": "4.50", "currency": "GBP"}, {"value": "20.00", "currency": "USD"}]
    assert data["spent"] == [{"value": "25.50", "currency": "GBP"}, {"value": "80.00", "currency": "USD"}]
    assert [(b["label"], b["tries"], b["wins"]) for b in data["lead_times"]] == [
        ("0–2 s", 1, 0), ("2–5 s", 1, 1), ("5–10 s", 2, 1), ("10–30 s", 0, 0), ("30 s or more", 0, 0)]
    assert data["outcomes"] == [
        {"code": "won", "count": 2}, {"code": "cancelled", "count": 1}, {"code": "outbid", "count": 1},
        {"code": "price_passed_max", "count": 1}, {"code": "tie_lost", "count": 1}]


@pytest.mark.usefixtures("isolated_dirs")
def test_stats_on_an_empty_store_says_so() -> None:
    result = run_cli("stats")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "No ended snipes yet: your record starts when the first one ends."
    empty = json.loads(run_cli("stats", "--json").stdout)
    assert (empty["total"], empty["months"], empty["outcomes"]) == (0, [], [])
