"""The system tray: where Sniper lives while the window is closed, and where its notifications appear.

The menu reuses the window's own actions (add from clipboard, pause, sync, quit), so a shortcut, a menu
entry and a tray entry can never disagree. Where the desktop has no tray (GNOME without an extension, or
a panel not started yet at login), :attr:`Tray.available` is False: the window stays the way in and out,
and email is the channel that always works.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

from sniper_app.ui import icons
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets

if TYPE_CHECKING:
    from sniper_app.ui.main_window import MainWindow

log = logging.getLogger(__name__)

MESSAGE_MS: Final = 8000
RETRY_MS: Final = 5000
RETRIES: Final = 6
# After the first half-minute the tray is still watched for, slower: a panel or tray extension started
# minutes after login (or restarted) must still get the icon.
WATCH_MS: Final = 30_000


class Tray(QtCore.QObject):
    """The tray icon and its menu for ``window``; ``available`` may be given to stand in for the OS."""

    appeared = QtCore.Signal()  # the tray host came up after Sniper did, and the icon is shown now

    def __init__(
        self,
        window: MainWindow,
        icon: QtGui.QIcon,
        *,
        available: bool | None = None,
        retry_ms: int = RETRY_MS,
        watch_ms: int = WATCH_MS,
        parent: QtCore.QObject | None = None,
    ) -> None:
        super().__init__(parent or window)
        self.window = window
        self._forced = available
        self.icon = QtWidgets.QSystemTrayIcon(icon, self)
        self.icon.setToolTip(self.tr("Sniper"))
        self.menu = QtWidgets.QMenu()  # a QMenu's parent must be a widget; the tray deletes it itself
        self.destroyed.connect(self.menu.deleteLater)
        self.menu.setAccessibleName(self.tr("Sniper tray menu"))
        self.show_action = self.menu.addAction(self.tr("Show Sniper"))
        self.show_action.triggered.connect(self.toggle_window)
        icons.follow_palette(self, lambda: self.show_action.setIcon(icons.icon("show")))
        self.menu.addSeparator()
        acts = window.app_actions
        for name in ("add_from_clipboard", "add", "pause", "sync"):
            self.menu.addAction(acts[name])
        self.menu.addSeparator()
        self.menu.addAction(acts["quit"])
        self.menu.aboutToShow.connect(self.refresh_menu)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.icon.messageClicked.connect(self._message_clicked)
        self._last_snipe: int | None = None
        self._retries = 0
        self._retry = QtCore.QTimer(self)
        self._watch_ms = watch_ms
        self._retry.setInterval(retry_ms)
        self._retry.timeout.connect(self._try_show)
        window.tick_done.connect(self.refresh_tooltip)

    # ------------------------------------------------------------------ presence

    @property
    def available(self) -> bool:
        if self._forced is not None:
            return self._forced
        return QtWidgets.QSystemTrayIcon.isSystemTrayAvailable()

    def start(self) -> bool:
        """Show the icon; at login the panel may not exist yet, so keep watching until it does."""
        if self._try_show():
            return True
        self._retry.start()
        return False

    def _try_show(self) -> bool:
        if self.available:
            late = self._retry.isActive()
            self._retry.stop()
            self.icon.show()
            self.window.tray_available = True
            if late:
                log.info("the system tray appeared; Sniper's icon is in it now")
                self.appeared.emit()
            return True
        self._retries += 1
        if self._retries == RETRIES:
            self._retry.setInterval(self._watch_ms)
            log.info("no system tray yet; the window stays the way in and out until one appears")
        self.window.tray_available = False
        return False

    def hide(self) -> None:
        self._retry.stop()
        self.icon.hide()

    # ------------------------------------------------------------------ menu and tooltip

    @QtCore.Slot()
    def refresh_menu(self) -> None:
        visible = self.window.isVisible() and not self.window.isMinimized()
        self.show_action.setText(self.tr("Hide Sniper") if visible else self.tr("Show Sniper"))
        self.window.refresh_actions()

    @QtCore.Slot()
    def refresh_tooltip(self) -> None:
        self.icon.setToolTip(self.tr("Sniper — {status}").format(status=self.window.next_snipe_text()))

    @QtCore.Slot()
    def toggle_window(self) -> None:
        if self.window.isVisible() and not self.window.isMinimized():
            self.window.hide()
        else:
            self.window.show_and_raise()

    def _activated(self, reason: QtWidgets.QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QtWidgets.QSystemTrayIcon.ActivationReason.Trigger,
            QtWidgets.QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.toggle_window()

    # ------------------------------------------------------------------ notifications

    def show_message(self, title: str, text: str, *, snipe_id: int | None = None, warning: bool = False) -> bool:
        """A tray balloon; clicking it opens ``snipe_id``. False when there is no tray to show it in."""
        if not self.icon.isVisible():
            return False
        self._last_snipe = snipe_id
        kind = (
            QtWidgets.QSystemTrayIcon.MessageIcon.Warning
            if warning
            else QtWidgets.QSystemTrayIcon.MessageIcon.Information
        )
        self.icon.showMessage(title, text, kind, MESSAGE_MS)
        return True

    def _message_clicked(self) -> None:
        self.window.show_and_raise()
        if self._last_snipe is not None:
            self.window.open_snipe(self._last_snipe)
