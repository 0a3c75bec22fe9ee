"""Settings › Remote: pair this computer with a Sniper box by pasting its invite, see the box, disconnect.

It does what ``sniper-app remote connect / status / disconnect`` do, through the same
:class:`~sniper_app.remote.service.DesktopLink`, so a pairing made here is the one the command line uses and
the other way round. It acts at once (the dialog's Save is for the settings): pairing spends the invite.

The running window keeps the engine it started with; the next start of Sniper drives the box (or, after
Disconnect, runs this computer's own engine again). The page says so rather than switching engines under
open dialogs and a running fire thread.
"""

from __future__ import annotations

import logging
import socket
from typing import TYPE_CHECKING, Any

from sniper_app.domain.errors import InputError, SniperError
from sniper_app.domain.text import visible
from sniper_app.ui.qt import QtCore, QtWidgets
from sniper_app.ui.widgets import ERROR_STYLE, NOTE_STYLE, OK_STYLE, message_label, set_tone

if TYPE_CHECKING:
    from sniper_app.remote.credentials import RemoteLink
    from sniper_app.remote.service import DesktopLink, Pairing
    from sniper_app.ui.bridge import AsyncRunner

log = logging.getLogger(__name__)


def fingerprint_lines(fingerprint: str) -> str:
    """The pin as ``AB:CD:…`` in groups of eight bytes, so a narrow page wraps it between groups."""
    from sniper_app.remote.certs import display_fingerprint

    pairs = display_fingerprint(fingerprint).split(":")
    return "\n".join(":".join(pairs[i : i + 16]) for i in range(0, len(pairs), 16))


def state_words(status: dict[str, Any]) -> str:
    """The box's engine in a few words, as ``remote status`` says it."""
    from sniper_app.remote.service import active_words, engine_words

    words = engine_words(status)
    return words if words == "not running" else f"{words}; {active_words(status)}"


