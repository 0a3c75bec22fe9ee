"""Money columns grow to their widest text as Qt itself would size them, from one text a row, and each view
measures only its own columns: a watch-list sync does not measure a thousand snipes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sniper_app.store import Store
from sniper_app.store.watchlist import WatchItemData
from sniper_app.ui import main_window
from sniper_app.ui.column_fit import grow_to_fit
from sniper_app.ui.models import WatchColumn
from sniper_app.ui.qt import QtGui, QtWidgets
from tests.gui.conftest import seed
from tests.support.store import FakeClock

MONEY = st.builds(
    lambda minor, converted: f"£{minor / 100:,.2f}" + (f" ≈ ${converted / 100:,.2f}" if converted else ""),
    st.integers(0, 10**9), st.one_of(st.none(), st.integers(1, 10**9)),
)


def _table(texts: list[str]) -> QtWidgets.QTableView:
    model = QtGui.QStandardItemModel(len(texts), 2)
    model.setHorizontalHeaderLabels(["Item", "Price"])
    for row, text in enumerate(texts):
        model.setItem(row, 1, QtGui.QStandardItem(text))
    view = QtWidgets.QTableView()
    view.setModel(model)
    model.setParent(view)
    return view


@settings(max_examples=40, deadline=None)
@given(texts=st.lists(MONEY, min_size=1, max_size=30))
def test_a_column_grows_to_what_qt_would_size_it_from_every_row(qapp: QtWidgets.QApplication, texts: list[str]) -> None:
    view = _table(texts)
    try:
        header = view.horizontalHeader()
        header.resizeSection(1, 10)
        grow_to_fit(view, 1)
        assert header.sectionSize(1) == max(view.sizeHintForColumn(1), header.sectionSizeHint(1))
        # A wider column, chosen by the user, stays as it is.
        header.resizeSection(1, header.sectionSize(1) + 50)
        wide = header.sectionSize(1)
        grow_to_fit(view, 1)
        assert header.sectionSize(1) == wide
    finally:
        view.deleteLater()


def test_only_the_rows_asked_about_are_measured(qapp: QtWidgets.QApplication) -> None:
    view = _table(["$1.00", "£12,345,678.90 ≈ $15,827,180.00", "$2.00"])
    try:
        header = view.horizontalHeader()
        header.resizeSection(1, 10)
        grow_to_fit(view, 1, 2, 2)
        narrow = header.sectionSize(1)
        assert narrow < view.sizeHintForColumn(1)  # the wide middle row was not asked about
        grow_to_fit(view, 1, 1, 1)
        assert header.sectionSize(1) == view.sizeHintForColumn(1)
    finally:
        view.deleteLater()


def test_a_watch_list_reload_does_not_measure_the_snipes(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock,
    monkeypatch: Any,
) -> None:
    seed(store, user_id, clock)
    window = make_window()
    window.show()
    qtbot.waitExposed(window)
    window.tabs.setCurrentIndex(window.SNIPES_TAB)  # both views measured once, as first shown
    window.tabs.setCurrentIndex(window.WATCH_TAB)
    measured: list[tuple[QtWidgets.QTableView, int]] = []

    def noted(view: QtWidgets.QTableView, column: int, first: int = 0, last: int | None = None) -> None:
        measured.append((view, column))
        grow_to_fit(view, column, first, last)

    monkeypatch.setattr(main_window, "grow_to_fit", noted)
    store.upsert_watch_items(user_id, [WatchItemData(
        legacy_item_id="284460198823", title="Roberts R200 valve radio", currency="GBP",
        current_price_minor=1_234_520, bid_count=3, end_time=clock.now + timedelta(hours=1),
        converted_currency="USD", converted_price_minor=1_582_718,
    )], clock.now)
    window.watch_model.reload()  # as after a sync (here a new list: the model resets)
    assert any(window.watch_model.row(n).legacy_item_id == "284460198823"
               for n in range(window.watch_model.rowCount()))
    assert (window.watch_view, WatchColumn.PRICE) in measured
    assert [column for view, column in measured if view is window.snipes_view] == []
