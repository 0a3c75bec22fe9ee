"""The control API under ``/_sim/``: auctions, the outbox, faults, network, clock, tokens, users, reset."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .api_base import ApiRoom, json_body
from .money import MARKETPLACE_CURRENCY, MoneyError, parse_minor
from .sim_clock import iso_ms
from .world import Auction, Fault, currency_for


class ControlApi(ApiRoom):

    async def ctl_emails(self, request: Request) -> Response:
        world = self.world
        if request.method == "DELETE":
            with world.lock:
                world.emails.clear()
            return JSONResponse({"emails": []})
        if request.method == "POST":
            data = await json_body(request)
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

    async def ctl_create_auction(self, request: Request) -> Response:
        data = await json_body(request)
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
        data = await json_body(request)
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
        data = await json_body(request)
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
        data = await json_body(request)
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
        data = await json_body(request)
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
            data = await json_body(request)
            with world.lock:
                if "latency_ms" in data:
                    world.latency_ms = max(0.0, float(data["latency_ms"]))
                if "jitter_ms" in data:
                    world.jitter_ms = max(0.0, float(data["jitter_ms"]))
        return JSONResponse({"latency_ms": world.latency_ms, "jitter_ms": world.jitter_ms})

    async def ctl_clock(self, request: Request) -> Response:
        clock = self.world.clock
        if request.method == "POST":
            data = await json_body(request)
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
            data = await json_body(request)
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
        data = await json_body(request)
        with self.world.lock:
            n = self.world.expire_access_tokens(str(data.get("user") or "demo"))
        return JSONResponse({"expired": n})

    async def ctl_revoke_tokens(self, request: Request) -> Response:
        data = await json_body(request)
        with self.world.lock:
            n = self.world.revoke_refresh_tokens(str(data.get("user") or "demo"))
        return JSONResponse({"revoked": n})

    async def ctl_users(self, request: Request) -> Response:
        data = await json_body(request)
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
        "import_charges_minor": money("import_charges"),
    }
