"""The Snipes view's model and its proxy: every snipe of the user, with rows pending while one is saved."""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Any

from sniper_app.domain.money import Money
from sniper_app.domain.rules import AUTO_LEAD
from sniper_app.domain.status import NOT_FIRED_STATUSES, SnipeStatus
from sniper_app.domain.views import (
    GroupView,
    SnipeView,
)
from sniper_app.engine.bus import SnipeStatusChanged
from sniper_app.engine.reads import Reads
from sniper_app.ui.column_fit import column_hint
from sniper_app.ui.formatting import format_money, format_near_price, format_price, format_time_left
from sniper_app.ui.icons import status_icon
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets
from sniper_app.ui.table_model import (
    ALIGN_RIGHT,
    FINISHED_KEY,
    KEY_ROLE,
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

log = logging.getLogger(__name__)


class SnipeColumn(IntEnum):
    ITEM = 0
    MAX = 1
    LEAD = 2
    GROUP = 3
    STATUS = 4
    TIME_LEFT = 5
    TIMING = 6
    PRICE = 7  # the current price in the listing's currency, eBay's conversion beside it
    FINAL = 8  # what the auction ended at, once known


# An outcome's colour, one for a light and one for a dark background, each ≥ 4.5:1 against the other's
# opposite (white or the dark palette's base): no single colour reads on both.
OUTCOME_COLOURS: dict[SnipeStatus, tuple[str, str]] = {
    SnipeStatus.WON: ("#1a7f37", "#56d364"),
    SnipeStatus.LOST: ("#9a4d00", "#f0a35e"),
    SnipeStatus.FAILED: ("#c01c28", "#ff8a80"),
    SnipeStatus.MISSED: ("#7b3fc4", "#d2a8ff"),
}
def outcome_colour(status: SnipeStatus, palette: QtGui.QPalette | None = None) -> QtGui.QColor | None:
    """The colour an outcome's status is written in on ``palette``'s background (the app's by default)."""
    pair = OUTCOME_COLOURS.get(status)
    if pair is None:
        return None
    base = (palette or QtGui.QGuiApplication.palette()).color(QtGui.QPalette.ColorRole.Base)
    return QtGui.QColor(pair[1] if base.lightnessF() < 0.5 else pair[0])


class SnipesModel(TableModel):
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
            self.tr("Final price"),
        )

    def row_count(self) -> int:
        return len(self._rows)

    def row(self, row: int) -> SnipeView:
        return self._rows[row]

    def counting_rows(self) -> Iterable[int]:
        # Finished rows say "ended", except a snipe given up on (cancelled, failed early) whose auction runs on.
        soon_over = self._clock() - timedelta(seconds=2)
        return (n for n, item in enumerate(self._rows) if not item.status.is_final or item.end_time > soon_over)

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

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if index.isValid() and self.is_pending(index.row()):
            # Greyed and not selectable: nothing can be done to a snipe the engine has not accepted yet.
            return Qt.ItemFlag.ItemNeverHasChildren
        return super().flags(index)

    def compact_timing(self, item: SnipeView) -> str:
        """The Timing column's short form ("0.82 s early · 2 ms"); the tooltip has the sentence."""
        if item.sent_at is not None:
            arrival = item.sent_at + timedelta(milliseconds=item.latency_ms or 0.0)
            before = (item.end_time - arrival).total_seconds()
            text = (self.tr("{s:.2f} s early") if before >= 0 else self.tr("{s:.2f} s late")).format(s=abs(before))
            if item.latency_ms is not None:
                text += self.tr(" · {ms:.0f} ms").format(ms=item.latency_ms)
            return text
        if item.planned_at is not None and item.status in NOT_FIRED_STATUSES:
            return self.tr("at {time}").format(time=item.planned_at.astimezone().strftime("%H:%M:%S"))
        return ""

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

    def data(self, index: AnyIndex, role: int = ItemRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        item = self._rows[index.row()]
        col = index.column()
        if role == SORT_ROLE:
            return _sort_key(item, col)
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
                # A cancelled snipe's auction goes on: its countdown stays true, the status says cancelled.
                return format_time_left(item.end_time, self._clock(), ended=self._ended_text())
            if col == SnipeColumn.TIMING:
                return self.compact_timing(item)
            if col == SnipeColumn.PRICE:
                return format_price(
                    item.current_price_minor, item.currency, item.converted_price_minor, item.converted_currency
                )
            if col == SnipeColumn.FINAL:
                return format_near_price(item.final_price_minor, item.currency, item.current_price_minor,
                                         item.converted_price_minor, item.converted_currency)
            return None
        if col == SnipeColumn.STATUS and item.id >= 0:
            if role == ItemRole.ForegroundRole:
                return outcome_colour(item.status)
            if role == ItemRole.DecorationRole:
                return status_icon(item.status)
        if role == ItemRole.ToolTipRole:
            if col == SnipeColumn.ITEM:
                return self.tr("{title}\nItem {item}").format(title=item.title, item=item.legacy_item_id)
            if col == SnipeColumn.STATUS and item.status_reason:
                return item.status_reason
            if col == SnipeColumn.TIME_LEFT and item.status.is_final and item.end_time > self._clock():
                return self.tr("{status}; the auction itself ends at {time}.").format(
                    status=status_text(item.status), time=item.end_time.astimezone().strftime("%a %d %b %H:%M"))
            if col == SnipeColumn.TIMING:
                return self.timing_text(item) or None
            if col == SnipeColumn.MAX and item.converted_currency:
                return self.tr("Bid in {currency}, the listing's own currency.").format(currency=item.currency)
            return None
        if role == ItemRole.TextAlignmentRole and col in (
            SnipeColumn.MAX, SnipeColumn.LEAD, SnipeColumn.TIME_LEFT, SnipeColumn.PRICE, SnipeColumn.FINAL
        ):
            return ALIGN_RIGHT
        if role == KEY_ROLE:
            return item.id
        return None


# Texts as wide as a column's cells get, for cells that change on their own (the countdown ticks from
# "9s" to "23h 59m") or whose width is capped (Timing's figure; its sentence is in the tooltip).
_WIDEST: dict[SnipeColumn, str] = {
    SnipeColumn.TIME_LEFT: "00h 00m",
    SnipeColumn.LEAD: "auto",
}
_CAPPED: dict[SnipeColumn, str] = {
    SnipeColumn.TIMING: "10.00 s early · 200 ms",
    SnipeColumn.GROUP: "Cameras and lenses",
}


# Columns that may step aside while they have nothing to show and the view is too narrow for them all.
_HIDE_WHEN_EMPTY: tuple[SnipeColumn, ...] = (SnipeColumn.GROUP, SnipeColumn.TIMING, SnipeColumn.FINAL)
# What Item keeps before an empty column steps aside for it, in average characters.
_ITEM_LEAST_CHARS = 30
_ROWS_LOOKED_AT = 500
_TIGHT_TIMING = "10.00 s early"


def fit_columns(view: QtWidgets.QTableView, *, grow_only: bool = True) -> None:
    """Size the Snipes view's columns to their text: every column but Item as wide as its header and
    cells need (money shown whole, the countdown at its widest, Timing and Group capped), and Item
    stretched over the rest, so the window's width goes to the title. While that leaves Item short,
    columns with nothing in them yet (Group, Timing, Final price) step aside; a column scrolls off only
    when even that is not enough.

    ``grow_only``: a column the user made wider stays so (content changes); otherwise each column is set
    to its fit (the defaults, before any saved layout). The fit is made again as the view is resized.
    """
    header = view.horizontalHeader()
    model = view.model()
    metrics = view.fontMetrics()
    # What a cell adds around its text: the focus frame's margin on each side, as the delegate draws it.
    pad = 2 * (view.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1)
    rows = min(model.rowCount(), _ROWS_LOOKED_AT) if model is not None else 0
    # Qt measures no hidden column (its hints are 0 and -1), and one that stepped aside must know its width
    # to know whether it may come back: its header and cells are measured here as Qt would.
    bold = QtGui.QFont(header.font())
    bold.setBold(True)  # Qt sizes a header section for its text in bold
    header_font = QtGui.QFontMetrics(bold)
    item_title = str(model.headerData(SnipeColumn.ITEM, Qt.Orientation.Horizontal)) if model is not None else ""
    header_pad = header.sectionSizeHint(SnipeColumn.ITEM) - header_font.horizontalAdvance(item_title) + 1

    def hints(column: SnipeColumn) -> tuple[int, int]:
        if not header.isSectionHidden(column) or model is None:
            # The widest text's cell, as sizeHintForColumn would give without asking about every row.
            return header.sectionSizeHint(column), column_hint(view, column, range(rows))
        title = str(model.headerData(column, Qt.Orientation.Horizontal))
        cells = (str(model.index(r, column).data() or "") for r in range(rows))
        return (header_font.horizontalAdvance(title) + header_pad,
                max((metrics.horizontalAdvance(text) + pad for text in cells if text), default=0))

    widths: dict[SnipeColumn, int] = {}
    for column in SnipeColumn:
        if column == SnipeColumn.ITEM:
            continue
        title_width, cells_width = hints(column)
        wanted = max(title_width, cells_width)
        widest = _WIDEST.get(column)
        if widest is not None:
            wanted = max(wanted, metrics.horizontalAdvance(widest) + pad)
        capped = _CAPPED.get(column)
        if capped is not None:
            wanted = min(wanted, max(title_width, metrics.horizontalAdvance(capped) + pad))
        hidden = header.isSectionHidden(column)
        widths[column] = wanted if not grow_only or hidden else max(wanted, header.sectionSize(column))
        if not hidden and (not grow_only or header.sectionSize(column) < wanted):
            header.resizeSection(column, wanted)
    header.setStretchLastSection(False)

    empty = [c for c in _HIDE_WHEN_EMPTY
             if model is None or not any(model.index(r, c).data() for r in range(rows))]
    room = view.viewport().width() - metrics.averageCharWidth() * _ITEM_LEAST_CHARS
    narrow = sum(widths.values()) > room
    for column in _HIDE_WHEN_EMPTY:
        hide = narrow and column in empty
        if header.isSectionHidden(column) != hide:
            header.setSectionHidden(column, hide)
            if not hide:  # back at its fit, not at whatever size it had when it stepped aside
                header.resizeSection(column, widths[column])
    if narrow and sum(w for c, w in widths.items() if not header.isSectionHidden(c)) > room:
        # Still short of room: Timing keeps its figure and gives up the latency after it (the tooltip has all).
        tight = max(hints(SnipeColumn.TIMING)[0], metrics.horizontalAdvance(_TIGHT_TIMING) + pad)
        if header.sectionSize(SnipeColumn.TIMING) > tight:
            header.resizeSection(SnipeColumn.TIMING, tight)
    if view.property("snipeColumnsFollowed") is None:
        view.setProperty("snipeColumnsFollowed", True)
        view.viewport().installEventFilter(_RefitOnResize(view))
        stretch_with_floor(view, SnipeColumn.ITEM)


class _StretchWithFloor(QtCore.QObject):
    """See :func:`stretch_with_floor`."""

    def __init__(self, view: QtWidgets.QTableView, column: int, least_chars: int) -> None:
        super().__init__(view)
        self._view, self._column, self._least_chars = view, column, least_chars
        self._busy = False
        header = view.horizontalHeader()
        header.setSectionResizeMode(column, QtWidgets.QHeaderView.ResizeMode.Interactive)
        header.sectionResized.connect(self._other_resized)
        view.viewport().installEventFilter(self)
        self.apply()

    def apply(self) -> None:
        view, header = self._view, self._view.horizontalHeader()
        if self._busy or header.isSectionHidden(self._column):
            return
        others = sum(header.sectionSize(c) for c in range(header.count())
                     if c != self._column and not header.isSectionHidden(c))
        least = view.fontMetrics().averageCharWidth() * self._least_chars
        wanted = max(least, view.viewport().width() - others)
        if header.sectionSize(self._column) != wanted:
            self._busy = True
            try:
                header.resizeSection(self._column, wanted)
            finally:
                self._busy = False

    def _other_resized(self, logical: int, _old: int, _new: int) -> None:
        if logical != self._column:
            self.apply()

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.Resize:
            self.apply()
        return False


def stretch_with_floor(view: QtWidgets.QTableView, column: int, least_chars: int = 20) -> None:
    """Give ``column`` (a title) the width the other columns leave, as a stretched section does, but never
    less than ``least_chars`` average characters: narrower than that the view scrolls sideways rather than
    squeeze the title to a few letters."""
    _StretchWithFloor(view, column, least_chars)


class _RefitOnResize(QtCore.QObject):
    """Fits the Snipes view's columns again when its width changes: Item's room depends on it."""

    def __init__(self, view: QtWidgets.QTableView) -> None:
        super().__init__(view)
        self._view = view
        self._width = -1

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.Resize and self._view.viewport().width() != self._width:
            self._width = self._view.viewport().width()
            fit_columns(self._view)
        return False


_STATUS_ORDER: dict[SnipeStatus, int] = {status: n for n, status in enumerate(SnipeStatus)}


def _sort_key(item: SnipeView, col: int) -> Any:
    # The proxy asks twice per comparison, some 20,000 times to sort a thousand snipes at start-up: only the
    # asked column's key is made.
    if col == SnipeColumn.TIME_LEFT:
        return end_key(item.end_time) + (FINISHED_KEY if item.status.is_final else 0)
    if col == SnipeColumn.ITEM:
        return (item.title or item.legacy_item_id).casefold()
    if col == SnipeColumn.MAX:
        return item.max_bid_minor
    if col == SnipeColumn.LEAD:
        return item.lead_seconds
    if col == SnipeColumn.GROUP:
        return (item.group_name or "").casefold()
    if col == SnipeColumn.STATUS:
        return _STATUS_ORDER[item.status]
    if col == SnipeColumn.TIMING:
        return end_key(item.sent_at)
    if col == SnipeColumn.PRICE:
        return item.current_price_minor if item.current_price_minor is not None else -1
    if col == SnipeColumn.FINAL:
        return item.final_price_minor if item.final_price_minor is not None else -1
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

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        if self._show_finished:
            return True
        source = self.sourceModel()
        if isinstance(source, SnipesModel) and 0 <= source_row < source.row_count():
            return not source.row(source_row).status.is_final
        return True


