"""The Diagnostics view: what the engine measured about itself, for the user and for a bug report.

It reads two providers and nothing else, so it runs the same over a live engine and over plain test data:
``snapshot()`` returns :meth:`sniper_app.engine.metrics.Metrics.snapshot`'s dict (operations, clock
series, eBay calls today) and ``clock_state()`` returns the engine's clock view
(:class:`sniper_app.engine.service.ClockState`, or anything with its attributes; None before it runs).
"""

from __future__ import annotations

import math
import platform
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from sniper_app import __version__
from sniper_app.domain.redact import redact
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets
from sniper_app.ui.widgets import ERROR_STYLE, LINK_TONE, WARNING_STYLE, keep_wrapped_labels_whole, tone_colour

REFRESH_MS: Final = 2000
# eBay's default daily call limits per application (DESIGN.md "eBay's call budget"; EBAY.md). The token
# figure is the tightest grant (client credentials); None: eBay publishes no default limit for that API.
DAILY_CALL_BUDGET: Final[Mapping[str, int | None]] = {
    "browse": 5_000,
    "trading": 5_000,
    "token": 1_000,
    "offer": None,
    "identity": None,
}
_API_NAMES: Final = {
    "browse": "Browse",
    "trading": "Trading",
    "token": "OAuth token",
    "offer": "Buy Offer (bids)",
    "identity": "Identity",
}
# Above this share of a budget a row turns to a warning colour: the engine slows down before a limit.
_BUDGET_WARN: Final = 0.8

Qt = QtCore.Qt


class ClockInfo(Protocol):
    """What the view reads of the engine's clock (``ClockState`` has exactly this shape)."""

    @property
    def synced(self) -> bool: ...
    @property
    def offset_s(self) -> float: ...
    @property
    def latency_s(self) -> float: ...
    @property
    def age_s(self) -> float: ...
    @property
    def server(self) -> str: ...
    @property
    def last_error(self) -> str | None: ...
    @property
    def latency_measured(self) -> bool: ...


SnapshotProvider = Callable[[], Mapping[str, Any]]
ClockProvider = Callable[[], ClockInfo | None]


@dataclass(frozen=True, slots=True)
class ClockPoint:
    at: datetime
    offset_ms: float
    latency_ms: float | None  # None: the engine had not timed a round trip to eBay yet (only a guess)


def clock_points(snapshot: Mapping[str, Any]) -> list[ClockPoint]:
    """The snapshot's clock series as points, oldest first; unreadable entries are left out."""
    points = []
    for entry in snapshot.get("clock") or ():
        try:
            at = datetime.fromisoformat(str(entry["at"]))
            latency = entry.get("latency_ms")
            points.append(ClockPoint(at, float(entry["offset_ms"]), None if latency is None else float(latency)))
        except (KeyError, TypeError, ValueError):
            continue
    return sorted(points, key=lambda p: p.at)


def _ms(value: Any) -> str:
    return "" if value is None else f"{float(value):,.1f}"


