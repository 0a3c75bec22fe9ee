"""The self-test's Qt side: the main window rendered over the real facade (so a frozen build proves its
Qt plugins load), and the scenario run on the window's own qasync loop."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from sniper_app.ui.launch import qasync_loop, qt_application
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets

if TYPE_CHECKING:
    from sniper_app.bootstrap import AppContext
    from sniper_app.engine.service import SniperService
    from sniper_app.ui.main_window import MainWindow


class WindowCheckFailed(Exception):
    """The window or its icon did not render; the message says what was seen."""


class WindowProbe:
    """The main window over ``service``, shown offscreen and grabbed to prove it paints."""

    def __init__(self, ctx: AppContext, service: SniperService) -> None:
        self.ctx = ctx
        self.service = service
        self.window: MainWindow | None = None

    def open(self) -> str:
        from sniper_app.resources import app_icon_path
        from sniper_app.ui.main_window import MainWindow

        icon = QtGui.QIcon(str(app_icon_path()))
        if icon.pixmap(64, 64).isNull():
            raise WindowCheckFailed(
                f"the app icon {app_icon_path()} could not be loaded (Qt's SVG plugins missing?)")
        QtWidgets.QApplication.setWindowIcon(icon)
        ctx = self.ctx
        window = MainWindow(self.service, ctx.bus, ctx.settings, ctx.user_id, service=self.service)
        self.window = window
        window.resize(1000, 640)
        window.show()
        QtWidgets.QApplication.processEvents()
        pixmap = window.grab()
        if pixmap.isNull() or pixmap.width() < 100:
            raise WindowCheckFailed("the main window rendered nothing")
        platform = QtGui.QGuiApplication.platformName()
        return f"{platform} platform, window rendered {pixmap.width()}x{pixmap.height()}, icon loaded"

    def again(self) -> str:
        if self.window is None or self.window.grab().isNull():
            raise WindowCheckFailed("the main window stopped rendering")
        return "rendered with the won snipe"

    def close(self) -> None:
        window, self.window = self.window, None
        if window is None:
            return
        window.shutdown()
        window.allow_close()
        window.close()
        window.deleteLater()


def run_scenario(coro: Coroutine[Any, Any, Any], timeout_s: float) -> None:
    """Run the self-test's scenario as the window runs: one qasync loop over a QApplication."""
    import asyncio

    app = qt_application()
    try:
        with qasync_loop(app) as loop:
            loop.run_until_complete(asyncio.wait_for(coro, timeout_s))
    finally:
        # Destroy the window and the application now, in order, rather than leave them to the
        # interpreter's shutdown, where PySide6 may free objects Python still counts.
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
        app.shutdown()
