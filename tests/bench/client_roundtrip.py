"""Loopback round trip of a getBidding through the real client against the simulator (no added latency).

Run: python -m tests.bench.client_roundtrip  — prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time

CALLS = 200


def main() -> None:
    workdir = tempfile.mkdtemp(prefix="sniper-bench-")
    os.environ["PYTHON_KEYRING_BACKEND"] = "tests.support.keyring_backend.FileKeyring"
    os.environ["SNIPER_TEST_KEYRING_FILE"] = os.path.join(workdir, "keyring.json")

    from sniper_app.domain.money import Money
    from sniper_app.simulator import SimulatorServer
    from tests.support.ebay import link, make_client

    with SimulatorServer(scenario="empty") as sim:
        auction = sim.create_auction(start_price="10.00", ends_in=3600)

        async def go() -> dict[str, float]:
            client = make_client(sim)
            try:
                await link(client)
                await client.place_proxy_bid(auction["item_id"], Money.of("20.00", "USD"))
                await client.warm_up()
                for _ in range(10):
                    await client.get_bidding(auction["item_id"])
                rtts = []
                started = time.perf_counter()
                for _ in range(CALLS):
                    status = await client.get_bidding(auction["item_id"])
                    assert status.timing is not None
                    rtts.append(status.timing.rtt_s * 1000)
                total = time.perf_counter() - started
            finally:
                await client.aclose()
            rtts.sort()
            return {
                "p50_ms": round(statistics.median(rtts), 3),
                "p99_ms": round(rtts[int(len(rtts) * 0.99) - 1], 3),
                "min_ms": round(rtts[0], 3),
                "max_ms": round(rtts[-1], 3),
                "calls_per_s": round(CALLS / total, 1),
            }

        figures = asyncio.run(go())
    print(json.dumps({"bench": "client_roundtrip", "call": "getBidding", "calls": CALLS, **figures}))


if __name__ == "__main__":
    sys.exit(main())
