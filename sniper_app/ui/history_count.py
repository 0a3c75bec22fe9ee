"""The History view's counter and its Amount column: the matching events counted on a worker thread (a
million take longer than a frame), and the column sized to the rows on screen."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

from sniper_app.ui.history_model import HistoryColumn
from sniper_app.ui.qt import QtCore

if TYPE_CHECKING:
    from sniper_app.ui.main_window import MainWindow

log = logging.getLogger(__name__)

ROWS_MEASURED: Final = 100  # history rows measured for the Amount column while the tab is hidden


class CountRelay(QtCore.QObject):
    """Carries a pool thread's count back to the window's thread as a queued signal."""

    counted = QtCore.Signal(int, int)  # (generation, count; -1 when counting failed)


def events_text(count: int) -> str:
    """ "1 event", "2 events", "1,204 events": the History counter in words."""
    if count == 1:
        return QtCore.QCoreApplication.translate("MainWindow", "1 event")
    return QtCore.QCoreApplication.translate("MainWindow", "{n:,} events").format(n=count)


def fit_amounts(window: MainWindow) -> None:
    # History is paged from the store: measure the rows on screen (or the first ones), never the whole
    # history, which Qt's own column size hint would read when the tab is hidden.
    view, column = window.history_view, HistoryColumn.AMOUNT
    rows = window.history_model.rowCount()
    if not rows:
        return
    top = max(0, view.rowAt(0))
    bottom = view.rowAt(view.viewport().height())
    if bottom < 0 or not view.isVisible():
        bottom = min(rows, top + ROWS_MEASURED) - 1
    header = view.horizontalHeader()
    wanted = max(
        header.sectionSizeHint(column),
        *(view.sizeHintForIndex(window.history_model.index(row, column)).width() for row in range(top, bottom + 1)),
    )
    if header.sectionSize(column) < wanted:
        header.resizeSection(column, wanted)


def update_count(window: MainWindow) -> None:
    window._count_generation += 1
    label = window.history_filter_bar.count_label
    try:
        count = window._reads.history_counter(window.history_model.history_filter)
    except Exception:
        log.exception("could not prepare the history count")
        label.setText("")
        return
    if not label.text():
        label.setText(window.tr("counting…"))
    relay, generation = window._count_relay, window._count_generation

    def run() -> None:  # on a pool thread: nothing here may touch a widget
        try:
            number = count()
        except Exception:
            log.exception("counting the history failed")
            number = -1
        relay.counted.emit(generation, number)

    QtCore.QThreadPool.globalInstance().start(run)


def show_count(window: MainWindow, generation: int, count: int) -> None:
    if generation != window._count_generation:  # an older filter's answer arriving late is dropped
        return
    window.history_filter_bar.count_label.setText(events_text(count) if count >= 0 else "")
