"""The window's life on the qasync loop: engine, facade, window and tray built, run, and torn down in order.

:func:`sniper_app.ui.launch.launch_window` owns the loop and calls :func:`run_shell` inside it. The window is shown
before the engine's first clock measurement and sync, so start-up never waits on the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sniper_app.bootstrap import AppContext, Runtime, write_metrics, write_metrics_until
from sniper_app.config import Settings
from sniper_app.engine.bus import SettingsApplied
from sniper_app.engine.engine import Engine
from sniper_app.engine.notifications import email_test_sender
from sniper_app.engine.service import SniperService
from sniper_app.notify.notice import Notice, NoticeKind
from sniper_app.resources import app_icon_path
from sniper_app.ui.bridge import AsyncRunner
from sniper_app.ui.main_window import MainWindow
from sniper_app.ui.passphrase_dialog import offer_passphrase
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets
from sniper_app.ui.tray import Tray

if TYPE_CHECKING:
    from sniper_app.ui.single_instance import SingleInstance

log = logging.getLogger(__name__)



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
    return QtGui.QIcon(str(app_icon_path()))


class NoticeRelay(QtCore.QObject):
    """Notices reach the tray on the GUI thread; where there is no tray, the status bar says it."""

    noticed = QtCore.Signal(object)  # Notice

    def __init__(self, window: MainWindow, tray: Tray) -> None:
        super().__init__(window)
        self.window = window
        self.tray = tray
        self.noticed.connect(self.show)

    @QtCore.Slot(object)
    def show(self, notice: Notice) -> None:
        warning = notice.kind in _WARNINGS
        if not self.tray.show_message(notice.tray_title, notice.body(), snipe_id=notice.snipe_id, warning=warning):
            self.window.statusBar().showMessage(notice.summary(), 15000)


_WARNINGS = frozenset({
    NoticeKind.BID_FAILED, NoticeKind.BID_MISSED, NoticeKind.ACCOUNT_NEEDS_RELINK, NoticeKind.SNIPE_AT_RISK,
})


def _apply_settings(settings: Settings, service: SniperService, window: MainWindow) -> None:
    """What can change while running does at once; the status bar names what waits for the next start."""
    waiting = service.apply_settings(settings)
    if waiting:
        from sniper_app.ui.settings_dialog import setting_label  # the dialog's module: not needed at start-up

        names = ", ".join(setting_label(name) for name in waiting)
        window.statusBar().showMessage(
            window.tr("Settings saved. These take effect when Sniper restarts: {0}.").format(names), 15000)


async def close_window(
    window: MainWindow, tray: Tray, runner: AsyncRunner, instance: SingleInstance | None,
    stop: Callable[[], Awaitable[Any]],
) -> None:
    """Close the window for good: no more ticks, tray or pending work, then ``stop`` (the engine, or the link to
    the box) awaited while the window still exists, and the window deleted even if stopping failed."""
    window.shutdown()
    tray.hide()
    runner.cancel_all()
    try:
        await stop()
    finally:
        if instance is not None:
            instance.close()
        window.allow_close()
        window.close()
        window.deleteLater()
        QtCore.QCoreApplication.processEvents()


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
    runtime = Runtime(ctx, engine_options=engine_options)
    engine, service, notifier = runtime.engine, runtime.service, runtime.notifier
    assert notifier is not None  # the window always tells of results
    stop = asyncio.Event()
    app = QtWidgets.QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(stop.set)
    runner = AsyncRunner()
    window = MainWindow(service, ctx.bus, ctx.settings, ctx.user_id, service=service, runner=runner)
    icon = app_icon()
    if not icon.isNull():
        window.setWindowIcon(icon)
    tray = Tray(window, icon if not icon.isNull() else window.style().standardIcon(
        QtWidgets.QStyle.StandardPixmap.SP_ComputerIcon), available=tray_available)
    window.secrets = ctx.secrets
    window.test_email = email_test_sender(ctx.secrets)
    window.settingsSaved.connect(lambda settings: _apply_settings(settings, service, window))
    ctx.bus.subscribe(SettingsApplied, lambda event: window.follow_settings(
        {name: getattr(event.settings, name) for name in event.applied}))
    relay = NoticeRelay(window, tray)
    notifier.tray.set_sink(relay.noticed.emit)  # any thread in; the window's thread out
    window.quitRequested.connect(stop.set)
    window.closedToTray.connect(lambda: tray.show_message(
        window.tr("Sniper is still running"),
        window.tr("Your snipes will be placed while Sniper stays here. Quit from this icon's menu."),
    ))
    if instance is not None:
        instance.messageReceived.connect(lambda _message: _raise_for_another_launch(window))
    in_tray = tray.start()
    if not (minimized and in_tray):
        window.show()
    if not in_tray:
        window.statusBar().showMessage(window.tr("No system tray here: closing the window asks first."), 30000)
        tray.appeared.connect(lambda: window.statusBar().showMessage(
            window.tr("The system tray is here now: closing the window keeps Sniper in it."), 10000))
    restore_signals = _stop_on_signals(stop)
    _sync_autostart(ctx.settings.autostart)
    shell = Shell(ctx, engine, service, window, tray, runner, stop)
    try:
        # On a desktop without a keyring the sign-in waits on a passphrase; the engine does not wait on it
        # (the window owns the dialog).
        await offer_passphrase(ctx.data_dir, ctx.secrets, runner, window, demo=ctx.demo)
        await runtime.start_notices()
        try:
            await runtime.start_engine()
        except Exception as exc:  # the window stays useful (history, settings) even if eBay is unreachable
            log.exception("the engine did not start")
            window.statusBar().showMessage(window.tr("Sniping could not start: {error}").format(error=exc))
        # What start-up built (Qt wrappers, modules, the first pages) lives as long as the app: keep it out
        # of the collector's full passes, which otherwise stall the window for tens of ms as it grows.
        gc.freeze()
        if ctx.demo and not service.linked_username():
            window.open_link_dialog()  # the demo's first step: link the demo account in two clicks
        if on_ready is not None:
            on_ready(shell)
        await write_metrics_until(ctx, stop)
    finally:
        log.info("closing the window and stopping the engine")
        notifier.tray.set_sink(None)
        await close_window(window, tray, runner, instance, runtime.stop)
        restore_signals()
    with contextlib.suppress(OSError):
        write_metrics(ctx, {"stopped": True})
    return 0


def _sync_autostart(wanted: bool) -> None:
    """The login entry follows the setting, however it was set (the dialog, `config set`, a variable)."""
    from sniper_app.ui import autostart

    try:
        if autostart.is_enabled() != wanted:
            autostart.set_enabled(wanted)
            log.info("start at login %s", "enabled" if wanted else "disabled")
    except OSError:
        log.warning("could not change the start-at-login entry", exc_info=True)


def _raise_for_another_launch(window: MainWindow) -> None:
    log.info("another launch asked for the window; bringing it to the front")
    window.show_and_raise()


def _stop_on_signals(stop: asyncio.Event) -> Callable[[], None]:
    """SIGINT/SIGTERM (a terminal's Ctrl+C, a logout, a service manager) end the session cleanly."""
    loop = asyncio.get_running_loop()

    def handler(_signum: int, _frame: object) -> None:
        loop.call_soon_threadsafe(stop.set)

    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[sig] = signal.signal(sig, handler)
        except (ValueError, OSError):  # not the main thread (tests), or not supported here
            continue

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore
