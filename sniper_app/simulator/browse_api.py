"""Browse: getItem and getItemByLegacyId, amounts localized to the request's marketplace."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .api_base import ApiRoom, arrival_of, ebay_error, insufficient_scope, invalid_token, localized_amount
from .money import MARKETPLACE_CURRENCY
from .sim_clock import iso_ms
from .world import SCOPE_API, Auction


class BrowseApi(ApiRoom):

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
                if not (ident.isascii() and ident.isdigit()):
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
            if a.import_charges_minor is not None:
                item["shippingOptions"][0]["importCharges"] = amount(a.import_charges_minor, cur)
        item["listingMarketplaceId"] = a.marketplace
        item["itemWebUrl"] = f"{self.world.base_url}/itm/{a.legacy_id}"
        if ended:
            item["estimatedAvailabilities"] = [{"estimatedAvailabilityStatus": "OUT_OF_STOCK"}]
        return item
