"""Commerce Identity: getUser for a user token with the identity scope."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .api_base import ApiRoom, arrival_of, insufficient_scope, invalid_token
from .world import SCOPE_IDENTITY


class IdentityApi(ApiRoom):

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
