"""History over 100,000 events: the first page at once, pages on scroll, SQL-side filters, full export."""

from __future__ import annotations

import csv
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sniper_app.domain.history import HistoryAction
from sniper_app.engine.reads import Reads
from sniper_app.store import Store
from sniper_app.store.db import to_epoch_us
from sniper_app.ui.history import HistoryFilter, export_history_csv
from sniper_app.ui.models import KEY_ROLE, MAX_CACHED_PAGES, HistoryColumn, HistoryModel
from sniper_app.ui.qt import QtCore, QtWidgets

EVENTS = 100_000
NOW = datetime(2030, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=100)
RARE = "Zorblaxian"
NO_PROFILE = 0  # the history is every profile's: its reads need none
WEIGHTED = [("SYNC", 50), ("SCHEDULE", 20), ("CREATE", 10), ("PLACE", 10), ("LOST", 6), ("WON", 3), ("FAIL", 1)]


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """One store for the whole module (building 100,000 events once keeps the file fast)."""
    store = Store.open(tmp_path_factory.mktemp("bighistory") / "data", clock=lambda: NOW)
    rng = random.Random(5)
    db = store.database
    now_us = to_epoch_us(NOW)
    span_ms = int(SPAN / timedelta(milliseconds=1))
    names = [a for a, _ in WEIGHTED]
    actions = rng.choices(names, [w for _, w in WEIGHTED], k=EVENTS)
    rows = []
    for n in range(EVENTS):
        item = rng.randrange(2_000)
        title = f"{RARE} lamp" if item == 1234 else f"Camera lot {item}"
        at = now_us - rng.randrange(span_ms) * 1000  # millisecond ties, as in a burst
        rows.append((at, actions[n], str(500_000 + item), title, 1_000 + n % 500, "USD", f"event {n}", at))
    with db.atomic("IMMEDIATE"):
        db.raw_connection().executemany(
            "INSERT INTO history_event (at, action, legacy_item_id, title, amount_minor, currency, message, "
            "expires_at) VALUES (?,?,?,?,?,?,?,?)",
            rows,
        )
    db.sql("ANALYZE")
    try:
        yield store
    finally:
        store.close()


def sql_keys(store: Store, where: str = "1", params: tuple[Any, ...] = ()) -> list[int]:
    cursor = store.database.sql(f"SELECT id FROM history_event WHERE {where} ORDER BY at DESC, id DESC", params)  # noqa: S608
    return [row[0] for row in cursor.fetchall()]


def loaded_keys(model: HistoryModel) -> list[int]:
    return [model.data(model.index(r, 0), KEY_ROLE) for r in range(model.rowCount())]


def test_first_page_shows_at_once(qapp: Any, big_store: Store) -> None:
    start = time.perf_counter()
    model = HistoryModel(Reads(big_store, NO_PROFILE), clock=lambda: NOW)
    elapsed = time.perf_counter() - start
    assert model.rowCount() == model.page_size == 200
    assert elapsed < 0.25, f"first page took {elapsed * 1000:.0f} ms"
    assert loaded_keys(model) == sql_keys(big_store)[:200]


def test_scrolling_the_view_loads_pages_in_order(qtbot: Any, big_store: Store) -> None:
    model = HistoryModel(Reads(big_store, NO_PROFILE), clock=lambda: NOW)
    view = QtWidgets.QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(800, 400)
    view.show()
    qtbot.waitExposed(view)
    bar = view.verticalScrollBar()
    for pages in range(2, 7):
        # The view grows its scroll range after each page lands; then dragging to the bottom asks for more.
        qtbot.waitUntil(lambda: bar.value() < bar.maximum(), timeout=2000)
        bar.setValue(bar.maximum())
        qtbot.waitUntil(lambda pages=pages: model.rowCount() == pages * 200, timeout=2000)
    assert loaded_keys(model) == sql_keys(big_store)[: 6 * 200]
    view.scrollToBottom()
    assert model.data(model.index(model.rowCount() - 1, HistoryColumn.WHEN), QtCore.Qt.ItemDataRole.DisplayRole)


