"""The Diagnostics view over a real Metrics: its tables, the clock, the chart, refresh and the bug report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sniper_app.engine.metrics import Metrics
from sniper_app.engine.service import ClockState
from sniper_app.ui.diagnostics import DAILY_CALL_BUDGET, DiagnosticsView
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets
from sniper_app.ui.widgets import ERROR_STYLE, tone_colour
from tests.gui.conftest import SCREENSHOT_DIR


def rows(table: QtWidgets.QTableWidget) -> list[list[str]]:
    return [
        [table.item(r, c).text() if table.item(r, c) is not None else "" for c in range(table.columnCount())]  # type: ignore[union-attr]
        for r in range(table.rowCount())
    ]


def filled_metrics() -> Metrics:
    metrics = Metrics()
    for seconds in (0.120, 0.080, 0.100):
        metrics.record("sync", seconds)
    metrics.record("sync", 0.300, error="eBay is unreachable (timed out)")
    metrics.record("fire", 0.042)
    metrics.record("token_refresh", 0.250, error="refresh failed: refresh_token=v^1.1#i^1#secretstuff")
    start = datetime.now(UTC) - timedelta(minutes=50)
    for n in range(11):
        at = start + timedelta(minutes=5 * n)
        metrics.record_clock(offset_s=2.5 + n * 0.001, latency_s=0.040 + (n % 3) * 0.005, at=at)
    for _ in range(4_200):
        metrics.count_call("browse")
    for _ in range(37):
        metrics.count_call("trading")
    metrics.count_call("token")
    metrics.count_call("offer")
    metrics.count_call("offer", datetime.now(UTC) - timedelta(days=1))  # yesterday's does not count
    return metrics


CLOCK = ClockState(synced=True, offset_s=2.51, latency_s=0.045, age_s=12.4, server="127.0.0.1:50123", last_error=None)


def test_tables_clock_and_chart_show_what_the_engine_measured(qtbot: Any) -> None:
    metrics = filled_metrics()
    view = DiagnosticsView(metrics.snapshot, lambda: CLOCK)
    qtbot.addWidget(view)

    ops = {row[0]: row for row in rows(view.operations_table)}
    assert ops["sync"] == ["sync", "4", "150.0", "300.0", "300.0", "1", "eBay is unreachable (timed out)"]
    assert ops["fire"] == ["fire", "1", "42.0", "42.0", "42.0", "0", ""]
    assert ops["email"] == ["email", "0", "", "", "", "0", ""]  # never run: blank, not "0.0 ms"
    # An error text that carried a token would still not show it.
    assert ops["token_refresh"][6] == "refresh failed: refresh_token=***"

    calls = {row[0]: row for row in rows(view.calls_table)}
    assert calls["Browse"] == ["Browse", "4,200", "5,000", "84.0%"]
    assert calls["Trading"] == ["Trading", "37", "5,000", "0.7%"]
    assert calls["OAuth token"] == ["OAuth token", "1", "1,000", "0.1%"]
    assert calls["Buy Offer (bids)"] == ["Buy Offer (bids)", "1", "no set limit", ""]
    red = tone_colour(ERROR_STYLE, view.palette())
    assert view.calls_table.item(0, 1).foreground().color() == red  # type: ignore[union-attr]  # 84 % of a budget
    assert DAILY_CALL_BUDGET["browse"] == 5_000

    assert view.offset_label.text() == "+2,510.0 ms"
    assert view.latency_label.text() == "45.0 ms"
    assert view.age_label.text() == "12 s ago"
    assert view.server_label.text() == "127.0.0.1:50123"
    assert view.clock_status_label.text() == "In step with eBay's clock."
    assert len(view.chart.points) == 11
    assert view.chart.points[-1].offset_ms == 2510.0
    assert "11 measurements" in view.chart.accessibleDescription()


def test_refreshes_every_two_seconds_only_while_visible(qtbot: Any) -> None:
    metrics = filled_metrics()
    reads: list[int] = []

    def snapshot() -> dict[str, Any]:
        reads.append(1)
        return metrics.snapshot()

    view = DiagnosticsView(snapshot, lambda: None)
    qtbot.addWidget(view)
    assert view.timer.interval() == 2000
    assert not view.timer.isActive()
    assert view.clock_status_label.text() == "The engine is not running."

    view.show()
    qtbot.waitExposed(view)
    assert view.timer.isActive()
    metrics.record("fire", 0.010)
    with qtbot.waitSignal(view.timer.timeout, timeout=4000):
        pass
    fire = next(row for row in rows(view.operations_table) if row[0] == "fire")
    assert fire[1] == "2"
    view.hide()
    assert not view.timer.isActive()
    count = len(reads)
    qtbot.wait(50)
    assert len(reads) == count


def test_copy_for_bug_report_puts_a_plain_summary_on_the_clipboard(qtbot: Any) -> None:
    metrics = filled_metrics()
    state = ClockState(
        synced=True, offset_s=-0.0123, latency_s=0.031, age_s=300, server="pool.ntp.org", last_error="SNTP timed out"
    )
    view = DiagnosticsView(metrics.snapshot, lambda: state)
    qtbot.addWidget(view)
    clipboard = QtGui.QGuiApplication.clipboard()
    clipboard.clear()
    qtbot.mouseClick(view.copy_button, QtCore.Qt.MouseButton.LeftButton)
    text = clipboard.text()
    assert text.startswith("Sniper ")
    assert "  offset -12.3 ms, latency 31.0 ms, server pool.ntp.org, measured 5 min ago" in text
    assert "  last error: SNTP timed out" in text
    assert "series: 11 samples" in text
    assert "offset +2500.0..+2510.0 ms, latency 40.0..50.0 ms" in text
    assert (
        "  sync                4      150.0 /     300.0 /     300.0  errors 1  last: eBay is unreachable (timed out)\n"
        "  preflight           0          - /         - /         -  errors 0\n"
    ) in text
    assert "  Browse: 4,200 / 5,000 (84.0%)" in text
    assert "  Buy Offer (bids): 1 / no set limit" in text
    assert "secretstuff" not in text
    assert view.updated_label.text() == "Copied to the clipboard."
    assert view.copy_button.accessibleName()


def test_screenshot(qtbot: Any) -> None:
    metrics = filled_metrics()
    view = DiagnosticsView(metrics.snapshot, lambda: CLOCK)
    qtbot.addWidget(view)
    view.resize(1000, 640)
    view.show()
    qtbot.waitExposed(view)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / "diagnostics.png"
    assert view.grab().save(str(path))
    assert QtGui.QImage(str(path)).width() == 1000
