"""Trading: the ``/ws/api.dll`` endpoint; the XML calls themselves are in :mod:`.trading_xml`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from . import trading_xml
from .api_base import ApiRoom, arrival_of, note_user


class TradingApi(ApiRoom):

    async def trading(self, request: Request) -> Response:
        arrival = arrival_of(request)
        body = await request.body()
        world = self.world
        with world.lock:
            xml = trading_xml.handle(world, request.headers, body, arrival, lambda u: note_user(request, u))
        return Response(xml, media_type="text/xml; charset=utf-8")
