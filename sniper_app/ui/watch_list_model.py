"""The Watch list view's model: the user's eBay watch list, loaded whole, with thumbnails and countdowns."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any, Final

from sniper_app.domain.items import is_auction_listing
from sniper_app.domain.status import NOT_FIRED_STATUSES, SnipeStatus
from sniper_app.domain.views import (
    SnipeView,
    WatchView,
)
from sniper_app.engine.reads import Reads
from sniper_app.ui.formatting import format_money, format_price, format_time_left
from sniper_app.ui.qt import QtCore, QtGui
from sniper_app.ui.snipes_model import outcome_colour
from sniper_app.ui.table_model import (
    ALIGN_RIGHT,
    KEY_ROLE,
    NO_END_KEY,
    SNIPEABLE_ROLE,
    SORT_ROLE,
    AnyIndex,
    Clock,
    ItemRole,
    Qt,
    TableModel,
    end_key,
    status_text,
    utc_now,
)
from sniper_app.ui.thumbnails import ThumbnailCache

log = logging.getLogger(__name__)


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
    end_key: int = NO_END_KEY  # what the proxy sorts the countdown by: computed once, asked for thousands of times
    # eBay's conversion of the price for the user's marketplace: shown beside the listing's own, never bid.
    converted_currency: str | None = None
    converted_minor: int | None = None
    snipeable: bool = True  # False for a fixed-price listing: it is shown, but there is nothing to snipe
    # When price and bids were read from eBay; apart from equality, so a sync that changed nothing on a row
    # does not repaint it.
    synced_at: datetime | None = field(default=None, compare=False)

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
            end_key=end_key(item.end_time),
            converted_currency=item.converted_currency,
            converted_minor=item.converted_price_minor,
            snipeable=is_auction_listing(item.listing_type),
            synced_at=item.synced_at,
        )


class WatchColumn(IntEnum):
    THUMBNAIL = 0
    TITLE = 1
    PRICE = 2
    BIDS = 3
    TIME_LEFT = 4
    SNIPE = 5  # a one-click "Snipe…" button, painted by the window's delegate
    MY_SNIPE = 6  # the user's snipe on this item, if any: its status and maximum


SNIPE_ID_ROLE: Final = int(ItemRole.UserRole) + 4  # the row's snipe still running (its button opens it)


def _shown_snipe(current: SnipeView | None, candidate: SnipeView) -> SnipeView:
    """Of two snipes on one item, the one its row speaks of: one still running, else the latest not cancelled."""
    if current is None:
        return candidate

    def rank(snipe: SnipeView) -> tuple[bool, bool, int]:
        return (not snipe.status.is_final, snipe.status is not SnipeStatus.CANCELLED, snipe.id)

    return max(current, candidate, key=rank)


class WatchListModel(TableModel):
    """The synced watch list: thumbnail, title, current price, bids, time left, and the user's snipe on it."""

    time_left_column = WatchColumn.TIME_LEFT
    # Items whose auction ended while shown (legacy ids): their price and bids are the last sync's until
    # eBay is asked again.
    itemsEnded = QtCore.Signal(list)

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
        self._snipes: dict[str, SnipeView] = {}
        self._ended: set[str] = set()  # items already seen ended: each is told once
        if thumbnails is not None:
            thumbnails.loaded.connect(self._on_thumbnail)
        self.reload()

    def headers(self) -> Sequence[str]:
        return ("", self.tr("Title"), self.tr("Price"), self.tr("Bids"), self.tr("Time left"), "",
                self.tr("My snipe"))

    def set_snipes(self, snipes: Iterable[SnipeView]) -> None:
        """Show the user's snipes on their items' rows (called whenever the Snipes model changes)."""
        shown: dict[str, SnipeView] = {}
        for snipe in snipes:
            if snipe.id >= 0:  # a snipe still being added is shown once the engine has it
                shown[snipe.legacy_item_id] = _shown_snipe(shown.get(snipe.legacy_item_id), snipe)
        if shown == self._snipes:
            return
        changed = {key for key in shown.keys() | self._snipes.keys() if shown.get(key) != self._snipes.get(key)}
        self._snipes = shown
        for n, row in enumerate(self._rows):
            if row.legacy_item_id in changed:
                self.dataChanged.emit(self.index(n, WatchColumn.SNIPE), self.index(n, WatchColumn.MY_SNIPE))

    def snipe_of(self, legacy_item_id: str) -> SnipeView | None:
        return self._snipes.get(legacy_item_id)

    def _has_ended(self, item: WatchRow) -> bool:
        return item.end_time is not None and item.end_time <= self._clock()

    def tick(self, through: QtCore.QSortFilterProxyModel | None = None) -> None:
        super().tick(through)
        ended: list[str] = []
        for n, item in enumerate(self._rows):
            if item.legacy_item_id not in self._ended and self._has_ended(item):
                self._ended.add(item.legacy_item_id)
                ended.append(item.legacy_item_id)
                # "Snipe…" gives way to "Ended", and the figures are marked as the last sync's.
                self.dataChanged.emit(self.index(n, WatchColumn.PRICE), self.index(n, WatchColumn.MY_SNIPE))
        if ended:
            self.itemsEnded.emit(ended)

    def _stale(self, item: WatchRow) -> bool:
        """Price and bids read before the auction ended: not the final figures."""
        return self._has_ended(item) and (item.synced_at is None or item.end_time is None
                                          or item.synced_at < item.end_time)

    def _snipe_text(self, snipe: SnipeView) -> str:
        amount = format_money(snipe.max_bid_minor, snipe.currency)
        if snipe.status is SnipeStatus.WON and snipe.final_price_minor is not None:
            return self.tr("Won at {price} · max {max}").format(
                price=format_money(snipe.final_price_minor, snipe.currency), max=amount)
        return self.tr("{status} · max {max}").format(status=status_text(snipe.status), max=amount)

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
        now = self._clock()
        # Items already over when read are not news: only an end seen while shown asks for a refresh.
        self._ended |= {row.legacy_item_id for row in fresh if row.end_time is not None and row.end_time <= now}
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
            elif new.synced_at != row.synced_at:
                self._rows[n] = new
                if self._stale(row) != self._stale(new):  # eBay was asked after the end: the figures are final
                    self.dataChanged.emit(self.index(n, WatchColumn.PRICE), self.index(n, WatchColumn.BIDS))
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
        if col in (WatchColumn.TIME_LEFT, WatchColumn.THUMBNAIL, WatchColumn.SNIPE, WatchColumn.MY_SNIPE):
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

    def data(self, index: AnyIndex, role: int = ItemRole.DisplayRole) -> Any:
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
                if not item.snipeable:
                    return self.tr("Fixed price")
                if self._has_ended(item):
                    return self.tr("Ended")
                snipe = self._snipes.get(item.legacy_item_id)
                if snipe is None or snipe.status.is_final:
                    return self.tr("Snipe…")
                # Still to fire: edit it; fired and waiting for the end: its details say what happens.
                return self.tr("Edit…") if snipe.status in NOT_FIRED_STATUSES else self.tr("Details…")
            if col == WatchColumn.MY_SNIPE:
                snipe = self._snipes.get(item.legacy_item_id)
                return self._snipe_text(snipe) if snipe is not None else ""
            return None
        if role == ItemRole.ForegroundRole and col == WatchColumn.MY_SNIPE:
            snipe = self._snipes.get(item.legacy_item_id)
            return outcome_colour(snipe.status) if snipe is not None else None
        if role == ItemRole.FontRole and col in (WatchColumn.PRICE, WatchColumn.BIDS) and self._stale(item):
            font = QtGui.QFont()
            font.setItalic(True)
            return font
        if role == ItemRole.ToolTipRole and col in (WatchColumn.PRICE, WatchColumn.BIDS) and self._stale(item):
            synced = item.synced_at.astimezone().strftime("%H:%M") if item.synced_at else "?"
            return self.tr("As of the last sync ({time}), before the auction ended; eBay is asked again "
                           "shortly after the end.").format(time=synced)
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
            return ALIGN_RIGHT
        if role == KEY_ROLE:
            return item.legacy_item_id
        if role == SNIPEABLE_ROLE:
            return item.snipeable and not self._has_ended(item)
        if role == SNIPE_ID_ROLE:
            snipe = self._snipes.get(item.legacy_item_id)
            return snipe.id if snipe is not None and not snipe.status.is_final else None
        if role == ItemRole.AccessibleTextRole and col == WatchColumn.THUMBNAIL:
            return self.tr("Picture of {title}").format(title=item.title)
        if role == ItemRole.AccessibleTextRole and col == WatchColumn.SNIPE:
            if not item.snipeable:
                return self.tr("{title} is a fixed-price listing, not an auction").format(title=item.title)
            if self._has_ended(item):
                return self.tr("{title} has ended").format(title=item.title)
            snipe = self._snipes.get(item.legacy_item_id)
            if snipe is not None and snipe.status in NOT_FIRED_STATUSES:
                return self.tr("Edit the snipe on {title}").format(title=item.title)
            if snipe is not None and not snipe.status.is_final:
                return self.tr("Details of the snipe on {title}").format(title=item.title)
            return self.tr("Snipe {title}").format(title=item.title)
        return None

    @QtCore.Slot(str)
    def _on_thumbnail(self, url: str) -> None:
        for row in self._rows_by_image.get(url, ()):
            cell = self.index(row, WatchColumn.THUMBNAIL)
            self.dataChanged.emit(cell, cell, [ItemRole.DecorationRole])


