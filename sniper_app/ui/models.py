"""Table models of the three main views, fed from the facade's reads and kept fresh by engine events.

Rows are the facade's frozen views, never live database rows: painting a cell never touches the database.
The Watch list and Snipes models are loaded whole (hundreds of rows) and sorted by a proxy; History holds
far more and is paged lazily from the store's keyset cursor, newest first, with filters applied by SQL.
"""

from __future__ import annotations

import bisect
import logging
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any, Final

from sniper_app.domain.history import HistoryAction
from sniper_app.domain.items import is_auction_listing
from sniper_app.domain.money import Money
from sniper_app.domain.rules import AUTO_LEAD
from sniper_app.domain.status import NOT_FIRED_STATUSES, SnipeStatus
from sniper_app.domain.views import (
    GroupView,
    HistoryCursor,
    HistoryEntry,
    SnipeView,
    WatchView,
    from_epoch_us,
    to_epoch_us,
)
from sniper_app.engine.bus import SnipeStatusChanged
from sniper_app.engine.reads import Reads
from sniper_app.ui.formatting import format_money, format_price, format_time_left
from sniper_app.ui.history import HistoryFilter
from sniper_app.ui.qt import QtCore
from sniper_app.ui.thumbnails import ThumbnailCache

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
Qt = QtCore.Qt
ItemRole = Qt.ItemDataRole

SORT_ROLE: Final = int(ItemRole.UserRole) + 1  # raw value the proxies sort by (numbers, not text)
KEY_ROLE: Final = int(ItemRole.UserRole) + 2  # the row's identity: snipe id, item id, event id
SNIPEABLE_ROLE: Final = int(ItemRole.UserRole) + 3  # a watched item that is an auction (not fixed price)
_NO_END: Final = 2**62  # sorts items without an end time last
# Added to a finished snipe's end key: ascending "Time left" lists what still runs first, then the
# finished ones by end; the sum stays below _NO_END and inside the 64-bit integers Qt compares.
_FINISHED: Final = 2**61
_RIGHT: Final = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_INDEX = QtCore.QModelIndex | QtCore.QPersistentModelIndex


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


def _end_key(end: datetime | None) -> int:
    return _NO_END if end is None else to_epoch_us(end)


