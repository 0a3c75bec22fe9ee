"""Throughput of the simulator: requests/s and latency percentiles over keep-alive connections.

Runs the simulator as its own process (the CLI) and drives it from here with httpx for a bounded time,
mixing getItem, getBidding and placeProxyBid. Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import time
from urllib.parse import parse_qs, quote, urlparse

import httpx

DURATION_S = float(os.environ.get("BENCH_DURATION_S", "10"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "16"))
SCOPES = ("https://api.ebay.com/oauth/api_scope https://api.ebay.com/oauth/api_scope/buy.offer.auction")


def user_token(base: str, user: str) -> str:
    httpx.post(base + "/_sim/users", json={"username": user})
    r = httpx.get(base + "/oauth2/authorize", params={
        "client_id": "sim-client", "redirect_uri": "sim-runame", "response_type": "code", "scope": SCOPES,
        "state": "b", "sim_user": user})
    code = parse_qs(urlparse(r.headers["location"]).query)["code"][0]
    basic = base64.b64encode(b"sim-client:sim-secret").decode()
    tok = httpx.post(base + "/identity/v1/oauth2/token", headers={"Authorization": f"Basic {basic}"},
                     data={"grant_type": "authorization_code", "code": code, "redirect_uri": "sim-runame"})
    return str(tok.json()["access_token"])


async def worker(
    client: httpx.AsyncClient, base: str, token: str, item: str, deadline: float, lat: list[float], errs: list[int]
) -> None:
    headers = {"Authorization": f"Bearer {token}", "X-EBAY-C-MARKETPLACE-ID": "EBAY_US"}
    enc = quote(item, safe="")
    cents = 1000
    n = 0
    while time.perf_counter() < deadline:
        kind = n % 3
        n += 1
        t0 = time.perf_counter()
        try:
            if kind == 0:
                r = await client.get(f"{base}/buy/browse/v1/item/{enc}", headers=headers)
                ok = r.status_code == 200
            elif kind == 1:
                cents += 100
                body = {"maxAmount": {"currency": "USD", "value": f"{cents // 100}.{cents % 100:02d}"}}
                r = await client.post(f"{base}/buy/offer/v1_beta/bidding/{enc}/place_proxy_bid", json=body,
                                      headers=headers)
                ok = r.status_code < 500
            else:
                r = await client.get(f"{base}/buy/offer/v1_beta/bidding/{enc}", headers=headers)
                ok = r.status_code < 500  # 404 120033 is eBay's answer for a bidder whose bids were all too low
        except httpx.HTTPError:
            ok = False
        lat.append(time.perf_counter() - t0)
        if not ok:
            errs.append(1)


async def drive(base: str, tokens: list[str], items: list[str]) -> dict[str, float]:
    lat: list[float] = []
    errs: list[int] = []
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        start = time.perf_counter()
        deadline = start + DURATION_S
        await asyncio.gather(*(worker(client, base, tokens[i], items[i % len(items)], deadline, lat, errs)
                               for i in range(CONCURRENCY)))
        elapsed = time.perf_counter() - start
    lat.sort()
    return {
        "requests_per_s": round(len(lat) / elapsed, 1),
        "p50_ms": round(lat[len(lat) // 2] * 1000, 2),
        "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 2),
        "errors": len(errs),
        "requests": len(lat),
        "duration_s": round(elapsed, 2),
        "concurrency": CONCURRENCY,
    }


def main() -> int:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sniper_app.simulator", "--scenario", "empty", "--json"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        base = info["base_url"]
        items = []
        for i in range(4):
            r = httpx.post(base + "/_sim/auctions", json={"title": f"Bench {i}", "start_price": "5.00",
                                                         "ends_in": 3600})
            items.append(r.json()["item_id"])
        tokens = [user_token(base, f"bench{i}") for i in range(CONCURRENCY)]
        result = asyncio.run(drive(base, tokens, items))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
