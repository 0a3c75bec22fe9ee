"""The box's HTTPS + WebSocket front: a Starlette app served by uvicorn inside the headless engine's loop.

Routes (all JSON; every refusal is a 4xx whose body is an object with the sentence under ``error`` and a
short machine name under ``code``):

- ``POST /v1/pair`` with the invite's pairing secret and a client name → a fresh token: the only route open
  without a token.
- ``GET /v1/status``: the box's version, time and engine state (filled by whoever builds the app).
- ``POST /v1/call/{name}`` ``{"args": {...}}`` → ``{"result": ...}``: one facade method, by name.
- ``WS /v1/events``: the engine's events as JSON messages, after a ``hello``.

Why one generic call route and not a route per command: the facade's commands and reads already take and
return plain data, and the desktop wants to act on the box exactly as on a local engine. A call route keeps
the remote a mechanical mirror of the facade (the client proxies a method by its name, arguments as JSON),
so a new facade method needs one line in the whitelist rather than a route, a schema and a client method
kept in step by hand. The whitelist is explicit: only names registered in ``calls`` exist over the wire,
so nothing else the engine holds (the eBay tokens, the secret store, settings' secrets) can be reached, and
an unknown name is a 404 like an unknown route. What a call may refuse it raises as :class:`CallRefused`,
which keeps the CLI's sentence and becomes a 4xx; anything else is a 500 with a generic sentence, logged on
the box, never echoed.

Authentication is one ASGI middleware in front of everything but ``/v1/pair``: a bearer token in the
``Authorization`` header, for HTTP and for the WebSocket handshake alike (the client pins the certificate
during the TLS handshake, so the header never reaches a box it has not pinned). The client address for the
backoff is the TCP peer: proxy headers are never trusted, or a guesser could pick the address it is slowed by.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from sniper_app import __version__
from sniper_app.remote.auth import INVITE_REFUSED, UNAUTHORIZED, Backoff, Pairings, slowed_sentence
from sniper_app.remote.certs import Identity

log = logging.getLogger(__name__)

DEFAULT_PORT = 8731
_MAX_BODY = 1_000_000
_OPEN_PATHS = frozenset({"/v1/pair"})

Call = Callable[[dict[str, Any]], Awaitable[Any]]
StatusProvider = Callable[[], Awaitable[dict[str, Any]]]


class CallRefused(Exception):
    """A call the box refuses with a sentence for the user (bad input, unknown snipe, ...), as a 4xx."""

    def __init__(self, message: str, *, status: int = 422, code: str = "refused") -> None:
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


class EventSource(Protocol):
    """Where the events a WebSocket forwards come from: each subscriber gets its own stream."""

    def subscribe(self) -> contextlib.AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]: ...


class EventHub:
    """Fans events out to every subscriber. ``publish`` is synchronous so the engine's bus handler can call
    it on the loop thread; a subscriber that falls ``maxsize`` events behind is cut off (its client reconnects
    and reads the state afresh) instead of holding memory or slowing the engine."""

    _OVERFLOW: ClassVar[dict[str, Any]] = {"type": "_overflow"}

    def __init__(self, maxsize: int = 1000) -> None:
        self.maxsize = maxsize
        self._queues: set[asyncio.Queue[dict[str, Any]]] = set()

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    def publish(self, event: Mapping[str, Any]) -> None:
        message = dict(event)
        for queue in list(self._queues):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(self._OVERFLOW)
                self._queues.discard(queue)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self.maxsize)
        self._queues.add(queue)

        async def stream() -> AsyncIterator[dict[str, Any]]:
            while True:
                message = await queue.get()
                if message is self._OVERFLOW:
                    return
                yield message

        try:
            yield stream()
        finally:
            self._queues.discard(queue)


def _error(status: int, message: str, code: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "code": code}, status, headers=dict(headers or {}))


def _peer(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return str(token).strip()
    return None


class AuthMiddleware:
    """Every request but pairing carries a paired client's token; repeated failures per address wait."""

    def __init__(self, app: ASGIApp, pairings: Pairings, backoff: Backoff) -> None:
        self.app, self.pairings, self.backoff = app, pairings, backoff

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, response: Response) -> None:
        if scope["type"] == "websocket" and "websocket.http.response" not in scope.get("extensions", {}):
            reason = str(json.loads(bytes(response.body))["error"])
            await send({"type": "websocket.close", "code": 1008, "reason": reason[:120]})
            return
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        address = _peer(scope)
        wait = self.backoff.retry_after(address)
        if wait is not None:
            headers = {"Retry-After": str(max(1, int(wait + 0.999)))}
            await self._refuse(scope, receive, send, _error(429, slowed_sentence(wait), "slowed", headers))
            return
        if scope["path"] in _OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        client = self.pairings.verify(_bearer(scope))
        if client is None:
            self.backoff.failed(address)
            headers = {"WWW-Authenticate": 'Bearer realm="sniper"'}
            await self._refuse(scope, receive, send, _error(401, UNAUTHORIZED, "unauthorized", headers))
            return
        self.backoff.succeeded(address)
        scope.setdefault("state", {})["client"] = client
        await self.app(scope, receive, send)