class RemotePage(QtWidgets.QWidget):
    """The Remote tab: an invite field with Connect, the connected box's details, and Disconnect.

    ``changed(str)`` carries the box's address after a pairing, or "" after Disconnect."""

    changed = QtCore.Signal(str)

    def __init__(self, desktop: DesktopLink, runner: AsyncRunner, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._desktop = desktop
        self._runner = runner
        self._busy = False
        self.setObjectName("tabRemote")
        self._build()
        self._show_box(desktop.box())

    # --- layout ------------------------------------------------------------------------------------

    def _build(self) -> None:
        form = QtWidgets.QFormLayout(self)
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        intro = QtWidgets.QLabel(self.tr(
            "Let an always-on machine (a Raspberry Pi, a NAS, a server) run the snipes, and drive it from here. "
            "On the box run 'sniper-app remote invite' and paste the invite it prints."), self)
        intro.setObjectName("remoteIntro")
        intro.setWordWrap(True)
        form.addRow(intro)

        self.state_label = QtWidgets.QLabel(self)
        self.state_label.setObjectName("remoteState")
        self.state_label.setWordWrap(True)
        self.state_label.setAccessibleName(self.tr("Which engine this computer uses"))
        form.addRow(self._label(self.tr("Bids from"), self.state_label), self.state_label)

        self.invite_edit = QtWidgets.QLineEdit(self)
        self.invite_edit.setObjectName("remoteInvite")
        self.invite_edit.setAccessibleName(self.tr("Invite from the box"))
        self.invite_edit.setPlaceholderText(self.tr("Paste the invite's last line here"))
        self.invite_edit.returnPressed.connect(self.connect_box)
        form.addRow(self._label(self.tr("&Invite"), self.invite_edit), self.invite_edit)

        self.name_edit = QtWidgets.QLineEdit(socket.gethostname() or "desktop", self)
        self.name_edit.setObjectName("remoteName")
        self.name_edit.setAccessibleName(self.tr("This computer's name on the box"))
        form.addRow(self._label(self.tr("This computer's &name"), self.name_edit), self.name_edit)

        self.connect_button = QtWidgets.QPushButton(self.tr("&Connect"), self)
        self.connect_button.setObjectName("remoteConnect")
        self.connect_button.setAccessibleName(self.tr("Connect to the box"))
        self.connect_button.setToolTip(self.tr("Pair with the box the invite names (Alt+C)"))
        self.connect_button.clicked.connect(self.connect_box)
        connect_row = QtWidgets.QHBoxLayout()
        connect_row.addWidget(self.connect_button)
        connect_row.addStretch(1)
        form.addRow("", connect_row)

        self.address_label = self._value("remoteAddress", self.tr("Box address"))
        form.addRow(self._label(self.tr("Address"), self.address_label), self.address_label)
        self.fingerprint_label = self._value("remoteFingerprint", self.tr("Box certificate fingerprint"))
        form.addRow(self._label(self.tr("Certificate"), self.fingerprint_label), self.fingerprint_label)
        self.latency_label = self._value("remoteLatency", self.tr("Time to reach the box"))
        form.addRow(self._label(self.tr("Latency"), self.latency_label), self.latency_label)
        self.engine_label = self._value("remoteEngine", self.tr("The box's engine"))
        form.addRow(self._label(self.tr("Box's engine"), self.engine_label), self.engine_label)

        buttons = QtWidgets.QHBoxLayout()
        self.refresh_button = QtWidgets.QPushButton(self.tr("Check the &box"), self)
        self.refresh_button.setObjectName("remoteRefresh")
        self.refresh_button.setAccessibleName(self.tr("Check the box's status again"))
        self.refresh_button.clicked.connect(self.refresh)
        self.disconnect_button = QtWidgets.QPushButton(self.tr("&Disconnect"), self)
        self.disconnect_button.setObjectName("remoteDisconnect")
        self.disconnect_button.setAccessibleName(self.tr("Disconnect from the box"))
        self.disconnect_button.setToolTip(self.tr("Forget the box; this computer runs its own engine again"))
        self.disconnect_button.clicked.connect(self.disconnect_box)
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.disconnect_button)
        buttons.addStretch(1)
        form.addRow("", buttons)

        self.message = message_label(self, "remoteMessage", ERROR_STYLE)
        self.message.setAccessibleName(self.tr("Remote result"))
        form.addRow(self.message)
        self.restart_note = message_label(self, "remoteRestartNote", NOTE_STYLE, visible=True)
        self.restart_note.setAccessibleName(self.tr("When the change takes effect"))
        self.restart_note.setText(self.tr(
            "Connecting or disconnecting takes effect here at the next start of Sniper (this window keeps the "
            "engine it started with); commands on the command line switch at once."))
        form.addRow(self.restart_note)

    def _label(self, text: str, buddy: QtWidgets.QWidget) -> QtWidgets.QLabel:
        label = QtWidgets.QLabel(text, self)
        label.setBuddy(buddy)
        return label

    def _value(self, name: str, accessible: str) -> QtWidgets.QLabel:
        label = QtWidgets.QLabel("—", self)
        label.setObjectName(name)
        label.setAccessibleName(accessible)
        label.setWordWrap(True)
        label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    # --- what is shown -----------------------------------------------------------------------------

    def _show_box(self, box: str | None) -> None:
        connected = box is not None
        self.state_label.setText(
            self.tr("The Sniper box at {0}.").format(box) if connected
            else self.tr("This computer's own engine."))
        self.address_label.setText(box or "—")
        if not connected:
            for label in (self.fingerprint_label, self.latency_label, self.engine_label):
                label.setText("—")
        self.disconnect_button.setEnabled(connected and not self._busy)
        self.refresh_button.setEnabled(connected and not self._busy)
        self.connect_button.setEnabled(not self._busy)
        if connected:
            self.refresh()

    def _say(self, text: str, tone: str) -> None:
        set_tone(self.message, tone)
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        connected = self._desktop.box() is not None
        self.connect_button.setEnabled(not busy)
        self.disconnect_button.setEnabled(connected and not busy)
        self.refresh_button.setEnabled(connected and not busy)

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, SniperError):
            self._say(str(exc), ERROR_STYLE)
        else:
            log.error("The remote page's request failed unexpectedly", exc_info=exc)
            self._say(self.tr("That did not work ({0}).").format(type(exc).__name__), ERROR_STYLE)

    # --- actions -----------------------------------------------------------------------------------

    def connect_box(self) -> None:
        if self._busy:
            return
        text = self.invite_edit.text().strip()
        if not text:
            self._say(self.tr("Paste the invite that 'sniper-app remote invite' printed on the box."), ERROR_STYLE)
            self.invite_edit.setFocus()
            return
        name = self.name_edit.text().strip() or socket.gethostname() or "desktop"
        self._set_busy(True)
        self._say(self.tr("Connecting…"), NOTE_STYLE)
        self._runner.submit(self._desktop.connect(text, name), on_done=self._connected, on_error=self._failed,
                            what="pairing with a Sniper box")

    def _connected(self, pairing: Pairing) -> None:
        self._set_busy(False)
        self.invite_edit.clear()  # spent: it pairs once
        box = str(pairing.link.address)
        self._say(self.tr("Connected to the box at {0}. Restart Sniper to drive it from this window.").format(box),
                  OK_STYLE)
        self._show_details(pairing.link, pairing.status, None)
        self._show_box(box)
        self.changed.emit(box)

    def refresh(self) -> None:
        """Read the box's status (and the time it takes) again."""
        from sniper_app.remote.service import status_and_latency

        async def ask() -> tuple[RemoteLink, dict[str, Any], float]:
            link = await self._desktop.link()
            if link is None:
                raise InputError("This computer's pairing is missing from its secret store; connect again with a "
                                 "new invite, or disconnect.")
            status, latency = await status_and_latency(link)
            return link, status, latency

        coro = ask()
        try:
            self._runner.submit(coro, on_done=lambda got: self._show_details(*got), on_error=self._status_failed,
                                what="reading the Sniper box's status")
        except RuntimeError:  # no event loop (a page built outside the app): the details stay unknown
            coro.close()

    def _show_details(self, link: RemoteLink, status: dict[str, Any], latency: float | None) -> None:
        self.address_label.setText(str(link.address))
        self.fingerprint_label.setText(fingerprint_lines(link.fingerprint))
        if latency is not None:
            self.latency_label.setText(self.tr("{0:.1f} ms").format(latency * 1000))
        version = visible(str(status.get("version") or "?"))
        self.engine_label.setText(self.tr("{0} (Sniper {1})").format(state_words(status), version))

    def _status_failed(self, exc: BaseException) -> None:
        self.latency_label.setText("—")
        self.engine_label.setText(self.tr("not reachable"))
        self._failed(exc)

    def disconnect_box(self) -> None:
        if self._busy:
            return
        self._set_busy(True)
        self._runner.submit(self._desktop.disconnect(), on_done=self._disconnected, on_error=self._failed,
                            what="disconnecting from the Sniper box")

    def _disconnected(self, box: str | None) -> None:
        self._set_busy(False)
        self._say(self.tr("Disconnected from the box at {0}; it keeps sniping. Restart Sniper to run this "
                          "computer's own engine.").format(box) if box else
                  self.tr("This computer was not connected to a box."), OK_STYLE)
        self._show_box(None)
        self.changed.emit("")
