"""Offer: placeProxyBid and getBidding, with eBay's Offer error bodies."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .api_base import ApiRoom, amount, arrival_of, ebay_error, insufficient_scope, invalid_token
from .money import KNOWN_CURRENCIES, SUPPORTED_MARKETPLACES, MoneyError, increment, parse_minor
from .sim_clock import iso_ms
from .world import SCOPE_OFFER, AccessToken

MAX_BID_MINOR = 100_000_000  # 1,000,000.00: above it eBay answers 120011 "exceeds the limit".


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


class OfferApi(ApiRoom):

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
