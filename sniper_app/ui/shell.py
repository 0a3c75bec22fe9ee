"""The window's life on the qasync loop: engine, facade, window and tray built, run, and torn down in order.

:func:`sniper_app.app.run_window` owns the loop and calls :func:`run_shell` inside it. The window is shown
before the engine's first clock measurement and sync, so start-up never waits on the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sniper_app.engine.engine import Engine
from sniper_app.engine.service import SniperService
from sniper_app.ui.bridge import AsyncRunner
from sniper_app.ui.main_window import MainWindow
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets
from sniper_app.ui.tray import Tray

if TYPE_CHECKING:
    from sniper_app.app import AppContext
    from sniper_app.ui.single_instance import SingleInstance

log = logging.getLogger(__name__)

METRICS_EVERY_S = 5.0


@dataclass
class Shell:
    """What a running window session is made of (tests and the benchmark reach in through it)."""

    ctx: AppContext
    engine: Engine
    service: SniperService
    window: MainWindow
    tray: Tray
    runner: AsyncRunner
    stop: asyncio.Event


def app_icon() -> QtGui.QIcon:
    try:
        from sniper_app.resources import app_icon_path
    except ImportError:  # resources are bundled by the packaging step; a bare checkout still runs
        return QtGui.QIcon()
    path = app_icon_path()
    return QtGui.QIcon(str(path)) if path is not None else QtGui.QIcon()


async def run_shell(
    ctx: AppContext,
    *,
    instance: SingleInstance | None = None,
    minimized: bool = False,
    tray_available: bool | None = None,
    on_ready: Callable[[Shell], Any] | None = None,
    engine_options: dict[str, Any] | None = None,
) -> int:
    """Run the window until the user quits (or the session ends); returns the exit code."""
    from sniper_app.app import write_metrics

    client = ctx.build_client()
    engine = Engine(
        ctx.settings,
        ctx.store,
        user_id=ctx.user_id,
        bus=ctx.bus,
        metrics=ctx.metrics,
        client=client,
        clock_server=ctx.settings.time_server,
        **(engine_options or {}),
    )
    service = SniperService(
        ctx.settings, ctx.store, user_id=ctx.user_id, client=client, engine=engine, bus=ctx.bus,
        metrics=ctx.metrics, data_dir=ctx.data_dir, demo=ctx.demo,
    )
    stop = asyncio.Event()
    app = QtWidgets.QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(stop.set)
    runner = AsyncRunner()
    window = MainWindow(ctx.store, ctx.bus, ctx.settings, ctx.user_id, service=service, runner=runner)
    icon = app_icon()
    if not icon.isNull():
        window.setWindowIcon(icon)
    tray = Tray(window, icon if not icon.isNull() else window.style().standardIcon(
        QtWidgets.QStyle.StandardPixmap.SP_ComputerIcon), available=tray_available)
    window.quitRequested.connect(stop.set)
    window.closedToTray.connect(lambda: tray.show_message(
        window.tr("Sniper is still running"),
        window.tr("Your snipes will be placed while Sniper stays here. Quit from this icon's menu."),
    ))
    if instance is not None:
        instance.messageReceived.connect(lambda _message: window.show_and_raise())
    in_tray = tray.start()
    if not (minimized and in_tray):
        window.show()
    shell = Shell(ctx, engine, service, window, tray, runner, stop)
    try:
        try:
            await engine.start()
        except Exception as exc:  # the window stays useful (history, settings) even if eBay is unreachable
            log.exception("the engine did not start")
            window.statusBar().showMessage(window.tr("Sniping could not start: {error}").format(error=exc))
        if ctx.demo and not service.linked_username():
            window.open_link_dialog()  # the demo's first step: link the demo account in two clicks
        if on_ready is not None:
            on_ready(shell)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), METRICS_EVERY_S)
            try:
                write_metrics(ctx)
            except OSError:
                log.warning("could not write the metrics file", exc_info=True)
    finally:
        log.info("closing the window and stopping the engine")
        window.shutdown()
        tray.hide()
        runner.cancel_all()
        try:
            await engine.stop()
        finally:
            await client.aclose()
            if instance is not None:
                instance.close()
            window.allow_close()
            window.close()
            window.deleteLater()
            QtCore.QCoreApplication.processEvents()
    with contextlib.suppress(OSError):
        write_metrics(ctx, {"stopped": True})
    return 0
