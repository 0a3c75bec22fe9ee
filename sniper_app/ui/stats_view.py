"""The Statistics view: the user's record — won and lost by month (a bar chart), money saved against the
maxima per currency, win rate by lead time, and outcomes by count.

It reads one provider, ``record()`` (:meth:`sniper_app.engine.reads.Reads.record`), so it runs the same over
a live engine and over test data. The read goes over every ended snipe (a tenth of a second at a heavy
user's five thousand), so it runs on a worker thread while the view says "Counting your record…", and the
view builds its page and reads only when it is first shown: a window that opens on another tab pays nothing
for it. It reads again when a snipe reaches a final status, and only while shown: a hidden view just
remembers that it is out of date. The chart is painted with QPainter in the palette's colours, so it reads
in light and dark themes and adds nothing to the bundle.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Callable, Sequence
from typing import Any, Final

from sniper_app.domain.outcomes import OutcomeCode
from sniper_app.domain.stats import MonthRow, Record
from sniper_app.domain.status import SnipeStatus
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets

log = logging.getLogger(__name__)

Qt = QtCore.Qt
MAX_CHART_MONTHS: Final = 12  # the chart shows the latest year; the numbers below count everything
REFRESH_DELAY_MS: Final = 300  # several snipes ending together (a group) read the record once

OUTCOME_LABELS: Final[dict[OutcomeCode, str]] = {
    OutcomeCode.WON: "Won",
    OutcomeCode.OUTBID: "Outbid",
    OutcomeCode.TIE_LOST: "Lost on a tie",
    OutcomeCode.BELOW_MINIMUM: "Below the minimum bid",
    OutcomeCode.PRICE_PASSED_MAX: "Price passed your maximum",
    OutcomeCode.SPENDING_CAP: "Spending cap reached",
    OutcomeCode.LATE: "Arrived too late",
    OutcomeCode.SIGN_IN_LOST: "eBay sign-in lost",
    OutcomeCode.ENDED_EARLY: "Ended early",
    OutcomeCode.EBAY_REFUSED: "Refused by eBay",
    OutcomeCode.NOT_SENT: "Could not be sent",
    OutcomeCode.MISSED_CLOSED: "Missed (app closed or asleep)",
    OutcomeCode.CANCELLED: "Cancelled",
    OutcomeCode.GROUP_DONE: "Group already won",
    OutcomeCode.FAILED: "Failed",
}


def _mix(a: QtGui.QColor, b: QtGui.QColor, share_of_a: float) -> QtGui.QColor:
    """A colour between two palette colours: between text and background contrasts with both themes."""
    s = share_of_a
    return QtGui.QColor(
        round(a.red() * s + b.red() * (1 - s)),
        round(a.green() * s + b.green() * (1 - s)),
        round(a.blue() * s + b.blue() * (1 - s)),
    )


class MonthChart(QtWidgets.QWidget):
    """Won and lost side by side for each month, the count above each bar and a legend with words."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("monthChart")
        self.setAccessibleName(self.tr("Won and lost by month"))
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Preferred)
        self._rows: tuple[MonthRow, ...] = ()

    def set_months(self, rows: Sequence[MonthRow]) -> None:
        self._rows = tuple(rows)[-MAX_CHART_MONTHS:]
        self.setAccessibleDescription("; ".join(
            self.tr("{month}: {won} won, {lost} lost").format(month=r.month, won=r.won, lost=r.lost)
            for r in self._rows
        ))
        self.updateGeometry()
        self.update()

    @property
    def rows(self) -> tuple[MonthRow, ...]:
        return self._rows

    def colors(self) -> tuple[QtGui.QColor, QtGui.QColor]:
        """(won, lost): the theme's highlight, and a grey nearer the background, apart from both in lightness."""
        palette = self.palette()
        text = palette.color(QtGui.QPalette.ColorRole.WindowText)
        back = palette.color(QtGui.QPalette.ColorRole.Window)
        return palette.color(QtGui.QPalette.ColorRole.Highlight), _mix(text, back, 0.3)

    def _month_label(self, month: str, room: int) -> str:
        """``2026-10`` where it fits, else ``10/26``, else ``10``."""
        metrics = self.fontMetrics()
        year, _, number = month.partition("-")
        for text in (month, f"{number}/{year[2:]}", number):
            if metrics.horizontalAdvance(text) <= room:
                return text
        return number

    def _slot_min(self) -> int:
        metrics = self.fontMetrics()
        return max(metrics.horizontalAdvance("00") + 6, 2 * metrics.horizontalAdvance("000") + 6)

    def _legend_width(self) -> int:
        metrics = self.fontMetrics()
        box = metrics.height()
        return sum(box + 4 + metrics.horizontalAdvance(self.tr(w)) + 16 for w in ("Won", "Lost"))

    def minimumSizeHint(self) -> QtCore.QSize:
        line = self.fontMetrics().height()
        width = max(self._legend_width(), len(self._rows) * self._slot_min()) + 8
        return QtCore.QSize(width, line * 4 + 60)

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(max(self.minimumSizeHint().width(), 480), self.fontMetrics().height() * 4 + 160)

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        try:
            self._paint(painter)
        finally:
            painter.end()

    def _paint(self, p: QtGui.QPainter) -> None:
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)
        metrics = self.fontMetrics()
        line = metrics.height()
        text_color = self.palette().color(QtGui.QPalette.ColorRole.WindowText)
        won_color, lost_color = self.colors()
        area = self.contentsRect().adjusted(4, 4, -4, -4)
        # The legend: a swatch and a word for each series, so colour never carries the meaning alone.
        x = area.left()
        for word, color in ((self.tr("Won"), won_color), (self.tr("Lost"), lost_color)):
            p.fillRect(QtCore.QRect(x, area.top() + 2, line - 4, line - 4), color)
            x += line + 2
            p.setPen(text_color)
            p.drawText(QtCore.QRect(x, area.top(), metrics.horizontalAdvance(word) + 2, line),
                       int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), word)
            x += metrics.horizontalAdvance(word) + 16
        if not self._rows:
            return
        plot = QtCore.QRect(area.left(), area.top() + 2 * line + 4, area.width(), area.height() - 3 * line - 8)
        if plot.height() <= 0:
            return
        baseline = plot.bottom()
        p.setPen(_mix(text_color, self.palette().color(QtGui.QPalette.ColorRole.Window), 0.6))
        p.drawLine(plot.left(), baseline, plot.right(), baseline)
        peak = max(max(r.won, r.lost) for r in self._rows) or 1
        slot = plot.width() / len(self._rows)
        bar = max(min(int(slot * 0.35), 40), 3)
        for i, row in enumerate(self._rows):
            middle = round(plot.left() + slot * i + slot / 2)
            for count, color, left in ((row.won, won_color, middle - bar - 1), (row.lost, lost_color, middle + 1)):
                height = round(count / peak * (plot.height() - 1))
                if height:
                    p.fillRect(QtCore.QRect(left, baseline - height, bar, height), color)
                p.setPen(text_color)
                label = str(count)
                width = max(metrics.horizontalAdvance(label) + 2, bar)
                p.drawText(QtCore.QRect(left + bar // 2 - width // 2, baseline - height - line, width, line),
                           int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom), label)
            room = max(int(slot) - 4, 1)
            month = self._month_label(row.month, room)
            p.setPen(text_color)
            p.drawText(QtCore.QRect(middle - room // 2, baseline + 2, room, line),
                       int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop), month)


