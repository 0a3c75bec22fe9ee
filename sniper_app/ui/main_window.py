"""The main window: Watch list, Snipes and History side by side in tabs, with a status bar.

Everything it needs is handed in (store, event bus, settings, the local profile); it keeps no globals.
Its look between runs (geometry, column sizes, sort, last tab) lives in an INI file in the config dir.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Final

from sniper_app import paths
from sniper_app.config import Settings
from sniper_app.domain.history import HistoryAction
from sniper_app.engine.bus import AccountStateChanged, EventBus
from sniper_app.store import Store
from sniper_app.ui.bridge import EngineBridge
from sniper_app.ui.formatting import format_time_left
from sniper_app.ui.history import HistoryFilter, export_history_csv
from sniper_app.ui.models import (
    Clock,
    HistoryColumn,
    HistoryModel,
    SnipeColumn,
    SnipesModel,
    SnipesProxy,
    WatchColumn,
    WatchListModel,
    action_text,
    sort_proxy,
    utc_now,
)
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets
from sniper_app.ui.thumbnails import ThumbnailCache

log = logging.getLogger(__name__)

STATE_FILE: Final = "window.ini"
TICK_MS: Final = 1000
SEARCH_DEBOUNCE_MS: Final = 300
_ANY_DATE: Final = QtCore.QDate(2000, 1, 1)  # a date edit at its minimum means "no bound"
_BADGES: Final = {
    "simulator": ("DEMO", "#2e7d32"),
    "sandbox": ("SANDBOX", "#ef6c00"),
    "custom": ("CUSTOM", "#6a1b9a"),
}


def open_state(config_dir: Path) -> QtCore.QSettings:
    """The INI file that remembers the window's look between runs."""
    paths.ensure_private_dir(config_dir)
    return QtCore.QSettings(str(config_dir / STATE_FILE), QtCore.QSettings.Format.IniFormat)


def _local_midnight_utc(day: QtCore.QDate) -> datetime:
    local = datetime.combine(day.toPython(), time(0, 0)).astimezone()  # type: ignore[arg-type]
    return local.astimezone(UTC)


class HistoryFilterBar(QtWidgets.QWidget):
    """Action, text and date-range filters over the History view, and its CSV export."""

    changed = QtCore.Signal()
    exportRequested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

        self.action_combo = QtWidgets.QComboBox(self)
        self.action_combo.setAccessibleName(self.tr("Action filter"))
        self.action_combo.addItem(self.tr("All actions"), None)
        for action in HistoryAction:
            self.action_combo.addItem(action_text(action), action.value)
        action_label = QtWidgets.QLabel(self.tr("&Action:"), self)
        action_label.setBuddy(self.action_combo)

        self.search_edit = QtWidgets.QLineEdit(self)
        self.search_edit.setAccessibleName(self.tr("Search history"))
        self.search_edit.setPlaceholderText(self.tr("Search title or details"))
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setMinimumWidth(220)

        self.since_edit = self._date_edit(self.tr("From date"))
        self.until_edit = self._date_edit(self.tr("To date"))
        since_label = QtWidgets.QLabel(self.tr("&From:"), self)
        since_label.setBuddy(self.since_edit)
        until_label = QtWidgets.QLabel(self.tr("&To:"), self)
        until_label.setBuddy(self.until_edit)

        self.count_label = QtWidgets.QLabel(self)
        self.count_label.setAccessibleName(self.tr("Number of matching events"))

        self.export_button = QtWidgets.QPushButton(self.tr("Export CSV…"), self)
        self.export_button.setAccessibleName(self.tr("Export history as CSV"))
        self.export_button.setToolTip(self.tr("Write every event that matches the filter to a CSV file"))

        for widget in (
            action_label,
            self.action_combo,
            self.search_edit,
            since_label,
            self.since_edit,
            until_label,
            self.until_edit,
        ):
            layout.addWidget(widget)
        layout.addStretch(1)
        layout.addWidget(self.count_label)
        layout.addWidget(self.export_button)

        self._debounce = QtCore.QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.changed)
        self.search_edit.textChanged.connect(self._debounce.start)
        self.search_edit.returnPressed.connect(self._now)
        self.action_combo.currentIndexChanged.connect(self._now)
        self.since_edit.dateChanged.connect(self._now)
        self.until_edit.dateChanged.connect(self._now)
        self.export_button.clicked.connect(self.exportRequested)

    def _date_edit(self, name: str) -> QtWidgets.QDateEdit:
        edit = QtWidgets.QDateEdit(self)
        edit.setAccessibleName(name)
        edit.setCalendarPopup(True)
        edit.setMinimumDate(_ANY_DATE)
        edit.setSpecialValueText(self.tr("Any"))
        edit.setDate(_ANY_DATE)
        edit.setDisplayFormat("yyyy-MM-dd")
        return edit

    def _now(self) -> None:
        self._debounce.stop()
        self.changed.emit()

    def history_filter(self) -> HistoryFilter:
        action = self.action_combo.currentData()
        since = self.since_edit.date()
        until = self.until_edit.date()
        return HistoryFilter(
            actions=(HistoryAction(action),) if action else None,
            text=self.search_edit.text().strip() or None,
            since=_local_midnight_utc(since) if since != _ANY_DATE else None,
            # The "to" day is included: the bound is the next local midnight.
            until=_local_midnight_utc(until.addDays(1)) if until != _ANY_DATE else None,
        )


class MainWindow(QtWidgets.QMainWindow):
    """The window titled "Sniper": Watch list, Snipes and History, switchable with Ctrl+1/2/3."""

    WATCH_TAB: Final = 0
    SNIPES_TAB: Final = 1
    HISTORY_TAB: Final = 2

    def __init__(
        self,
        store: Store,
        bus: EventBus,
        settings: Settings,
        user_id: int,
        *,
        state: QtCore.QSettings | None = None,
        thumbnails: ThumbnailCache | None = None,
        clock: Clock = utc_now,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._settings = settings
        self._user_id = user_id
        self._clock = clock
        self._state = state if state is not None else open_state(paths.config_dir())
        self.setWindowTitle(self.tr("Sniper"))
        self.setObjectName("MainWindow")

        self.bridge = EngineBridge(bus, self)
        self.thumbnails = thumbnails or ThumbnailCache(paths.cache_dir() / "thumbnails", parent=self)
        self.watch_model = WatchListModel(store, user_id, thumbnails=self.thumbnails, clock=clock, parent=self)
        self.snipes_model = SnipesModel(store, user_id, clock=clock, parent=self)
        self.history_model = HistoryModel(store, clock=clock, parent=self)
        self.watch_proxy = sort_proxy(self.watch_model, self)
        self.snipes_proxy = SnipesProxy(self)
        self.snipes_proxy.setSourceModel(self.snipes_model)

        self.tabs = QtWidgets.QTabWidget(self)
        self.tabs.setAccessibleName(self.tr("Views"))
        self.tabs.setDocumentMode(True)
        self.watch_view = self._table(self.watch_proxy, self.tr("Watch list"), sortable=True)
        self.watch_view.verticalHeader().setDefaultSectionSize(self.thumbnails.size + 6)
        self.watch_view.setIconSize(QtCore.QSize(self.thumbnails.size, self.thumbnails.size))
        self.snipes_view = self._table(self.snipes_proxy, self.tr("Snipes"), sortable=True)
        self.history_view = self._table(self.history_model, self.tr("History"), sortable=False)
        self.history_filter_bar = HistoryFilterBar(self)
        self.tabs.addTab(self.watch_view, self.tr("&Watch list"))
        self.tabs.addTab(self._snipes_page(), self.tr("&Snipes"))
        self.tabs.addTab(self._history_page(), self.tr("&History"))
        self.setCentralWidget(self.tabs)
        self._default_columns()

        for n in range(3):
            shortcut = QtGui.QShortcut(QtGui.QKeySequence(f"Ctrl+{n + 1}"), self)
            shortcut.activated.connect(lambda n=n: self.tabs.setCurrentIndex(n))

        self._build_status_bar()

        self.bridge.snipeStatusChanged.connect(self.snipes_model.on_status_changed)
        self.bridge.watchlistSynced.connect(self.watch_model.reload)
        self.bridge.accountStateChanged.connect(self._on_account_state)
        self.bridge.eventReceived.connect(self._schedule_history_refresh)
        self.history_filter_bar.changed.connect(self.apply_history_filter)
        self.history_filter_bar.exportRequested.connect(self._choose_export_file)
        self.history_model.filterChanged.connect(self._update_history_count)
        self.snipes_model.rowsInserted.connect(self._update_next_snipe)
        self.snipes_model.dataChanged.connect(self._update_next_snipe)

        # Engine events come in bursts; one history refresh per burst is enough.
        self._history_refresh = QtCore.QTimer(self)
        self._history_refresh.setSingleShot(True)
        self._history_refresh.setInterval(200)
        self._history_refresh.timeout.connect(self.history_model.fetch_newer)

        self.countdown = QtCore.QTimer(self)
        self.countdown.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self.countdown.setInterval(TICK_MS)
        self.countdown.timeout.connect(self.tick)
        self.countdown.start()

        self.restore_state()
        self._update_history_count()
        self.tick()

    # ------------------------------------------------------------------ building

    def _table(self, model: QtCore.QAbstractItemModel, name: str, *, sortable: bool) -> QtWidgets.QTableView:
        view = QtWidgets.QTableView(self)
        view.setObjectName(name)
        view.setAccessibleName(name)
        view.setModel(model)
        view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        view.setAlternatingRowColors(True)
        view.setWordWrap(False)
        view.setSortingEnabled(sortable)
        view.verticalHeader().setVisible(False)
        view.horizontalHeader().setHighlightSections(False)
        view.horizontalHeader().setSectionsMovable(True)
        return view

    def _snipes_page(self) -> QtWidgets.QWidget:
        page = QtWidgets.QWidget(self)
        layout = QtWidgets.QVBoxLayout(page)
        layout.setContentsMargins(4, 4, 4, 4)
        self.show_finished_box = QtWidgets.QCheckBox(self.tr("Show &finished snipes"), page)
        self.show_finished_box.setAccessibleName(self.tr("Show finished snipes"))
        self.show_finished_box.setChecked(True)
        self.show_finished_box.toggled.connect(self.snipes_proxy.set_show_finished)
        layout.addWidget(self.show_finished_box)
        layout.addWidget(self.snipes_view)
        return page

    def _history_page(self) -> QtWidgets.QWidget:
        page = QtWidgets.QWidget(self)
        layout = QtWidgets.QVBoxLayout(page)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.history_filter_bar)
        layout.addWidget(self.history_view)
        return page

    def _default_columns(self) -> None:
        watch = self.watch_view.horizontalHeader()
        watch.resizeSection(WatchColumn.THUMBNAIL, self.thumbnails.size + 8)
        watch.resizeSection(WatchColumn.TITLE, 380)
        watch.setStretchLastSection(False)
        self.watch_view.sortByColumn(WatchColumn.TIME_LEFT, QtCore.Qt.SortOrder.AscendingOrder)
        snipes = self.snipes_view.horizontalHeader()
        snipes.resizeSection(SnipeColumn.ITEM, 300)
        snipes.setStretchLastSection(True)
        self.snipes_view.sortByColumn(SnipeColumn.TIME_LEFT, QtCore.Qt.SortOrder.AscendingOrder)
        history = self.history_view.horizontalHeader()
        history.resizeSection(HistoryColumn.WHEN, 150)
        history.resizeSection(HistoryColumn.ITEM, 260)
        history.setStretchLastSection(True)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.environment_badge = QtWidgets.QLabel(self)
        self.environment_badge.setObjectName("environmentBadge")
        self.environment_badge.setAccessibleName(self.tr("eBay environment"))
        badge = _BADGES.get(self._settings.ebay_env)
        if badge is not None:
            text, colour = badge
            self.environment_badge.setText(text)
            self.environment_badge.setStyleSheet(
                f"QLabel {{ background: {colour}; color: white; font-weight: bold; padding: 1px 6px;"
                " border-radius: 3px; }"
            )
            self.environment_badge.setToolTip(self.tr("Not the real eBay: bids here cost nothing"))
        else:
            self.environment_badge.hide()
        self.account_label = QtWidgets.QLabel(self)
        self.account_label.setAccessibleName(self.tr("Linked eBay account"))
        self.next_snipe_label = QtWidgets.QLabel(self)
        self.next_snipe_label.setAccessibleName(self.tr("Next snipe"))
        bar.addPermanentWidget(self.next_snipe_label)
        bar.addPermanentWidget(self.account_label)
        bar.addPermanentWidget(self.environment_badge)
        self._update_account()

    # ------------------------------------------------------------------ live updates

    @QtCore.Slot()
    def tick(self) -> None:
        """Once a second: countdown columns and the next-snipe countdown."""
        self.watch_model.tick()
        self.snipes_model.tick()
        self._update_next_snipe()

    def _update_next_snipe(self) -> None:
        due = self.snipes_model.next_due()
        if due is None:
            self.next_snipe_label.setText(self.tr("No snipe waiting"))
            return
        left = format_time_left(due.fire_at, self._clock(), ended=self.tr("now"))
        self.next_snipe_label.setText(
            self.tr("Next snipe: {title} in {left}").format(title=due.title or due.legacy_item_id, left=left)
        )

    def _update_account(self, message: str | None = None) -> None:
        user = self._store.get_user(self._user_id)
        if not user.ebay_username:
            text = self.tr("No eBay account linked")
        elif user.needs_relink:
            text = self.tr("{name}: link again").format(name=user.ebay_username)
        else:
            text = self.tr("eBay: {name}").format(name=user.ebay_username)
        self.account_label.setText(text)
        self.account_label.setToolTip(message or "")

    @QtCore.Slot(object)
    def _on_account_state(self, event: AccountStateChanged) -> None:
        self._update_account(event.message)

    @QtCore.Slot(object)
    def _schedule_history_refresh(self, _event: object) -> None:
        if not self._history_refresh.isActive():
            self._history_refresh.start()

    # ------------------------------------------------------------------ history

    @QtCore.Slot()
    def apply_history_filter(self) -> None:
        wanted = self.history_filter_bar.history_filter()
        if wanted != self.history_model.history_filter:
            self.history_model.set_filter(wanted)
            self.history_view.scrollToTop()

    def _update_history_count(self) -> None:
        self.history_filter_bar.count_label.setText(self.tr("{n:,} events").format(n=self.history_model.count()))

    def export_history(self, path: Path) -> int:
        """Write the filtered history (every page, not just those loaded) to ``path`` as CSV."""
        return export_history_csv(self._store, path, self.history_model.history_filter)

    @QtCore.Slot()
    def _choose_export_file(self) -> None:
        start = str(Path.home() / "sniper-history.csv")
        chosen, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, self.tr("Export history"), start, self.tr("CSV files (*.csv)")
        )
        if not chosen:
            return
        QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.CursorShape.WaitCursor)
        try:
            count = self.export_history(Path(chosen))
        except OSError as exc:
            QtWidgets.QApplication.restoreOverrideCursor()
            QtWidgets.QMessageBox.warning(
                self,
                self.tr("Export failed"),
                self.tr("The history could not be written to {path}: {error}").format(
                    path=chosen, error=exc.strerror or exc
                ),
            )
            return
        QtWidgets.QApplication.restoreOverrideCursor()
        self.statusBar().showMessage(self.tr("Exported {n:,} events to {path}").format(n=count, path=chosen), 8000)

    # ------------------------------------------------------------------ state between runs

    def _views(self) -> dict[str, QtWidgets.QTableView]:
        return {"watch": self.watch_view, "snipes": self.snipes_view, "history": self.history_view}

    def save_state(self) -> None:
        state = self._state
        state.setValue("window/geometry", self.saveGeometry())
        state.setValue("window/state", self.saveState())
        state.setValue("window/tab", self.tabs.currentIndex())
        state.setValue("snipes/showFinished", self.show_finished_box.isChecked())
        for name, view in self._views().items():
            header = view.horizontalHeader()
            state.setValue(f"{name}/header", header.saveState())
            if view.isSortingEnabled():
                state.setValue(f"{name}/sortColumn", header.sortIndicatorSection())
                state.setValue(f"{name}/sortOrder", int(header.sortIndicatorOrder().value))
        state.sync()

    def restore_state(self) -> None:
        state = self._state
        geometry = state.value("window/geometry")
        if isinstance(geometry, QtCore.QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1100, 680)
        window_state = state.value("window/state")
        if isinstance(window_state, QtCore.QByteArray):
            self.restoreState(window_state)
        self.show_finished_box.setChecked(_as_bool(state.value("snipes/showFinished", True)))
        for name, view in self._views().items():
            header = view.horizontalHeader()
            saved = state.value(f"{name}/header")
            if isinstance(saved, QtCore.QByteArray):
                header.restoreState(saved)
            column = _as_int(state.value(f"{name}/sortColumn"))
            order = _as_int(state.value(f"{name}/sortOrder"))
            if view.isSortingEnabled() and column is not None and 0 <= column < header.count():
                view.sortByColumn(column, QtCore.Qt.SortOrder(order or 0))
        tab = _as_int(state.value("window/tab"))
        if tab is not None and 0 <= tab < self.tabs.count():
            self.tabs.setCurrentIndex(tab)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self.save_state()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop timers and listening to the engine (before the store closes)."""
        self.countdown.stop()
        self._history_refresh.stop()
        self.bridge.detach()


def _as_int(value: object) -> int | None:
    # QSettings INI values come back as strings.
    try:
        return int(value) if value is not None else None  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def _as_bool(value: object) -> bool:
    if isinstance(value, str):
        return value.lower() in {"true", "1", "yes"}
    return bool(value)
