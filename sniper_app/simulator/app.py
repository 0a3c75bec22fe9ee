"""The simulator's HTTP side assembled: each API's room, their routes, and the network/fault layer in front.

The handlers live by API in ``oauth_api``, ``browse_api``, ``offer_api``, ``identity_api``, ``trading_api``,
``postmark_api``, ``web_pages`` and ``control_api``; :class:`SimulatorApp` combines them over one world.

The outermost ASGI callable (:class:`NetworkLayer`) stamps each request's arrival on the sim clock the
moment the server hands it over, applies the one-way delays and the scripted faults, and records it;
handlers act on that arrival instant, never on "now".
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .api_base import ARRIVAL_KEY, RECORD_KEY, ebay_error, oauth_error
from .browse_api import BrowseApi
from .control_api import ControlApi
from .identity_api import IdentityApi
from .oauth_api import OAuthApi
from .offer_api import OfferApi
from .postmark_api import PostmarkApi
from .trading_api import TradingApi
from .web_pages import WebPages
from .world import Fault, RequestRecord, World

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

INTERNAL_MESSAGE = (
    "There was a problem with an eBay internal system or process. Contact eBay developer support for assistance."
)


# --- the network and fault layer --------------------------------------------------------------------


class NetworkLayer:
    """Outermost ASGI callable: arrival stamping, latency, faults and the request log."""

    def __init__(self, app: ASGIApp, world: World, stopping: asyncio.Event | None = None) -> None:
        self.app = app
        self.world = world
        self.rng = random.Random()
        self.stopping = stopping

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t_read = time.time()
        path: str = scope["path"]
        if path.startswith("/_sim/"):
            await self.app(scope, receive, send)
            return
        world = self.world
        latency, jitter = world.latency_ms, world.jitter_ms
        if latency or jitter:
            d1 = max(0.0, (latency / 2 + self.rng.uniform(-jitter / 2, jitter / 2)) / 1000.0)
            d2 = max(0.0, (latency / 2 + self.rng.uniform(-jitter / 2, jitter / 2)) / 1000.0)
        else:
            d1 = d2 = 0.0
        arrival = t_read + world.clock.offset_s + d1
        method: str = scope["method"]
        with world.lock:
            rec = world.record(method, path, scope["query_string"].decode("latin-1"), arrival)
            fault = world.take_fault(method, path) if world.faults else None
        scope[ARRIVAL_KEY] = arrival
        scope[RECORD_KEY] = rec
        if d1:
            wait = t_read + d1 - time.time()
            if wait > 0:
                await asyncio.sleep(wait)

        if fault is not None:
            await self._fault(fault, path, rec, send, d2, scope, receive)
            return

        async def send_delayed(message: Message) -> None:
            if message["type"] == "http.response.start":
                rec.status = message["status"]
                if d2:
                    await asyncio.sleep(d2)
            await send(message)

        await self.app(scope, receive, send_delayed)

    async def _fault(
        self, fault: Fault, path: str, rec: RequestRecord, send: Send, d2: float, scope: Scope, receive: Receive
    ) -> None:
        if fault.kind == "drip":
            await self._drip(fault, rec, send, d2, scope, receive)
            return
        if fault.kind in ("drop", "timeout"):
            if fault.kind == "timeout":
                await self._hang(fault.hang_s)
            _drop_connection(send)
            return
        if fault.kind == "rate_limit":
            retry = fault.retry_after
            retry_text = str(int(retry)) if float(retry).is_integer() else str(retry)
            response: Response = ebay_error(
                429, 2001, "ACCESS", "REQUEST",
                "Too many requests. The request limit has been reached for the resource.",
                headers={"Retry-After": retry_text},
            )
        else:
            response = _status_fault_body(fault.status, path)
        rec.status = response.status_code
        if d2:
            await asyncio.sleep(d2)
        await response({"type": "http"}, _no_receive, send)

    async def _drip(
        self, fault: Fault, rec: RequestRecord, send: Send, d2: float, scope: Scope, receive: Receive
    ) -> None:
        """The real reply, its body one byte every ``drip_s``: each read gets something, so only a deadline
        on the whole exchange notices."""

        async def dripping(message: Message) -> None:
            if message["type"] == "http.response.start":
                rec.status = message["status"]
                if d2:
                    await asyncio.sleep(d2)
                await send(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body: bytes = message.get("body", b"")
            for i in range(len(body)):
                await send({"type": "http.response.body", "body": body[i:i + 1], "more_body": True})
                await self._hang(fault.drip_s)
                if self.stopping is not None and self.stopping.is_set():
                    _drop_connection(send)
                    return
            await send({"type": "http.response.body", "body": b"", "more_body": message.get("more_body", False)})

        await self.app(scope, receive, dripping)

    async def _hang(self, seconds: float) -> None:
        if self.stopping is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def _drop_connection(send: Send) -> None:
    """Close the client's socket without a reply.

    uvicorn answers 500 when an app fails before replying, so a drop has to reach under the ASGI
    interface: uvicorn's ``send`` is a method of its per-request cycle, which holds the transport.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError("cannot drop the connection: server transport not reachable")
    transport.abort()
    # Tell uvicorn the peer is gone so it does not try to write its own 500 afterwards.
    cycle.disconnected = True  # type: ignore[union-attr]


