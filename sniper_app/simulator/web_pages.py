"""The listing's web page (``/itm/``) and the thumbnails the demo's listings show."""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from .api_base import ApiRoom
from .images import thumbnail_png
from .money import format_minor
from .sim_clock import iso_ms


class WebPages(ApiRoom):

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
