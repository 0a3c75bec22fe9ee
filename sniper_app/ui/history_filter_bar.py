"""The History view's filter bar: action, snipe status, text and date range, the match count and Export."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Final

from sniper_app.domain.history import HistoryAction
from sniper_app.domain.status import SnipeStatus
from sniper_app.ui.history import HistoryFilter
from sniper_app.ui.models import action_text, status_text
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets

SEARCH_DEBOUNCE_MS: Final = 300
_ANY_DATE: Final = QtCore.QDate(2000, 1, 1)  # a date edit at its minimum means "no bound"


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
        edit.installEventFilter(self)
        return edit

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        # A date field showing "Any" keeps Tab to itself (Qt walks its hidden day/month/year parts): Tab
        # must leave it, or a keyboard user is stuck there. Left and Right still move between the parts.
        if (
            isinstance(watched, QtWidgets.QDateEdit)
            and event.type() == QtCore.QEvent.Type.KeyPress
            and isinstance(event, QtGui.QKeyEvent)
            and event.key() in (QtCore.Qt.Key.Key_Tab, QtCore.Qt.Key.Key_Backtab)
            and not event.modifiers() & ~QtCore.Qt.KeyboardModifier.ShiftModifier
        ):
            return self.focusNextPrevChild(event.key() == QtCore.Qt.Key.Key_Tab)
        return super().eventFilter(watched, event)

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
