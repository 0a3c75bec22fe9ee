"""A tiny hostile 'eBay' on loopback: each test scripts exactly what a path answers."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.wait import wait_until


@dataclass
class Canned:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class HostileServer:
    """Serves ``answers[path]`` for any method; records what it received."""

    def __init__(self) -> None:
        self.answers: dict[str, Canned] = {}
        self.received: list[tuple[str, str, dict[str, str], bytes]] = []
        self.base_url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def answer(self, path: str, body: bytes | str, status: int = 200, content_type: str = "application/json",
               headers: dict[str, str] | None = None) -> None:
        raw = body.encode() if isinstance(body, str) else body
        self.answers[path] = Canned(status, raw, content_type, headers or {})

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        self.received.append((request.method, request.url.path, dict(request.headers), body))
        canned = self.answers.get(request.url.path, Canned(404, b'{"errors":[]}'))
        return Response(canned.body, canned.status, headers=canned.headers, media_type=canned.content_type)

    def start(self) -> HostileServer:
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "POST", "HEAD"])])
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only when proto says TCP.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        sock.setblocking(False)
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        server = uvicorn.Server(uvicorn.Config(app, http="h11", lifespan="off", log_level="warning"))
        self._server = server
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])), name="hostile-http", daemon=True
        )
        self._thread.start()
        thread = self._thread

        def started() -> bool:
            if not thread.is_alive():
                raise RuntimeError("the hostile server's thread ended before it started")
            return bool(server.started)

        wait_until(started, 10, "the hostile server to start", interval_s=0.005)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    server = HostileServer().start()
    try:
        yield server
    finally:
        server.stop()