def _age(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class ClockChart(QtWidgets.QWidget):
    """Clock offset and latency over time, two lines on one millisecond axis, painted with QPainter."""

    # Tones, not fixed colours: each line keeps its contrast on a light and on a dark background.
    OFFSET_TONE: Final = LINK_TONE
    LATENCY_TONE: Final = WARNING_STYLE

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._points: list[ClockPoint] = []
        self._latency_ms: float | None = None
        self._label_rects: list[QtCore.QRectF] = []
        self._fit_minimum()
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding)
        self.setAccessibleName(self.tr("Clock offset and latency chart"))

    @property
    def points(self) -> Sequence[ClockPoint]:
        return tuple(self._points)

    @property
    def label_rects(self) -> Sequence[QtCore.QRectF]:
        """Where the last paint put its axis labels (for checking that none overlaps another)."""
        return tuple(self._label_rects)

    def _fit_minimum(self) -> None:
        # Two panels of at least two lines each, the time axis under them: any less and labels collide.
        line_h = self.fontMetrics().height()
        self.setMinimumSize(240, 13 * line_h // 2 + 20)

    def changeEvent(self, event: QtCore.QEvent) -> None:
        if event.type() == QtCore.QEvent.Type.FontChange:
            self._fit_minimum()
        super().changeEvent(event)

    def set_points(self, points: Sequence[ClockPoint], latency_ms: float | None = None) -> None:
        """``latency_ms``: the latency the engine has measured now (None while it is a guess), the one value
        the view's figures and this chart both say, even before a clock measurement carries it."""
        self._points = list(points)
        self._latency_ms = latency_ms
        if self._points:
            last = self._points[-1]
            self.setAccessibleDescription(
                self.tr("{n} measurements; latest offset {offset} ms, latency {latency}").format(
                    n=len(self._points), offset=f"{last.offset_ms:+.1f}", latency=self.latency_words(),
                )
            )
        else:
            self.setAccessibleDescription(self.tr("No clock measurement yet"))
        self.update()

    def latency_words(self) -> str:
        """ "2.0 ms" or "measuring…": the latest measured latency, from the series or the engine."""
        measured = [p.latency_ms for p in self._points if p.latency_ms is not None]
        latest = measured[-1] if measured else self._latency_ms
        return self.tr("measuring…") if latest is None else self.tr("{ms:.1f} ms").format(ms=latest)

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        try:
            self._paint(painter)
        finally:
            painter.end()

    def _paint(self, painter: QtGui.QPainter) -> None:
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QtGui.QPalette.ColorRole.Base))
        text_colour = palette.color(QtGui.QPalette.ColorRole.Text)
        metrics = painter.fontMetrics()
        line_h = metrics.height()
        self._label_rects = []
        left = metrics.horizontalAdvance("-00,000.0") + 12
        # The time axis takes one line under the panels (start, "local time" and end side by side), below the
        # half line the lowest value label reaches under its panel.
        area = QtCore.QRect(left, line_h // 2 + 4, self.width() - left - 12,
                            self.height() - 5 * line_h // 2 - 14)
        if area.width() < 40 or area.height() < 2 * line_h:
            return
        painter.setPen(text_colour)
        if not self._points:
            painter.drawText(area, int(Qt.AlignmentFlag.AlignCenter), self.tr("No clock measurement yet"))
            return
        # Two panels on one time axis, each scaled to its own range: the offset sits near seconds while
        # the latency moves by milliseconds, and one shared scale would flatten both to lines.
        # Labels sit centred on their ticks: a line apart, the panels' facing end labels cannot meet.
        gap = line_h + 2
        panel_h = (area.height() - gap) // 2
        top = QtCore.QRect(area.left(), area.top(), area.width(), panel_h)
        bottom = QtCore.QRect(area.left(), area.top() + panel_h + gap, area.width(), panel_h)
        start = self._points[0].at.timestamp()
        span = self._points[-1].at.timestamp() - start

        def x_of(at: datetime) -> float:
            if span <= 0:
                return float(area.center().x())
            return area.left() + (at.timestamp() - start) / span * area.width()

        self._panel(painter, top, x_of, [(p.at, p.offset_ms) for p in self._points],
                    tone_colour(self.OFFSET_TONE, palette),
                    self.tr("clock offset, ms (eBay − local)"))
        # Only measured latencies are drawn: the guess before the first round trip is no point on a chart.
        measured = [(p.at, p.latency_ms) for p in self._points if p.latency_ms is not None]
        if measured:
            self._panel(painter, bottom, x_of, measured, tone_colour(self.LATENCY_TONE, palette),
                        self.tr("latency, ms"))
        else:
            # The same figure as "Latency to eBay" beside the chart: measured before any clock measurement
            # carried it, or still a guess.
            painter.setPen(text_colour)
            if self._latency_ms is None:
                forms = [self.tr("latency: measuring…")]
            else:
                value = self.latency_words()
                forms = [self.tr("latency {value}; plotted from the next clock measurement").format(value=value),
                         self.tr("latency {value}").format(value=value)]
            words = next((f for f in forms if metrics.horizontalAdvance(f) <= bottom.width()), forms[-1])
            painter.drawText(bottom, int(Qt.AlignmentFlag.AlignCenter), metrics.elidedText(
                words, Qt.TextElideMode.ElideRight, bottom.width()))

        painter.setPen(text_colour)
        axis_y = bottom.bottom() + line_h // 2 + 2
        first = self._points[0].at.astimezone().strftime("%H:%M:%S")
        last = self._points[-1].at.astimezone().strftime("%H:%M:%S")
        # One time when all measurements share it; "local time" only where it fits between the two.
        times = [(first, Qt.AlignmentFlag.AlignLeft)] if first == last else [
            (first, Qt.AlignmentFlag.AlignLeft), (last, Qt.AlignmentFlag.AlignRight)]
        for text, align in times:
            width = metrics.horizontalAdvance(text)
            x = area.left() if align == Qt.AlignmentFlag.AlignLeft else area.right() - width
            rect = QtCore.QRectF(x, axis_y, width, line_h)
            if not any(rect.adjusted(-6, 0, 6, 0).intersects(r) for r in self._label_rects):
                self._axis_label(painter, rect, text)
        words = self.tr("local time")
        width = metrics.horizontalAdvance(words)
        middle = QtCore.QRectF(area.center().x() - width / 2, axis_y, width, line_h)
        if not any(middle.adjusted(-6, 0, 6, 0).intersects(r) for r in self._label_rects):
            self._axis_label(painter, middle, words)

    def _axis_label(self, painter: QtGui.QPainter, rect: QtCore.QRectF, text: str,
                    align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignCenter) -> None:
        painter.drawText(rect, int(align), text)
        self._label_rects.append(rect)

    def _panel(
        self,
        painter: QtGui.QPainter,
        plot: QtCore.QRect,
        x_of: Callable[[datetime], float],
        series: list[tuple[datetime, float]],
        colour: QtGui.QColor,
        title: str,
    ) -> None:
        palette = self.palette()
        text_colour = palette.color(QtGui.QPalette.ColorRole.Text)
        metrics = painter.fontMetrics()
        line_h = metrics.height()
        values = [value for _at, value in series]
        # As many steps as labels fit a line and a half apart; at least one, so the range shows.
        ticks = nice_ticks(min(values), max(values), max(1, min(4, int(plot.height() / (1.5 * line_h)))))
        low, high = ticks[0], ticks[-1]

        def y_of(ms: float) -> float:
            return plot.bottom() - (ms - low) / (high - low) * plot.height()

        grid = QtGui.QPen(palette.color(QtGui.QPalette.ColorRole.Mid))
        grid.setStyle(Qt.PenStyle.DotLine)
        step = ticks[1] - ticks[0]
        decimals = 0 if step >= 1 else min(3, len(f"{step:.3f}".rstrip("0").split(".")[1]))
        # The ends first, then the ticks between them wherever a label has room: none overlaps another,
        # of this panel or the other.
        for value in [ticks[0], ticks[-1], *ticks[1:-1]]:
            y = y_of(value)
            painter.setPen(grid)
            painter.drawLine(QtCore.QPointF(plot.left(), y), QtCore.QPointF(plot.right(), y))
            text = f"{value:,.{decimals}f}"
            width = metrics.horizontalAdvance(text)
            rect = QtCore.QRectF(plot.left() - 6 - width, y - line_h / 2, width, line_h)
            if any(rect.intersects(other) for other in self._label_rects):
                continue
            painter.setPen(text_colour)
            self._axis_label(painter, rect, text, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        painter.setPen(QtGui.QPen(text_colour, 1))
        painter.drawLine(plot.bottomLeft(), plot.topLeft())
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())

        # The panel's name, in its line's colour, in the top-left corner of the plot (shortened to fit it);
        # the measurements are drawn over it, for in a small chart they may well fall there.
        title = metrics.elidedText(title, Qt.TextElideMode.ElideRight, max(0, plot.width() - 34))
        box = QtCore.QRectF(plot.left() + 6, plot.top(), metrics.horizontalAdvance(title) + 26, line_h + 2)
        painter.fillRect(box, palette.color(QtGui.QPalette.ColorRole.Base))
        painter.fillRect(QtCore.QRectF(box.left() + 2, box.center().y() - 2, 14, 4), colour)
        painter.setPen(text_colour)
        painter.drawText(QtCore.QPointF(box.left() + 20, box.top() + 1 + metrics.ascent()), title)

        corners = [QtCore.QPointF(x_of(at), y_of(v)) for at, v in series]
        painter.setPen(QtGui.QPen(colour, 2))
        if len(corners) > 1:
            painter.drawPolyline(QtGui.QPolygonF(corners))
        painter.setBrush(colour)
        # Dots mark each measurement while they are few enough to tell apart; then only the latest.
        for point in corners if len(corners) <= 60 else corners[-1:]:
            painter.drawEllipse(point, 2.5, 2.5)
        painter.setBrush(Qt.BrushStyle.NoBrush)


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round axis ticks (steps of 1, 2 or 5 × 10ⁿ) that cover ``low``..``high`` in about ``count`` steps."""
    if high - low < 1e-6:
        low, high = low - 0.5, high + 0.5
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    last = math.ceil(high / step) * step
    n = round((last - first) / step)
    return [first + k * step for k in range(n + 1)]


class DiagnosticsView(QtWidgets.QWidget):
    """Operation metrics, eBay calls against the daily budget, the clock now and over time.

    Build it with plain arguments: ``DiagnosticsView(service.metrics.snapshot, service.clock_state)``
    in the app, or with lambdas returning plain data in tests. It re-reads both every 2 s while it is
    visible (and never while hidden); :meth:`refresh` reads them at once. Its "Copy for bug report"
    button puts :meth:`report_text` on the clipboard: the metrics carry no secret, and error texts are
    run through the redactor anyway.
    """

    def __init__(
        self,
        snapshot: SnapshotProvider,
        clock_state: ClockProvider | None = None,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        ebay_address: str = "",
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._ebay_address = ebay_address
        self.setObjectName("DiagnosticsView")
        self._snapshot_provider = snapshot
        self._clock_provider = clock_state
        self._now = now
        self._snapshot: Mapping[str, Any] = {}
        self._clock: ClockInfo | None = None
        self._sized = False

        self.operations_table = self._table(
            self.tr("Operations"),
            [
                self.tr("Operation"),
                self.tr("Count"),
                self.tr("Mean ms"),
                self.tr("Max ms"),
                self.tr("Last ms"),
                self.tr("Errors"),
                self.tr("Last error"),
            ],
        )
        self.calls_table = self._table(
            self.tr("eBay calls today"),
            [self.tr("API"), self.tr("Calls today"), self.tr("Daily budget"), self.tr("Used")],
        )
        # Four short columns: always shown whole, the operations table takes the rest of the width.
        self.calls_table.horizontalHeader().setStretchLastSection(False)
        self.calls_table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.calls_table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.calls_table.setToolTip(
            self.tr("Calls to eBay since midnight UTC, when eBay resets its daily limits")
        )

        self.offset_label = self._value_label(self.tr("Clock offset"))
        self.latency_label = self._value_label(self.tr("Latency"))
        self.age_label = self._value_label(self.tr("Last measured"))
        self.server_label = self._value_label(self.tr("Time server"))
        self.clock_status_label = self._value_label(self.tr("Clock status"))
        self.clock_status_label.setWordWrap(True)
        # Wide enough to say it in two or three lines, not five squeezed beside the chart.
        self.clock_status_label.setMinimumWidth(self.fontMetrics().averageCharWidth() * 34)
        # Which eBay the figures are about: the demo's simulator on this machine, or eBay's own host.
        self.address_label = self._value_label(self.tr("eBay address"))
        self.address_label.setObjectName("ebayAddress")
        self.address_label.setText(ebay_address or "—")
        clock_form = QtWidgets.QFormLayout()
        clock_form.addRow(self.tr("eBay at:"), self.address_label)
        clock_form.addRow(self.tr("Offset (eBay − local):"), self.offset_label)
        clock_form.addRow(self.tr("Latency to eBay:"), self.latency_label)
        clock_form.addRow(self.tr("Measured:"), self.age_label)
        clock_form.addRow(self.tr("Time server:"), self.server_label)
        clock_form.addRow(self.tr("Status:"), self.clock_status_label)
        self.chart = ClockChart(self)

        clock_box = QtWidgets.QGroupBox(self.tr("Clock"), self)
        clock_layout = QtWidgets.QHBoxLayout(clock_box)
        clock_layout.addLayout(clock_form, 0)
        clock_layout.addWidget(self.chart, 1)

        self.copy_button = QtWidgets.QPushButton(self.tr("&Copy for bug report"), self)
        self.copy_button.setAccessibleName(self.tr("Copy diagnostics for a bug report"))
        self.copy_button.setToolTip(self.tr("Put a plain-text summary of these figures on the clipboard"))
        self.copy_button.clicked.connect(self.copy_report)
        self.updated_label = QtWidgets.QLabel(self)
        self.updated_label.setAccessibleName(self.tr("Diagnostics last updated"))

        top = QtWidgets.QHBoxLayout()
        ops_box = QtWidgets.QGroupBox(self.tr("Operations"), self)
        QtWidgets.QVBoxLayout(ops_box).addWidget(self.operations_table)
        calls_box = QtWidgets.QGroupBox(self.tr("eBay calls today"), self)
        QtWidgets.QVBoxLayout(calls_box).addWidget(self.calls_table)
        top.addWidget(ops_box, 1)
        top.addWidget(calls_box, 0)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.updated_label)
        buttons.addStretch(1)
        buttons.addWidget(self.copy_button)
        layout = QtWidgets.QVBoxLayout(self)
        # Past what each needs, the tables and the clock's chart share the height, the tables more.
        layout.addLayout(top, 3)
        layout.addWidget(clock_box, 2)
        layout.addLayout(buttons)

        copy_shortcut = QtGui.QShortcut(QtGui.QKeySequence("Ctrl+Shift+C"), self)
        copy_shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        copy_shortcut.activated.connect(self.copy_report)

        keep_wrapped_labels_whole(self)  # the clock's status sentence, two lines at the narrowest
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.refresh()

    # ------------------------------------------------------------------ building

    def _table(self, name: str, headers: list[str]) -> QtWidgets.QTableWidget:
        table = QtWidgets.QTableWidget(0, len(headers), self)
        table.setAccessibleName(name)
        table.setHorizontalHeaderLabels(headers)
        table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        table.setAlternatingRowColors(True)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setStretchLastSection(True)
        table.setWordWrap(False)
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 6)
        return table

    def _value_label(self, name: str) -> QtWidgets.QLabel:
        label = QtWidgets.QLabel(self)
        label.setAccessibleName(name)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    # ------------------------------------------------------------------ visibility and refresh

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()
        self.timer.start()

    def hideEvent(self, event: QtGui.QHideEvent) -> None:
        self.timer.stop()
        super().hideEvent(event)

    @QtCore.Slot()
    def refresh(self) -> None:
        """Read both providers and show what they say."""
        self._snapshot = self._snapshot_provider() or {}
        self._clock = self._clock_provider() if self._clock_provider is not None else None
        self._fill_operations()
        self._fill_calls()
        self._fill_clock()
        clock = self._clock
        self.chart.set_points(clock_points(self._snapshot), clock.latency_s * 1000
                              if clock is not None and clock.latency_measured else None)
        if not self._sized and self.operations_table.rowCount():
            # Fit the columns once; after that they are the user's to resize.
            self._sized = True
            for table in (self.operations_table, self.calls_table):
                table.resizeColumnsToContents()
        self._fit_calls_table()
        self.updated_label.setText(
            self.tr("Updated {time}").format(time=self._now().astimezone().strftime("%H:%M:%S"))
        )

    def _fit_calls_table(self) -> None:
        """The few rows and columns of the budget table are always shown whole: it never scrolls, and the
        operations table beside it (which can) gives up the room."""
        calls = self.calls_table
        frame = 2 * calls.frameWidth()
        calls.setMinimumWidth(calls.horizontalHeader().length() + frame)
        rows = sum(calls.rowHeight(row) for row in range(calls.rowCount()))
        calls.setMinimumHeight(calls.horizontalHeader().height() + rows + frame)

    def _set_row(self, table: QtWidgets.QTableWidget, row: int, cells: Sequence[str], numeric: int = 0) -> None:
        for col, text in enumerate(cells):
            item = table.item(row, col)
            if item is None:
                item = QtWidgets.QTableWidgetItem()
                if 0 < col <= numeric:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                table.setItem(row, col, item)
            if item.text() != text:
                item.setText(text)
                item.setToolTip(text if col == len(cells) - 1 and text else "")

    def _fill_operations(self) -> None:
        operations: Mapping[str, Mapping[str, Any]] = self._snapshot.get("operations") or {}
        table = self.operations_table
        table.setRowCount(len(operations))
        for row, (name, stats) in enumerate(operations.items()):
            cells = self.operation_cells(name, stats)
            self._set_row(table, row, cells, numeric=5)
            errors_item = table.item(row, 5)
            if errors_item is not None:
                errors_item.setForeground(
                    QtGui.QBrush(tone_colour(ERROR_STYLE, self.palette())) if stats.get("errors")
                    else self.palette().text()
                )

    @staticmethod
    def operation_cells(name: str, stats: Mapping[str, Any]) -> list[str]:
        return [
            name,
            f"{int(stats.get('count') or 0):,}",
            _ms(stats.get("mean_ms")),
            _ms(stats.get("max_ms")) if stats.get("count") else "",
            _ms(stats.get("last_ms")),
            f"{int(stats.get('errors') or 0):,}",
            redact(str(stats.get("last_error") or "")),
        ]

    def call_rows(self) -> list[tuple[str, int, int | None]]:
        """(API name, calls today, daily budget) for every budgeted API and any other API called today."""
        calls: Mapping[str, int] = self._snapshot.get("calls_today") or {}
        apis = list(DAILY_CALL_BUDGET) + sorted(set(calls) - set(DAILY_CALL_BUDGET))
        return [(api, int(calls.get(api, 0)), DAILY_CALL_BUDGET.get(api)) for api in apis]

    def _fill_calls(self) -> None:
        rows = self.call_rows()
        table = self.calls_table
        table.setRowCount(len(rows))
        for row, (api, count, budget) in enumerate(rows):
            share = count / budget if budget else None
            cells = [
                self.tr(_API_NAMES.get(api, api)),
                f"{count:,}",
                f"{budget:,}" if budget else self.tr("no set limit"),
                f"{share:.1%}" if share is not None else "",
            ]
            self._set_row(table, row, cells, numeric=3)
            warn = share is not None and share >= _BUDGET_WARN
            for col in range(len(cells)):
                item = table.item(row, col)
                if item is not None:
                    item.setForeground(
                        QtGui.QBrush(tone_colour(ERROR_STYLE, self.palette())) if warn else self.palette().text())

    def _fill_clock(self) -> None:
        clock = self._clock
        if clock is None:
            for label in (self.offset_label, self.latency_label, self.age_label, self.server_label):
                label.setText("—")
            self.clock_status_label.setText(self.tr("The engine is not running."))
            return
        self.offset_label.setText(self.tr("{ms} ms").format(ms=f"{round(clock.offset_s * 1000, 1) + 0.0:+,.1f}"))
        self.latency_label.setText(
            self.tr("{ms} ms").format(ms=f"{clock.latency_s * 1000:,.1f}") if clock.latency_measured
            else self.tr("measuring…")
        )
        self.latency_label.setToolTip(
            "" if clock.latency_measured else self.tr("No request to eBay has been timed yet; until one is, "
                                                      "bids are sent early by a default guess.")
        )
        self.age_label.setText(self.tr("{age} ago").format(age=_age(clock.age_s)) if clock.synced else "—")
        self.server_label.setText(clock.server or "—")
        if clock.synced and not clock.last_error:
            status = self.tr("In step with eBay's clock.")
        elif clock.synced:
            status = self.tr("Using the last good measurement; the latest failed: {error}").format(
                error=redact(clock.last_error or "")
            )
        else:
            status = self.tr("Not measured yet: bids are timed by this computer's clock alone.")
            if clock.last_error:
                status += " " + redact(clock.last_error)
        self.clock_status_label.setText(status)

    # ------------------------------------------------------------------ bug report

    def report_text(self) -> str:
        """A plain-text summary of what the view shows, for pasting into a bug report."""
        now = self._now().astimezone(UTC)
        lines = [
            f"Sniper {__version__} diagnostics, {now:%Y-%m-%d %H:%M:%S} UTC",
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}",
            "",
            f"eBay at: {self._ebay_address or '-'}",
            "",
            "Clock:",
        ]
        clock = self._clock
        if clock is None:
            lines.append("  engine not running")
        else:
            latency = f"{clock.latency_s * 1000:.1f} ms" if clock.latency_measured else "not measured yet"
            lines.append(
                f"  offset {clock.offset_s * 1000:+.1f} ms, latency {latency}, "
                f"server {clock.server or '-'}, "
                + (f"measured {_age(clock.age_s)} ago" if clock.synced else "not measured yet")
            )
            if clock.last_error:
                lines.append(f"  last error: {redact(clock.last_error)}")
        points = clock_points(self._snapshot)
        if points:
            offsets = [p.offset_ms for p in points]
            latencies = [p.latency_ms for p in points if p.latency_ms is not None]
            lines.append(
                f"  series: {len(points)} samples {points[0].at:%Y-%m-%d %H:%M:%S}..{points[-1].at:%H:%M:%S} UTC, "
                f"offset {min(offsets):+.1f}..{max(offsets):+.1f} ms, "
                + (f"latency {min(latencies):.1f}..{max(latencies):.1f} ms" if latencies else "latency not measured")
            )
        lines += ["", "Operations (count, mean/max/last ms, errors, last error):"]
        operations: Mapping[str, Mapping[str, Any]] = self._snapshot.get("operations") or {}
        width = max((len(name) for name in operations), default=0)
        for name, stats in operations.items():
            cells = self.operation_cells(name, stats)
            line = (
                f"  {name:<{width}}  {cells[1]:>6}  {cells[2] or '-':>9} / {cells[3] or '-':>9} / "
                f"{cells[4] or '-':>9}  errors {cells[5]}"
            )
            if cells[6]:
                line += f"  last: {cells[6]}"
            lines.append(line)
        lines += ["", "eBay calls today (UTC day) / daily budget:"]
        for api, count, budget in self.call_rows():
            limit = f"{budget:,} ({count / budget:.1%})" if budget else "no set limit"
            lines.append(f"  {_API_NAMES.get(api, api)}: {count:,} / {limit}")
        return "\n".join(lines) + "\n"

    @QtCore.Slot()
    def copy_report(self) -> None:
        self.refresh()
        clipboard = QtGui.QGuiApplication.clipboard()
        clipboard.setText(self.report_text())
        self.updated_label.setText(self.tr("Copied to the clipboard."))
