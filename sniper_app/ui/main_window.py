"""The main window: Watch list, Snipes and History side by side in tabs, with a status bar.

Everything it needs is handed in (the facade's reads, event bus, settings, the local profile); no globals.
Its look between runs (geometry, column sizes, sort, last tab) lives in an INI file in the config dir.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from datetime import UTC, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from sniper_app import paths
from sniper_app.config import Settings
from sniper_app.domain.errors import SniperError
from sniper_app.domain.history import HistoryAction
from sniper_app.domain.status import NOT_FIRED_STATUSES, SnipeStatus
from sniper_app.engine.bus import (
    AccountStateChanged,
    ClockMeasured,
    EventBus,
    NotificationFailed,
    SnipeWarning,
    WatchlistSynced,
)
from sniper_app.engine.reads import Reads
from sniper_app.ui.bridge import AsyncRunner, EngineBridge
from sniper_app.ui.formatting import format_money, format_time_left
from sniper_app.ui.history import ExportCancelled, HistoryFilter, export_history_csv
from sniper_app.ui.models import (
    KEY_ROLE,
    SNIPEABLE_ROLE,
    Clock,
    HistoryColumn,
    HistoryModel,
    SnipeColumn,
    SnipesModel,
    SnipesProxy,
    WatchColumn,
    WatchListModel,
    action_text,
    status_text,
    utc_now,
)
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets
from sniper_app.ui.thumbnails import ThumbnailCache

if TYPE_CHECKING:
    from sniper_app.engine.service import SniperService

log = logging.getLogger(__name__)

STATE_FILE: Final = "window.ini"
TICK_MS: Final = 1000
SEARCH_DEBOUNCE_MS: Final = 300
_ANY_DATE: Final = QtCore.QDate(2000, 1, 1)  # a date edit at its minimum means "no bound"
_HISTORY_ROWS_MEASURED: Final = 100  # history rows measured for the Amount column while the tab is hidden
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

        self.status_combo = QtWidgets.QComboBox(self)
        self.status_combo.setAccessibleName(self.tr("Snipe status filter"))
        self.status_combo.setToolTip(self.tr("Only events of snipes that are now in this status"))
        self.status_combo.addItem(self.tr("All statuses"), None)
        for status in SnipeStatus:
            self.status_combo.addItem(status_text(status), status.value)
        status_label = QtWidgets.QLabel(self.tr("Stat&us:"), self)
        status_label.setBuddy(self.status_combo)

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
            status_label,
            self.status_combo,
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
        self.status_combo.currentIndexChanged.connect(self._now)
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
        status = self.status_combo.currentData()
        since = self.since_edit.date()
        until = self.until_edit.date()
        return HistoryFilter(
            actions=(HistoryAction(action),) if action else None,
            snipe_statuses=(SnipeStatus(status),) if status else None,
            text=self.search_edit.text().strip() or None,
            since=_local_midnight_utc(since) if since != _ANY_DATE else None,
            # The "to" day is included: the bound is the next local midnight.
            until=_local_midnight_utc(until.addDays(1)) if until != _ANY_DATE else None,
        )


class ButtonDelegate(QtWidgets.QStyledItemDelegate):
    """Paints a column's text as a push button and reports a click (or Space/Enter) on it."""

    clicked = QtCore.Signal(QtCore.QModelIndex)

    def paint(
        self,
        painter: QtGui.QPainter,
        option: QtWidgets.QStyleOptionViewItem,
        index: QtCore.QModelIndex | QtCore.QPersistentModelIndex,
    ) -> None:
        if index.data(SNIPEABLE_ROLE) is False:
            # Nothing to press on a listing that cannot be sniped: its label is plain text.
            super().paint(painter, option, index)
            return
        button = QtWidgets.QStyleOptionButton()
        button.rect = option.rect.adjusted(4, 4, -4, -4)
        button.text = str(index.data() or "")
        button.state = QtWidgets.QStyle.StateFlag.State_Enabled | QtWidgets.QStyle.StateFlag.State_Raised
        widget = option.widget
        style = widget.style() if widget is not None else QtWidgets.QApplication.style()
        style.drawControl(QtWidgets.QStyle.ControlElement.CE_PushButton, button, painter, widget)

    def sizeHint(
        self, option: QtWidgets.QStyleOptionViewItem, index: QtCore.QModelIndex | QtCore.QPersistentModelIndex
    ) -> QtCore.QSize:
        hint = super().sizeHint(option, index)
        return QtCore.QSize(hint.width() + 24, hint.height())

    def editorEvent(
        self,
        event: QtCore.QEvent,
        model: QtCore.QAbstractItemModel,
        option: QtWidgets.QStyleOptionViewItem,
        index: QtCore.QModelIndex | QtCore.QPersistentModelIndex,
    ) -> bool:
        if (
            event.type() == QtCore.QEvent.Type.MouseButtonRelease
            and isinstance(event, QtGui.QMouseEvent)
            and event.button() == QtCore.Qt.MouseButton.LeftButton
            and option.rect.contains(event.position().toPoint())
            and index.data(SNIPEABLE_ROLE) is not False
        ):
            self.clicked.emit(model.index(index.row(), index.column()))
            return True
        return super().editorEvent(event, model, option, index)


