"""The History view's CSV export: on a worker thread, with a progress dialog that can cancel it."""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from sniper_app.ui.history import ExportCancelled, export_history_csv
from sniper_app.ui.qt import QtCore, QtWidgets

if TYPE_CHECKING:
    from sniper_app.ui.main_window import MainWindow

log = logging.getLogger(__name__)


class ExportRelay(QtCore.QObject):
    """Carries an export thread's progress and end back to the window's thread as queued signals."""

    progressed = QtCore.Signal(int)  # rows written so far
    finished = QtCore.Signal(int, str)  # (rows written, or -1 when it did not complete; the error, if any)


def choose_export_file(window: MainWindow) -> None:
    if window._export_cancel is not None:
        window.statusBar().showMessage(window.tr("An export is already running."), 5000)
        return
    start = str(Path.home() / "sniper-history.csv")
    chosen, _ = QtWidgets.QFileDialog.getSaveFileName(
        window, window.tr("Export history"), start, window.tr("CSV files (*.csv)")
    )
    if chosen:
        window.start_export(Path(chosen))


def start_export(window: MainWindow, path: Path) -> None:
    """Export the filtered history on a worker thread, with a progress dialog that can cancel it: a
    million events take many seconds, and the window (and the loop the engine shares) stays live."""
    cancel = threading.Event()
    window._export_cancel = cancel
    dialog = QtWidgets.QProgressDialog(window.tr("Exporting the history…"), window.tr("Cancel"), 0, 0, window)
    dialog.setWindowTitle(window.tr("Export history"))
    dialog.setMinimumDuration(400)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.canceled.connect(cancel.set)
    window._export_dialog = dialog
    relay = ExportRelay(window)
    relay.progressed.connect(
        lambda n: dialog.setLabelText(window.tr("Exporting the history… {n:,} events written").format(n=n))
    )
    relay.finished.connect(lambda n, error: export_finished(window, relay, path, n, error))
    reads, wanted = window._reads, window.history_model.history_filter

    def progress(rows: int) -> None:
        with contextlib.suppress(RuntimeError):  # the window closed meanwhile
            relay.progressed.emit(rows)

    def run() -> None:  # on the export thread: nothing here may touch a widget
        count, error = -1, ""
        try:
            count = export_history_csv(reads, path, wanted, progress=progress, cancelled=cancel.is_set)
        except ExportCancelled:
            pass
        except OSError as exc:
            error = str(exc.strerror or exc)
        except Exception as exc:
            log.exception("exporting the history failed")
            error = f"{type(exc).__name__}: {exc}"
        finally:
            with contextlib.suppress(Exception):  # the store may have closed under it at quit
                reads.release_thread()
        with contextlib.suppress(RuntimeError):  # the window closed meanwhile: nobody left to tell
            relay.finished.emit(count, error)

    threading.Thread(target=run, name="sniper-export", daemon=True).start()


def export_finished(window: MainWindow, relay: ExportRelay, path: Path, count: int, error: str) -> None:
    window._export_cancel = None
    if window._export_dialog is not None:
        window._export_dialog.close()
        window._export_dialog.deleteLater()
        window._export_dialog = None
    relay.deleteLater()
    if error:
        QtWidgets.QMessageBox.warning(
            window,
            window.tr("Export failed"),
            window.tr("The history could not be written to {path}: {error}").format(path=path, error=error),
        )
    elif count < 0:
        window.statusBar().showMessage(window.tr("Export cancelled; nothing was written."), 8000)
    else:
        window.statusBar().showMessage(window.tr("Exported {n:,} events to {path}").format(n=count, path=path), 8000)
