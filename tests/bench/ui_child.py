"""The app side of ``ui_responsiveness``: the real window start-up, instrumented from outside.

It creates the QApplication first only to install an event filter that notes the main window's first
paint; everything else is ``sniper_app.app.run_window`` as a user starts it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any

from sniper_app.app import run_window
from sniper_app.config import load_settings
from sniper_app.ui.qt import QtCore, QtWidgets

TIMER_MS = 5


class FirstPaint(QtCore.QObject):
    def __init__(self) -> None:
        super().__init__()
        self.at: float | None = None

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if (
            self.at is None
            and event.type() == QtCore.QEvent.Type.Paint
            and isinstance(watched, QtWidgets.QMainWindow)
        ):
            self.at = time.time()
        return False


class LagMeter(QtCore.QObject):
    """A precise 5 ms timer on the GUI thread; lag is how much later than 5 ms each tick comes."""

    def __init__(self) -> None:
        super().__init__()
        self.samples: list[float] = []
        self.phase = "start"
        self.by_phase: dict[str, list[float]] = {}
        self.when: list[tuple[float, float]] = []
        self._last = 0.0
        self._timer = QtCore.QTimer(self)
        self._timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TIMER_MS)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        lag = max(0.0, (now - self._last) * 1000 - TIMER_MS)
        self.samples.append(lag)
        self.when.append((lag, now))
        self.by_phase.setdefault(self.phase, []).append(lag)
        self._last = now


def _rss_mb() -> tuple[float, float]:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmHWM"].split()[0]) / 1024, int(fields["VmRSS"].split()[0]) / 1024


async def drive(
    shell: Any, paint: FirstPaint, started: float, report: Path, scroll_rows: int, main_at: float,
    export_to: Path | None = None,
) -> None:
    window = shell.window
    while paint.at is None:
        await asyncio.sleep(0.01)
    meter = LagMeter()
    meter.phase = "sync"
    meter.start()
    sync_start = time.perf_counter()
    result = await shell.service.sync_watchlist()
    sync_ms = (time.perf_counter() - sync_start) * 1000
    await asyncio.sleep(0.2)  # the model reload and repaint after the sync event
    meter.phase = "scroll"
    window.tabs.setCurrentIndex(window.HISTORY_TAB)
    view = window.history_view
    model = window.history_model
    scroll_start = time.perf_counter()
    bar = view.verticalScrollBar()
    stalls = 0
    while model.canFetchMore(QtCore.QModelIndex()) and model.rowCount() < scroll_rows:
        rows = model.rowCount()
        # Drag to the bottom, as a user does: the view asks the model for the next page.
        bar.setValue(bar.maximum())
        await asyncio.sleep(0.001)
        if model.rowCount() == rows:
            stalls += 1  # the view had not grown its range yet: a wheel turn at the bottom
            model.fetchMore(QtCore.QModelIndex())
        if model.rowCount() // 100_000 != rows // 100_000:
            print(f"{model.rowCount():,} rows, {time.perf_counter() - scroll_start:.1f} s", flush=True)
    scroll_s = time.perf_counter() - scroll_start
    export_s = None
    if export_to is not None:
        # The whole history to CSV from the window, as the user's Export does, while the lag is measured.
        meter.phase = "export"
        export_start = time.perf_counter()
        window.start_export(export_to)
        while "Exported" not in window.statusBar().currentMessage():
            await asyncio.sleep(0.05)
        export_s = time.perf_counter() - export_start
    meter.stop()
    worst = sorted(meter.when)[-5:]
    peak, end = _rss_mb()
    lag = sorted(meter.samples)
    figures = {
        "shown_ms": round((paint.at - started) * 1000, 1),
        "interpreter_and_imports_ms": round((main_at - started) * 1000, 1),
        **{
            f"lag_{phase}_max_ms": round(max(samples), 2) for phase, samples in meter.by_phase.items() if samples
        },
        "lag_p99_ms": round(statistics.quantiles(lag, n=100)[98], 2),
        "lag_max_ms": round(lag[-1], 2),
        "lag_samples": len(lag),
        "sync_items": result.added + result.updated,
        "sync_ms": round(sync_ms, 1),
        "history_rows_loaded": model.rowCount(),
        "scroll_s": round(scroll_s, 1),
        "scroll_stalls": stalls,
        **({"export_s": round(export_s, 1), "export_message": window.statusBar().currentMessage()}
           if export_s is not None else {}),
        # The five worst stalls and when they came, in seconds after the sync started (to tell periodic
        # work from scrolling).
        "worst_lags": [[round(lag, 1), round(at - sync_start, 2)] for lag, at in worst],
        "rss_mb": round(peak, 1),
        "rss_end_mb": round(end, 1),
    }
    report.write_text(json.dumps(figures))
    shell.stop.set()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--started", type=float, required=True)
    parser.add_argument("--scroll-rows", type=int, default=10**9)
    parser.add_argument("--export-to", type=Path)
    args = parser.parse_args()
    main_at = time.time()
    app = QtWidgets.QApplication([])
    paint = FirstPaint()
    app.installEventFilter(paint)
    tasks: set[asyncio.Task[None]] = set()

    def ready(shell: Any) -> None:
        run = drive(shell, paint, args.started, args.report, args.scroll_rows, main_at, args.export_to)
        task = asyncio.get_event_loop().create_task(run)
        tasks.add(task)

    run_window(load_settings(), print, "WARNING", on_ready=ready)


if __name__ == "__main__":
    main()
