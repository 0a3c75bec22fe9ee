"""The simulator's HTTP side: eBay's endpoints, the control API, and the network/fault layer in front.

The outermost ASGI callable (:class:`NetworkLayer`) stamps each request's arrival on the sim clock the
moment the server hands it over, applies the one-way delays and the scripted faults, and records it;
handlers act on that arrival instant, never on "now".
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import html
import json
import random
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from . import trading
from .clock import iso_ms
from .images import thumbnail_png
from .money import (
    KNOWN_CURRENCIES,
    MARKETPLACE_CURRENCY,
    SUPPORTED_MARKETPLACES,
    MoneyError,
    convert_minor,
    format_minor,
    increment,
    parse_minor,
)
from .world import (
    APP_SCOPES,
    CLIENT_ID,
    CLIENT_SECRET,
    RUNAME,
    SCOPE_API,
    SCOPE_IDENTITY,
    SCOPE_OFFER,
    USER_SCOPES,
    AccessToken,
    Auction,
    Fault,
    RequestRecord,
    World,
    currency_for,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ARRIVAL_KEY = "sim.arrival"
RECORD_KEY = "sim.record"
MAX_BID_MINOR = 100_000_000  # 1,000,000.00: above it eBay answers 120011 "exceeds the limit".
INTERNAL_MESSAGE = (
    "There was a problem with an eBay internal system or process. Contact eBay developer support for assistance."
)


# --- eBay error bodies -----------------------------------------------------------------------------


def ebay_error(
    status: int,
    error_id: int,
    domain: str,
    category: str,
    message: str,
    long_message: str | None = None,
    parameters: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    err: dict[str, Any] = {"errorId": error_id, "domain": domain, "category": category, "message": message}
    if long_message:
        err["longMessage"] = long_message
    if parameters:
        err["parameters"] = parameters
    return JSONResponse({"errors": [err]}, status_code=status, headers=headers)


def invalid_token() -> JSONResponse:
    return ebay_error(
        401, 1001, "OAuth", "REQUEST", "Invalid access token",
        "Invalid access token. Check the value of the Authorization HTTP request header.",
    )


def insufficient_scope() -> JSONResponse:
    return ebay_error(
        403, 1100, "ACCESS", "REQUEST", "Access denied", "Insufficient permissions to fulfill the request."
    )


_OFFER_MESSAGES = {
    120001: (404, "REQUEST", "The item ID {item_id} was not found. Check that this is an active auction item ID."),
    120002: (409, "BUSINESS", "The auction was ended because the item was purchased with Buy It Now (fixed_price)."),
    120004: (409, "BUSINESS", "You are not eligible to bid on this item."),
    120008: (409, "BUSINESS", "The bid amount is too low."),
    120009: (409, "BUSINESS", "The bid currency needs to match the item price currency."),
    120010: (409, "BUSINESS", "You cannot lower your proxy bid."),
    120011: (400, "REQUEST", "The bid amount exceeds the limit."),
    120012: (409, "BUSINESS", "The auction has ended."),
    120013: (400, "REQUEST", "The bid amount is missing or invalid."),
    120014: (400, "REQUEST", "The bid currency is invalid. Refer to the documentation for a list of currency codes."),
    120015: (400, "REQUEST", "The X-EBAY-C-MARKETPLACE-ID header is missing. This is a required header."),
    120016: (400, "REQUEST", "The maximum bid amount is missing."),
    120017: (400, "REQUEST", "The Marketplace {marketplace_id} is not supported. Supported values are {allowed}."),
    120033: (404, "REQUEST", "There is no bidding activity for this auction (item ID {item_id})."),
}


def offer_error(error_id: int, **params: str) -> JSONResponse:
    status, category, template = _OFFER_MESSAGES[error_id]
    message = template.format(**params) if params else template
    plist = [{"name": k, "value": v} for k, v in params.items()]
    return ebay_error(status, error_id, "API_OFFER", category, message, message, plist or None)


def postmark_error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"ErrorCode": code, "Message": message}, status_code=status)


def oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def amount(minor: int, currency: str) -> dict[str, str]:
    return {"currency": currency, "value": format_minor(minor)}


def localized_amount(minor: int, currency: str, viewer: str | None) -> dict[str, str]:
    """A Browse ConvertedAmount: converted to the viewer's currency, the seller's amount kept beside it."""
    if viewer is None or viewer == currency or viewer not in KNOWN_CURRENCIES:
        return amount(minor, currency)
    return {
        "value": format_minor(convert_minor(minor, currency, viewer)),
        "currency": viewer,
        "convertedFromValue": format_minor(minor),
        "convertedFromCurrency": currency,
    }


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


def arrival_of(request: Request) -> float:
    arrival = request.scope.get(ARRIVAL_KEY)
    return float(arrival) if arrival is not None else time.time()


def note_user(request: Request, user: str | None) -> None:
    rec = request.scope.get(RECORD_KEY)
    if rec is not None:
        rec.user = user


# --- the application ---------------------------------------------------------------------------------


class SimulatorApp:
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

    # --- auth helpers ---------------------------------------------------------------------------

    def _bearer(self, request: Request, arrival: float) -> AccessToken | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return None
        tok = self.world.access_tokens.get(header[7:].strip())
        if tok is None or tok.expires <= arrival:
            return None
        note_user(request, tok.user)
        return tok

    # --- OAuth ------------------------------------------------------------------------------------

    def _consent_check(self, params: dict[str, str]) -> tuple[Response | None, frozenset[str]]:
        if params.get("client_id") != CLIENT_ID:
            return oauth_error(400, "invalid_client", "client authentication failed"), frozenset()
        if params.get("redirect_uri") != RUNAME:
            return oauth_error(
                400, "invalid_request", "Input redirect URI is not matching with the redirect URI registered"
            ), frozenset()
        if params.get("response_type") != "code":
            return oauth_error(
                400, "unsupported_response_type", "response type in request is not supported"
            ), frozenset()
        scopes = frozenset(params.get("scope", "").split())
        if not scopes or not scopes <= USER_SCOPES:
            return oauth_error(
                400, "invalid_scope",
                "The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client",
            ), frozenset()
        return None, scopes

    def _redirect_with_code(self, params: dict[str, str], scopes: frozenset[str]) -> Response:
        world = self.world
        with world.lock:
            user = world.ensure_user(params.get("sim_user") or "demo").username
            code = world.new_code(user, scopes)
            ttl = int(world.code_ttl_s)
        query = ""
        if "state" in params:
            query += "state=" + quote(params["state"], safe="") + "&"
        query += "code=" + quote(code, safe="") + f"&expires_in={ttl}"
        return RedirectResponse(f"{world.base_url}/_sim/accept?{query}", status_code=302)

    async def authorize(self, request: Request) -> Response:
        params = dict(request.query_params)
        error, scopes = self._consent_check(params)
        if error is not None:
            return error
        if self.auto_approve:
            return self._redirect_with_code(params, scopes)
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params.items()
        )
        user = html.escape(params.get("sim_user") or "demo")
        page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Grant application access</title>
<style>body{{font-family:sans-serif;max-width:34em;margin:4em auto;color:#222}}
button{{font-size:1.1em;padding:.5em 2em;background:#3665f3;color:#fff;border:0;border-radius:2em}}</style>
</head><body><h1>Grant application access: Sniper</h1>
<p>Signed in as <b>{user}</b> (eBay simulator).</p>
<p>By selecting <b>Agree</b>, you allow <b>Sniper</b> to view your watch list and place bids on your behalf.</p>
<form method="post" action="/oauth2/authorize">{hidden}<button type="submit">Agree</button></form>
</body></html>"""
        return HTMLResponse(page)

    async def authorize_approve(self, request: Request) -> Response:
        body = (await request.body()).decode("utf-8", "replace")
        params = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        error, scopes = self._consent_check(params)
        if error is not None:
            return error
        response = self._redirect_with_code(params, scopes)
        response.status_code = 303
        return response

    async def accept_page(self, request: Request) -> Response:
        page = """<!doctype html><html><head><meta charset="utf-8"><title>Authorization successfully completed</title>
<style>body{font-family:sans-serif;max-width:34em;margin:4em auto;color:#222}</style></head><body>
<h1>Authorization successfully completed</h1>
<p>Thank you. You may close this window now.</p>
<p>Copy the full address of this page from your browser's address bar and paste it into Sniper to finish
linking your account.</p></body></html>"""
        return HTMLResponse(page)

    async def token(self, request: Request) -> Response:
        arrival = arrival_of(request)
        if not _client_ok(request.headers.get("authorization", "")):
            return oauth_error(401, "invalid_client", "client authentication failed")
        body = (await request.body()).decode("utf-8", "replace")
        form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        grant = form.get("grant_type")
        world = self.world
        with world.lock:
            if grant == "authorization_code":
                return self._grant_code(request, form, arrival)
            if grant == "refresh_token":
                return self._grant_refresh(request, form, arrival)
            if grant == "client_credentials":
                scopes = frozenset(form.get("scope", "").split())
                if not scopes or not scopes <= APP_SCOPES:
                    return oauth_error(
                        400, "invalid_scope",
                        "The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the "
                        "client",
                    )
                token = world.new_access_token(None, scopes)
                return _token_json({
                    "access_token": token,
                    "expires_in": int(world.access_token_ttl_s),
                    "token_type": "Application Access Token",
                })
        if not grant:
            return oauth_error(400, "invalid_request", "request is missing a required parameter or malformed.")
        return oauth_error(
            400, "unsupported_grant_type", "grant type in request is not supported by the authorization server"
        )

    def _grant_code(self, request: Request, form: dict[str, str], arrival: float) -> Response:
        world = self.world
        if "code" not in form or "redirect_uri" not in form:
            return oauth_error(400, "invalid_request", "request is missing a required parameter or malformed.")
        code = world.codes.get(form["code"])
        if code is None or code.used or code.expires <= arrival or form["redirect_uri"] != RUNAME:
            return oauth_error(
                400, "invalid_grant", "the provided authorization grant code is invalid or was issued to another client"
            )
        code.used = True
        note_user(request, code.user)
        return _token_json({
            "access_token": world.new_access_token(code.user, code.scopes),
            "expires_in": int(world.access_token_ttl_s),
            "refresh_token": world.new_refresh_token(code.user, code.scopes),
            "refresh_token_expires_in": int(world.refresh_token_ttl_s),
            "token_type": "User Access Token",
        })

    def _grant_refresh(self, request: Request, form: dict[str, str], arrival: float) -> Response:
        world = self.world
        if "refresh_token" not in form:
            return oauth_error(400, "invalid_request", "request is missing a required parameter or malformed.")
        refresh = world.refresh_tokens.get(form["refresh_token"])
        if refresh is None or refresh.revoked or refresh.expires <= arrival:
            return oauth_error(
                400, "invalid_grant",
                "the provided authorization refresh token is invalid or was issued to another client",
            )
        note_user(request, refresh.user)
        scopes = refresh.scopes
        if form.get("scope"):
            asked = frozenset(form["scope"].split())
            if not asked <= refresh.scopes:
                return oauth_error(
                    400, "invalid_scope",
                    "The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client",
                )
            scopes = asked
        return _token_json({
            "access_token": world.new_access_token(refresh.user, scopes),
            "expires_in": int(world.access_token_ttl_s),
            "token_type": "User Access Token",
        })

    # --- Browse -----------------------------------------------------------------------------------

    async def get_item(self, request: Request) -> Response:
        item_id: str = request.path_params["item_id"]
        return self._browse(request, item_id, legacy=False)

    async def get_item_by_legacy_id(self, request: Request) -> Response:
        legacy = request.query_params.get("legacy_item_id", "")
        return self._browse(request, legacy, legacy=True)

    def _browse(self, request: Request, ident: str, *, legacy: bool) -> Response:
        arrival = arrival_of(request)
        world = self.world
        with world.lock:
            tok = self._bearer(request, arrival)
            if tok is None:
                return invalid_token()
            if SCOPE_API not in tok.scopes:
                return insufficient_scope()
            fieldgroups = request.query_params.get("fieldgroups", "")
            groups = {g.strip() for g in fieldgroups.split(",") if g.strip()}
            if not groups <= {"COMPACT", "PRODUCT", "ADDITIONAL_SELLER_DETAILS"}:
                return ebay_error(
                    400, 11501, "API_BROWSE", "REQUEST", f"The 'fieldgroups' value(s) are invalid: {fieldgroups}."
                )
            if legacy:
                if not ident.isdigit():
                    return ebay_error(400, 11006, "API_BROWSE", "REQUEST", "The legacy ID is invalid.")
                auction = world.auctions.get(ident)
                if auction is None:
                    return ebay_error(
                        404, 11003, "API_BROWSE", "REQUEST", "The specified legacy item ID was not found.",
                        parameters=[{"name": "legacyItemId", "value": ident}],
                    )
            else:
                auction = world.find_auction(ident)
                if auction is None:
                    return ebay_error(
                        404, 11001, "API_BROWSE", "REQUEST", "The specified item ID was not found.",
                        parameters=[{"name": "itemId", "value": ident}],
                    )
            world.advance(auction, arrival)
            # Browse reads for the request's marketplace (EBAY_US when the header is absent) and localizes
            # every amount of a listing from another currency's site.
            viewer = MARKETPLACE_CURRENCY.get(request.headers.get("x-ebay-c-marketplace-id") or "EBAY_US")
            return JSONResponse(self._item_json(auction, arrival, compact="COMPACT" in groups, viewer=viewer))

    def _item_json(self, a: Auction, t: float, *, compact: bool, viewer: str | None = None) -> dict[str, Any]:
        cur = a.currency

        def amount(minor: int, currency: str) -> dict[str, str]:
            return localized_amount(minor, currency, viewer)

        ended = a.ended_at(t)
        bin_now = a.bin_available(t)
        item: dict[str, Any] = {
            "itemId": a.item_id,
            "legacyItemId": a.legacy_id,
            "sellerItemRevision": "1",
        }
        if not compact:
            item["title"] = a.title
            if a.image_url:
                item["image"] = {"imageUrl": a.image_url, "width": 96, "height": 96}
            item["itemEndDate"] = iso_ms(a.end_instant)
            item["categoryPath"] = a.category
            item["condition"] = a.condition
            item["itemCreationDate"] = iso_ms(a.created)
        if a.fixed_price:
            item["price"] = amount(a.bin_minor or a.price_minor, cur)
            item["buyingOptions"] = ["FIXED_PRICE"]
        else:
            item["price"] = amount(a.bin_minor if bin_now and a.bin_minor is not None else a.price_minor, cur)
            item["currentBidPrice"] = amount(a.price_minor, cur)
            item["buyingOptions"] = ["AUCTION", "FIXED_PRICE"] if bin_now else ["AUCTION"]
        # eBay leaves the counts out while nobody has bid.
        if a.accepted_count:
            item["bidCount"] = a.accepted_count
            item["uniqueBidderCount"] = a.unique_bidders()
        if not ended and not a.fixed_price:
            item["minimumPriceToBid"] = amount(a.min_next_bid(), cur)
        if a.reserve_minor is not None:
            item["reservePriceMet"] = a.reserve_met()
        item["seller"] = {
            "username": a.seller,
            "feedbackScore": a.seller_feedback,
            "feedbackPercentage": a.seller_percent,
        }
        # A collection-only listing has no shipping options at all, and eBay leaves the field out.
        if a.shipping_minor is not None:
            item["shippingOptions"] = [{
                "shippingCostType": "FIXED",
                "type": "Standard Shipping",
                "shippingCost": amount(a.shipping_minor, cur),
            }]
        item["listingMarketplaceId"] = a.marketplace
        item["itemWebUrl"] = f"{self.world.base_url}/itm/{a.legacy_id}"
        if ended:
            item["estimatedAvailabilities"] = [{"estimatedAvailabilityStatus": "OUT_OF_STOCK"}]
        return item

    # --- Offer ------------------------------------------------------------------------------------

    def _offer_preamble(self, request: Request, arrival: float) -> tuple[Response | None, AccessToken | None]:
        tok = self._bearer(request, arrival)
        if tok is None:
            return invalid_token(), None
        if tok.user is None or SCOPE_OFFER not in tok.scopes:
            return insufficient_scope(), None
        marketplace = request.headers.get("x-ebay-c-marketplace-id")
        if not marketplace:
            return offer_error(120015), None
        if marketplace not in SUPPORTED_MARKETPLACES:
            return offer_error(
                120017, marketplace_id=marketplace, allowed="[" + ", ".join(SUPPORTED_MARKETPLACES) + "]"
            ), None
        return None, tok

    async def place_proxy_bid(self, request: Request) -> Response:
        arrival = arrival_of(request)
        item_id: str = request.path_params["item_id"]
        raw = await request.body()
        world = self.world
        with world.lock:
            error, tok = self._offer_preamble(request, arrival)
            if error is not None or tok is None or tok.user is None:
                return error or insufficient_scope()
            auction = world.find_auction(item_id)
            if auction is None:
                return offer_error(120001, item_id=item_id)
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                return offer_error(120013)
            max_amount = body.get("maxAmount") if isinstance(body, dict) else None
            if not isinstance(max_amount, dict) or max_amount.get("value") in (None, ""):
                return offer_error(120016)
            currency = max_amount.get("currency")
            if not isinstance(currency, str) or currency not in KNOWN_CURRENCIES:
                return offer_error(120014)
            try:
                max_minor = parse_minor(max_amount.get("value"))
            except MoneyError:
                return offer_error(120013)
            if max_minor <= 0:
                return offer_error(120013)
            if max_minor > MAX_BID_MINOR:
                return offer_error(120011)
            outcome = world.place_bid(auction, tok.user, max_minor, arrival, currency)
            if outcome.error_id is not None:
                return offer_error(outcome.error_id)
            return JSONResponse({"proxyBidId": outcome.proxy_bid_id})

    async def get_bidding(self, request: Request) -> Response:
        arrival = arrival_of(request)
        item_id: str = request.path_params["item_id"]
        world = self.world
        with world.lock:
            error, tok = self._offer_preamble(request, arrival)
            if error is not None or tok is None or tok.user is None:
                return error or insufficient_scope()
            auction = world.find_auction(item_id)
            if auction is None:
                return offer_error(120001, item_id=item_id)
            world.advance(auction, arrival)
            mine = auction.maxes.get(tok.user)
            if mine is None:
                return offer_error(120033, item_id=auction.item_id)
            cur = auction.currency
            ended = auction.ended_at(arrival)
            price = auction.price_minor
            if auction.ended_by == "buy_it_now" and auction.bin_minor is not None:
                price = auction.bin_minor
            high = auction.winner(arrival) == tok.user if ended else auction.high_bidder == tok.user
            out: dict[str, Any] = {
                "itemId": auction.item_id,
                "auctionStatus": "ENDED" if ended else "ACTIVE",
                "auctionEndDate": iso_ms(auction.end_instant),
                "bidCount": auction.accepted_count,
                "currentPrice": amount(price, cur),
                "currentProxyBid": {"proxyBidId": mine[2], "maxAmount": amount(mine[0], cur)},
                "highBidder": high,
            }
            if auction.reserve_minor is not None:
                out["reservePriceMet"] = auction.reserve_met()
            if not ended:
                nxt = auction.min_next_bid()
                suggestions = [nxt]
                for _ in range(2):
                    suggestions.append(suggestions[-1] + increment(auction.marketplace, suggestions[-1]))
                out["suggestedBidAmounts"] = [amount(s, cur) for s in suggestions]
            return JSONResponse(out)

    # --- Identity ---------------------------------------------------------------------------------

    async def get_user(self, request: Request) -> Response:
        arrival = arrival_of(request)
        world = self.world
        with world.lock:
            tok = self._bearer(request, arrival)
            if tok is None:
                return invalid_token()
            if tok.user is None or SCOPE_IDENTITY not in tok.scopes:
                return insufficient_scope()
            user = world.ensure_user(tok.user)
            return JSONResponse({
                "userId": user.user_id,
                "username": user.username,
                "accountType": "INDIVIDUAL",
                "registrationMarketplaceId": "EBAY_US",
                "status": "CONFIRMED",
            })

    # --- Trading ----------------------------------------------------------------------------------

    async def trading(self, request: Request) -> Response:
        arrival = arrival_of(request)
        body = await request.body()
        world = self.world
        with world.lock:
            xml = trading.handle(world, request.headers, body, arrival, lambda u: note_user(request, u))
        return Response(xml, media_type="text/xml; charset=utf-8")

    # --- pages and images -------------------------------------------------------------------------

    async def item_page(self, request: Request) -> Response:
        world = self.world
        with world.lock:
            auction = world.auctions.get(request.path_params["legacy_id"])
            if auction is None:
                return HTMLResponse("<h1>This listing was not found.</h1>", status_code=404)
            now = world.clock.now()
            world.advance(auction, now)
            title = html.escape(auction.title)
            price = f"{auction.currency} {format_minor(auction.price_minor)}"
            status = "Ended" if auction.ended_at(now) else f"Ends {iso_ms(auction.end_instant)}"
            image = f"<img src='{html.escape(auction.image_url)}' width='192'>" if auction.image_url else ""
            bids = auction.accepted_count
        return HTMLResponse(
            f"<!doctype html><html><head><meta charset='utf-8'><title>{title} | eBay simulator</title></head>"
            f"<body style='font-family:sans-serif'><h1>{title}</h1>{image}"
            f"<p>Current bid: <b>{price}</b> ({bids} bids)</p><p>{status}</p></body></html>"
        )

    async def image(self, request: Request) -> Response:
        return Response(
            thumbnail_png(int(request.path_params["n"])),
            media_type="image/png",
            headers={"Cache-Control": "max-age=86400"},
        )

    # --- Postmark (email for notifications) ------------------------------------------------------

    async def postmark_email(self, request: Request) -> Response:
        """Postmark's ``POST /email``: checks the server token and the message, then records it."""
        world = self.world
        token = request.headers.get("x-postmark-server-token", "")
        try:
            data = await _json_body(request)
        except ValueError:
            return postmark_error(422, 402, "Received invalid JSON input.")
        with world.lock:
            if not token or token != world.postmark_token:
                return postmark_error(401, 10, "Request does not contain a valid Server token.")
            sender, to = str(data.get("From") or ""), str(data.get("To") or "")
            if not sender or "@" not in sender:
                return postmark_error(422, 300, "Invalid 'From' address: '" + sender + "'.")
            if not to or "@" not in to:
                return postmark_error(422, 300, "Invalid 'To' address: '" + to + "'.")
            if not (data.get("HtmlBody") or data.get("TextBody")):
                return postmark_error(422, 300, "Provide either email TextBody or HtmlBody or both.")
            rejects = world.email_rejects
            if rejects.remaining > 0:
                rejects.remaining -= 1
                return postmark_error(422, rejects.error_code, rejects.message)
            message_id = str(uuid.uuid4())
            submitted = iso_ms(arrival_of(request))
            world.emails.append({
                "MessageID": message_id, "SubmittedAt": submitted, "From": sender, "To": to,
                "Subject": str(data.get("Subject") or ""), "TextBody": data.get("TextBody"),
                "HtmlBody": data.get("HtmlBody"), "MessageStream": data.get("MessageStream") or "outbound",
            })
        return JSONResponse({"To": to, "SubmittedAt": submitted, "MessageID": message_id, "ErrorCode": 0,
                             "Message": "OK"})

    async def ctl_emails(self, request: Request) -> Response:
        world = self.world
        if request.method == "DELETE":
            with world.lock:
                world.emails.clear()
            return JSONResponse({"emails": []})
        if request.method == "POST":
            data = await _json_body(request)
            with world.lock:
                if "server_token" in data:
                    world.postmark_token = str(data["server_token"])
                if "reject" in data:
                    world.email_rejects.remaining = max(0, int(data["reject"]))
                if "error_code" in data:
                    world.email_rejects.error_code = int(data["error_code"])
                if "message" in data:
                    world.email_rejects.message = str(data["message"])
        with world.lock:
            return JSONResponse({"emails": list(world.emails), "reject": world.email_rejects.remaining})

    # --- control API ------------------------------------------------------------------------------

    async def ctl_create_auction(self, request: Request) -> Response:
        data = await _json_body(request)
        try:
            spec = _auction_spec(data)
        except (MoneyError, ValueError, TypeError, KeyError) as exc:
            return JSONResponse({"error": f"bad auction: {exc}"}, status_code=400)
        world = self.world
        with world.lock:
            auction = world.create_auction(**spec)
            return JSONResponse({
                "legacy_item_id": auction.legacy_id,
                "item_id": auction.item_id,
                "end_time": iso_ms(auction.end_epoch),
                "end_epoch": auction.end_epoch,
            })

    async def ctl_list_auctions(self, request: Request) -> Response:
        world = self.world
        with world.lock:
            return JSONResponse({"auctions": [world.auction_json(a) for a in world.auctions.values()]})

    def _auction_or_404(self, request: Request) -> Auction | None:
        return self.world.find_auction(request.path_params["legacy_id"])

    async def ctl_get_auction(self, request: Request) -> Response:
        with self.world.lock:
            auction = self._auction_or_404(request)
            if auction is None:
                return JSONResponse({"error": "no such auction"}, status_code=404)
            return JSONResponse(self.world.auction_json(auction))

    async def ctl_bid(self, request: Request) -> Response:
        data = await _json_body(request)
        world = self.world
        with world.lock:
            auction = self._auction_or_404(request)
            if auction is None:
                return JSONResponse({"error": "no such auction"}, status_code=404)
            try:
                max_minor = parse_minor(str(data["max"]))
                user = str(data["user"])
            except (MoneyError, KeyError) as exc:
                return JSONResponse({"error": f"bad bid: {exc}"}, status_code=400)
            world.ensure_user(user)
            outcome = world.place_bid(
                auction, user, max_minor, world.clock.now(), str(data.get("currency") or auction.currency), "manual"
            )
            return JSONResponse({
                "accepted": outcome.error_id is None,
                "error_id": outcome.error_id,
                "proxy_bid_id": outcome.proxy_bid_id,
                "auction": world.auction_json(auction),
            })

    async def ctl_end(self, request: Request) -> Response:
        data = await _json_body(request)
        world = self.world
        with world.lock:
            auction = self._auction_or_404(request)
            if auction is None:
                return JSONResponse({"error": "no such auction"}, status_code=404)
            reason = data.get("reason")
            if reason not in (None, "seller", "buy_it_now"):
                return JSONResponse({"error": "reason must be seller or buy_it_now"}, status_code=400)
            world.end_auction(auction, reason)
            return JSONResponse(world.auction_json(auction))

    async def ctl_watch(self, request: Request) -> Response:
        data = await _json_body(request)
        world = self.world
        with world.lock:
            auction = self._auction_or_404(request)
            if auction is None:
                return JSONResponse({"error": "no such auction"}, status_code=404)
            user = world.ensure_user(str(data.get("user") or "demo"))
            if auction.legacy_id not in user.watch and len(user.watch) < 400:
                user.watch.append(auction.legacy_id)
            return JSONResponse({"user": user.username, "watch_count": len(user.watch)})

    async def ctl_requests(self, request: Request) -> Response:
        since = int(request.query_params.get("since", "0") or 0)
        with self.world.lock:
            return JSONResponse({"requests": self.world.requests_since(since)})

    async def ctl_add_fault(self, request: Request) -> Response:
        data = await _json_body(request)
        kind = data.get("kind", "status")
        if kind not in ("status", "timeout", "drop", "rate_limit", "drip"):
            return JSONResponse({"error": "kind must be status, timeout, drop, rate_limit or drip"}, status_code=400)
        try:
            fault = Fault(
                pattern=re.compile(str(data.get("path") or ".*")),
                method=data.get("method"),
                remaining=int(data.get("count", 1)),
                kind=kind,
                status=int(data.get("status") or (429 if kind == "rate_limit" else 503)),
                retry_after=float(data.get("retry_after") or 1),
                hang_s=float(data.get("hang_s") or 30),
                drip_s=float(data.get("drip_s") or 5),
            )
        except (re.error, ValueError) as exc:
            return JSONResponse({"error": f"bad fault: {exc}"}, status_code=400)
        with self.world.lock:
            self.world.faults.append(fault)
            return JSONResponse({"faults": len(self.world.faults)})

    async def ctl_clear_faults(self, request: Request) -> Response:
        with self.world.lock:
            self.world.faults.clear()
        return JSONResponse({"faults": 0})

    async def ctl_network(self, request: Request) -> Response:
        world = self.world
        if request.method == "POST":
            data = await _json_body(request)
            with world.lock:
                if "latency_ms" in data:
                    world.latency_ms = max(0.0, float(data["latency_ms"]))
                if "jitter_ms" in data:
                    world.jitter_ms = max(0.0, float(data["jitter_ms"]))
        return JSONResponse({"latency_ms": world.latency_ms, "jitter_ms": world.jitter_ms})

    async def ctl_clock(self, request: Request) -> Response:
        clock = self.world.clock
        if request.method == "POST":
            data = await _json_body(request)
            with self.world.lock:
                if "offset_s" in data:
                    clock.offset_s = float(data["offset_s"])
                if "advance_s" in data:
                    clock.offset_s += float(data["advance_s"])
        now = clock.now()
        return JSONResponse({"now": iso_ms(now), "epoch": now, "offset_s": clock.offset_s})

    async def ctl_config(self, request: Request) -> Response:
        world = self.world
        if request.method == "POST":
            data = await _json_body(request)
            with world.lock:
                if "access_token_ttl_s" in data:
                    world.access_token_ttl_s = float(data["access_token_ttl_s"])
                if "code_ttl_s" in data:
                    world.code_ttl_s = float(data["code_ttl_s"])
                if "refresh_token_ttl_s" in data:
                    world.refresh_token_ttl_s = float(data["refresh_token_ttl_s"])
                if "auto_approve" in data:
                    self.auto_approve = bool(data["auto_approve"])
        return JSONResponse({
            "access_token_ttl_s": world.access_token_ttl_s,
            "code_ttl_s": world.code_ttl_s,
            "refresh_token_ttl_s": world.refresh_token_ttl_s,
            "auto_approve": self.auto_approve,
        })

    async def ctl_expire_tokens(self, request: Request) -> Response:
        data = await _json_body(request)
        with self.world.lock:
            n = self.world.expire_access_tokens(str(data.get("user") or "demo"))
        return JSONResponse({"expired": n})

    async def ctl_revoke_tokens(self, request: Request) -> Response:
        data = await _json_body(request)
        with self.world.lock:
            n = self.world.revoke_refresh_tokens(str(data.get("user") or "demo"))
        return JSONResponse({"revoked": n})

    async def ctl_users(self, request: Request) -> Response:
        data = await _json_body(request)
        name = str(data.get("username") or "").strip()
        if not name:
            return JSONResponse({"error": "username required"}, status_code=400)
        with self.world.lock:
            user = self.world.ensure_user(name)
            return JSONResponse({"username": user.username, "user_id": user.user_id})

    async def ctl_reset(self, request: Request) -> Response:
        with self.world.lock:
            self.world.reset()
        return JSONResponse({"reset": True})