def _status_fault_body(status: int, path: str) -> Response:
    if path == "/email":
        return JSONResponse({"ErrorCode": status, "Message": "Internal server error."}, status_code=status)
    if path.startswith("/identity/"):
        return oauth_error(status, "server_error", "There was an internal error in the server.")
    if path.startswith("/ws/"):
        return Response("Service Unavailable", status_code=status, media_type="text/plain")
    if path.startswith("/buy/offer/"):
        domain, error_id = "API_OFFER", 120000
    elif path.startswith("/buy/browse/"):
        domain, error_id = "API_BROWSE", 11000
    elif path.startswith("/commerce/identity/"):
        domain, error_id = "API_IDENTITY", 140000
    else:
        domain, error_id = "API", 10000
    return ebay_error(status, error_id, domain, "APPLICATION", INTERNAL_MESSAGE)


# --- the application ---------------------------------------------------------------------------------


class SimulatorApp(OAuthApi, BrowseApi, OfferApi, IdentityApi, TradingApi, WebPages, PostmarkApi, ControlApi):
    """eBay's endpoints and the control API over one :class:`World`."""

    def __init__(self, world: World, *, auto_approve: bool = True) -> None:
        self.world = world
        self.auto_approve = auto_approve
        self.stopping = asyncio.Event()
        routes = [
            Route("/oauth2/authorize", self.authorize, methods=["GET"]),
            Route("/oauth2/authorize", self.authorize_approve, methods=["POST"]),
            Route("/identity/v1/oauth2/token", self.token, methods=["POST"]),
            Route("/buy/browse/v1/item/get_item_by_legacy_id", self.get_item_by_legacy_id, methods=["GET"]),
            Route("/buy/browse/v1/item/{item_id}", self.get_item, methods=["GET"]),
            Route(
                "/buy/offer/v1_beta/bidding/{item_id}/place_proxy_bid", self.place_proxy_bid, methods=["POST"]
            ),
            Route("/buy/offer/v1_beta/bidding/{item_id}", self.get_bidding, methods=["GET"]),
            Route("/commerce/identity/v1/user/", self.get_user, methods=["GET"]),
            Route("/commerce/identity/v1/user", self.get_user, methods=["GET"]),
            Route("/ws/api.dll", self.trading, methods=["POST"]),
            Route("/itm/{legacy_id}", self.item_page, methods=["GET"]),
            Route("/email", self.postmark_email, methods=["POST"]),
            Route("/_sim/email", self.ctl_emails, methods=["GET", "POST", "DELETE"]),
            Route("/_sim/accept", self.accept_page, methods=["GET"]),
            Route("/_sim/images/{n:int}.png", self.image, methods=["GET"]),
            Route("/_sim/auctions", self.ctl_create_auction, methods=["POST"]),
            Route("/_sim/auctions", self.ctl_list_auctions, methods=["GET"]),
            Route("/_sim/auctions/{legacy_id}", self.ctl_get_auction, methods=["GET"]),
            Route("/_sim/auctions/{legacy_id}/bid", self.ctl_bid, methods=["POST"]),
            Route("/_sim/auctions/{legacy_id}/end", self.ctl_end, methods=["POST"]),
            Route("/_sim/auctions/{legacy_id}/watch", self.ctl_watch, methods=["POST"]),
            Route("/_sim/requests", self.ctl_requests, methods=["GET"]),
            Route("/_sim/faults", self.ctl_add_fault, methods=["POST"]),
            Route("/_sim/faults", self.ctl_clear_faults, methods=["DELETE"]),
            Route("/_sim/network", self.ctl_network, methods=["GET", "POST"]),
            Route("/_sim/clock", self.ctl_clock, methods=["GET", "POST"]),
            Route("/_sim/config", self.ctl_config, methods=["GET", "POST"]),
            Route("/_sim/tokens/expire", self.ctl_expire_tokens, methods=["POST"]),
            Route("/_sim/tokens/revoke", self.ctl_revoke_tokens, methods=["POST"]),
            Route("/_sim/users", self.ctl_users, methods=["POST"]),
            Route("/_sim/reset", self.ctl_reset, methods=["POST"]),
        ]
        self.starlette = Starlette(routes=routes)
        self.asgi = NetworkLayer(self.starlette, world, self.stopping)
