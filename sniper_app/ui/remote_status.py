"""What the window shows of its box while it drives one: a status-bar badge naming the box, and while the link
is lost, a banner over the views (which keep the last known state, greyed to say it may be out of date).

The link's state comes from :class:`~sniper_app.remote.mirror.RemoteMirror` (:attr:`~RemoteMirror.link`);
this module only draws it. The banner counts the seconds to the next attempt down by itself, so it says
"trying again in 3 s" truthfully between the mirror's reports.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from sniper_app.remote.mirror import LinkState
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets

if TYPE_CHECKING:
    from sniper_app.ui.main_window import MainWindow

_BADGE_STYLE = ("QLabel {{ background: {colour}; color: white; font-weight: bold; padding: 1px 6px;"
                " border-radius: 3px; }}")
_CONNECTED = "#2e6da4"
_LOST = "#a94442"


class RemoteBadge(QtWidgets.QLabel):
    """ "Box: 192.168.1.20:8731" in the status bar: every view and command of this window acts on it."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("remoteBadge")
        self.setAccessibleName(self.tr("Sniper box"))

    def show_link(self, link: LinkState) -> None:
        self.setText(self.tr("Box: {address}").format(address=link.box))
        self.setStyleSheet(_BADGE_STYLE.format(colour=_CONNECTED if link.connected else _LOST))
        if link.connected:
            tip = self.tr("This window drives the Sniper engine on {address}: it places the bids, whether this "
                          "computer is on or not.").format(address=link.box)
        elif link.refused:
            tip = link.reason
        else:
            tip = self.tr("Not connected to {address}: the views show the last known state.").format(address=link.box)
        self.setToolTip(tip)


class RemoteBanner(QtWidgets.QFrame):
    """The band over the views while the box cannot be reached; hidden while it can."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("remoteBanner")
        self.setAccessibleName(self.tr("Connection to the box"))
        self.setStyleSheet("#remoteBanner { background: #f2dede; border-bottom: 1px solid #d9a0a0; } "
                           "#remoteBanner QLabel { color: #6b1f1f; }")
        self.label = QtWidgets.QLabel(self)
        self.label.setObjectName("remoteBannerText")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.label, 1)
        self._link: LinkState | None = None
        self._retry_at: float | None = None
        self._ticker = QtCore.QTimer(self)
        self._ticker.setInterval(500)
        self._ticker.timeout.connect(self._say)
        self.hide()

    def show_link(self, link: LinkState) -> None:
        self._link = link
        self._retry_at = time.monotonic() + link.retry_in if link.retry_in is not None else None
        if link.connected:
            self._ticker.stop()
            self.hide()
            return
        self._say()
        self.show()
        if self._retry_at is not None:
            self._ticker.start()

    def _say(self) -> None:
        link = self._link
        if link is None:
            return
        if link.refused:
            text = self.tr("The box at {address} refused this computer: {reason} The views show the last known "
                           "state.").format(address=link.box, reason=link.reason)
        elif not link.ever_connected and self._retry_at is None:
            text = self.tr("Connecting to the box at {address}…").format(address=link.box)
        elif self._retry_at is not None:
            left = max(0, round(self._retry_at - time.monotonic()))
            if link.ever_connected:
                lost = self.tr("Lost the connection to the box at {address}").format(address=link.box)
            else:
                lost = self.tr("Cannot reach the box at {address}").format(address=link.box)
            retry = self.tr("; trying again in {n} s.").format(n=left) if left else self.tr("; trying again now.")
            stale = self.tr(" The views show the last known state.") if link.ever_connected else ""
            text = lost + retry + stale
        else:
            text = self.tr("Lost the connection to the box at {address}.").format(address=link.box)
        self.label.setText(text)

    def text(self) -> str:
        return self.label.text()


class RemoteStatus(QtCore.QObject):
    """Badge, banner and stale marking of one window, following the mirror's link state."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.badge = RemoteBadge(window)
        window.statusBar().addPermanentWidget(self.badge)
        self.banner = RemoteBanner(window)
        # The banner goes over the views, inside the central area: the menu and toolbar stay where they are.
        views = window.takeCentralWidget()
        holder = QtWidgets.QWidget(window)
        column = QtWidgets.QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.banner)
        if views is not None:
            column.addWidget(views, 1)
        window.setCentralWidget(holder)
        self._title = window.windowTitle()
        self._palettes: dict[QtWidgets.QWidget, QtGui.QPalette] = {}
        self.stale = False

    def _views(self) -> tuple[QtWidgets.QAbstractItemView, ...]:
        w = self.window
        return (w.watch_view, w.snipes_view, w.history_view)

    def show_link(self, link: LinkState) -> None:
        self.badge.show_link(link)
        self.banner.show_link(link)
        self._mark_stale((link.stale and link.ever_connected) or link.refused)

    def _mark_stale(self, stale: bool) -> None:
        if stale == self.stale:
            return
        self.stale = stale
        for view in self._views():
            view.setProperty("stale", stale)
            if stale:
                self._palettes[view] = view.palette()
                greyed = QtGui.QPalette(view.palette())
                dim = greyed.color(QtGui.QPalette.ColorGroup.Disabled, QtGui.QPalette.ColorRole.Text)
                for group in (QtGui.QPalette.ColorGroup.Active, QtGui.QPalette.ColorGroup.Inactive):
                    greyed.setColor(group, QtGui.QPalette.ColorRole.Text, dim)
                view.setPalette(greyed)
                view.setToolTip(self.tr("Last known state: the box cannot be reached."))
            else:
                view.setPalette(self._palettes.pop(view, view.palette()))
                view.setToolTip("")
        self.window.setWindowTitle(self.tr("{title} (not connected to the box)").format(title=self._title)
                                   if stale else self._title)
