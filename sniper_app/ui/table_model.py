"""What the table models share: item roles, status and action names, a countdown-aware base, a sort proxy."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from sniper_app.domain.history import HistoryAction
from sniper_app.domain.status import SnipeStatus
from sniper_app.domain.views import (
    to_epoch_us,
)
from sniper_app.ui.qt import QtCore

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
Qt = QtCore.Qt
ItemRole = Qt.ItemDataRole

SORT_ROLE: Final = int(ItemRole.UserRole) + 1  # raw value the proxies sort by (numbers, not text)
KEY_ROLE: Final = int(ItemRole.UserRole) + 2  # the row's identity: snipe id, item id, event id
SNIPEABLE_ROLE: Final = int(ItemRole.UserRole) + 3  # a watched item that is an auction (not fixed price)
NO_END_KEY: Final = 2**62  # sorts items without an end time last
# Added to a finished snipe's end key: ascending "Time left" lists what still runs first, then the
# finished ones by end; the sum stays below NO_END_KEY and inside the 64-bit integers Qt compares.
FINISHED_KEY: Final = 2**61
ALIGN_RIGHT: Final = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
AnyIndex = QtCore.QModelIndex | QtCore.QPersistentModelIndex


_STATUS_NAMES: Final = {
    SnipeStatus.PENDING: "Pending",
    SnipeStatus.SCHEDULED: "Scheduled",
    SnipeStatus.PLACING: "Placing bid",
    SnipeStatus.PLACED: "Bid placed",
    SnipeStatus.WON: "Won",
    SnipeStatus.LOST: "Lost",
    SnipeStatus.FAILED: "Failed",
    SnipeStatus.CANCELLED: "Cancelled",
    SnipeStatus.MISSED: "Missed",
    SnipeStatus.SKIPPED: "Skipped",
}


def status_text(status: str) -> str:
    """A snipe status as the user reads it, translated."""
    try:
        name = _STATUS_NAMES[SnipeStatus(status)]
    except ValueError:
        return status
    return QtCore.QCoreApplication.translate("SnipeStatus", name)


_ACTION_NAMES: Final = {
    HistoryAction.CREATE: "Created",
    HistoryAction.UPDATE: "Edited",
    HistoryAction.CANCEL: "Cancelled",
    HistoryAction.SCHEDULE: "Scheduled",
    HistoryAction.UNSCHEDULE: "Unscheduled",
    HistoryAction.PLACE: "Bid",
    HistoryAction.RETRY: "Retried",
    HistoryAction.FAIL: "Failed",
    HistoryAction.WON: "Won",
    HistoryAction.LOST: "Lost",
    HistoryAction.MISSED: "Missed",
    HistoryAction.SKIPPED: "Skipped",
    HistoryAction.SYNC: "Synced",
    HistoryAction.ACCOUNT: "Account",
    HistoryAction.NOTE: "Note",
}


def action_text(action: str) -> str:
    """A history action as the user reads it, translated."""
    try:
        name = _ACTION_NAMES[HistoryAction(action)]
    except ValueError:
        return action
    return QtCore.QCoreApplication.translate("HistoryAction", name)


def utc_now() -> datetime:
    return datetime.now(UTC)


def end_key(end: datetime | None) -> int:
    return NO_END_KEY if end is None else to_epoch_us(end)


class TableModel(QtCore.QAbstractTableModel):
    """Shared plumbing: fixed columns, translated headers, and a once-a-second countdown column."""

    time_left_column: int = -1

    def __init__(self, clock: Clock, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._clock = clock
        self._column_count: int | None = None

    def headers(self) -> Sequence[str]:
        raise NotImplementedError

    def row_count(self) -> int:
        raise NotImplementedError

    def rowCount(self, parent: AnyIndex = QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.row_count()

    def columnCount(self, parent: AnyIndex = QtCore.QModelIndex()) -> int:  # noqa: B008
        if parent.isValid():
            return 0
        # Asked for on every data() check of a proxy: counted once, not translated each time.
        if self._column_count is None:
            self._column_count = len(self.headers())
        return self._column_count

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = ItemRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == ItemRole.DisplayRole:
            names = self.headers()
            if 0 <= section < len(names):
                return names[section]
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def tick(self, through: QtCore.QSortFilterProxyModel | None = None) -> None:
        """Repaint the countdown column only, of the rows still counting, display role only.

        One dataChanged per run of consecutive counting rows: finished rows ("ended") never change, and a
        thousand finished snipes must not cost the GUI thread anything each second. With ``through``, the
        signal comes from that sorting proxy instead of this model: a countdown never changes the order,
        but a proxy told its sort column changed would re-sort every counting row, every second.
        """
        if self.time_left_column < 0:
            return
        col = self.time_left_column
        target: QtCore.QAbstractItemModel = self
        rows: Iterable[int] = self.counting_rows()
        if through is not None:
            target = through
            mapped = (through.mapFromSource(self.index(row, col)) for row in rows)
            rows = sorted(index.row() for index in mapped if index.isValid())
        first = last = -2
        for row in rows:
            if row != last + 1:
                if first >= 0:
                    target.dataChanged.emit(target.index(first, col), target.index(last, col), [ItemRole.DisplayRole])
                first = row
            last = row
        if first >= 0:
            target.dataChanged.emit(target.index(first, col), target.index(last, col), [ItemRole.DisplayRole])

    def counting_rows(self) -> Iterable[int]:
        """Rows whose countdown text can change, in ascending order (all of them unless a model knows)."""
        return range(self.row_count())

    def _ended_text(self) -> str:
        return self.tr("ended")


def sort_proxy(source: QtCore.QAbstractItemModel, parent: QtCore.QObject | None = None) -> QtCore.QSortFilterProxyModel:
    proxy = QtCore.QSortFilterProxyModel(parent)
    proxy.setSortRole(SORT_ROLE)
    proxy.setFilterRole(KEY_ROLE)  # see SnipesProxy: a countdown tick must not re-sort every row
    proxy.setSourceModel(source)
    return proxy
