"""A stretch of network between the app and the simulator that a test can cut or slow down: a TCP relay on
loopback. Cut, it refuses new connections and resets the open ones, as a network that went down does. Told
to hold a request, it delays what a connection sends from the first byte of that request on, as a congested
link does, while everything else passes at once."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time


class NetLink:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._hold: tuple[bytes, float] | None = None
        self.held = 0  # how many times a held request was delayed
        self._cut = False

    def start(self) -> NetLink:
        threading.Thread(target=self._accept, name="net-link", daemon=True).start()
        return self

    def hold(self, marker: bytes, seconds: float) -> None:
        """Delay by ``seconds`` each request whose bytes contain ``marker``."""
        with self._lock:
            self._hold = (marker, seconds)

    def cut(self) -> None:
        """The network goes down: no new connection is accepted and the open ones are reset."""
        with self._lock:
            self._cut = True
            conns, self._open = self._open, []
        with contextlib.suppress(OSError):
            self._listener.close()
        for conn in conns:
            with contextlib.suppress(OSError):
                # A zero linger makes close() send a reset, as a dropped route does.
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                conn.close()

    stop = cut

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._cut:
                    client.close()
                    server.close()
                    return
                self._open += [client, server]
            threading.Thread(target=self._relay, args=(client, server), daemon=True).start()

    def _relay(self, client: socket.socket, server: socket.socket) -> None:
        peer = {client: server, server: client}
        try:
            while True:
                ready, _, _ = select.select([client, server], [], [], 1.0)
                if self._cut:
                    return
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is client:
                        with self._lock:
                            hold = self._hold
                        if hold is not None and hold[0] in data:
                            self.held += 1
                            time.sleep(hold[1])
                    peer[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in (client, server):
                with contextlib.suppress(OSError):
                    sock.close()
