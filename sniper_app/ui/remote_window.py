"""The window on a desktop that drives a Sniper box: the same window, views and dialogs, over the box's engine.

No engine runs here, so nothing here can bid: the window reads a :class:`~sniper_app.remote.mirror.RemoteMirror`
(the box's facade, answered from caches its event stream keeps fresh) and sends every command to the box.
The local data folder still holds this desktop's settings, secret store (the box's pairing) and window state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from sniper_app.bootstrap import AppContext, app_context
from sniper_app.config import Settings
from sniper_app.domain.errors import SniperError
from sniper_app.domain.status import SnipeStatus
from sniper_app.engine.bus import SnipeStatusChanged
from sniper_app.engine.notifications import email_test_sender
from sniper_app.notify.notice import HEADLINES, NoticeKind
from sniper_app.remote.credentials import RemoteLink, load_link
from sniper_app.remote.mirror import RemoteMirror
from sniper_app.remote.service import RemoteService
from sniper_app.ui.bridge import AsyncRunner
from sniper_app.ui.main_window import MainWindow
from sniper_app.ui.qt import QtCore, QtWidgets
from sniper_app.ui.remote_status import RemoteStatus
from sniper_app.ui.tray import Tray

if TYPE_CHECKING:
    from sniper_app.ui.single_instance import SingleInstance

log = logging.getLogger(__name__)

# The box's results that get a balloon here too (the box's own notices, e-mail and push, go out from the box).
_NOTICES: Final = {
    SnipeStatus.PLACED: NoticeKind.BID_PLACED, SnipeStatus.WON: NoticeKind.BID_WON,
    SnipeStatus.LOST: NoticeKind.BID_LOST, SnipeStatus.FAILED: NoticeKind.BID_FAILED,
    SnipeStatus.MISSED: NoticeKind.BID_MISSED,
}
_WARNINGS: Final = frozenset({NoticeKind.BID_FAILED, NoticeKind.BID_MISSED})


@dataclass
class RemoteShell:
    """A running window over a box (tests and the screenshots reach in through it)."""

    ctx: AppContext
    mirror: RemoteMirror
    window: MainWindow
    tray: Tray
    runner: AsyncRunner
    status: RemoteStatus
    stop: asyncio.Event


class MirrorFollower(QtCore.QObject):
    """The mirror's reports (on the loop thread) turned into the window's refreshes, on the GUI thread."""

    changed = QtCore.Signal(str)

    def __init__(self, window: MainWindow, mirror: RemoteMirror, status: RemoteStatus) -> None:
        super().__init__(window)
        self.window, self.mirror, self.status = window, mirror, status
        self.changed.connect(self._follow, QtCore.Qt.ConnectionType.QueuedConnection)
        self._detach = mirror.on_change(self.changed.emit)

    def detach(self) -> None:
        self._detach()

    @QtCore.Slot(str)
    def _follow(self, what: str) -> None:
        window = self.window
        if what == "link":
            self.status.show_link(self.mirror.link)
        elif what == "all":
            window.snipes_model.reload()
            window.watch_model.reload()
            window.history_model.reload()
            window._update_account()
            window._update_clock()
            window._update_history_count()
            window.exposure_label.schedule()
            window.refresh_actions()
        elif what == "history":
            window.history_model.reload()
            window._update_history_count()
        elif what == "history_more":
            root = QtCore.QModelIndex()
            if window.history_model.canFetchMore(root):
                window.history_model.fetchMore(root)
        elif what == "exposure":
            window.exposure_label.schedule()
        elif what == "paused":
            window.refresh_actions()
            window._update_next_snipe()


def _tray_notice(window: MainWindow, mirror: RemoteMirror, tray: Tray, event: SnipeStatusChanged) -> None:
    """The box's result as this desktop's balloon (its settings choose which), or in the status bar where
    there is no tray."""
    kind = _NOTICES.get(event.new)
    settings = mirror.settings
    if kind is None or not settings.notify_tray or kind.value not in settings.notify_tray_types:
        return
    snipe = mirror.find_snipe(event.snipe_id)
    title = f"{HEADLINES[kind]}: " + ((snipe.title or snipe.legacy_item_id) if snipe is not None
                                       else f"#{event.snipe_id}")
    body = event.reason or (snipe.status_reason if snipe is not None else None) or ""
    if not tray.show_message(title, body, snipe_id=event.snipe_id, warning=kind in _WARNINGS):
        window.statusBar().showMessage(f"{title} — {body}" if body else title, 15000)


async def run_remote_shell(
    ctx: AppContext,
    link: RemoteLink,
    *,
    instance: SingleInstance | None = None,
    minimized: bool = False,
    tray_available: bool | None = None,
    on_ready: Callable[[RemoteShell], Any] | None = None,
    timeout: float = 10.0,
) -> int:
    """Run the window over the box of ``link`` until the user quits; returns the exit code."""
    from sniper_app.ui.shell import (
        _raise_for_another_launch,
        _stop_on_signals,
        _sync_autostart,
        app_icon,
        close_window,
    )

    mirror = RemoteMirror(RemoteService.of(link, timeout=timeout), ctx.settings, user_id=ctx.user_id,
                          data_dir=ctx.data_dir)
    mirror.start()
    stop = asyncio.Event()
    app = QtWidgets.QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(stop.set)
    runner = AsyncRunner()
    window = MainWindow(mirror, mirror.bus, ctx.settings, ctx.user_id, service=mirror, runner=runner,
                        exposure=mirror.known_exposure)
    status = RemoteStatus(window)
    follower = MirrorFollower(window, mirror, status)
    status.show_link(mirror.link)
    icon = app_icon()
    if not icon.isNull():
        window.setWindowIcon(icon)
    tray = Tray(window, icon if not icon.isNull() else window.style().standardIcon(
        QtWidgets.QStyle.StandardPixmap.SP_ComputerIcon), available=tray_available)
    window.secrets = ctx.secrets
    window.test_email = email_test_sender(ctx.secrets)
    window.box_settings = mirror  # the Settings dialog shows and changes the box's engine settings on the box
    window.consent_page = mirror.consent_page  # the Link dialog links the box's account, asked on the box
    window.settingsSaved.connect(mirror.apply_settings)
    window.bridge.snipeStatusChanged.connect(lambda event: _tray_notice(window, mirror, tray, event))
    window.quitRequested.connect(stop.set)
    window.closedToTray.connect(lambda: tray.show_message(
        window.tr("Sniper is still here"),
        window.tr("The box at {address} places your bids whether this window is open or not.").format(
            address=link.address),
    ))
    if instance is not None:
        instance.messageReceived.connect(lambda _message: _raise_for_another_launch(window))
    in_tray = tray.start()
    if not (minimized and in_tray):
        window.show()
    restore_signals = _stop_on_signals(stop)
    _sync_autostart(ctx.settings.autostart)
    shell = RemoteShell(ctx, mirror, window, tray, runner, status, stop)
    try:
        if on_ready is not None:
            on_ready(shell)
        await stop.wait()
    finally:
        log.info("closing the window over the box at %s", link.address)
        follower.detach()
        await close_window(window, tray, runner, instance, mirror.stop)
        restore_signals()
    return 0


def launch_remote_window(
    base: Settings,
    announce: Callable[[str], None],
    *,
    minimized: bool = False,
    on_ready: Callable[[Any], Any] | None = None,
) -> int:
    """Open the window over the box this desktop is connected to, until the user quits; the exit code."""
    from sniper_app.ui.launch import named_application, qasync_loop
    from sniper_app.ui.single_instance import SingleInstance, server_name

    app = named_application()
    instance = SingleInstance.claim(server_name(base.resolved_data_dir()))
    if instance is None:
        announce("Sniper is already running with this data; its window was brought to the front.")
        return 0
    try:
        with app_context(base) as ctx:
            try:
                link = load_link(ctx.secrets)
            except SniperError as exc:  # a locked or unreadable secret store: its own sentence says which
                announce(f"The pairing with the box could not be read: {exc}")
                return 1
            if link is None:
                announce("This computer is marked as driving a Sniper box, but its pairing is missing from the "
                         "secret store; connect again with a new invite ('sniper-app remote connect'), or run "
                         "'sniper-app remote disconnect' to use this computer's own engine.")
                return 1
            announce(f"This window drives the Sniper box at {link.address}, which places the bids; no engine "
                     "runs on this computer.")
            with qasync_loop(app) as loop:
                code: int = loop.run_until_complete(run_remote_shell(
                    ctx, link, instance=instance, minimized=minimized or base.start_minimized, on_ready=on_ready))
                return code
    finally:
        instance.close()