class _ExportRelay(QtCore.QObject):
    """Carries an export thread's progress and end back to the window's thread as queued signals."""

    progressed = QtCore.Signal(int)  # rows written so far
    finished = QtCore.Signal(int, str)  # (rows written, or -1 when it did not complete; the error, if any)


class _CountRelay(QtCore.QObject):
    """Carries a pool thread's count back to the window's thread as a queued signal."""

    counted = QtCore.Signal(int, int)  # (generation, count; -1 when counting failed)


class MainWindow(QtWidgets.QMainWindow):
    """The window titled "Sniper": Watch list, Snipes and History, switchable with Ctrl+1/2/3."""

    WATCH_TAB: Final = 0
    SNIPES_TAB: Final = 1
    HISTORY_TAB: Final = 2

    tick_done = QtCore.Signal()  # after each once-a-second refresh (the tray's tooltip follows it)
    quitRequested = QtCore.Signal()  # the user chose Quit (and confirmed it if snipes were waiting)
    closedToTray = QtCore.Signal()  # the first time closing the window left Sniper in the tray
    settingsSaved = QtCore.Signal(object)  # Settings, after the Settings dialog saved them

    def __init__(
        self,
        reads: Reads,
        bus: EventBus,
        settings: Settings,
        user_id: int,
        *,
        state: QtCore.QSettings | None = None,
        thumbnails: ThumbnailCache | None = None,
        clock: Clock = utc_now,
        service: SniperService | None = None,
        runner: AsyncRunner | None = None,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.runner = runner or AsyncRunner(self)
        # Set by the app around the Settings dialog: where secrets go and how a test email is sent.
        self.secrets: Any = None
        self.test_email: Any = None
        self.tray_available = False  # set by the tray once its icon is shown
        self._count_generation = 0
        # Owned by the application, not the window: a count still running when the window goes away emits
        # on a relay that still exists, and Qt drops the answer for the window that no longer does.
        self._count_relay = _CountRelay(QtCore.QCoreApplication.instance())
        self._count_relay.counted.connect(self._show_history_count)
        self._export_cancel: threading.Event | None = None  # set: the running export stops
        self._export_dialog: QtWidgets.QProgressDialog | None = None
        self._quitting = False
        self._dialogs: dict[str, QtWidgets.QWidget] = {}
        self._reads = reads
        self._settings = settings
        self._user_id = user_id
        self._clock = clock
        self._state = state if state is not None else open_state(paths.config_dir())
        self.setWindowTitle(self.tr("Sniper"))
        self.setObjectName("MainWindow")

        self.bridge = EngineBridge(bus, self)
        self.thumbnails = thumbnails or ThumbnailCache(paths.cache_dir() / "thumbnails", parent=self)
        self.watch_model = WatchListModel(reads, thumbnails=self.thumbnails, clock=clock, parent=self)
        self.snipes_model = SnipesModel(reads, clock=clock, parent=self)
        self.history_model = HistoryModel(reads, clock=clock, parent=self)
        self.snipes_proxy = SnipesProxy(self)
        self.snipes_proxy.setSourceModel(self.snipes_model)

        self.tabs = QtWidgets.QTabWidget(self)
        self.tabs.setAccessibleName(self.tr("Views"))
        self.tabs.setDocumentMode(True)
        # The watch list sorts itself (see WatchListModel.sort): no proxy between it and its view.
        self.watch_view = self._table(self.watch_model, self.tr("Watch list"), sortable=True)
        self.watch_view.verticalHeader().setDefaultSectionSize(self.thumbnails.size + 6)
        self.watch_view.setIconSize(QtCore.QSize(self.thumbnails.size, self.thumbnails.size))
        self.snipes_view = self._table(self.snipes_proxy, self.tr("Snipes"), sortable=True)
        self.history_view = self._table(self.history_model, self.tr("History"), sortable=False)
        self.history_filter_bar = HistoryFilterBar(self)
        self.tabs.addTab(self.watch_view, self.tr("&Watch list"))
        self.tabs.addTab(self._snipes_page(), self.tr("&Snipes"))
        self.tabs.addTab(self._history_page(), self.tr("&History"))
        self.diagnostics_view = None
        if service is not None:
            from sniper_app.ui.diagnostics import DiagnosticsView

            self.diagnostics_view = DiagnosticsView(service.metrics_snapshot, service.clock_state, parent=self)
            self.tabs.addTab(self.diagnostics_view, self.tr("&Diagnostics"))
        self.setCentralWidget(self.tabs)
        self._default_columns()
        # "£45.00 ≈ $57.69" is wider than a plain price: the price columns grow to show it whole.
        self._fit_price_columns()
        for model, columns in ((self.watch_model, (WatchColumn.PRICE,)),
                               (self.snipes_proxy, (SnipeColumn.MAX, SnipeColumn.PRICE))):
            model.modelReset.connect(self._fit_price_columns)
            model.rowsInserted.connect(self._fit_price_columns)
            # The countdown repaints Time left every second; only a change that reaches a price is measured.
            model.dataChanged.connect(
                lambda first, last, *_roles, cols=columns: self._fit_price_columns()
                if any(first.column() <= c <= last.column() for c in cols) else None
            )
        self.history_model.modelReset.connect(self._fit_history_amounts)
        self.history_model.rowsInserted.connect(self._fit_history_amounts)
        self.history_view.verticalScrollBar().valueChanged.connect(lambda _value: self._fit_history_amounts())
        self.tabs.currentChanged.connect(lambda _tab: self._fit_history_amounts())

        self.snipe_delegate = ButtonDelegate(self.watch_view)
        self.watch_view.setItemDelegateForColumn(WatchColumn.SNIPE, self.snipe_delegate)
        self.snipe_delegate.clicked.connect(self._snipe_from_watch)
        self.watch_view.activated.connect(self._snipe_from_watch)
        self.snipes_view.activated.connect(lambda _index: self.app_actions["details"].trigger())
        self.snipes_view.setContextMenuPolicy(QtCore.Qt.ContextMenuPolicy.ActionsContextMenu)
        self.setAcceptDrops(True)

        self._build_actions()
        self._build_status_bar()

        self.bridge.snipeStatusChanged.connect(self.snipes_model.on_status_changed)
        self.bridge.watchlistSynced.connect(self.watch_model.reload)
        self.bridge.accountStateChanged.connect(self._on_account_state)
        self.bridge.clockMeasured.connect(self._on_clock)
        self.bridge.watchlistSynced.connect(self._on_synced)
        self.bridge.eventReceived.connect(self._on_other_event)
        self.runner.failed.connect(self._on_task_failed)
        self.snipes_view.selectionModel().selectionChanged.connect(self.refresh_actions)
        self.snipes_model.dataChanged.connect(self.refresh_actions)
        self.snipes_model.modelReset.connect(self.refresh_actions)
        self.tabs.currentChanged.connect(self.refresh_actions)
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
        self.refresh_actions()
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
        # Sorting is switched on once, after the saved (or default) order is known: each switch sorts.
        view.setProperty("sortable", sortable)
        view.verticalHeader().setVisible(False)
        # Every row one height: the view never measures rows, which a million-row history cannot afford.
        view.verticalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Fixed)
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
        # The title takes the room the window has; the one-click button keeps its own size at the right.
        watch.setSectionResizeMode(WatchColumn.TITLE, QtWidgets.QHeaderView.ResizeMode.Stretch)
        watch.resizeSection(WatchColumn.SNIPE, 96)
        watch.setSortIndicator(WatchColumn.TIME_LEFT, QtCore.Qt.SortOrder.AscendingOrder)
        snipes = self.snipes_view.horizontalHeader()
        snipes.resizeSection(SnipeColumn.ITEM, 300)
        snipes.setStretchLastSection(True)
        snipes.setSortIndicator(SnipeColumn.TIME_LEFT, QtCore.Qt.SortOrder.AscendingOrder)
        history = self.history_view.horizontalHeader()
        history.resizeSection(HistoryColumn.WHEN, 150)
        history.resizeSection(HistoryColumn.ITEM, 260)
        history.setStretchLastSection(True)

    @QtCore.Slot()
    def _fit_price_columns(self) -> None:
        # Grow only: a wider column the user chose stays; a narrower one (saved, or the default) never clips.
        for view, column in ((self.watch_view, WatchColumn.PRICE), (self.snipes_view, SnipeColumn.MAX),
                             (self.snipes_view, SnipeColumn.PRICE)):
            header = view.horizontalHeader()
            wanted = max(view.sizeHintForColumn(column), header.sectionSizeHint(column))
            if header.sectionSize(column) < wanted:
                header.resizeSection(column, wanted)
        self._fit_history_amounts()

    @QtCore.Slot()
    def _fit_history_amounts(self) -> None:
        # History is paged from the store: measure the rows on screen (or the first ones), never the whole
        # history, which Qt's own column size hint would read when the tab is hidden.
        view, column = self.history_view, HistoryColumn.AMOUNT
        rows = self.history_model.rowCount()
        if not rows:
            return
        top = max(0, view.rowAt(0))
        bottom = view.rowAt(view.viewport().height())
        if bottom < 0 or not view.isVisible():
            bottom = min(rows, top + _HISTORY_ROWS_MEASURED) - 1
        header = view.horizontalHeader()
        wanted = max(
            header.sectionSizeHint(column),
            *(view.sizeHintForIndex(self.history_model.index(row, column)).width() for row in range(top, bottom + 1)),
        )
        if header.sectionSize(column) < wanted:
            header.resizeSection(column, wanted)

    @QtCore.Slot(str)
    def _make_room_for_message(self, message: str) -> None:
        self.statusBar().setToolTip(message)
        if message:
            for label in (self.next_snipe_label, self.sync_label, self.clock_label):
                label.hide()
            return
        self.next_snipe_label.show()
        self.clock_label.setVisible(self.service is not None)
        self._update_sync()

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
        self.sync_label = QtWidgets.QLabel(self)
        self.sync_label.setAccessibleName(self.tr("Watch list sync"))
        self.clock_label = QtWidgets.QLabel(self)
        self.clock_label.setAccessibleName(self.tr("eBay clock offset and latency"))
        self.paused_label = QtWidgets.QLabel(self.tr("PAUSED"), self)
        self.paused_label.setStyleSheet("QLabel { color: #c62828; font-weight: bold; }")
        self.paused_label.setToolTip(self.tr("No snipe will be placed until you resume (Ctrl+P)"))
        self.paused_label.hide()
        bar.addPermanentWidget(self.paused_label)
        bar.addPermanentWidget(self.next_snipe_label)
        bar.addPermanentWidget(self.sync_label)
        bar.addPermanentWidget(self.clock_label)
        bar.addPermanentWidget(self.account_label)
        bar.addPermanentWidget(self.environment_badge)
        # A message ("Snipe on … saved.") is drawn in the room the permanent labels leave: while one shows, the
        # next snipe, sync and clock step aside so it is read whole, and come back when it goes.
        bar.messageChanged.connect(self._make_room_for_message)
        self._last_sync: WatchlistSynced | None = None
        self._update_account()
        self._update_clock()
        self._update_sync()

    def _build_actions(self) -> None:
        """Every action has a shortcut; menus, the toolbar, the context menu and the tray share them."""

        def make(name: str, text: str, keys: str | QtGui.QKeySequence.StandardKey | None, tip: str) -> QtGui.QAction:
            action = QtGui.QAction(text, self)
            action.setObjectName(name)
            if keys is not None:
                action.setShortcut(QtGui.QKeySequence(keys))
            action.setToolTip(tip)
            action.setStatusTip(tip)
            self.addAction(action)  # shortcuts work whichever view has focus, even with the menu bar hidden
            return action

        tr = self.tr
        acts = {
            "add": make("add", tr("&Add snipe…"), "Ctrl+N", tr("Snipe an item by its number or link")),
            "add_from_clipboard": make(
                "add_from_clipboard", tr("Add snipe from &clipboard"), "Ctrl+Shift+V",
                tr("Snipe the eBay item whose link is on the clipboard"),
            ),
            "edit": make("edit", tr("&Edit snipe…"), "Ctrl+E", tr("Change the maximum or lead time")),
            "cancel": make("cancel", tr("&Cancel snipe"), QtGui.QKeySequence.StandardKey.Delete,
                           tr("Cancel the selected snipe; no bid will be placed")),
            "details": make("details", tr("Snipe &details"), "Ctrl+I", tr("History and timing of the snipe")),
            "sync": make("sync", tr("&Sync watch list now"), "F5", tr("Fetch your eBay watch list now")),
            "pause": make("pause", tr("&Pause all snipes"), "Ctrl+P", tr("Stop placing bids until you resume")),
            "link": make("link", tr("&Link eBay account…"), "Ctrl+L", tr("Link or re-link your eBay account")),
            "settings": make("settings", tr("Se&ttings…"), "Ctrl+,", tr("Every setting of Sniper")),
            "export": make("export", tr("E&xport history…"), "Ctrl+Shift+E", tr("Write the history to a CSV file")),
            "close": make("close", tr("C&lose window"), "Ctrl+W", tr("Close the window; Sniper keeps running")),
            "quit": make("quit", tr("&Quit Sniper"), "Ctrl+Q", tr("Stop Sniper: no snipe is placed until it runs")),
        }
        acts["pause"].setCheckable(True)
        acts["quit"].setMenuRole(QtGui.QAction.MenuRole.QuitRole)
        acts["settings"].setMenuRole(QtGui.QAction.MenuRole.PreferencesRole)
        acts["add"].triggered.connect(lambda: self.open_add_dialog())
        acts["add_from_clipboard"].triggered.connect(self.add_from_clipboard)
        acts["edit"].triggered.connect(self.edit_selected)
        acts["cancel"].triggered.connect(self.cancel_selected)
        acts["details"].triggered.connect(self.details_of_selected)
        acts["sync"].triggered.connect(self.sync_now)
        acts["pause"].toggled.connect(self.set_paused)
        acts["link"].triggered.connect(lambda: self.open_link_dialog())
        acts["settings"].triggered.connect(self.open_settings_dialog)
        acts["export"].triggered.connect(self._choose_export_file)
        acts["close"].triggered.connect(self.close)
        acts["quit"].triggered.connect(self.request_quit)
        self.app_actions = acts

        menus = self.menuBar()
        snipe_menu = menus.addMenu(tr("&Sniper"))
        for name in ("add", "add_from_clipboard", "edit", "cancel", "details"):
            snipe_menu.addAction(acts[name])
        snipe_menu.addSeparator()
        for name in ("pause", "sync"):
            snipe_menu.addAction(acts[name])
        snipe_menu.addSeparator()
        for name in ("link", "settings", "export"):
            snipe_menu.addAction(acts[name])
        snipe_menu.addSeparator()
        snipe_menu.addAction(acts["close"])
        snipe_menu.addAction(acts["quit"])
        view_menu = menus.addMenu(tr("&View"))
        for n in range(self.tabs.count()):
            action = view_menu.addAction(self.tabs.tabText(n).replace("&", ""))
            action.setShortcut(QtGui.QKeySequence(f"Ctrl+{n + 1}"))
            action.triggered.connect(lambda _checked=False, n=n: self.tabs.setCurrentIndex(n))
            self.addAction(action)

        toolbar = self.addToolBar(tr("Actions"))
        toolbar.setObjectName("actionsToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextOnly)
        for name in ("add", "edit", "cancel", "details", "sync", "pause", "link", "settings"):
            toolbar.addAction(acts[name])
        for name in ("edit", "cancel", "details"):
            self.snipes_view.addAction(acts[name])

    # ------------------------------------------------------------------ live updates

    @QtCore.Slot()
    def tick(self) -> None:
        """Once a second: countdown columns, the next-snipe countdown and the clock's age."""
        self.watch_model.tick()
        self.snipes_model.tick(through=self.snipes_proxy)
        self._update_next_snipe()
        self._update_clock()
        self._update_sync()
        self.tick_done.emit()

    def next_snipe_text(self) -> str:
        if self.service is not None and self.service.paused:
            return self.tr("paused: no snipe will be placed")
        due = self.snipes_model.next_due()
        if due is None:
            return self.tr("No snipe waiting")
        left = format_time_left(due.fire_at, self._clock(), ended=self.tr("now"))
        return self.tr("Next snipe: {title} in {left}").format(title=due.title or due.legacy_item_id, left=left)

    def _update_next_snipe(self) -> None:
        self.next_snipe_label.setText(self.next_snipe_text())

    def _update_clock(self) -> None:
        if self.service is None:
            self.clock_label.hide()
            return
        state = self.service.clock_state()
        if not state.synced:
            self.clock_label.setText(self.tr("Clock: not measured yet"))
            self.clock_label.setToolTip(state.last_error or self.tr("Measuring against {server}").format(
                server=state.server))
            return
        self.clock_label.setText(
            self.tr("Clock {offset:+.3f} s · {latency:.0f} ms · {age} ago").format(
                offset=round(state.offset_s, 3) + 0.0,  # + 0.0: never show "-0.000"
                latency=state.latency_s * 1000, age=_age_text(state.age_s)
            )
        )
        tip = self.tr(
            "Your computer's clock differs from true time by {offset:+.3f} s (measured against {server}); "
            "a bid takes about {latency:.0f} ms to reach eBay. Sniper sends early by both."
        ).format(offset=state.offset_s, server=state.server, latency=state.latency_s * 1000)
        if state.last_error:
            tip += "\n" + self.tr("Last measurement failed: {error}").format(error=state.last_error)
        self.clock_label.setToolTip(tip)

    def _update_sync(self) -> None:
        synced = self._last_sync
        if self.service is None and synced is None:
            self.sync_label.hide()
            return
        self.sync_label.setVisible(not self.statusBar().currentMessage())
        if synced is None:
            self.sync_label.setText(self.tr("Watch list: not synced yet"))
        elif synced.error:
            self.sync_label.setText(self.tr("Watch list sync failed"))
            self.sync_label.setToolTip(synced.error)
        else:
            age = (self._clock() - synced.at).total_seconds()
            self.sync_label.setText(
                self.tr("Watch list: {n} items, synced {age} ago").format(n=synced.count, age=_age_text(age))
            )
            self.sync_label.setToolTip(
                self.tr("{added} added, {removed} removed at the last sync").format(
                    added=synced.added, removed=synced.removed)
            )

    @QtCore.Slot(object)
    def _on_clock(self, _event: ClockMeasured) -> None:
        self._update_clock()

    @QtCore.Slot(object)
    def _on_synced(self, event: WatchlistSynced) -> None:
        self._last_sync = event
        self._update_sync()
        if event.error:
            self.statusBar().showMessage(self.tr("Watch list sync failed: {error}").format(error=event.error), 10000)

    @QtCore.Slot(object)
    def _on_other_event(self, event: object) -> None:
        if isinstance(event, SnipeWarning):
            self.statusBar().showMessage(event.message, 10000)
        elif isinstance(event, NotificationFailed):
            self.statusBar().showMessage(
                self.tr("A notification could not be sent ({channel}): {reason}").format(
                    channel=event.channel, reason=event.reason), 15000)

    @QtCore.Slot(str, object)
    def _on_task_failed(self, what: str, exc: BaseException) -> None:
        message = str(exc) if isinstance(exc, SniperError) else self.tr("Something went wrong; see the log.")
        self.statusBar().showMessage(f"{what}: {message}" if what else message, 10000)

    # ------------------------------------------------------------------ actions

    def refresh_actions(self) -> None:
        """Enable what makes sense now: snipe actions need a selected snipe, eBay actions a service."""
        acts = self.app_actions
        has_service = self.service is not None
        selected = self.selected_snipe_id()
        at = self.snipes_model.row_of(selected) if selected is not None else None
        row = self.snipes_model.row(at) if at is not None else None
        not_fired = row is not None and row.status in NOT_FIRED_STATUSES
        for name in ("add", "add_from_clipboard", "sync", "pause", "link"):
            acts[name].setEnabled(has_service)
        acts["edit"].setEnabled(has_service and not_fired)
        acts["cancel"].setEnabled(has_service and not_fired)
        acts["details"].setEnabled(row is not None)
        paused = self.service.paused if self.service is not None else False
        acts["pause"].blockSignals(True)
        acts["pause"].setChecked(paused)
        acts["pause"].blockSignals(False)
        acts["pause"].setText(self.tr("&Resume snipes") if paused else self.tr("&Pause all snipes"))
        self.paused_label.setVisible(paused)

    def selected_snipe_id(self) -> int | None:
        if self.tabs.currentIndex() != self.SNIPES_TAB:
            return None
        rows = self.snipes_view.selectionModel().selectedRows()
        if not rows:
            current = self.snipes_view.currentIndex()
            if not current.isValid():
                return None
            rows = [current]
        key = rows[0].siblingAtColumn(0).data(KEY_ROLE)
        return int(key) if key is not None else None

    def show_and_raise(self) -> None:
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def open_snipe(self, snipe_id: int) -> None:
        """Show the Snipes view with ``snipe_id`` selected and its details open (a notification's click)."""
        self.tabs.setCurrentIndex(self.SNIPES_TAB)
        self.show_finished_box.setChecked(True)
        at = self.snipes_model.row_of(snipe_id)
        if at is None:
            return
        index = self.snipes_proxy.mapFromSource(self.snipes_model.index(at, 0))
        self.snipes_view.selectRow(index.row())
        self.snipes_view.scrollTo(index)
        self.open_details(snipe_id)

    def _snipe_from_watch(self, index: QtCore.QModelIndex) -> None:
        legacy = index.siblingAtColumn(0).data(KEY_ROLE)
        if legacy and index.siblingAtColumn(0).data(SNIPEABLE_ROLE) is False:
            self.statusBar().showMessage(
                self.tr("Item {item} is a fixed-price listing: it can only be bought outright, so there is "
                        "nothing to snipe.").format(item=legacy), 8000,
            )
            return
        if legacy:
            self.open_add_dialog(str(legacy))

    @QtCore.Slot()
    def add_from_clipboard(self) -> None:
        from sniper_app.ui.snipe_dialog import item_text_from_clipboard

        text = item_text_from_clipboard()
        if text is None:
            self.show_and_raise()
            self.statusBar().showMessage(self.tr("The clipboard holds no eBay item number or link."), 8000)
        self.open_add_dialog(text)

    def open_add_dialog(self, item_text: str | None = None) -> QtWidgets.QWidget | None:
        if self.service is None:
            return None
        from sniper_app.ui.snipe_dialog import SnipeDialog

        self.show_and_raise()
        dialog = SnipeDialog(
            self.service, self.runner, self.thumbnails, self, snipes_model=self.snipes_model, item_text=item_text
        )
        dialog.snipeAdded.connect(self._on_snipe_saved)
        self._keep(dialog, "add")
        dialog.open()
        return dialog

    @QtCore.Slot()
    def edit_selected(self) -> None:
        snipe_id = self.selected_snipe_id()
        if snipe_id is None or self.service is None:
            return
        from sniper_app.ui.snipe_dialog import SnipeDialog

        dialog = SnipeDialog(
            self.service, self.runner, self.thumbnails, self, snipes_model=self.snipes_model,
            snipe=self.service.get_snipe(snipe_id),
        )
        dialog.snipeEdited.connect(self._on_snipe_saved)
        self._keep(dialog, "edit")
        dialog.open()

    @QtCore.Slot(int, list)
    def _on_snipe_saved(self, snipe_id: int, warnings: list[str]) -> None:
        at = self.snipes_model.row_of(snipe_id)
        title = self.snipes_model.row(at).title if at is not None else f"#{snipe_id}"
        text = self.tr("Snipe on “{title}” saved.").format(title=title)
        self.statusBar().showMessage(" ".join([text, *warnings]), 12000)

    @QtCore.Slot()
    def cancel_selected(self) -> None:
        snipe_id = self.selected_snipe_id()
        if snipe_id is None or self.service is None:
            return
        at = self.snipes_model.row_of(snipe_id)
        if at is None:
            return
        row = self.snipes_model.row(at)
        box = QtWidgets.QMessageBox(
            QtWidgets.QMessageBox.Icon.Question,
            self.tr("Cancel snipe"),
            self.tr("Cancel the snipe on “{title}” (maximum {max})? No bid will be placed.").format(
                title=row.title or row.legacy_item_id, max=format_money(row.max_bid_minor, row.currency)
            ),
            QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.No,
            self,
        )
        box.setDefaultButton(QtWidgets.QMessageBox.StandardButton.No)
        box.setObjectName("confirmCancel")
        box.accepted.connect(lambda: self.cancel_snipe(snipe_id))
        self._keep(box, "confirm")
        box.open()

    def cancel_snipe(self, snipe_id: int) -> None:
        if self.service is None:
            return

        def done(_snipe: object) -> None:
            self.statusBar().showMessage(self.tr("Snipe #{id} cancelled; no bid will be placed.").format(
                id=snipe_id), 8000)

        def refused(exc: BaseException) -> None:
            message = str(exc) if isinstance(exc, SniperError) else self.tr("The snipe could not be cancelled.")
            QtWidgets.QMessageBox.warning(self, self.tr("Not cancelled"), message)

        self.runner.submit(self.service.cancel_snipe(snipe_id), on_done=done, on_error=refused, what="Cancel")

    @QtCore.Slot()
    def details_of_selected(self) -> None:
        snipe_id = self.selected_snipe_id()
        if snipe_id is not None:
            self.open_details(snipe_id)

    def open_details(self, snipe_id: int) -> None:
        from sniper_app.ui.detail import SnipeDetail

        dialog = SnipeDetail(self._reads, snipe_id, parent=self, clock=self._clock)
        self._keep(dialog, f"detail:{snipe_id}")
        dialog.show()

    @QtCore.Slot()
    def sync_now(self) -> None:
        if self.service is None:
            return
        if not self.service.linked_username():
            self.statusBar().showMessage(self.tr("Link your eBay account first (Ctrl+L)."), 8000)
            return
        self.sync_label.setText(self.tr("Watch list: syncing…"))
        self.runner.submit(self.service.sync_watchlist(), what=self.tr("Watch list sync"),
                           on_error=lambda _exc: None)  # the bus reports the failure in the status bar

    @QtCore.Slot(bool)
    def set_paused(self, paused: bool) -> None:
        if self.service is None:
            return
        self.service.set_paused(paused)
        self.statusBar().showMessage(
            self.tr("Paused: no snipe will be placed until you resume.") if paused
            else self.tr("Resumed: snipes will be placed."), 8000)
        self.refresh_actions()
        self._update_next_snipe()

    @QtCore.Slot()
    def open_link_dialog(self, reason: str | None = None) -> None:
        if self.service is None:
            return
        from sniper_app.ui.link_dialog import LinkDialog

        self.show_and_raise()
        dialog = LinkDialog(self.service, self.runner, self, reason=reason)
        dialog.linked.connect(lambda _name: self._update_account())
        self._keep(dialog, "link")
        dialog.open()

    @QtCore.Slot()
    def open_settings_dialog(self) -> None:
        from sniper_app.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self._settings, self.runner, self, secrets=self.secrets, test_email=self.test_email)
        dialog.settingsSaved.connect(self._on_settings_saved)
        self._keep(dialog, "settings")
        dialog.open()

    def follow_settings(self, changes: dict[str, Any]) -> None:
        """Values the engine took from elsewhere (another process's 'config set'): the next Settings dialog
        opens on them rather than on what this window last saw."""
        self._settings = self._settings.model_copy(update=changes)

    @QtCore.Slot(object)
    def _on_settings_saved(self, settings: Settings) -> None:
        previous = self._settings
        self._settings = settings
        self.statusBar().showMessage(self.tr("Settings saved."), 6000)
        if settings.autostart != previous.autostart:
            from sniper_app.ui import autostart

            try:
                autostart.set_enabled(settings.autostart)
            except OSError as exc:
                QtWidgets.QMessageBox.warning(
                    self, self.tr("Start at login"),
                    self.tr("The start-at-login entry could not be changed: {error}").format(error=exc.strerror or exc),
                )
        self.settingsSaved.emit(settings)

    def _keep(self, widget: QtWidgets.QWidget, name: str) -> None:
        """One dialog of each kind at a time, alive while it is open, deleted when closed."""
        old = self._dialogs.pop(name, None)
        if old is not None:
            old.close()
        widget.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        self._dialogs[name] = widget
        widget.destroyed.connect(lambda _obj=None, name=name, w=widget: self._forget(name, w))

    def _forget(self, name: str, widget: QtWidgets.QWidget) -> None:
        if self._dialogs.get(name) is widget:
            del self._dialogs[name]

    def dialog(self, name: str) -> QtWidgets.QWidget | None:
        """The open dialog of kind ``name`` ("add", "edit", "link", "settings", "confirm", "detail:ID")."""
        return self._dialogs.get(name)

    # ------------------------------------------------------------------ drag and drop

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        from sniper_app.ui.snipe_dialog import item_text_from_mime

        if self.service is not None and item_text_from_mime(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        from sniper_app.ui.snipe_dialog import item_text_from_mime

        text = item_text_from_mime(event.mimeData())
        if text is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_add_dialog(text)

    # ------------------------------------------------------------------ quitting and closing

    @QtCore.Slot()
    def request_quit(self) -> None:
        """Quit, after asking when snipes are waiting (they are not placed while Sniper is closed)."""
        pending = self.service.pending_count() if self.service is not None else 0
        if not pending:
            self._confirmed_quit()
            return
        self.show_and_raise()
        box = QtWidgets.QMessageBox(
            QtWidgets.QMessageBox.Icon.Warning,
            self.tr("Quit Sniper?"),
            self.tr(
                "{n} snipe(s) are waiting. While Sniper is not running they will not be placed. Quit anyway?"
            ).format(n=pending),
            QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.No,
            self,
        )
        box.setObjectName("confirmQuit")
        box.setDefaultButton(QtWidgets.QMessageBox.StandardButton.No)
        box.accepted.connect(self._confirmed_quit)
        self._keep(box, "confirm")
        box.open()

    def allow_close(self) -> None:
        """From now on closing the window closes it (the app is quitting)."""
        self._quitting = True

    def _confirmed_quit(self) -> None:
        self._quitting = True
        self.save_state()
        self.quitRequested.emit()

    def _update_account(self, message: str | None = None) -> None:
        account = self._reads.account()
        if not account.username:
            text = self.tr("No eBay account linked")
        elif account.needs_relink:
            text = self.tr("{name}: link again").format(name=account.username)
        else:
            text = self.tr("eBay: {name}").format(name=account.username)
        self.account_label.setText(text)
        self.account_label.setToolTip(message or "")

    @QtCore.Slot(object)
    def _on_account_state(self, event: AccountStateChanged) -> None:
        self._update_account(event.message)
        if event.state == "needs_relink" and self.service is not None:
            # Snipes are at risk until the account is linked again: ask now, not at the next bid.
            self.open_link_dialog(reason=event.message)

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
        """Count the matching events on a worker thread: a million take longer than a frame."""
        self._count_generation += 1
        label = self.history_filter_bar.count_label
        try:
            count = self._reads.history_counter(self.history_model.history_filter)
        except Exception:
            log.exception("could not prepare the history count")
            label.setText("")
            return
        if not label.text():
            label.setText(self.tr("counting…"))
        relay, generation = self._count_relay, self._count_generation

        def run() -> None:  # on a pool thread: nothing here may touch a widget
            try:
                number = count()
            except Exception:
                log.exception("counting the history failed")
                number = -1
            relay.counted.emit(generation, number)

        QtCore.QThreadPool.globalInstance().start(run)

    @QtCore.Slot(int, int)
    def _show_history_count(self, generation: int, count: int) -> None:
        if generation != self._count_generation:  # an older filter's answer arriving late is dropped
            return
        label = self.history_filter_bar.count_label
        label.setText(self.tr("{n:,} events").format(n=count) if count >= 0 else "")

    def export_history(self, path: Path) -> int:
        """Write the filtered history (every page, not just those loaded) to ``path`` as CSV."""
        return export_history_csv(self._reads, path, self.history_model.history_filter)

    @QtCore.Slot()
    def _choose_export_file(self) -> None:
        if self._export_cancel is not None:
            self.statusBar().showMessage(self.tr("An export is already running."), 5000)
            return
        start = str(Path.home() / "sniper-history.csv")
        chosen, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, self.tr("Export history"), start, self.tr("CSV files (*.csv)")
        )
        if chosen:
            self.start_export(Path(chosen))

    def start_export(self, path: Path) -> None:
        """Export the filtered history on a worker thread, with a progress dialog that can cancel it: a
        million events take many seconds, and the window (and the loop the engine shares) stays live."""
        cancel = threading.Event()
        self._export_cancel = cancel
        dialog = QtWidgets.QProgressDialog(self.tr("Exporting the history…"), self.tr("Cancel"), 0, 0, self)
        dialog.setWindowTitle(self.tr("Export history"))
        dialog.setMinimumDuration(400)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(cancel.set)
        self._export_dialog = dialog
        relay = _ExportRelay(self)
        relay.progressed.connect(
            lambda n: dialog.setLabelText(self.tr("Exporting the history… {n:,} events written").format(n=n))
        )
        relay.finished.connect(lambda n, error: self._export_finished(relay, path, n, error))
        reads, wanted = self._reads, self.history_model.history_filter

        def progress(rows: int) -> None:
            with contextlib.suppress(RuntimeError):  # the window closed meanwhile
                relay.progressed.emit(rows)

        def run() -> None:  # on the export thread: nothing here may touch a widget
            count, error = -1, ""
            try:
                count = export_history_csv(reads, path, wanted, progress=progress, cancelled=cancel.is_set)
            except ExportCancelled:
                pass
            except OSError as exc:
                error = str(exc.strerror or exc)
            except Exception as exc:
                log.exception("exporting the history failed")
                error = f"{type(exc).__name__}: {exc}"
            finally:
                with contextlib.suppress(Exception):  # the store may have closed under it at quit
                    reads.release_thread()
            with contextlib.suppress(RuntimeError):  # the window closed meanwhile: nobody left to tell
                relay.finished.emit(count, error)

        threading.Thread(target=run, name="sniper-export", daemon=True).start()

    def cancel_export(self) -> None:
        if self._export_cancel is not None:
            self._export_cancel.set()

    def _export_finished(self, relay: _ExportRelay, path: Path, count: int, error: str) -> None:
        self._export_cancel = None
        if self._export_dialog is not None:
            self._export_dialog.close()
            self._export_dialog.deleteLater()
            self._export_dialog = None
        relay.deleteLater()
        if error:
            QtWidgets.QMessageBox.warning(
                self,
                self.tr("Export failed"),
                self.tr("The history could not be written to {path}: {error}").format(path=path, error=error),
            )
        elif count < 0:
            self.statusBar().showMessage(self.tr("Export cancelled; nothing was written."), 8000)
        else:
            self.statusBar().showMessage(self.tr("Exported {n:,} events to {path}").format(n=count, path=path), 8000)

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
            if view.property("sortable"):
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
            if view.property("sortable") and column is not None and 0 <= column < header.count():
                header.setSortIndicator(column, QtCore.Qt.SortOrder(order or 0))
        for view in self._views().values():
            if view.property("sortable"):
                view.setSortingEnabled(True)  # one sort, by the indicator set above
        self._fit_price_columns()
        tab = _as_int(state.value("window/tab"))
        if tab is not None and 0 <= tab < self.tabs.count():
            self.tabs.setCurrentIndex(tab)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self.save_state()
        if self._quitting or self.service is None:
            super().closeEvent(event)
            return
        event.ignore()
        if self.tray_available:
            self.hide()
            if not _as_bool(self._state.value("tray/toldOnce", False)):
                self._state.setValue("tray/toldOnce", True)
                self._state.sync()
                self.closedToTray.emit()
            return
        # No tray to live in: closing the window would stop sniping, so ask.
        self.request_quit()

    def shutdown(self) -> None:
        """Stop timers and listening to the engine (before the store closes)."""
        self.cancel_export()
        self.countdown.stop()
        self._history_refresh.stop()
        self.bridge.detach()


def _age_text(seconds: float) -> str:
    if seconds == float("inf"):
        return "—"
    if seconds < 90:
        return f"{max(0, int(seconds))} s"
    if seconds < 90 * 60:
        return f"{int(seconds // 60)} min"
    return f"{int(seconds // 3600)} h"


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
