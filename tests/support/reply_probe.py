"""Fetch one eBay reply in a process of its own and report how much memory it took, as one JSON line.

Run as ``python -m tests.support.reply_probe BASE_URL CALL`` (CALL: ``item`` or ``watchlist``); the keyring
file and data dirs come from the environment, as for any test subprocess.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sniper_app.ebay import EbayClient, EbayError, Endpoints, SecretStore, StoredToken, UserTokens
from tests.support.ebay import FAST_RETRY


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kilobytes
    raise LookupError(field)


def _reset_peak() -> float:
    """Start a new peak (VmHWM) from the memory in use now; returns that baseline in MB."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


async def probe(base_url: str, call: str) -> dict[str, object]:
    endpoints = Endpoints.for_environment(
        "custom", api_url=base_url, auth_url=base_url, trading_url=base_url + "/ws/api.dll"
    )
    client = EbayClient(endpoints=endpoints, client_id="cid", runame="run", secrets=SecretStore("custom"),
                        client_secret="probe-client-secret", retry=FAST_RETRY, timeout_s=60)
    expires = datetime.now(UTC) + timedelta(hours=2)
    await client.store_tokens("prober", UserTokens(StoredToken("probe-access", expires),
                                                   StoredToken("probe-refresh", expires + timedelta(days=500))))
    base = _reset_peak()
    start = time.monotonic()
    outcome: dict[str, object]
    try:
        if call == "item":
            item = await client.get_item("v1|123456789012|0")
            outcome = {"title": item.title}
        else:
            watch = await client.get_watch_list()
            outcome = {"items": len(watch.items)}
    except EbayError as exc:
        outcome = {"error": type(exc).__name__, "message": str(exc)}
    finally:
        await client.aclose()
    return outcome | {"rss_growth_mb": round(_status_mb("VmHWM") - base, 1),
                      "seconds": round(time.monotonic() - start, 2)}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(probe(sys.argv[1], sys.argv[2]))))
