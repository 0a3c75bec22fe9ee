"""Shared pytest fixtures for tests that talk to the eBay simulator over real HTTP."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from sniper_app.simulator import SimulatorServer


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    """A started simulator (empty scenario, free ports, auto-approving consent), stopped after the test."""
    server = SimulatorServer(host="127.0.0.1", port=0, sntp_port=0, scenario="empty", auto_approve=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def demo_sim() -> Iterator[SimulatorServer]:
    """A started simulator seeded with the demo scenario."""
    server = SimulatorServer(host="127.0.0.1", port=0, sntp_port=0, scenario="demo", auto_approve=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- helpers for tests that need tokens or auctions (plain HTTP, as a client would do it) ---------

SIM_CLIENT_ID = "sim-client"
SIM_CLIENT_SECRET = "sim-secret"
SIM_RUNAME = "sim-runame"
API_SCOPE = "https://api.ebay.com/oauth/api_scope"
OFFER_SCOPE = "https://api.ebay.com/oauth/api_scope/buy.offer.auction"
IDENTITY_SCOPE = "https://api.ebay.com/oauth/api_scope/commerce.identity.readonly"
ALL_USER_SCOPES = (API_SCOPE, OFFER_SCOPE, IDENTITY_SCOPE)


def basic_auth(client_id: str = SIM_CLIENT_ID, secret: str = SIM_CLIENT_SECRET) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def consent_code(sim: SimulatorServer, user: str = "demo", scopes: tuple[str, ...] = ALL_USER_SCOPES) -> str:
    """Walk the auto-approving consent page; return the authorization code (already url-decoded once)."""
    reply = httpx.get(sim.authorize_url(list(scopes), state="st", user=user), follow_redirects=False)
    assert reply.status_code == 302, reply.text
    return parse_qs(urlparse(reply.headers["location"]).query)["code"][0]


def user_tokens(
    sim: SimulatorServer, user: str = "demo", scopes: tuple[str, ...] = ALL_USER_SCOPES
) -> dict[str, object]:
    """A user's token reply (access_token, refresh_token, ...) via consent + code exchange."""
    code = consent_code(sim, user, scopes)
    reply = httpx.post(
        sim.base_url + "/identity/v1/oauth2/token",
        headers={"Authorization": basic_auth()},
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": SIM_RUNAME},
    )
    assert reply.status_code == 200, reply.text
    body: dict[str, object] = reply.json()
    return body


def user_token(sim: SimulatorServer, user: str = "demo", scopes: tuple[str, ...] = ALL_USER_SCOPES) -> str:
    return str(user_tokens(sim, user, scopes)["access_token"])


def app_token(sim: SimulatorServer) -> str:
    reply = httpx.post(
        sim.base_url + "/identity/v1/oauth2/token",
        headers={"Authorization": basic_auth()},
        data={"grant_type": "client_credentials", "scope": API_SCOPE},
    )
    assert reply.status_code == 200, reply.text
    return str(reply.json()["access_token"])