class _TableModel(QtCore.QAbstractTableModel):
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

    def rowCount(self, parent: _INDEX = QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.row_count()

    def columnCount(self, parent: _INDEX = QtCore.QModelIndex()) -> int:  # noqa: B008
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

    def flags(self, index: _INDEX) -> Qt.ItemFlag:
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


# ------------------------------------------------------------------------------------------ watch list


@dataclass(frozen=True, slots=True)
class WatchRow:
    id: int
    legacy_item_id: str
    title: str
    image_url: str | None
    item_url: str | None
    currency: str | None
    price_minor: int | None
    bid_count: int
    end_time: datetime | None
    end_key: int = _NO_END  # what the proxy sorts the countdown by: computed once, asked for thousands of times
    # eBay's conversion of the price for the user's marketplace: shown beside the listing's own, never bid.
    converted_currency: str | None = None
    converted_minor: int | None = None
    snipeable: bool = True  # False for a fixed-price listing: it is shown, but there is nothing to snipe

    @classmethod
    def of(cls, item: WatchView) -> WatchRow:
        return cls(
            id=item.id,
            legacy_item_id=item.legacy_item_id,
            title=item.title,
            image_url=item.image_url,
            item_url=item.item_url,
            currency=item.currency,
            price_minor=item.current_price_minor,
            bid_count=item.bid_count,
            end_time=item.end_time,
            end_key=_end_key(item.end_time),
            converted_currency=item.converted_currency,
            converted_minor=item.converted_price_minor,
            snipeable=is_auction_listing(item.listing_type),
        )


class WatchColumn(IntEnum):
    THUMBNAIL = 0
    TITLE = 1
    PRICE = 2
    BIDS = 3
    TIME_LEFT = 4
    SNIPE = 5  # a one-click "Snipe…" button, painted by the window's delegate


class WatchListModel(_TableModel):
    """The synced watch list: thumbnail, title, current price, bids, time left."""

    time_left_column = WatchColumn.TIME_LEFT

    def __init__(
        self,
        reads: Reads,
        *,
        thumbnails: ThumbnailCache | None = None,
        clock: Clock = utc_now,
        parent: QtCore.QObject | None = None,
    ) -> None:
        super().__init__(clock, parent)
        self._reads = reads
        self._rows: list[WatchRow] = []
        self._rows_by_image: dict[str, list[int]] = {}
        self._sort_by: tuple[int, Qt.SortOrder] = (int(WatchColumn.TIME_LEFT), Qt.SortOrder.AscendingOrder)
        self._thumbnails = thumbnails
        if thumbnails is not None:
            thumbnails.loaded.connect(self._on_thumbnail)
        self.reload()

    def headers(self) -> Sequence[str]:
        return ("", self.tr("Title"), self.tr("Price"), self.tr("Bids"), self.tr("Time left"), "")

    def row_count(self) -> int:
        return len(self._rows)

    def row(self, row: int) -> WatchRow:
        return self._rows[row]

    def counting_rows(self) -> Iterable[int]:
        soon_over = self._clock() - timedelta(seconds=2)  # one last tick turns the countdown into "ended"
        return (n for n, item in enumerate(self._rows) if item.end_time is not None and item.end_time > soon_over)

    def reload(self) -> None:
        """Re-read the cached watch list (after a sync), changing only the rows that changed.

        A reset would throw away the user's selection and scroll position every sync period, and make the
        sorting proxy sort every row again; rows that are gone are removed, new ones appended (the proxy
        puts them in order), and changed ones updated in place.
        """
        fresh = [WatchRow.of(item) for item in self._reads.watch_items()]
        kept = {row.legacy_item_id for row in fresh}.intersection(row.legacy_item_id for row in self._rows)
        if not self._rows or len(kept) * 2 < len(self._rows):
            # Mostly a different list (another account, a long time offline): nothing worth keeping in place.
            self.beginResetModel()
            self._rows = self._sorted(fresh)
            self._index_images()
            self.endResetModel()
            return
        wanted = {row.legacy_item_id: row for row in fresh}
        # Remove what is gone, bottom up, a run of neighbours at a time.
        n = len(self._rows) - 1
        while n >= 0:
            if self._rows[n].legacy_item_id in wanted:
                n -= 1
                continue
            last = n
            while n - 1 >= 0 and self._rows[n - 1].legacy_item_id not in wanted:
                n -= 1
            self.beginRemoveRows(QtCore.QModelIndex(), n, last)
            del self._rows[n : last + 1]
            self.endRemoveRows()
            n -= 1
        columns = len(self.headers()) - 1
        for n, row in enumerate(self._rows):
            new = wanted.pop(row.legacy_item_id)
            if new != row:
                self._rows[n] = new
                self.dataChanged.emit(self.index(n, 0), self.index(n, columns))
        if wanted:
            first = len(self._rows)
            self.beginInsertRows(QtCore.QModelIndex(), first, first + len(wanted) - 1)
            self._rows.extend(wanted.values())
            self.endInsertRows()
        self._apply_sort()  # new and changed rows to their places; selection and scroll follow them
        self._index_images()

    @staticmethod
    def _sort_value(item: WatchRow, col: int) -> Any:
        if col == WatchColumn.TITLE:
            return (item.title or item.legacy_item_id).casefold()
        if col == WatchColumn.PRICE:
            return item.price_minor if item.price_minor is not None else -1
        if col == WatchColumn.BIDS:
            return item.bid_count
        if col in (WatchColumn.TIME_LEFT, WatchColumn.THUMBNAIL, WatchColumn.SNIPE):
            return item.end_key
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort the rows themselves (the view calls this when a header is clicked).

        A sorting proxy would ask for two values per comparison through Python, some 7,000 calls for 400
        items after every sync; sorting the list by a key costs one call per row.
        """
        self._sort_by = (int(column), order)
        self._apply_sort()

    def _sorted(self, rows: list[WatchRow]) -> list[WatchRow]:
        column, order = self._sort_by
        if not rows or self._sort_value(rows[0], column) is None:
            return rows
        ordered = sorted(rows, key=lambda r: (self._sort_value(r, column), r.end_key, r.id))
        return ordered[::-1] if order == Qt.SortOrder.DescendingOrder else ordered

    def _apply_sort(self) -> None:
        if len(self._rows) < 2:
            return
        self.layoutAboutToBeChanged.emit()
        old_rows = {id(row): n for n, row in enumerate(self._rows)}
        self._rows = self._sorted(self._rows)
        moved = {old_rows[id(row)]: n for n, row in enumerate(self._rows)}
        persistent = self.persistentIndexList()
        self.changePersistentIndexList(
            persistent, [self.index(moved[i.row()], i.column()) if i.isValid() else i for i in persistent]
        )
        self._index_images()
        self.layoutChanged.emit()

    def _index_images(self) -> None:
        self._rows_by_image = {}
        for n, item in enumerate(self._rows):
            if item.image_url:
                self._rows_by_image.setdefault(item.image_url, []).append(n)

    def data(self, index: _INDEX, role: int = ItemRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        item = self._rows[index.row()]
        col = index.column()
        if role == ItemRole.DisplayRole:
            if col == WatchColumn.TITLE:
                return item.title or item.legacy_item_id
            if col == WatchColumn.PRICE:
                return format_price(item.price_minor, item.currency, item.converted_minor, item.converted_currency)
            if col == WatchColumn.BIDS:
                return str(item.bid_count)
            if col == WatchColumn.TIME_LEFT:
                return format_time_left(item.end_time, self._clock(), ended=self._ended_text())
            if col == WatchColumn.SNIPE:
                return self.tr("Snipe…") if item.snipeable else self.tr("Fixed price")
            return None
        if role == ItemRole.DecorationRole and col == WatchColumn.THUMBNAIL:
            return self._thumbnails.pixmap(item.image_url) if self._thumbnails is not None else None
        if role == SORT_ROLE:
            return self._sort_value(item, col)
        if role == ItemRole.ToolTipRole and col == WatchColumn.TITLE:
            return self.tr("{title}\nItem {item}").format(title=item.title, item=item.legacy_item_id)
        if role == ItemRole.ToolTipRole and col == WatchColumn.SNIPE and not item.snipeable:
            return self.tr("A fixed-price listing: it can only be bought outright, so there is nothing to snipe.")
        if role == ItemRole.ToolTipRole and col == WatchColumn.PRICE and item.converted_currency:
            return self.tr("Bids are in {currency}, the listing's own currency; the ≈ amount is eBay's conversion, "
                           "for reading only.").format(currency=item.currency)
        if role == ItemRole.TextAlignmentRole and col in (WatchColumn.PRICE, WatchColumn.BIDS, WatchColumn.TIME_LEFT):
            return _RIGHT
        if role == KEY_ROLE:
            return item.legacy_item_id
        if role == SNIPEABLE_ROLE:
            return item.snipeable
        if role == ItemRole.AccessibleTextRole and col == WatchColumn.THUMBNAIL:
            return self.tr("Picture of {title}").format(title=item.title)
        if role == ItemRole.AccessibleTextRole and col == WatchColumn.SNIPE:
            if not item.snipeable:
                return self.tr("{title} is a fixed-price listing, not an auction").format(title=item.title)
            return self.tr("Snipe {title}").format(title=item.title)
        return None



    @QtCore.Slot(str)
    def _on_thumbnail(self, url: str) -> None:
        for row in self._rows_by_image.get(url, ()):
            cell = self.index(row, WatchColumn.THUMBNAIL)
            self.dataChanged.emit(cell, cell, [ItemRole.DecorationRole])


# ------------------------------------------------------------------------------------------ snipes


class SnipeColumn(IntEnum):
    ITEM = 0
    MAX = 1
    LEAD = 2
    GROUP = 3
    STATUS = 4
    TIME_LEFT = 5
    TIMING = 6
    PRICE = 7  # the current price in the listing's currency, eBay's conversion beside it


class SnipesModel(_TableModel):
    """Every snipe of the user, soonest end first; rows follow the engine's status events."""

    time_left_column = SnipeColumn.TIME_LEFT

    def __init__(self, reads: Reads, *, clock: Clock = utc_now, parent: QtCore.QObject | None = None) -> None:
        super().__init__(clock, parent)
        self._reads = reads
        self._rows: list[SnipeView] = []
        # Optimistic rows of snipes the engine has not accepted yet: caller's key -> provisional (negative) id.
        self._pending: dict[str, int] = {}
        self._next_provisional = -1
        self.reload()

    def headers(self) -> Sequence[str]:
        return (
            self.tr("Item"),
            self.tr("Max bid"),
            self.tr("Lead"),
            self.tr("Group"),
            self.tr("Status"),
            self.tr("Time left"),
            self.tr("Timing"),
            self.tr("Price now"),
        )

    def row_count(self) -> int:
        return len(self._rows)

    def row(self, row: int) -> SnipeView:
        return self._rows[row]

    def counting_rows(self) -> Iterable[int]:
        return (n for n, item in enumerate(self._rows) if not item.status.is_final)  # finished rows say "ended"

    def rows(self) -> Sequence[SnipeView]:
        return tuple(self._rows)

    def row_of(self, snipe_id: int) -> int | None:
        for n, item in enumerate(self._rows):
            if item.id == snipe_id:
                return n
        return None

    def reload(self) -> None:
        provisional = [r for r in self._rows if r.id < 0]
        self.beginResetModel()
        self._rows = list(self._reads.snipes())
        for pending in provisional:  # a reload must not hide a snipe that is still being added
            bisect.insort(self._rows, pending, key=lambda r: r.sort_key)
        self.endResetModel()

    # --- optimistic rows: a new snipe shows at once, then becomes the stored one or goes away ---------

    def add_pending(
        self,
        key: str,
        *,
        title: str,
        legacy_item_id: str,
        max_bid: Money,
        lead_seconds: float,
        end_time: datetime,
        group_name: str | None = None,
    ) -> int:
        """Show a snipe being added (status "Adding…") under ``key``; returns its row."""
        if key in self._pending:
            raise ValueError(f"a pending snipe with key {key!r} is already shown")
        provisional = self._next_provisional
        self._next_provisional -= 1
        self._pending[key] = provisional
        row = SnipeView(
            id=provisional,
            legacy_item_id=legacy_item_id,
            title=title,
            currency=max_bid.currency,
            max_bid_minor=max_bid.minor,
            lead_seconds=lead_seconds,
            end_time=end_time,
            status=SnipeStatus.PENDING,
            # Only the name is shown; the group's own id and target are the engine's to tell.
            group=GroupView(id=0, name=group_name, target_wins=0) if group_name is not None else None,
        )
        where = bisect.bisect_left([r.sort_key for r in self._rows], row.sort_key)
        self.beginInsertRows(QtCore.QModelIndex(), where, where)
        self._rows.insert(where, row)
        self.endInsertRows()
        return where

    def is_pending(self, row: int) -> bool:
        return 0 <= row < len(self._rows) and self._rows[row].id < 0

    def resolve_pending(self, key: str, snipe_id: int) -> None:
        """The engine accepted the snipe shown under ``key``: show the stored snipe ``snipe_id`` instead."""
        self.drop_pending(key)
        self.refresh_snipe(snipe_id)

    def drop_pending(self, key: str) -> None:
        """The engine refused the snipe shown under ``key``: remove its row (unknown keys are ignored)."""
        provisional = self._pending.pop(key, None)
        if provisional is None:
            return
        self._remove_row(provisional)

    def _remove_row(self, row_id: int) -> None:
        at = self.row_of(row_id)
        if at is not None:
            self.beginRemoveRows(QtCore.QModelIndex(), at, at)
            del self._rows[at]
            self.endRemoveRows()

    def refresh_snipe(self, snipe_id: int) -> None:
        """Re-read one snipe and update, insert or remove its row (nothing else is touched)."""
        fresh = self._reads.find_snipe(snipe_id)
        at = self.row_of(snipe_id)
        if fresh is None:
            if at is not None:
                self.beginRemoveRows(QtCore.QModelIndex(), at, at)
                del self._rows[at]
                self.endRemoveRows()
            return
        if at is None:
            # The engine's event for a new snipe usually arrives before the add call returns: let the stored
            # row take the place of its optimistic one rather than show the item twice for a moment.
            for provisional in self._pending.values():
                pending_at = self.row_of(provisional)
                if pending_at is not None and self._rows[pending_at].legacy_item_id == fresh.legacy_item_id:
                    self._remove_row(provisional)
                    break
        if at is not None and self._rows[at].sort_key == fresh.sort_key:
            self._rows[at] = fresh
            self.dataChanged.emit(self.index(at, 0), self.index(at, len(SnipeColumn) - 1))
            return
        if at is not None:
            self.beginRemoveRows(QtCore.QModelIndex(), at, at)
            del self._rows[at]
            self.endRemoveRows()
        where = bisect.bisect_left([r.sort_key for r in self._rows], fresh.sort_key)
        self.beginInsertRows(QtCore.QModelIndex(), where, where)
        self._rows.insert(where, fresh)
        self.endInsertRows()

    @QtCore.Slot(object)
    def on_status_changed(self, event: SnipeStatusChanged) -> None:
        self.refresh_snipe(event.snipe_id)

    def next_due(self) -> SnipeView | None:
        """The not-yet-fired snipe that fires next (for the status bar)."""
        now = self._clock()
        waiting = [r for r in self._rows if r.status in NOT_FIRED_STATUSES and r.end_time > now]
        return min(waiting, key=lambda r: (r.fire_at, r.id), default=None)

    def flags(self, index: _INDEX) -> Qt.ItemFlag:
        if index.isValid() and self.is_pending(index.row()):
            # Greyed and not selectable: nothing can be done to a snipe the engine has not accepted yet.
            return Qt.ItemFlag.ItemNeverHasChildren
        return super().flags(index)

    def timing_text(self, item: SnipeView) -> str:
        parts: list[str] = []
        if item.sent_at is not None:
            arrival = item.sent_at + timedelta(milliseconds=item.latency_ms or 0.0)
            before = (item.end_time - arrival).total_seconds()
            if before >= 0:
                parts.append(self.tr("arrived {s:.2f} s before the end").format(s=before))
            else:
                parts.append(self.tr("arrived {s:.2f} s after the end").format(s=-before))
            if item.latency_ms is not None:
                parts.append(self.tr("latency {ms:.0f} ms").format(ms=item.latency_ms))
        elif item.planned_at is not None and item.status in NOT_FIRED_STATUSES:
            local = item.planned_at.astimezone()
            parts.append(self.tr("fires at {time}").format(time=local.strftime("%H:%M:%S")))
        if item.attempts > 1:
            parts.append(self.tr("{n} attempts").format(n=item.attempts))
        if item.ebay_message:
            parts.append(self.tr("eBay: {message}").format(message=item.ebay_message))
        return " · ".join(parts)

    def data(self, index: _INDEX, role: int = ItemRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        item = self._rows[index.row()]
        col = index.column()
        if role == ItemRole.DisplayRole:
            if col == SnipeColumn.ITEM:
                return item.title or item.legacy_item_id
            if col == SnipeColumn.MAX:
                return format_money(item.max_bid_minor, item.currency)
            if col == SnipeColumn.LEAD:
                if item.lead_seconds == AUTO_LEAD:
                    return self.tr("auto")
                return self.tr("{s:g} s").format(s=item.lead_seconds)
            if col == SnipeColumn.GROUP:
                return item.group_name or ""
            if col == SnipeColumn.STATUS:
                if item.id < 0:
                    return self.tr("Adding…")
                return status_text(item.status)
            if col == SnipeColumn.TIME_LEFT:
                if item.status.is_final:
                    return self._ended_text()
                return format_time_left(item.end_time, self._clock(), ended=self._ended_text())
            if col == SnipeColumn.TIMING:
                return self.timing_text(item)
            if col == SnipeColumn.PRICE:
                return format_price(
                    item.current_price_minor, item.currency, item.converted_price_minor, item.converted_currency
                )
            return None
        if role == SORT_ROLE:
            keys: dict[int, Any] = {
                SnipeColumn.ITEM: (item.title or item.legacy_item_id).casefold(),
                SnipeColumn.MAX: item.max_bid_minor,
                SnipeColumn.LEAD: item.lead_seconds,
                SnipeColumn.GROUP: (item.group_name or "").casefold(),
                SnipeColumn.STATUS: list(SnipeStatus).index(item.status),
                SnipeColumn.TIME_LEFT: _end_key(item.end_time) + (_FINISHED if item.status.is_final else 0),
                SnipeColumn.TIMING: _end_key(item.sent_at),
                SnipeColumn.PRICE: item.current_price_minor if item.current_price_minor is not None else -1,
            }
            return keys.get(col)
        if role == ItemRole.ToolTipRole:
            if col == SnipeColumn.ITEM:
                return self.tr("{title}\nItem {item}").format(title=item.title, item=item.legacy_item_id)
            if col == SnipeColumn.STATUS and item.status_reason:
                return item.status_reason
            if col == SnipeColumn.TIMING:
                return self.timing_text(item) or None
            if col == SnipeColumn.MAX and item.converted_currency:
                return self.tr("Bid in {currency}, the listing's own currency.").format(currency=item.currency)
            return None
        if role == ItemRole.TextAlignmentRole and col in (SnipeColumn.MAX, SnipeColumn.LEAD, SnipeColumn.TIME_LEFT):
            return _RIGHT
        if role == KEY_ROLE:
            return item.id
        return None


class SnipesProxy(QtCore.QSortFilterProxyModel):
    """Sorts by raw values and can hide snipes that are over (won, lost, cancelled, ...)."""

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._show_finished = True
        self.setSortRole(SORT_ROLE)
        # The countdown repaints its column every second; with the default filter role (display) each
        # repaint would make the proxy filter and sort every row again. Rows are filtered in code anyway.
        self.setFilterRole(KEY_ROLE)

    def set_show_finished(self, show: bool) -> None:
        if show != self._show_finished:
            self.beginFilterChange()
            self._show_finished = show
            self.endFilterChange(QtCore.QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _INDEX) -> bool:
        if self._show_finished:
            return True
        source = self.sourceModel()
        if isinstance(source, SnipesModel) and 0 <= source_row < source.row_count():
            return not source.row(source_row).status.is_final
        return True


def sort_proxy(source: QtCore.QAbstractItemModel, parent: QtCore.QObject | None = None) -> QtCore.QSortFilterProxyModel:
    proxy = QtCore.QSortFilterProxyModel(parent)
    proxy.setSortRole(SORT_ROLE)
    proxy.setFilterRole(KEY_ROLE)  # see SnipesProxy: a countdown tick must not re-sort every row
    proxy.setSourceModel(source)
    return proxy


# ------------------------------------------------------------------------------------------ history


class HistoryColumn(IntEnum):
    WHEN = 0
    ACTION = 1
    STATUS = 2
    ITEM = 3
    AMOUNT = 4
    MESSAGE = 5


DEFAULT_HISTORY_PAGE: Final = 200
MAX_CACHED_PAGES: Final = 50  # 10,000 rows: a few screens around the view, whatever was scrolled through


class HistoryModel(_TableModel):
    """Every history event, newest first, fetched a page at a time as the view scrolls.

    Order and filters are the store's (SQL over indexes), so a million events open as fast as a hundred;
    the view must not sort this model itself.
    """

    filterChanged = QtCore.Signal()

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

    def canFetchMore(self, parent: _INDEX) -> bool:
        return not parent.isValid() and self._more

    def fetchMore(self, parent: _INDEX) -> None:
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

    def count(self) -> int:
        """How many events match the current filter (a store count, not the rows loaded so far)."""
        return self._reads.count_history(self._filter)

    def data(self, index: _INDEX, role: int = ItemRole.DisplayRole) -> Any:
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
            return _RIGHT
        if role == KEY_ROLE:
            return event.id
        return None
