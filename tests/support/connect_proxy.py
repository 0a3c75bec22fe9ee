"""A small HTTP CONNECT proxy on loopback, as a company network has one: it opens tunnels, records their
targets, and resolves names the machine itself cannot (so a direct connection around it fails)."""

from __future__ import annotations

import base64
import contextlib
import select
import socket
import threading
from collections.abc import Iterator


class ConnectProxy:
    def __init__(self, hosts: dict[str, str] | None = None, credentials: tuple[str, str] | None = None) -> None:
        self.hosts = hosts or {}  # name → address only the proxy knows
        # (user, password) a company proxy asks for; each CONNECT without them gets 407.
        self._authorization = (
            None if credentials is None
            else "Basic " + base64.b64encode(":".join(credentials).encode()).decode("ascii")
        )
        self.tunnels: list[str] = []
        self.refused: list[str] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stopping = False
        self._threads: list[threading.Thread] = []

    def start(self) -> ConnectProxy:
        thread = threading.Thread(target=self._accept, name="connect-proxy", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stopping = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopping:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            thread.start()

    def _serve(self, client: socket.socket) -> None:
        with contextlib.closing(client):
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            method, target, _ = request_line.split(" ", 2)
            if method != "CONNECT":
                with self._lock:
                    self.refused.append(request_line)
                client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            given = _header_values(head, "proxy-authorization")
            if self._authorization is not None and self._authorization not in given:
                with self._lock:
                    self.refused.append(request_line)
                client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n"
                               b"Content-Length: 0\r\n\r\n")
                return
            host, _, port = target.rpartition(":")
            try:
                upstream = socket.create_connection((self.hosts.get(host, host), int(port)), timeout=5)
            except OSError:
                client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                return
            with self._lock:
                self.tunnels.append(target)
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            rest = head.split(b"\r\n\r\n", 1)[1]
            with contextlib.closing(upstream):
                if rest:
                    upstream.sendall(rest)
                self._relay(client, upstream)

    def _relay(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        while not self._stopping:
            readable, _, _ = select.select(list(peers), [], [], 0.5)
            for sock in readable:
                try:
                    data = sock.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                peers[sock].sendall(data)


def _header_values(head: bytes, name: str) -> list[str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return [value.strip() for key, _, value in (line.partition(":") for line in lines) if key.strip().lower() == name]


@contextlib.contextmanager
def connect_proxy(
    hosts: dict[str, str] | None = None, credentials: tuple[str, str] | None = None
) -> Iterator[ConnectProxy]:
    proxy = ConnectProxy(hosts, credentials).start()
    try:
        yield proxy
    finally:
        proxy.stop()
