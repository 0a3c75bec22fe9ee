"""The History view's model: every event, newest first, paged lazily from the store's keyset cursor."""

from __future__ import annotations

import logging
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC
from enum import IntEnum
from typing import Any, Final

from sniper_app.domain.views import (
    HistoryCursor,
    HistoryEntry,
    from_epoch_us,
    to_epoch_us,
)
from sniper_app.engine.reads import Reads
from sniper_app.ui.formatting import format_price
from sniper_app.ui.history import HistoryFilter
from sniper_app.ui.qt import QtCore
from sniper_app.ui.table_model import (
    ALIGN_RIGHT,
    KEY_ROLE,
    AnyIndex,
    Clock,
    ItemRole,
    TableModel,
    action_text,
    status_text,
    utc_now,
)

log = logging.getLogger(__name__)


class HistoryColumn(IntEnum):
    WHEN = 0
    ACTION = 1
    STATUS = 2
    ITEM = 3
    AMOUNT = 4
    MESSAGE = 5


DEFAULT_HISTORY_PAGE: Final = 200
MAX_CACHED_PAGES: Final = 50  # 10,000 rows: a few screens around the view, whatever was scrolled through


class HistoryModel(TableModel):
    """Every history event, newest first, fetched a page at a time as the view scrolls.

    Order and filters are the store's (SQL over indexes), so a million events open as fast as a hundred;
    the view must not sort this model itself.
    """

    filterChanged = QtCore.Signal()
    newerArrived = QtCore.Signal()  # events recorded since were added at the top: the count changed

    def __init__(
        self,
        reads: Reads,
        *,
        page_size: int = DEFAULT_HISTORY_PAGE,
        clock: Clock = utc_now,
        parent: QtCore.QObject | None = None,
    ) -> None:
        super().__init__(clock, parent)
        self._reads = reads
        self._page_size = page_size
        self._filter = HistoryFilter()
        # Every loaded row is known by its (at, id) key, 16 bytes a row; the rows themselves are kept for a
        # bounded number of pages around where the user looks and re-read by keyset when scrolled back to,
        # so a scroll through a million events costs tens of MB, not hundreds.
        self._ats = array("q")
        self._ids = array("q")
        self._pages: OrderedDict[int, list[HistoryEntry]] = OrderedDict()
        self._cursor: HistoryCursor | None = None
        self._more = True
        self.fetchMore(QtCore.QModelIndex())

    def headers(self) -> Sequence[str]:
        return (
            self.tr("When"),
            self.tr("Action"),
            self.tr("Status"),
            self.tr("Item"),
            self.tr("Amount"),
            self.tr("Details"),
        )

    @property
    def history_filter(self) -> HistoryFilter:
        return self._filter

    @property
    def page_size(self) -> int:
        return self._page_size

    def row_count(self) -> int:
        return len(self._ids)

    def row(self, row: int) -> HistoryEntry:
        if not 0 <= row < len(self._ids):
            raise IndexError(row)
        number = row // self._page_size
        page = self._pages.get(number)
        if page is None:
            page = self._load_page(number)
        else:
            self._pages.move_to_end(number)
        return page[row - number * self._page_size]

    def _load_page(self, number: int) -> list[HistoryEntry]:
        """Re-read rows [number * page, …) by keyset from the key of the row before them."""
        start = number * self._page_size
        end = min(start + self._page_size, len(self._ids))
        if start > 0:
            cursor = HistoryCursor(from_epoch_us(self._ats[start - 1]), self._ids[start - 1])
        else:  # strictly older than just above the first row: the first row itself and on
            cursor = HistoryCursor(from_epoch_us(self._ats[0]), self._ids[0] + 1)
        page = self._reads.history_page(self._filter, cursor=cursor, limit=self._page_size)
        rows = list(page.entries[: end - start])
        if len(rows) != end - start or any(r.id != self._ids[start + n] for n, r in enumerate(rows)):
            # Events were purged or changed underneath: show what is there rather than stale keys.
            log.info("history rows moved underneath the view; reloading it")
            rows = [rows[n] if n < len(rows) else self._placeholder(start + n) for n in range(end - start)]
            QtCore.QTimer.singleShot(0, self.reload)
        self._remember(number, rows)
        return rows

    def _placeholder(self, row: int) -> HistoryEntry:
        return HistoryEntry(
            id=self._ids[row], at=from_epoch_us(self._ats[row]), action="", status=None, snipe_id=None,
            legacy_item_id=None, title=None, amount_minor=None, final_price_minor=None, currency=None, message="",
        )

    def _remember(self, number: int, rows: list[HistoryEntry]) -> None:
        self._pages[number] = rows
        self._pages.move_to_end(number)
        while len(self._pages) > MAX_CACHED_PAGES:
            self._pages.popitem(last=False)

    def set_filter(self, history_filter: HistoryFilter) -> None:
        """Show only events matching ``history_filter``: drop what is loaded and load its first page."""
        self.beginResetModel()
        self._filter = history_filter
        self._ats = array("q")
        self._ids = array("q")
        self._pages.clear()
        self._cursor = None
        self._more = True
        self.endResetModel()
        self.fetchMore(QtCore.QModelIndex())
        self.filterChanged.emit()

    def reload(self) -> None:
        self.set_filter(self._filter)

    def canFetchMore(self, parent: AnyIndex) -> bool:
        return not parent.isValid() and self._more

    def fetchMore(self, parent: AnyIndex) -> None:
        if parent.isValid() or not self._more:
            return
        page = self._reads.history_page(self._filter, cursor=self._cursor, limit=self._page_size)
        self._cursor = page.next_cursor
        self._more = page.next_cursor is not None
        if not page.entries:
            return
        first = len(self._ids)
        rows = list(page.entries)
        self.beginInsertRows(QtCore.QModelIndex(), first, first + len(rows) - 1)
        self._ats.extend(to_epoch_us(r.at) for r in rows)
        self._ids.extend(r.id for r in rows)
        if first % self._page_size == 0 and len(rows) == self._page_size:
            self._remember(first // self._page_size, rows)
        self.endInsertRows()

    def fetch_newer(self) -> None:
        """Prepend events recorded since the newest loaded one (called after engine events)."""
        if not self._ids:
            self.reload()
            return
        page = self._reads.history_page(self._filter, limit=self._page_size)
        head = (from_epoch_us(self._ats[0]), self._ids[0])
        fresh = [event for event in page.entries if (event.at, event.id) > head]
        if not fresh:
            return
        if len(fresh) == len(page.entries) and page.next_cursor is not None:
            self.reload()  # more new events than a page: start over rather than leave a gap
            return
        self.beginInsertRows(QtCore.QModelIndex(), 0, len(fresh) - 1)
        self._ats[0:0] = array("q", (to_epoch_us(event.at) for event in fresh))
        self._ids[0:0] = array("q", (event.id for event in fresh))
        self._pages.clear()  # every row moved down: cached pages no longer line up with row numbers
        self.endInsertRows()
        self.newerArrived.emit()

    def count(self) -> int:
        """How many events match the current filter (a store count, not the rows loaded so far)."""
        return self._reads.count_history(self._filter)

    def data(self, index: AnyIndex, role: int = ItemRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        if role == KEY_ROLE:
            return self._ids[index.row()]
        event = self.row(index.row())
        col = index.column()
        if role == ItemRole.DisplayRole:
            if col == HistoryColumn.WHEN:
                return event.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
            if col == HistoryColumn.ACTION:
                return action_text(event.action)
            if col == HistoryColumn.STATUS:
                return status_text(event.status) if event.status else ""
            if col == HistoryColumn.ITEM:
                return event.title or event.legacy_item_id or ""
            if col == HistoryColumn.AMOUNT:
                final = event.final_price_minor is not None
                amount = event.final_price_minor if final else event.amount_minor
                # The "≈" the event was shown with when it happened (eBay's rate of that day), if any.
                converted = event.converted_final_price_minor if final else event.converted_amount_minor
                return format_price(amount, event.currency, converted, event.converted_currency)
            if col == HistoryColumn.MESSAGE:
                return event.message
            return None
        if role == ItemRole.ToolTipRole:
            if col == HistoryColumn.WHEN:
                return event.at.astimezone(UTC).isoformat(timespec="milliseconds")
            if col == HistoryColumn.ITEM and event.legacy_item_id:
                return self.tr("{title}\nItem {item}").format(title=event.title or "", item=event.legacy_item_id)
            if col == HistoryColumn.MESSAGE and event.message:
                return event.message
            return None
        if role == ItemRole.TextAlignmentRole and col == HistoryColumn.AMOUNT:
            return ALIGN_RIGHT
        if role == KEY_ROLE:
            return event.id
        return None
