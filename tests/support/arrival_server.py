"""A tiny HTTP/1.1 server for the fire tests and benchmark: it records the instant each complete request
arrived (``time.time()``) with its exact bytes, and answers from a script (status, body, delay, chunked,
close, reset), and can drop idle keep-alive connections on demand or after an idle timeout.

Runs its asyncio loop in a thread (``ArrivalServer``) or in a separate process (``ArrivalProcess``) so the
benchmark's server does not share the GIL with the code under measurement.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import ssl
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import h11
import pytest

from sniper_app.engine.fire import Firer


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b'{"ok":true}'
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)
    delay_s: float = 0.0
    chunked: bool = False
    close: bool = False  # answer with Connection: close, then close
    reset: bool = False  # close without answering


@dataclass(frozen=True)
class Arrival:
    at: float
    conn_id: int
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    raw: bytes


@dataclass
class _Shared:
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrivals: list[Arrival] = field(default_factory=list)
    script: deque[Reply] = field(default_factory=deque)
    default: Reply = field(default_factory=Reply)
    accepted: int = 0
    changed: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)


class _Proto(asyncio.Protocol):
    def __init__(self, server: ArrivalServer) -> None:
        self.server = server
        self.shared = server.shared
        self.h11 = h11.Connection(h11.SERVER)
        self.chunks: deque[tuple[float, bytes]] = deque()
        self.raw = bytearray()
        self.body = bytearray()
        self.request: h11.Request | None = None
        self.busy = False
        self.transport: asyncio.Transport | None = None
        self.idle_handle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        with self.shared.lock:
            self.shared.accepted += 1
            self.conn_id = self.shared.accepted
        self.server.conns.add(self)
        self._arm_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.conns.discard(self)
        if self.idle_handle:
            self.idle_handle.cancel()

    def data_received(self, data: bytes) -> None:
        # Timestamp now and parse later: with many connections readable at once, parsing here would make
        # the later connections' timestamps late by the earlier ones' parsing.
        self.chunks.append((time.time(), data))
        asyncio.get_running_loop().call_soon(self._process)

    def _arm_idle(self) -> None:
        if self.idle_handle:
            self.idle_handle.cancel()
            self.idle_handle = None
        if self.server.idle_timeout_s is not None:
            loop = asyncio.get_running_loop()
            self.idle_handle = loop.call_later(self.server.idle_timeout_s, self.close_if_idle)

    def is_idle(self) -> bool:
        return not self.busy and not self.chunks and self.h11.their_state is h11.IDLE and not self.raw

    def close_if_idle(self) -> bool:
        if self.is_idle() and self.transport is not None:
            self.transport.close()
            return True
        return False

    def _process(self) -> None:
        while self.chunks and not self.busy:
            at, data = self.chunks.popleft()
            self.raw += data
            try:
                self.h11.receive_data(data)
                while True:
                    event = self.h11.next_event()
                    if event is h11.NEED_DATA or event is h11.PAUSED:
                        break
                    if isinstance(event, h11.Request):
                        self.request = event
                    elif isinstance(event, h11.Data):
                        self.body += event.data
                    elif isinstance(event, h11.EndOfMessage):
                        self._complete(at)
                        break
                    elif isinstance(event, h11.ConnectionClosed):
                        break
            except h11.RemoteProtocolError:
                if self.transport:
                    self.transport.close()
                return

    def _complete(self, at: float) -> None:
        req = self.request
        assert req is not None
        arrival = Arrival(
            at=at,
            conn_id=self.conn_id,
            method=req.method.decode(),
            path=req.target.decode(),
            headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in req.headers.raw_items()),
            body=bytes(self.body),
            raw=bytes(self.raw),
        )
        self.raw.clear()
        self.body.clear()
        self.busy = True
        with self.shared.lock:
            self.shared.arrivals.append(arrival)
            reply = self.shared.script.popleft() if self.shared.script else self.shared.default
            self.shared.changed.notify_all()
        loop = asyncio.get_running_loop()
        if reply.delay_s:
            loop.call_later(reply.delay_s, self._answer, reply)
        else:
            self._answer(reply)

    def _answer(self, reply: Reply) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if reply.reset:
            transport.abort()
            return
        headers = list(reply.headers)
        if reply.close:
            headers.append(("Connection", "close"))
        if reply.chunked:
            headers.append(("Transfer-Encoding", "chunked"))
        else:
            headers.append(("Content-Length", str(len(reply.body))))
        out = self.h11.send(h11.Response(status_code=reply.status, headers=headers)) or b""
        if reply.chunked:
            half = len(reply.body) // 2
            for part in (reply.body[:half], reply.body[half:]):
                if part:
                    out += self.h11.send(h11.Data(data=part)) or b""
        elif reply.body:
            out += self.h11.send(h11.Data(data=reply.body)) or b""
        out += self.h11.send(h11.EndOfMessage()) or b""
        transport.write(out)
        if reply.close or self.h11.our_state is h11.MUST_CLOSE:
            transport.close()
            return
        self.h11.start_next_cycle()
        self.busy = False
        self._arm_idle()
        if self.chunks:
            self._process()


class ArrivalServer:
    """The server on its own loop thread. ``port=0`` picks a free port."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        idle_timeout_s: float | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.ssl_context = ssl_context
        self.host = host
        self.port = port
        self.idle_timeout_s = idle_timeout_s
        self.shared = _Shared()
        self.conns: set[_Proto] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="arrival-server", daemon=True)
        self._ready = threading.Event()
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("arrival server did not start")

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def boot() -> None:
            self._server = await self._loop.create_server(
                lambda: _Proto(self), self.host, self.port, ssl=self.ssl_context
            )
            self.port = self._server.sockets[0].getsockname()[1]
            self._ready.set()

        self._loop.run_until_complete(boot())
        self._loop.run_forever()
        for conn in list(self.conns):
            if conn.transport:
                conn.transport.abort()
        if self._server:
            self._server.close()
            self._loop.run_until_complete(self._server.wait_closed())
        self._loop.run_until_complete(asyncio.sleep(0))
        self._loop.close()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def _call(self, fn: Any) -> Any:
        future = asyncio.run_coroutine_threadsafe(_as_coro(fn), self._loop)
        return future.result(10)

    # -- test controls ----------------------------------------------------------------------------------

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order, then with the default."""
        with self.shared.lock:
            self.shared.script.extend(replies)

    def set_default(self, reply: Reply) -> None:
        with self.shared.lock:
            self.shared.default = reply

    def arrivals(self) -> list[Arrival]:
        with self.shared.lock:
            return list(self.shared.arrivals)

    def wait_arrivals(self, count: int, timeout_s: float = 10.0) -> list[Arrival]:
        deadline = time.monotonic() + timeout_s
        with self.shared.changed:
            while len(self.shared.arrivals) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self.shared.arrivals)} of {count} requests arrived")
                self.shared.changed.wait(left)
            return list(self.shared.arrivals)

    @property
    def accepted(self) -> int:
        with self.shared.lock:
            return self.shared.accepted

    def open_connections(self) -> int:
        return int(self._call(lambda: len(self.conns)))

    def drop_idle(self) -> int:
        """Close every idle keep-alive connection (as a server's idle timeout would); how many it closed."""
        return int(self._call(lambda: sum(conn.close_if_idle() for conn in list(self.conns))))


async def _as_coro(fn: Any) -> Any:
    return fn()


# -- the server in its own process, for the benchmark ------------------------------------------------------


def _child(pipe: Connection, idle_timeout_s: float | None) -> None:
    server = ArrivalServer(idle_timeout_s=idle_timeout_s)
    server.start()
    pipe.send(server.port)
    while True:
        command = pipe.recv()
        if command == "arrivals":
            pipe.send([(a.path, a.at) for a in server.arrivals()])
        elif command == "accepted":
            pipe.send(server.accepted)
        else:
            break
    server.stop()


class ArrivalProcess:
    """An ArrivalServer in a child process; arrivals come back as (path, arrival instant) pairs."""

    def __init__(self, idle_timeout_s: float | None = None) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._pipe, child_end = ctx.Pipe()
        self._proc = ctx.Process(target=_child, args=(child_end, idle_timeout_s), daemon=True)
        self._proc.start()
        child_end.close()
        if not self._pipe.poll(30):
            raise RuntimeError("arrival server process did not start")
        self.port: int = self._pipe.recv()
        self.url = f"http://127.0.0.1:{self.port}"

    def arrivals(self) -> list[tuple[str, float]]:
        self._pipe.send("arrivals")
        result: list[tuple[str, float]] = self._pipe.recv()
        return result

    def stop(self) -> None:
        with contextlib.suppress(OSError, BrokenPipeError):
            self._pipe.send("stop")
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(5)
        self._pipe.close()


# -- pytest fixtures for the fire tests ---------------------------------------------------------------------


@pytest.fixture
def arrival() -> Iterator[ArrivalServer]:
    server = ArrivalServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def firer() -> Iterator[Firer]:
    instance = Firer()
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()


def self_signed(tmp_dir: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for a fresh certificate for localhost."""
    from tests.support.tls import throwaway_ca

    certs = throwaway_ca(tmp_dir)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(certs.cert_file, certs.key_file)
    client_ctx = ssl.create_default_context(cafile=str(certs.ca_file))
    return server_ctx, client_ctx
