"""Helpers for eBay client tests: a client wired to the simulator, account linking, the control API."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx

from sniper_app.ebay import AccountLinker, EbayClient, EbayUser, Endpoints, RetryPolicy, SecretStore
from sniper_app.simulator import SimulatorServer

T = TypeVar("T")

FAST_RETRY = RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.05, max_retry_after_s=2.0)


_open_clients: list[EbayClient] = []


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a test coroutine; every client made meanwhile is closed on the same loop, pass or fail."""

    async def wrapper() -> T:
        try:
            return await coro
        finally:
            while _open_clients:
                await _open_clients.pop().aclose()

    return asyncio.run(wrapper())


def sim_endpoints(sim: SimulatorServer) -> Endpoints:
    return Endpoints.for_environment(
        "simulator", api_url=sim.base_url, auth_url=sim.base_url, trading_url=sim.trading_url
    )


def make_client(sim: SimulatorServer, *, timeout_s: float = 5.0, **kw: Any) -> EbayClient:
    client = EbayClient(
        endpoints=sim_endpoints(sim), client_id="sim-client", runame="sim-runame",
        secrets=SecretStore("simulator"), client_secret="sim-secret", timeout_s=timeout_s,
        retry=kw.pop("retry", FAST_RETRY), **kw,
    )
    _open_clients.append(client)
    return client


async def consent_redirect(client: EbayClient, url: str) -> str:
    """What the browser would land on: the Location of the auto-approving consent page."""
    reply = await client.http.get(url)
    assert reply.status_code == 302, reply.text
    return reply.headers["location"]


async def link(client: EbayClient, user: str = "demo") -> EbayUser:
    linker = AccountLinker(client)
    url = linker.start({"sim_user": user} if user != "demo" else None)
    return await linker.complete(await consent_redirect(client, url))


def ctl(sim: SimulatorServer, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    reply = httpx.request(method, sim.base_url + path, json=body, timeout=10)
    assert reply.status_code < 400, reply.text
    return reply.json() if reply.content else None