async def _json_body(request: Request) -> dict[str, Any]:
    # Read in pieces and stop at the limit: pairing is open to anyone who can connect, so a huge body must
    # not be held in memory before it is refused.
    too_large = HTTPException(413, "The request is too large.")
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > _MAX_BODY:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > _MAX_BODY:
            raise too_large
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(400, "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "The request body must be a JSON object.")
    return data


async def default_status() -> dict[str, Any]:
    """What the box says before an engine is attached: its version and clock, and that no engine runs."""
    return {"version": __version__, "box_time": datetime.now(UTC).isoformat(), "engine_running": False}


def build_app(
    pairings: Pairings,
    backoff: Backoff,
    *,
    events: EventSource | None = None,
    status: StatusProvider = default_status,
    calls: Mapping[str, Call] | None = None,
) -> Starlette:
    """The box's ASGI app; ``calls`` is the whitelist of facade methods reachable by name."""
    whitelist = dict(calls or {})
    hub: EventSource = events if events is not None else EventHub()

    async def pair(request: Request) -> Response:
        data = await _json_body(request)
        secret, name = data.get("secret"), data.get("name", "")
        if not isinstance(secret, str) or not secret or not isinstance(name, str):
            raise HTTPException(400, "Pairing needs the invite's secret as a string.")
        token = await asyncio.to_thread(pairings.pair, secret, name)
        if token is None:
            backoff.failed(_peer(request.scope))
            return _error(403, INVITE_REFUSED, "bad_invite")
        backoff.succeeded(_peer(request.scope))
        return JSONResponse({"token": token}, headers={"Cache-Control": "no-store"})

    async def get_status(request: Request) -> Response:
        return JSONResponse(await status())

    async def call(request: Request) -> Response:
        name = request.path_params["name"]
        method = whitelist.get(name)
        if method is None:
            return _error(404, f"The box has no command named {name[:60]!r}.", "not_found")
        data = await _json_body(request)
        args = data.get("args", {})
        if not isinstance(args, dict):
            raise HTTPException(400, "The command's arguments must be a JSON object.")
        try:
            result = await method(args)
        except CallRefused as exc:
            return _error(exc.status, exc.message, exc.code)
        return JSONResponse({"result": result})

    async def event_stream(websocket: WebSocket) -> None:
        token = _bearer(websocket.scope)
        async with hub.subscribe() as stream:
            await websocket.accept()
            await websocket.send_json({"type": "hello", "version": __version__,
                                       "box_time": datetime.now(UTC).isoformat()})

            async def forward() -> bool:
                """False once the client's pairing is revoked (checked per event: a stat when nothing changed)."""
                async for message in stream:
                    if pairings.verify(token) is None:
                        return False
                    await websocket.send_json(message)
                return True

            async def drain() -> None:
                # Clients only listen; reading is how a closed connection is noticed while no event comes.
                with contextlib.suppress(WebSocketDisconnect):
                    while True:
                        await websocket.receive_text()

            forwarding = asyncio.ensure_future(forward())
            draining = asyncio.ensure_future(drain())
            try:
                await asyncio.wait({forwarding, draining}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (forwarding, draining):
                    task.cancel()
                await asyncio.gather(forwarding, draining, return_exceptions=True)
            if forwarding.done() and not forwarding.cancelled() and forwarding.exception() is None:
                # The stream ended: the subscriber fell behind (it reconnects and reads afresh), or its
                # pairing was revoked (its reconnection then meets the 401).
                code, reason = (1013, "fell behind; reconnect") if forwarding.result() else (1008, "pairing revoked")
                with contextlib.suppress(Exception):
                    await websocket.close(code, reason)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return _error(404, f"The box has nothing at {request.url.path}.", "not_found")
        if exc.status_code == 405:
            return _error(405, f"The box does not take {request.method} at {request.url.path}.", "bad_method")
        return _error(exc.status_code, str(exc.detail), "bad_request")

    async def server_error(request: Request, exc: Exception) -> Response:
        log.error("a remote request to %s failed", request.url.path, exc_info=exc)
        return _error(500, "The box failed to carry this out; its log has the details.", "internal")

    return Starlette(
        routes=[
            Route("/v1/pair", pair, methods=["POST"]),
            Route("/v1/status", get_status, methods=["GET"]),
            Route("/v1/call/{name}", call, methods=["POST"]),
            WebSocketRoute("/v1/events", event_stream),
        ],
        middleware=[Middleware(AuthMiddleware, pairings=pairings, backoff=backoff)],
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )


class RemoteServerError(Exception):
    """The box cannot listen; the message is a sentence for the user."""


class _Server(uvicorn.Server):
    """uvicorn as a guest in the engine's loop: the engine owns SIGINT/SIGTERM and shuts this down itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield


class RemoteServer:
    """Serves ``app`` over HTTPS with the box's certificate on ``host:port``, inside the running loop."""

    def __init__(self, app: ASGIApp, identity: Identity, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
        self.app, self.identity, self.host, self.port = app, identity, host, port
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        try:
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(128)
        except OSError as exc:
            with contextlib.suppress(UnboundLocalError):
                sock.close()
            raise RemoteServerError(
                f"The box cannot listen on {self.host}:{self.port}: {exc.strerror or exc}; pick another "
                "port with --listen, or stop what uses this one."
            ) from None
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        return sock

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("the remote server is already running")
        sock = self._bind()
        config = uvicorn.Config(
            self.app,
            loop="none",
            http="h11",
            ws="websockets-sansio",
            lifespan="off",
            log_config=None,  # the app's logging stays as it was set up
            log_level="warning",
            access_log=False,
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=2,
            limit_concurrency=100,  # a small box stays responsive to its engine whatever connects to it
            ssl_certfile=str(self.identity.cert_file),
            ssl_keyfile=str(self.identity.key_file),
        )
        server = _Server(config)
        self._server = server
        self._task = asyncio.create_task(server.serve(sockets=[sock]), name="remote-server")
        task = self._task
        try:
            while not server.started:
                if task.done():
                    failure = task.exception()
                    why = f" ({type(failure).__name__}: {failure})" if failure is not None else ""
                    raise RemoteServerError(
                        f"The box could not serve on {self.host}:{self.port}{why}; its log has the details."
                    )
                await asyncio.sleep(0.01)
        except BaseException:
            task.cancel()
            self._task = self._server = None
            sock.close()
            raise
        self._sock = sock
        log.info("serving the remote engine on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        server, task = self._server, self._task
        server.should_exit = True
        try:
            while not task.done():
                # A connection uvicorn has closed still waits for the peer's TLS close_notify, which an idle
                # pooled client never sends until it next reads: drop those rather than stall the shutdown.
                for connection in list(server.server_state.connections):
                    transport = getattr(connection, "transport", None)
                    if transport is not None and transport.is_closing():
                        transport.abort()
                await asyncio.wait({task}, timeout=0.05)
            await task
        finally:
            self._task = self._server = None
            self._sock.close()
