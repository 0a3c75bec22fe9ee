"""The main window: Watch list, Snipes and History side by side in tabs, with a status bar.

Everything it needs is handed in (the facade's reads, event bus, settings, the local profile); no globals.
Its look between runs (geometry, column sizes, sort, last tab) lives in an INI file in the config dir.
The window's parts live in rooms of their own: history_filter_bar, button_delegate, window_actions
(menus, toolbar, shortcuts), window_status_bar, history_export (CSV on a worker), history_count and window_state.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
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
from sniper_app.ui import empty_state, history_count, history_export, window_actions, window_state, window_status_bar
from sniper_app.ui.bridge import AsyncRunner, EngineBridge
from sniper_app.ui.button_delegate import ButtonDelegate
from sniper_app.ui.column_fit import grow_to_fit
from sniper_app.ui.exposure_label import ExposureLabel
from sniper_app.ui.formatting import format_money
from sniper_app.ui.history import export_history_csv
from sniper_app.ui.history_filter_bar import HistoryFilterBar
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
from sniper_app.ui.snipes_model import fit_columns as fit_snipe_columns
from sniper_app.ui.snipes_model import stretch_with_floor
from sniper_app.ui.stats_view import StatsView
from sniper_app.ui.thumbnails import ThumbnailCache
from sniper_app.ui.watch_list_model import SNIPE_ID_ROLE
from sniper_app.ui.widgets import HorizontalStrip
from sniper_app.ui.window_state import ini_bool, open_state

if TYPE_CHECKING:
    from sniper_app.domain.views import ExposureView
    from sniper_app.engine.service import SniperService

log = logging.getLogger(__name__)

TICK_MS: Final = 1000


# eBay settles an auction's final price and bid count a few seconds after its end.
ENDED_REFRESH_MS: Final = 20_000


class MainWindow(QtWidgets.QMainWindow):
    """The window titled "Sniper": Watch list, Snipes and History, switchable with Ctrl+1/2/3."""

    WATCH_TAB: Final = 0
    SNIPES_TAB: Final = 1
    HISTORY_TAB: Final = 2

    tick_done = QtCore.Signal()  # after each once-a-second refresh (the tray's tooltip follows it)
    quitRequested = QtCore.Signal()  # the user chose Quit (and confirmed it if snipes were waiting)
    closedToTray = QtCore.Signal()  # the first time closing the window left Sniper in the tray
    settingsSaved = QtCore.Signal(object)  # Settings, after the Settings dialog saved them

    # Set by the rooms that build them (window_actions, window_status_bar).
    app_actions: dict[str, QtGui.QAction]
    environment_badge: QtWidgets.QLabel
    account_label: QtWidgets.QLabel
    next_snipe_label: window_status_bar.TailLabel
    sync_label: window_status_bar.TailLabel
    clock_label: window_status_bar.TailLabel
    exposure_status: window_status_bar.TailLabel
    message_toast: window_status_bar.MessageToast
    paused_label: QtWidgets.QLabel
    awake_label: QtWidgets.QLabel
    _last_sync: WatchlistSynced | None

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
        service: SniperService,
        runner: AsyncRunner | None = None,
        exposure: Callable[[], ExposureView | None] | None = None,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        # Over a box the exposure is not known until the box has answered: such a reader says None meanwhile.
        self._exposure_reader = exposure or service.exposure
        self.runner = runner or AsyncRunner(self)
        # Set by the app around the Settings dialog: where secrets go and how a test email is sent.
        self.secrets: Any = None
        self.test_email: Any = None
        self.box_settings: Any = None  # the box's engine settings, on a desktop that drives a box
        self.consent_page: Any = None  # where the Link dialog gets eBay's consent page, when not the local engine
        self.tray_available = False  # set by the tray once its icon is shown
        self._count_generation = 0
        # Owned by the application, not the window: a count still running when the window goes away emits
        # on a relay that still exists, and Qt drops the answer for the window that no longer does.
        self._count_relay = history_count.CountRelay(QtCore.QCoreApplication.instance())
        self._count_relay.counted.connect(self._show_history_count)
        self._export_cancel: threading.Event | None = None  # set: the running export stops
        self._export_dialog: QtWidgets.QProgressDialog | None = None
        self._quitting = False
        self._ended_refresh_due = False
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
        # A thumbnail a line and a half high: enough to recognise the item without doubling every row.
        picture = max(24, self.watch_view.fontMetrics().height() * 8 // 5)
        self.watch_view.verticalHeader().setDefaultSectionSize(picture + 4)
        self.watch_view.setIconSize(QtCore.QSize(picture, picture))
        self.snipes_view = self._table(self.snipes_proxy, self.tr("Snipes"), sortable=True)
        self.history_view = self._table(self.history_model, self.tr("History"), sortable=False)
        self.history_filter_bar = HistoryFilterBar(self)
        self.tabs.addTab(self.watch_view, self.tr("&Watch list"))
        self.tabs.addTab(self._snipes_page(), self.tr("&Snipes"))
        self.tabs.addTab(self._history_page(), self.tr("&History"))
        from sniper_app.ui.diagnostics import DiagnosticsView

        self.diagnostics_view = DiagnosticsView(
            service.metrics_snapshot, service.clock_state, ebay_address=service.ebay_address(), parent=self)
        self.tabs.addTab(self.diagnostics_view, self.tr("&Diagnostics"))
        # Looked up at each read: a facade that cannot give the record yet shows a sentence there, not a crash here.
        # The view reads on a worker thread, and only once it is first shown.
        self.stats_view = StatsView(lambda: reads.record(), self.bridge, self, release=lambda: reads.release_thread())
        self.tabs.addTab(self.stats_view, self.tr("S&tatistics"))
        self.setCentralWidget(self.tabs)
        self._default_columns()
        # "£45.00 ≈ $57.69" is wider than a plain price: the price columns grow to show it whole. The watch
        # list measures only the rows that changed (restore_state measures them all as it is first shown);
        # the Snipes view fits all its columns, once for a burst of changes.
        watch = self.watch_view.model()
        watch.modelReset.connect(lambda: self._fit_price_rows(self.watch_view, (WatchColumn.PRICE,)))
        watch.rowsInserted.connect(lambda _parent, first, last: self._fit_price_rows(
            self.watch_view, (WatchColumn.PRICE,), first, last))
        watch.dataChanged.connect(lambda first, last, *_roles: self._fit_price_rows(
            self.watch_view, (WatchColumn.PRICE,), first.row(), last.row())
            if first.column() <= WatchColumn.PRICE <= last.column() else None)
        self._snipe_refit = QtCore.QTimer(self, singleShot=True, interval=0)
        self._snipe_refit.timeout.connect(lambda: fit_snipe_columns(self.snipes_view))
        self.snipes_proxy.modelReset.connect(self._snipe_refit.start)
        self.snipes_proxy.rowsInserted.connect(self._snipe_refit.start)
        # The countdown repaints Time left every second; only a change that reaches another column refits.
        self.snipes_proxy.dataChanged.connect(
            lambda first, last, *_roles: self._snipe_refit.start()
            if any(first.column() <= c <= last.column() for c in SnipeColumn if c != SnipeColumn.TIME_LEFT) else None)
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

        window_actions.build_actions(self)
        window_status_bar.build_status_bar(self)
        self.empty_states = empty_state.install(self)

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
        self.history_model.newerArrived.connect(self._update_history_count)
        self.snipes_model.rowsInserted.connect(self._update_next_snipe)
        # The watch list marks the rows that have a snipe; the Snipes model is where snipes change.
        self._watch_snipes = QtCore.QTimer(self)
        self._watch_snipes.setSingleShot(True)
        self._watch_snipes.setInterval(0)
        self._watch_snipes.timeout.connect(lambda: self.watch_model.set_snipes(self.snipes_model.rows()))
        for signal in (self.snipes_model.rowsInserted, self.snipes_model.rowsRemoved, self.snipes_model.modelReset):
            signal.connect(self._watch_snipes.start)
        self.snipes_model.dataChanged.connect(
            lambda first, last, *_roles: self._watch_snipes.start()
            if not first.column() == last.column() == SnipeColumn.TIME_LEFT else None)
        self.watch_model.set_snipes(self.snipes_model.rows())
        # An item that ended while shown is read again from eBay shortly after, for its final figures.
        self.ended_refresh_ms = ENDED_REFRESH_MS
        self.watch_model.itemsEnded.connect(self._refresh_after_end)
        # Status changes, settings (the cap) and rows coming and going; an edited maximum shows in its column.
        for signal in (self.bridge.eventReceived, self.snipes_model.modelReset, self.snipes_model.rowsInserted,
                       self.snipes_model.rowsRemoved):
            signal.connect(self.exposure_label.schedule)
        self.snipes_model.dataChanged.connect(
            lambda first, last, *_roles: self.exposure_label.schedule()
            if first.column() <= SnipeColumn.MAX <= last.column() else None)
        self.exposure_label.refresh()
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
        # The status bar's countdowns now; the models were just read, so their first tick can wait a second.
        self._tick_status_bar()

    # ------------------------------------------------------------------ building

    def _table(self, model: QtCore.QAbstractItemModel, name: str, *, sortable: bool) -> QtWidgets.QTableView:
        view = QtWidgets.QTableView(self)
        view.setObjectName(name)
        view.setAccessibleName(name)
        view.setModel(model)
        view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        view.setAlternatingRowColors(True)
        view.setWordWrap(False)
        # Tab leaves the table for the next control (arrows move between cells): otherwise Tab is trapped.
        view.setTabKeyNavigation(False)
        # Sorting is switched on once, after the saved (or default) order is known: each switch sorts.
        view.setProperty("sortable", sortable)
        view.verticalHeader().setVisible(False)
        # Every row one height: the view never measures rows, which a million-row history cannot afford.
        view.verticalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Fixed)
        # Rows as tall as a line of text and its icon need, not the style's roomier default.
        view.verticalHeader().setDefaultSectionSize(max(view.fontMetrics().height(), 16) + 8)
        view.verticalHeader().setMinimumSectionSize(1)
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
        self.exposure_label = ExposureLabel(self._exposure_reader, page)
        layout.addWidget(self.exposure_label)
        return page

    def _history_page(self) -> QtWidgets.QWidget:
        page = QtWidgets.QWidget(self)
        layout = QtWidgets.QVBoxLayout(page)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(HorizontalStrip(self.history_filter_bar, page))
        layout.addWidget(self.history_view)
        return page

    def _default_columns(self) -> None:
        watch = self.watch_view.horizontalHeader()
        watch.resizeSection(WatchColumn.THUMBNAIL, self.watch_view.iconSize().width() + 8)
        watch.resizeSection(WatchColumn.TITLE, 380)
        watch.setStretchLastSection(False)
        # The title takes the room the window has; the one-click button keeps its own size at the right.
        stretch_with_floor(self.watch_view, WatchColumn.TITLE)
        watch.resizeSection(WatchColumn.SNIPE, 96)
        # The figures as wide as their header and text, so the title has the rest even at 800 px.
        metrics = self.watch_view.fontMetrics()
        for column, widest in ((WatchColumn.BIDS, "000"), (WatchColumn.TIME_LEFT, "00h 00m"),
                               (WatchColumn.MY_SNIPE, "Scheduled · max $1,500.00")):
            watch.resizeSection(column, max(watch.sectionSizeHint(column), metrics.horizontalAdvance(widest) + 12))
        watch.setSortIndicator(WatchColumn.TIME_LEFT, QtCore.Qt.SortOrder.AscendingOrder)
        snipes = self.snipes_view.horizontalHeader()
        # The item's title is what people read: it takes the room; the other columns fit their text.
        snipes.setMinimumSectionSize(40)
        fit_snipe_columns(self.snipes_view, grow_only=False)
        snipes.setSortIndicator(SnipeColumn.TIME_LEFT, QtCore.Qt.SortOrder.AscendingOrder)
        history = self.history_view.horizontalHeader()
        metrics = self.history_view.fontMetrics()
        # The time, action and status as wide as their longest words in this font; the details take the rest.
        for part, words in ((HistoryColumn.WHEN, ["0000-00-00 00:00:00"]),
                            (HistoryColumn.ACTION, [action_text(a) for a in HistoryAction]),
                            (HistoryColumn.STATUS, [status_text(s) for s in SnipeStatus])):
            longest = max(metrics.horizontalAdvance(word) for word in words) + 12
            history.resizeSection(part, max(history.sectionSizeHint(part), longest))
        history.resizeSection(HistoryColumn.ITEM, 260)
        history.setStretchLastSection(True)

    def _fit_price_columns(self, view: QtWidgets.QTableView | None = None) -> None:
        """Every row of the money columns of ``view`` (of every view by default); restore_state calls this as
        each view is first shown."""
        # Grow only: a wider column the user chose stays; a narrower one (saved, or the default) never clips.
        if view is None or view is self.watch_view:
            self._fit_price_rows(self.watch_view, (WatchColumn.PRICE,))
        if view is None or view is self.snipes_view:
            fit_snipe_columns(self.snipes_view)
        if view is None or view is self.history_view:
            self._fit_history_amounts()

    def _fit_price_rows(self, view: QtWidgets.QTableView, columns: Iterable[int], first: int = 0,
                        last: int | None = None) -> None:
        for column in columns:
            grow_to_fit(view, column, first, last)

    @QtCore.Slot()
    def _fit_history_amounts(self) -> None:
        history_count.fit_amounts(self)

    @QtCore.Slot(str)
    def _make_room_for_message(self, message: str) -> None:
        window_status_bar.make_room_for_message(self, message)

    # ------------------------------------------------------------------ live updates

    @QtCore.Slot()
    def tick(self) -> None:
        """Once a second: countdown columns, the next-snipe countdown and the clock's age."""
        self.watch_model.tick()
        self.snipes_model.tick(through=self.snipes_proxy)
        self._tick_status_bar()
        self.tick_done.emit()

    def _tick_status_bar(self) -> None:
        self._update_next_snipe()
        self._update_clock()
        self._update_sync()
        window_status_bar.update_keep_awake(self)

    def next_snipe_text(self) -> str:
        return window_status_bar.next_snipe_text(self)

    def _update_next_snipe(self) -> None:
        window_status_bar.update_next_snipe(self)

    def _update_clock(self) -> None:
        window_status_bar.update_clock(self)

    def _update_sync(self) -> None:
        window_status_bar.update_sync(self)

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
        """Enable what makes sense now: snipe actions need a selected snipe that has not fired yet."""
        acts = self.app_actions
        selected = self.selected_snipe_id()
        at = self.snipes_model.row_of(selected) if selected is not None else None
        row = self.snipes_model.row(at) if at is not None else None
        not_fired = row is not None and row.status in NOT_FIRED_STATUSES
        for name in ("add", "add_from_clipboard", "sync", "pause", "link"):
            acts[name].setEnabled(True)
        acts["edit"].setEnabled(not_fired)
        acts["cancel"].setEnabled(not_fired)
        acts["details"].setEnabled(row is not None)
        paused = self.service.paused
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
        row = self.watch_model.row(index.row()) if legacy else None
        if row is not None and row.snipeable and index.siblingAtColumn(0).data(SNIPEABLE_ROLE) is False:
            self.statusBar().showMessage(
                self.tr("Item {item} has ended: there is nothing left to snipe.").format(item=legacy), 8000)
            return
        snipe_id = index.siblingAtColumn(0).data(SNIPE_ID_ROLE)
        if snipe_id is not None:
            at = self.snipes_model.row_of(int(snipe_id))
            if at is not None and self.snipes_model.row(at).status in NOT_FIRED_STATUSES:
                self.edit_snipe(int(snipe_id))
            else:
                self.open_details(int(snipe_id))
            return
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
        from sniper_app.ui.item_sources import item_text_from_clipboard

        text = item_text_from_clipboard()
        if text is None:
            self.show_and_raise()
            # Said here rather than in an empty dialog: there is nothing for one to show.
            self.statusBar().showMessage(self.tr("The clipboard holds no eBay item number or link."), 8000)
            return
        self.open_add_dialog(text)

    def open_add_dialog(self, item_text: str | None = None) -> QtWidgets.QWidget | None:
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
        if snipe_id is not None:
            self.edit_snipe(snipe_id)

    def edit_snipe(self, snipe_id: int) -> None:
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
        if snipe_id is None:
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

    @QtCore.Slot(list)
    def _refresh_after_end(self, _items: list[str]) -> None:
        if not self._ended_refresh_due:
            self._ended_refresh_due = True
            QtCore.QTimer.singleShot(self.ended_refresh_ms, self, self._refresh_ended)

    def _refresh_ended(self) -> None:
        self._ended_refresh_due = False
        if self.service.linked_username():
            self.runner.submit(self.service.sync_watchlist(), what=self.tr("Watch list sync"),
                               on_error=lambda _exc: None)

    @QtCore.Slot()
    def sync_now(self) -> None:
        if not self.service.linked_username():
            self.statusBar().showMessage(self.tr("Link your eBay account first (Ctrl+L)."), 8000)
            return
        self.sync_label.setText(self.tr("Watch list: syncing…"))
        self.runner.submit(self.service.sync_watchlist(), what=self.tr("Watch list sync"),
                           on_error=lambda _exc: None)  # the bus reports the failure in the status bar

    @QtCore.Slot(bool)
    def set_paused(self, paused: bool) -> None:
        self.service.set_paused(paused)
        if not paused:  # the pause itself is said by the status bar's field for as long as it lasts
            self.statusBar().showMessage(self.tr("Resumed: snipes will be placed."), 8000)
        self.refresh_actions()
        self._update_next_snipe()

    @QtCore.Slot()
    def open_link_dialog(self, reason: str | None = None) -> None:
        from sniper_app.ui.link_dialog import LinkDialog

        self.show_and_raise()
        dialog = LinkDialog(self.service, self.runner, self, reason=reason, consent_page=self.consent_page)
        dialog.linked.connect(lambda _name: self._update_account())
        self._keep(dialog, "link")
        dialog.open()

    @QtCore.Slot()
    def open_settings_dialog(self) -> None:
        from sniper_app.remote.service import DesktopLink
        from sniper_app.ui.settings_dialog import SettingsDialog

        remote = DesktopLink(self._settings.resolved_data_dir(), self.secrets) if self.secrets is not None else None
        dialog = SettingsDialog(self._settings, self.runner, self, secrets=self.secrets, test_email=self.test_email,
                                remote=remote, box=self.box_settings)
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
        from sniper_app.ui.item_sources import item_text_from_mime

        if item_text_from_mime(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        from sniper_app.ui.item_sources import item_text_from_mime

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
        pending = self.service.pending_count()
        if not pending:
            self._confirmed_quit()
            return
        self.show_and_raise()
        box = QtWidgets.QMessageBox(
            QtWidgets.QMessageBox.Icon.Warning,
            self.tr("Quit Sniper?"),
            self.tr("1 snipe is waiting. While Sniper is not running it will not be placed. Quit anyway?")
            if pending == 1 else
            self.tr("{n} snipes are waiting. While Sniper is not running they will not be placed. Quit anyway?"
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
        window_status_bar.update_account(self, message)

    @QtCore.Slot(object)
    def _on_account_state(self, event: AccountStateChanged) -> None:
        self._update_account(event.message)
        if event.state == "needs_relink":
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
        history_count.update_count(self)

    @QtCore.Slot(int, int)
    def _show_history_count(self, generation: int, count: int) -> None:
        history_count.show_count(self, generation, count)

    def export_history(self, path: Path) -> int:
        """Write the filtered history (every page, not just those loaded) to ``path`` as CSV."""
        return export_history_csv(self._reads, path, self.history_model.history_filter)

    @QtCore.Slot()
    def _choose_export_file(self) -> None:
        history_export.choose_export_file(self)

    def start_export(self, path: Path) -> None:
        """Export the filtered history on a worker thread, with a progress dialog that can cancel it: a
        million events take many seconds, and the window (and the loop the engine shares) stays live."""
        history_export.start_export(self, path)

    def cancel_export(self) -> None:
        if self._export_cancel is not None:
            self._export_cancel.set()

    # ------------------------------------------------------------------ state between runs

    def save_state(self) -> None:
        window_state.save_state(self)

    def restore_state(self) -> None:
        window_state.restore_state(self)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self.save_state()
        if self._quitting:
            super().closeEvent(event)
            return
        event.ignore()
        if self.tray_available:
            self.hide()
            if not ini_bool(self._state.value("tray/toldOnce", False)):
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
        self.exposure_label.stop()
        self.bridge.detach()
