"""The window's start-up: the QApplication, the one qasync loop, a single instance per data folder, and the
run built by :mod:`sniper_app.bootstrap` handed to :func:`~sniper_app.ui.shell.run_shell`.

The entry point imports this module only when a window is wanted, so nothing outside ``ui/`` imports Qt,
and nothing here imports the entry point.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import sys
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

from sniper_app.bootstrap import app_context, demo_dir, demo_world, reloader, say_network_limits, take_engine_lock
from sniper_app.config import Settings
from sniper_app.domain.errors import SniperError
from sniper_app.engine.lock import EngineRunning
from sniper_app.ui.qt import QtCore, QtWidgets  # sets QT_API before qasync looks for a binding

T = TypeVar("T")


def qt_application() -> QtWidgets.QApplication:
    """This process's QApplication (made once), kept alive when its last window closes: the tray keeps the
    app running, and a closing window or dialog must not end the loop clean-up still runs on."""
    existing = QtWidgets.QApplication.instance()
    app = existing if isinstance(existing, QtWidgets.QApplication) else QtWidgets.QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    return app


@contextlib.contextmanager
def qasync_loop(app: QtWidgets.QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop over ``app``, the current loop while the block runs; on leaving, what is still pending
    is cancelled and awaited, and the loop closed."""
    qasync = importlib.import_module("qasync")  # only now: qasync picks its binding at import
    loop: asyncio.AbstractEventLoop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
        asyncio.set_event_loop(None)


def named_application() -> QtWidgets.QApplication:
    """This process's QApplication, named and with its icon, as the window shows it to the desktop."""
    from sniper_app.ui.shell import app_icon

    app = qt_application()
    app.setApplicationName("Sniper")
    app.setOrganizationName("Sniper")
    app.setApplicationDisplayName("Sniper")
    app.setDesktopFileName("sniper-app")
    app.setWindowIcon(app_icon())
    return app


def run_on_qasync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion as the window runs: on one qasync loop over this process's QApplication."""
    with qasync_loop(qt_application()) as loop:
        return loop.run_until_complete(coro)


def _route_qt_messages() -> None:
    qt_log = logging.getLogger("qt")
    levels = {
        QtCore.QtMsgType.QtDebugMsg: logging.DEBUG,
        QtCore.QtMsgType.QtInfoMsg: logging.INFO,
        QtCore.QtMsgType.QtWarningMsg: logging.WARNING,
        QtCore.QtMsgType.QtCriticalMsg: logging.ERROR,
        QtCore.QtMsgType.QtFatalMsg: logging.CRITICAL,
    }

    def handler(kind: QtCore.QtMsgType, _context: QtCore.QMessageLogContext, message: str) -> None:
        qt_log.log(levels.get(kind, logging.WARNING), "%s", message)

    QtCore.qInstallMessageHandler(handler)


def launch_window(
    base: Settings,
    announce: Callable[[str], None],
    *,
    demo: bool = False,
    minimized: bool = False,
    on_ready: Callable[[Any], Any] | None = None,
) -> int:
    """Open the window (against the bundled simulator with ``demo``) until the user quits; the exit code."""
    from sniper_app.bootstrap import StoreError
    from sniper_app.ui.shell import run_shell
    from sniper_app.ui.single_instance import SingleInstance, server_name
    from sniper_app.ui.start_error import tell_start_error

    _route_qt_messages()
    app = named_application()

    # Before the store and the simulator: a second launch hands over and must start neither.
    data_dir = demo_dir(base) if demo else base.resolved_data_dir()
    instance = SingleInstance.claim(server_name(data_dir))
    if instance is None:
        announce("Sniper is already running with this data; its window was brought to the front.")
        return 0
    try:
        lock = take_engine_lock(data_dir, announce)
    except EngineRunning as exc:
        # A headless engine on the same data has no window to raise: say so where a desktop user looks too.
        instance.close()
        announce(str(exc))
        if app.platformName() != "offscreen":  # nobody could close the box there
            QtWidgets.QMessageBox.critical(None, "Sniper", str(exc))
        return 1
    except SniperError as exc:  # a read-only or unusable data folder: said on stderr by the caller too
        instance.close()
        tell_start_error(app, str(exc))
        raise
    try:
        with contextlib.ExitStack() as stack:
            settings = base
            overrides: dict[str, Any] = {}
            if demo:
                world = stack.enter_context(demo_world(base))
                settings, overrides = world.settings, world.overrides
            say_network_limits(settings, announce)
            ctx = stack.enter_context(app_context(settings, demo=demo))
            ctx.reload_settings = reloader(overrides)
            loop = stack.enter_context(qasync_loop(app))
            code: int = loop.run_until_complete(
                run_shell(ctx, instance=instance, minimized=minimized or settings.start_minimized, on_ready=on_ready)
            )
            return code
    except StoreError as exc:  # a damaged database, a read-only folder: said on stderr by the caller too
        tell_start_error(app, str(exc))
        raise
    finally:
        lock.release()
        instance.close()
