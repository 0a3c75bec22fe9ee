"""The main window's look between runs (geometry, column sizes, sort, last tab), kept in an INI file."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final

from sniper_app import paths
from sniper_app.ui.qt import QtCore, QtWidgets

if TYPE_CHECKING:
    from sniper_app.ui.main_window import MainWindow

STATE_FILE: Final = "window.ini"
# A saved header comes back only over the column layout it was saved from: the earlier defaults of the
# views (fixed pixel widths, titles squeezed at 800 px, times cut in a large font) give way once.
HEADER_LAYOUT: Final = {"snipes": 2, "watch": 2, "history": 2}


def open_state(config_dir: Path) -> QtCore.QSettings:
    """The INI file that remembers the window's look between runs."""
    paths.ensure_private_dir(config_dir)
    return QtCore.QSettings(str(config_dir / STATE_FILE), QtCore.QSettings.Format.IniFormat)


def views(window: MainWindow) -> dict[str, QtWidgets.QTableView]:
    return {"watch": window.watch_view, "snipes": window.snipes_view, "history": window.history_view}


def save_state(window: MainWindow) -> None:
    state = window._state
    state.setValue("window/geometry", window.saveGeometry())
    state.setValue("window/state", window.saveState())
    state.setValue("window/tab", window.tabs.currentIndex())
    state.setValue("snipes/showFinished", window.show_finished_box.isChecked())
    for name, view in views(window).items():
        header = view.horizontalHeader()
        state.setValue(f"{name}/header", header.saveState())
        state.setValue(f"{name}/headerLayout", HEADER_LAYOUT.get(name, 1))
        if view.property("sortable"):
            state.setValue(f"{name}/sortColumn", header.sortIndicatorSection())
            state.setValue(f"{name}/sortOrder", int(header.sortIndicatorOrder().value))
    state.sync()


def restore_state(window: MainWindow) -> None:
    state = window._state
    geometry = state.value("window/geometry")
    if isinstance(geometry, QtCore.QByteArray) and not geometry.isEmpty():
        window.restoreGeometry(geometry)
    else:
        window.resize(1100, 680)
    window_state = state.value("window/state")
    if isinstance(window_state, QtCore.QByteArray):
        window.restoreState(window_state)
    window.show_finished_box.setChecked(ini_bool(state.value("snipes/showFinished", True)))
    for name, view in views(window).items():
        header = view.horizontalHeader()
        saved = state.value(f"{name}/header")
        layout = ini_int(state.value(f"{name}/headerLayout")) or 1
        if isinstance(saved, QtCore.QByteArray) and layout == HEADER_LAYOUT.get(name, 1):
            header.restoreState(saved)
        column = ini_int(state.value(f"{name}/sortColumn"))
        order = ini_int(state.value(f"{name}/sortOrder"))
        if view.property("sortable") and column is not None and 0 <= column < header.count():
            header.setSortIndicator(column, QtCore.Qt.SortOrder(order or 0))
    for view in views(window).values():
        _WhenFirstShown(view, functools.partial(_first_shown, window, view))
    tab = ini_int(state.value("window/tab"))
    if tab is not None and 0 <= tab < window.tabs.count():
        window.tabs.setCurrentIndex(tab)


def _first_shown(window: MainWindow, view: QtWidgets.QTableView) -> None:
    if view.property("sortable"):
        view.setSortingEnabled(True)  # one sort, by the indicator set above
    window._fit_price_columns(view)


class _WhenFirstShown(QtCore.QObject):
    """Runs ``action`` as ``view`` is first shown, before it is painted.

    A table is sorted, and its money columns measured, then: a thousand snipes take some 50 ms to sort
    through their proxy (two calls into Python per comparison) and 20 ms to measure, which a window that
    opens on another tab, or in the tray, need not wait for before it shows.
    """

    def __init__(self, view: QtWidgets.QWidget, action: Callable[[], None]) -> None:
        super().__init__(view)
        self._view = view
        self._action = action
        view.installEventFilter(self)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if watched is self._view and event.type() == QtCore.QEvent.Type.Show:
            self._view.removeEventFilter(self)
            self._action()
            self.deleteLater()
        return False


def ini_int(value: object) -> int | None:
    # QSettings INI values come back as strings.
    try:
        return int(value) if value is not None else None  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def ini_bool(value: object) -> bool:
    if isinstance(value, str):
        return value.lower() in {"true", "1", "yes"}
    return bool(value)