def test_filters_reset_and_reload_from_the_store(qapp: Any, big_store: Store) -> None:
    model = HistoryModel(Reads(big_store, NO_PROFILE), clock=lambda: NOW)
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))

    model.set_filter(HistoryFilter(actions=(HistoryAction.WON,)))
    won = sql_keys(big_store, "action = ?", ("WON",))
    assert model.count() == len(won) > 2_000
    while model.canFetchMore(QtCore.QModelIndex()) and model.rowCount() < 1_000:
        model.fetchMore(QtCore.QModelIndex())
    assert loaded_keys(model) == won[: model.rowCount()]
    assert {model.data(model.index(r, HistoryColumn.ACTION)) for r in range(model.rowCount())} == {"Won"}

    start = time.perf_counter()
    model.set_filter(HistoryFilter(text=RARE.lower()))
    assert time.perf_counter() - start < 0.5
    rare = sql_keys(big_store, "title LIKE ?", (f"%{RARE}%",))
    assert 0 < len(rare) < 200
    assert loaded_keys(model) == rare
    assert not model.canFetchMore(QtCore.QModelIndex())

    since, until = NOW - timedelta(days=10), NOW - timedelta(days=9)
    model.set_filter(HistoryFilter(actions=(HistoryAction.LOST, HistoryAction.FAIL), since=since, until=until))
    expected = sql_keys(
        big_store, "action IN ('LOST', 'FAIL') AND at >= ? AND at < ?", (to_epoch_us(since), to_epoch_us(until))
    )
    while model.canFetchMore(QtCore.QModelIndex()):
        model.fetchMore(QtCore.QModelIndex())
    assert loaded_keys(model) == expected
    assert expected
    assert len(resets) == 3


def test_export_writes_every_page_of_the_filter(qapp: Any, big_store: Store, tmp_path: Path) -> None:
    wanted = HistoryFilter(actions=(HistoryAction.WON, HistoryAction.FAIL))
    out = tmp_path / "won.csv"
    count = export_history_csv(Reads(big_store, NO_PROFILE), out, wanted)
    expected = sql_keys(big_store, "action IN ('WON', 'FAIL')")
    assert count == len(expected) > 1_000  # more than one store page of 1,000
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == count
    assert {r["action"] for r in rows} == {"WON", "FAIL"}
    first = big_store.database.sql("SELECT message, amount_minor FROM history_event WHERE id = ?", (expected[0],))
    message, amount = first.fetchone()
    assert rows[0]["message"] == message
    assert rows[0]["amount"] == f"{amount / 100:.2f}"
    times = [r["time_utc"] for r in rows]
    assert times == sorted(times, reverse=True)
    assert not list(tmp_path.glob(".*part"))  # the temporary file was renamed, not left behind


def test_a_whole_scroll_keeps_only_a_bounded_window_of_rows_and_rereads_the_rest(
    qapp: Any, big_store: Store
) -> None:
    model = HistoryModel(Reads(big_store, NO_PROFILE), clock=lambda: NOW)
    while model.canFetchMore(QtCore.QModelIndex()):
        model.fetchMore(QtCore.QModelIndex())
    assert model.rowCount() == EVENTS
    assert len(model._pages) <= MAX_CACHED_PAGES, "rows of pages scrolled past must be let go"
    expected = dict(
        big_store.database.sql(
            "SELECT id, message FROM history_event ORDER BY at DESC, id DESC"
        ).fetchall()
    )
    order = sql_keys(big_store)
    # Rows long scrolled past come back from the store, each the same event in the same place.
    for row in (0, 1, 199, 200, 45_678, EVENTS - 1, 3, 99_800):
        shown = model.data(model.index(row, HistoryColumn.MESSAGE), QtCore.Qt.ItemDataRole.DisplayRole)
        assert shown == expected[order[row]], f"row {row}"
    assert len(model._pages) <= MAX_CACHED_PAGES
