"""What every API room of the simulator shares: eBay's error bodies and amounts, the request's arrival and
user stamps, JSON bodies, and the bearer-token check over the one :class:`World`."""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from .money import KNOWN_CURRENCIES, convert_minor, format_minor
from .world import AccessToken, World

ARRIVAL_KEY = "sim.arrival"
RECORD_KEY = "sim.record"


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


def arrival_of(request: Request) -> float:
    arrival = request.scope.get(ARRIVAL_KEY)
    return float(arrival) if arrival is not None else time.time()


def note_user(request: Request, user: str | None) -> None:
    rec = request.scope.get(RECORD_KEY)
    if rec is not None:
        rec.user = user


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    data = json.loads(raw)
    return data if isinstance(data, dict) else {}


class ApiRoom:
    """The state the rooms' handlers share; :class:`SimulatorApp` combines the rooms over one world."""

    world: World
    auto_approve: bool

    def _bearer(self, request: Request, arrival: float) -> AccessToken | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return None
        tok = self.world.access_tokens.get(header[7:].strip())
        if tok is None or tok.expires <= arrival:
            return None
        note_user(request, tok.user)
        return tok