class _RecordRelay(QtCore.QObject):
    """Carries a worker's read back to the GUI thread as a queued signal.

    One for the application, owned by it: a read still running when its view goes away emits on an object
    that still exists, and Qt, having cut the dead view's connection, drops the answer.
    """

    read = QtCore.Signal(int, int, object)  # (view's number, generation, Record or the exception)


_relays: list[_RecordRelay] = []
_numbers = itertools.count(1)


def _relay() -> _RecordRelay:
    if not _relays:
        _relays.append(_RecordRelay(QtCore.QCoreApplication.instance()))
    return _relays[0]


class StatsView(QtWidgets.QScrollArea):
    """The record as a chart and three small tables of labels; scrolls rather than clip at any size.

    ``record`` runs on a worker thread, never on the GUI thread; ``release``, if given, runs on that same
    thread after each read (the store closes the thread's connection there).
    """

    summary: QtWidgets.QLabel
    chart: MonthChart
    saved_box: QtWidgets.QGroupBox
    leads_box: QtWidgets.QGroupBox
    codes_box: QtWidgets.QGroupBox

    def __init__(
        self, record: Callable[[], Record], bridge: Any = None, parent: QtWidgets.QWidget | None = None, *,
        release: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("statsView")
        self.setAccessibleName(self.tr("Statistics"))
        self.setWidgetResizable(True)
        self.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self._record_source = record
        self._release = release
        self._stale = True
        self._reading = False  # a read is running on a worker
        self._again = False  # something ended while it ran: read once more when it is back
        self._generation = 0
        self._number = next(_numbers)
        self.record: Record | None = None
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        _relay().read.connect(self._on_read)
        if bridge is not None:
            bridge.snipeStatusChanged.connect(self.on_status_changed)

    @property
    def built(self) -> bool:
        """Whether the page has been made (it is, the first time the view is shown)."""
        return self.widget() is not None

    def _build(self) -> None:
        page = QtWidgets.QWidget(self)
        page.setObjectName("statsPage")
        layout = QtWidgets.QVBoxLayout(page)
        self.summary = self._label(page, "statsSummary", self.tr("Counting your record…"))
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.chart = MonthChart(page)
        self.chart.setVisible(False)
        layout.addWidget(self.chart)
        row = QtWidgets.QHBoxLayout()
        self.saved_box, self._saved_grid = self._box(page, "savedBox", self.tr("Saved against your maxima"))
        self.leads_box, self._leads_grid = self._box(page, "leadsBox", self.tr("Win rate by lead time"))
        self.codes_box, self._codes_grid = self._box(page, "outcomesBox", self.tr("Outcomes"))
        for box in (self.saved_box, self.leads_box, self.codes_box):
            box.setVisible(False)  # until there are figures to put in them
            row.addWidget(box, 0, Qt.AlignmentFlag.AlignTop)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(1)
        self.setWidget(page)

    @staticmethod
    def _label(parent: QtWidgets.QWidget, name: str, text: str = "") -> QtWidgets.QLabel:
        label = QtWidgets.QLabel(text, parent)
        label.setObjectName(name)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def _box(
        self, parent: QtWidgets.QWidget, name: str, title: str
    ) -> tuple[QtWidgets.QGroupBox, QtWidgets.QGridLayout]:
        box = QtWidgets.QGroupBox(title, parent)
        box.setObjectName(name)
        box.setAccessibleName(title)
        grid = QtWidgets.QGridLayout(box)
        grid.setHorizontalSpacing(12)
        return box, grid

    # --- refresh -------------------------------------------------------------------------------------

    @QtCore.Slot(object)
    def on_status_changed(self, event: Any) -> None:
        """A snipe changed status: read the record again once it ended (soon if shown, else when shown)."""
        new = getattr(event, "new", None)
        if new is not None and not SnipeStatus(new).is_final:
            return
        self._stale = True
        if self.isVisible():
            self._timer.start()

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        if not self.built:
            self._build()
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def refresh(self) -> None:
        """Read the record on a worker thread; the figures follow when it is back."""
        self._timer.stop()
        if self._reading:
            self._again = True
            return
        self._reading = True
        self._generation += 1
        relay, number, generation = _relay(), self._number, self._generation
        source, release = self._record_source, self._release

        def run() -> None:  # on a pool thread: nothing here may touch a widget
            result: object
            try:
                result = source()
            except Exception as exc:
                result = exc
            finally:
                if release is not None:
                    with contextlib.suppress(Exception):  # the store may have closed under it at quit
                        release()
            with contextlib.suppress(RuntimeError):  # the application is going away: nobody left to tell
                relay.read.emit(number, generation, result)

        QtCore.QThreadPool.globalInstance().start(run)

    @QtCore.Slot(int, int, object)
    def _on_read(self, number: int, generation: int, result: object) -> None:
        if number != self._number or generation != self._generation:
            return  # another view's read, or an older one of this view
        self._reading = False
        again, self._again = self._again, False
        if isinstance(result, Record):
            self._stale = again
            self.show_record(result)
        else:
            log.warning("The record could not be read: %s", type(result).__name__)
            self._stale = True
            if self.record is None and self.built:
                self.summary.setText(self.tr("Your record could not be read just now; it is tried again when "
                                             "a snipe ends."))
        if again and self.isVisible():
            self.refresh()

    def show_record(self, record: Record) -> None:
        if not self.built:
            self._build()
        self.record = record
        for box in (self.saved_box, self.leads_box, self.codes_box):
            box.setVisible(True)
        if record.total == 0:
            self.summary.setText(self.tr(
                "No ended snipes yet: your record starts when the first one ends. Add a snipe from the Watch "
                "list or with Snipe › Add."))
        else:
            won = sum(r.won for r in record.months)
            lost = sum(r.lost for r in record.months)
            text = self.tr("1 ended snipe: {won} won, {lost} lost.") if record.total == 1 else \
                self.tr("{total:,} ended snipes: {won:,} won, {lost:,} lost.")
            self.summary.setText(text.format(total=record.total, won=won, lost=lost))
        self.chart.set_months(record.months)
        self.chart.setVisible(bool(record.months))
        self._fill(self._saved_grid, (self.tr("Currency"), self.tr("Saved"), self.tr("Spent")),
                   [(cur, m.format(), record.spent[cur].format()) for cur, m in record.saved.items()],
                   self.tr("Nothing won yet."))
        self._fill(self._leads_grid, (self.tr("Lead"), self.tr("Bids"), self.tr("Won"), self.tr("Rate")),
                   [(b.label, str(b.tries), str(b.wins), "—" if b.win_rate is None else f"{b.win_rate:.0%}")
                    for b in record.leads], None)
        self._fill(self._codes_grid, (self.tr("Outcome"), self.tr("Count")),
                   [(self.tr(OUTCOME_LABELS.get(code, code.value)), str(n)) for code, n in record.codes],
                   self.tr("No outcomes yet."))

    def _fill(self, grid: QtWidgets.QGridLayout, header: tuple[str, ...], rows: list[tuple[str, ...]],
              empty: str | None) -> None:
        while grid.count():
            item = grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        parent = grid.parentWidget()
        assert parent is not None  # every grid here belongs to its group box
        if not rows and empty is not None:
            grid.addWidget(self._label(parent, "statsEmpty", empty), 0, 0)
            return
        bold = QtGui.QFont(parent.font())
        bold.setBold(True)
        for column, text in enumerate(header):
            label = self._label(parent, "statsHeader", text)
            label.setFont(bold)
            grid.addWidget(label, 0, column, Qt.AlignmentFlag.AlignRight if column else Qt.AlignmentFlag.AlignLeft)
        for r, row in enumerate(rows, start=1):
            for column, text in enumerate(row):
                align = Qt.AlignmentFlag.AlignRight if column else Qt.AlignmentFlag.AlignLeft
                grid.addWidget(self._label(parent, "statsCell", text), r, column, align)
        for i in range(grid.count()):
            item = grid.itemAt(i)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.setVisible(True)  # at once: a layout shows a new child of a shown box only later

    def labels(self) -> list[QtWidgets.QLabel]:
        """Every label the view shows now (for the tests: none may be clipped)."""
        page = self.widget()
        if page is None:
            return []
        return [w for w in page.findChildren(QtWidgets.QLabel) if w.isVisibleTo(self)]
