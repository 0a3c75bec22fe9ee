"""One window per data dir: a second launch hands over to the first and exits.

The first instance listens on a QLocalServer whose name is derived from the user and the data dir (two
profiles, or the demo beside real data, may run side by side). A second launch connects, sends one
versioned JSON line (``{"v": 1, "cmd": "show"}``) and leaves; the first raises its window.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
from pathlib import Path
from typing import Any, Final

from sniper_app.ui.qt import QtCore, QtNetwork

log = logging.getLogger(__name__)

PROTOCOL_VERSION: Final = 1
CONNECT_TIMEOUT_MS: Final = 500


def server_name(data_dir: Path) -> str:
    """A short, stable socket name per user and data dir (long paths overflow Unix socket names)."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name in some containers and services
        user = "user"
    digest = hashlib.sha256(f"{user}\0{Path(data_dir).resolve()}".encode()).hexdigest()[:16]
    return f"sniper-{digest}"


def send_to_running(name: str, message: dict[str, Any], timeout_ms: int = CONNECT_TIMEOUT_MS) -> bool:
    """Deliver ``message`` to the instance listening on ``name``; False when none is listening."""
    socket = QtNetwork.QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(timeout_ms):
        return False
    payload = json.dumps({"v": PROTOCOL_VERSION, **message}).encode() + b"\n"
    socket.write(QtCore.QByteArray(payload))
    delivered = socket.waitForBytesWritten(timeout_ms)
    socket.disconnectFromServer()
    if socket.state() != QtNetwork.QLocalSocket.LocalSocketState.UnconnectedState:
        socket.waitForDisconnected(timeout_ms)
    return delivered


class SingleInstance(QtCore.QObject):
    """The first instance's listener; emits ``messageReceived`` for each hand-off from a later launch."""

    messageReceived = QtCore.Signal(dict)

    def __init__(self, name: str, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server = QtNetwork.QLocalServer(self)
        self._server.setSocketOptions(QtNetwork.QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)
        self._buffers: dict[QtNetwork.QLocalSocket, bytes] = {}

    @classmethod
    def claim(cls, name: str, message: dict[str, Any] | None = None) -> SingleInstance | None:
        """Listen on ``name``, or return None after handing ``message`` to an instance already there."""
        if send_to_running(name, message or {"cmd": "show"}):
            return None
        instance = cls(name)
        # Nobody answered, so a socket file left behind is a crashed instance's: safe to remove now.
        QtNetwork.QLocalServer.removeServer(name)
        if not instance._server.listen(name):
            log.warning("single-instance listener on %s failed: %s", name, instance._server.errorString())
        return instance

    @property
    def listening(self) -> bool:
        return self._server.isListening()

    def close(self) -> None:
        # Let go of the hand-off sockets first: destroyed later with the server, they would signal into a
        # half-destroyed listener.
        for socket in list(self._buffers):
            socket.readyRead.disconnect()
            socket.disconnected.disconnect()
            socket.abort()
            socket.deleteLater()
        self._buffers.clear()
        self._server.close()

    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            self._buffers[socket] = b""
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(lambda s=socket: self._drop(s))

    def _read(self, socket: QtNetwork.QLocalSocket) -> None:
        data = self._buffers.get(socket, b"") + bytes(socket.readAll().data())
        if len(data) > 64 * 1024:  # a hand-off is one short line; anything bigger is not ours
            socket.abort()
            self._buffers.pop(socket, None)
            return
        *lines, rest = data.split(b"\n")
        self._buffers[socket] = rest
        for line in lines:
            try:
                message = json.loads(line)
            except ValueError:
                log.warning("ignored an unreadable single-instance message")
                continue
            if isinstance(message, dict) and message.get("v") == PROTOCOL_VERSION:
                self.messageReceived.emit(message)

    def _drop(self, socket: QtNetwork.QLocalSocket) -> None:
        self._buffers.pop(socket, None)
        socket.deleteLater()
