"""HTTP/1.1 pieces for the fire path: a request serialised once ahead of time, a warm socket to an origin,
a zero-wait liveness probe, and an incremental reply reader on h11.

Kept apart from httpx on purpose: at the send instant the fire thread must reach ``sendall`` in as few
Python steps as possible (each GIL hand-off can cost a switch interval when the UI thread is busy).
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urlsplit

import h11

from sniper_app import tls
from sniper_app.engine.tunnel import open_tunnel, proxy_for

MAX_REPLY_BODY = 4 * 1024 * 1024  # a bid reply is a few KB; anything far larger is not eBay answering


class Origin(NamedTuple):
    scheme: str
    host: str
    port: int

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host_header}"


def parse_origin(url: str) -> Origin:
    """The (scheme, host, port) of an ``http``/``https`` URL that names an origin (no path beyond '/')."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"unsupported URL scheme {parts.scheme!r}: only http and https")
    if not parts.hostname:
        raise ValueError("the URL has no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("the URL must name an origin only (scheme, host, port); pass the path separately")
    port = parts.port or (443 if scheme == "https" else 80)
    return Origin(scheme, parts.hostname.lower(), port)


def _check_token(text: str, what: str) -> None:
    if not text or any(c in text for c in "\r\n\0 \t:") or not text.isascii():
        raise ValueError(f"invalid HTTP {what}")


def build_request(
    origin: Origin, method: str, path: str, headers: dict[str, str], body: bytes
) -> tuple[bytes, list[tuple[str, str]]]:
    """The exact bytes to put on the wire, and the header list (for the reply parser's bookkeeping).

    Host and Content-Length are set here; a caller's own values for them are replaced so the framing can
    never disagree with the body.
    """
    _check_token(method, "method")
    if not path.startswith("/") or not path.isascii() or any(c.isspace() or ord(c) < 0x20 for c in path):
        raise ValueError("the path must be an already percent-encoded absolute path")
    out: list[tuple[str, str]] = [("Host", origin.host_header)]
    for name, value in headers.items():
        _check_token(name, "header name")
        if any(c in value for c in "\r\n\0"):
            raise ValueError(f"invalid value for header {name!r}")  # the value may be a token: never echo it
        if name.lower() in ("host", "content-length", "transfer-encoding"):
            continue
        out.append((name, value))
    if body or method.upper() in ("POST", "PUT", "PATCH"):
        out.append(("Content-Length", str(len(body))))
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{n}: {v}\r\n" for n, v in out) + "\r\n"
    return head.encode("latin-1") + body, out


def default_ssl_context() -> ssl.SSLContext:
    """Verification against the OS trust store like every other eBay call, HTTP/1.1 only (the raw
    request is HTTP/1.1)."""
    return tls.ssl_context(alpn=["http/1.1"])


def open_connection(origin: Origin, ssl_context: ssl.SSLContext | None, timeout: float) -> socket.socket:
    """A connected (and for https, handshaken) socket left in blocking mode with Nagle off; through the
    environment's HTTP proxy (CONNECT) where the other eBay calls go through it."""
    proxy = proxy_for(origin.scheme, origin.host, origin.port)
    if proxy is not None:
        sock = open_tunnel(proxy, origin.host, origin.port, timeout)
    else:
        sock = socket.create_connection((origin.host, origin.port), timeout=timeout)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if origin.scheme == "https":
            ctx = ssl_context or default_ssl_context()
            sock = ctx.wrap_socket(sock, server_hostname=origin.host)
        # Blocking, not a timeout: a socket with a timeout polls (and hands the GIL over) before each send.
        sock.settimeout(None)
    except BaseException:
        sock.close()
        raise
    return sock


def quiet(sock: socket.socket) -> bool:
    """Nothing readable: a cheap first look that never touches the socket's state (any thread may call it)."""
    try:
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return False
        poller = select.poll()
        poller.register(sock, select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP)
        return not poller.poll(0)
    except (OSError, ValueError):
        return False


def is_alive(sock: socket.socket) -> bool:
    """Whether an idle keep-alive connection can carry a request. Only its owner may call it (it may read).

    On plain TCP anything readable while idle means the server closed it (EOF) or sent something unasked:
    unusable either way. On TLS, readable can also be post-handshake records (TLS 1.3 session tickets):
    a non-blocking read consumes those and tells them from a close or stray data.
    """
    if quiet(sock):
        return True
    if not isinstance(sock, ssl.SSLSocket):
        return False
    # A server may send several tickets, and one record may still be arriving: drain records until the
    # socket is quiet, bounded so a chatty peer cannot hold the caller.
    for _ in range(16):
        try:
            sock.setblocking(False)
            try:
                sock.recv(1)
            finally:
                sock.setblocking(True)
        except ssl.SSLWantReadError:
            if quiet(sock):
                return True
            continue
        except (OSError, ValueError):
            return False
        return False  # EOF or application data on an idle connection
    return False


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    reusable: bool


@dataclass
class ReplyReader:
    """Feeds bytes from one connection into h11 until one complete reply to one request is read."""

    method: str
    headers: list[tuple[str, str]]
    body_len: int
    first_byte_at: float | None = None
    _conn: h11.Connection = field(init=False)
    _status: int | None = field(init=False, default=None)
    _headers: list[tuple[str, str]] = field(init=False, default_factory=list)
    _body: bytearray = field(init=False, default_factory=bytearray)

    def __post_init__(self) -> None:
        self._conn = h11.Connection(h11.CLIENT)
        # Replays our request into h11 (output discarded: the bytes went out pre-built) so it knows the
        # method (a HEAD reply has no body) and whether keep-alive was asked for.
        self._conn.send(h11.Request(method=self.method, target="/", headers=self.headers))
        if self.body_len:
            self._conn.send(h11.Data(data=b"\0" * self.body_len))
        self._conn.send(h11.EndOfMessage())

    def feed(self, data: bytes) -> Reply | None:
        """Give it what recv returned (b"" at EOF); a Reply once complete, else None (need more).

        Raises ``h11.RemoteProtocolError`` on a malformed reply and ``ConnectionError`` when the server
        closed before a complete reply.
        """
        if self.first_byte_at is None and data:
            self.first_byte_at = time.time()
        self._conn.receive_data(data)
        while True:
            try:
                event = self._conn.next_event()
            except h11.RemoteProtocolError as exc:
                if not data:  # a body cut short by the close
                    raise ConnectionError("the server closed the connection before a complete reply") from exc
                raise
            if event is h11.NEED_DATA:
                if not data:
                    raise ConnectionError("the server closed the connection before a complete reply")
                return None
            if isinstance(event, h11.InformationalResponse):
                continue
            if isinstance(event, h11.Response):
                self._status = event.status_code
                self._headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers]
            elif isinstance(event, h11.Data):
                self._body += event.data
                if len(self._body) > MAX_REPLY_BODY:
                    raise h11.RemoteProtocolError("reply body too large")
            elif isinstance(event, h11.EndOfMessage):
                assert self._status is not None
                reusable = self._conn.our_state is h11.DONE and self._conn.their_state is h11.DONE
                return Reply(self._status, self._headers, bytes(self._body), reusable)
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionError("the server closed the connection before a complete reply")
            else:  # PAUSED cannot happen before EndOfMessage of the reply
                raise h11.RemoteProtocolError(f"unexpected reply event {type(event).__name__}")