# --- helpers --------------------------------------------------------------------------------------


def _client_ok(header: str) -> bool:
    if not header.startswith("Basic "):
        return False
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    client, _, secret = decoded.partition(":")
    return client == CLIENT_ID and secret == CLIENT_SECRET


def _token_json(payload: dict[str, Any]) -> JSONResponse:
    return JSONResponse(payload, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    data = json.loads(raw)
    return data if isinstance(data, dict) else {}


def _auction_spec(data: dict[str, Any]) -> dict[str, Any]:
    """Turn a control-API auction body into World.create_auction arguments (money parsed exactly)."""
    marketplace = str(data.get("marketplace") or "EBAY_US")
    if marketplace not in MARKETPLACE_CURRENCY:
        raise ValueError(f"unknown marketplace {marketplace}")
    currency = str(data.get("currency") or currency_for(marketplace))

    def money(key: str) -> int | None:
        value = data.get(key)
        return None if value is None else parse_minor(str(value))

    rivals: list[tuple[str, int, float]] = []
    for r in data.get("rivals") or []:
        rivals.append((str(r.get("user") or f"rival{len(rivals) + 1}"), parse_minor(str(r["max"])),
                       float(r.get("before_end", 2.0))))
    return {
        "title": str(data.get("title") or "Untitled auction"),
        "start_minor": parse_minor(str(data.get("start_price") or "0.99")),
        "currency": currency,
        "marketplace": marketplace,
        "ends_in": float(data.get("ends_in", 120.0)),
        "watched_by": [str(u) for u in (data.get("watched_by") or [])],
        "rivals": rivals,
        "reserve_minor": money("reserve"),
        "bin_minor": money("buy_it_now"),
        "image_url": data.get("image_url"),
        # "shipping": null is a collection-only listing; left out, shipping is free.
        "shipping_minor": None if "shipping" in data and data["shipping"] is None
        else parse_minor(str(data.get("shipping") or "0.00")),
        "seller": str(data.get("seller") or "vintage_finds_co"),
        "category": str(data.get("category") or "Collectibles"),
        "condition": str(data.get("condition") or "Used"),
        "fixed_price": bool(data.get("fixed_price", False)),
    }


def authorize_url(base_url: str, scopes: list[str], state: str, user: str | None = None) -> str:
    """The consent URL as the app would build it (a convenience for tests and the demo)."""
    params = {"client_id": CLIENT_ID, "redirect_uri": RUNAME, "response_type": "code",
              "scope": " ".join(scopes), "state": state}
    if user:
        params["sim_user"] = user
    return f"{base_url}/oauth2/authorize?{urlencode(params, quote_via=quote)}"
