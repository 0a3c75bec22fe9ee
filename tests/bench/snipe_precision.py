"""How close to ``end − lead`` (on eBay's clock) the real engine's bids arrive, with a stalled UI thread.

    python -m tests.bench.snipe_precision [--snipes 200 --window 30 --burst 1 --lead 2 --clock-offset 2.5
        --latency-ms 40 --jitter-ms 5 --ui-stall-ms 300 --no-compensation --with-window --preflight-hang]

The simulator runs in its own process; arrival instants come from its request log (its own clock).
``--with-window`` runs the engine as the app does: on a qasync loop, with the main window open (offscreen)
over the same store and events, and the stall made on the GUI thread itself (which is the loop's thread)
by a timer that blocks it; without it, a plain asyncio loop and a stall thread that holds the GIL.
``--preflight-hang`` makes the simulator drip every item read (the preflight's) one byte every 5 s: the
bids must still leave on time, on the last known facts.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_TMP = Path(tempfile.mkdtemp(prefix="sniper-bench-"))
# Before anything imports keyring: a private file keyring, private dirs.
os.environ["PYTHON_KEYRING_BACKEND"] = "tests.support.keyring_backend.FileKeyring"
os.environ["SNIPER_TEST_KEYRING_FILE"] = str(_TMP / "keyring.json")
for _name in ("DATA", "CONFIG", "LOG"):
    os.environ[f"SNIPER_{_name}_DIR"] = str(_TMP / _name.lower())

import httpx  # noqa: E402

from sniper_app.config import Settings  # noqa: E402
from sniper_app.ebay import AccountLinker, EbayClient, Endpoints, SecretStore  # noqa: E402
from sniper_app.engine.engine import Engine  # noqa: E402
from sniper_app.store import Store  # noqa: E402


def _stall(stop: threading.Event, stall_s: float) -> None:
    """Every 2 s, hold the interpreter with pure-Python work for ``stall_s`` (a sleep would prove nothing)."""
    while not stop.wait(2.0):
        until = time.perf_counter() + stall_s
        x = 0
        while time.perf_counter() < until:
            for i in range(200):
                x += i * i


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sniper_app.simulator", "--port", "0", "--sntp-port", "0", "--scenario", "empty",
         "--clock-offset", str(args.clock_offset), "--latency-ms", str(args.latency_ms),
         "--jitter-ms", str(args.jitter_ms), "--json"],
        stdout=subprocess.PIPE, text=True,
    )
    stop = threading.Event()
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        base = info["base_url"]
        endpoints = Endpoints.for_environment("simulator", api_url=base, auth_url=base, trading_url=info["trading_url"])
        client = EbayClient(endpoints=endpoints, client_id=info["client_id"], runame=info["runame"],
                            secrets=SecretStore("simulator"), client_secret=info["client_secret"])
        store = Store.open(_TMP)
        linker = AccountLinker(client)
        redirect = (await client.http.get(linker.start())).headers["location"]
        user = await linker.complete(redirect)
        local = store.get_or_create_user()
        store.link_ebay_account(int(local.id), ebay_username=user.username, ebay_user_id=user.user_id)
        settings = Settings(
            data_dir=_TMP, ebay_env="simulator", ebay_api_url=base, ebay_auth_url=base,
            ebay_trading_url=info["trading_url"], ebay_client_id=info["client_id"], ebay_runame=info["runame"],
            time_server=f"127.0.0.1:{info['sntp_port']}", min_seconds_before_end=10,
        )
        lead_in = 15.0
        ends: dict[str, float] = {}
        async with httpx.AsyncClient(base_url=base, timeout=30) as ctl:
            for i in range(args.snipes):
                slot = i // args.burst
                slots = max(1, (args.snipes + args.burst - 1) // args.burst)
                offset_in_slot = (i % args.burst) / args.burst  # a burst shares one end second
                ends_in = lead_in + slot * (args.window / slots) + offset_in_slot
                reply = (await ctl.post("/_sim/auctions", json={"title": f"bench {i}", "start_price": "1.00",
                                                                  "ends_in": ends_in})).json()
                ends[reply["item_id"]] = reply["end_epoch"]
                store.create_snipe(
                    int(local.id), legacy_item_id=reply["legacy_item_id"], rest_item_id=reply["item_id"],
                    currency="USD", max_bid_minor=10_000, lead_seconds=args.lead, title=f"bench {i}",
                    end_time=datetime.fromtimestamp(reply["end_epoch"], UTC),
                )
            if args.preflight_hang:
                await ctl.post("/_sim/faults", json={"kind": "drip", "method": "GET", "path": "^/buy/browse/v1/item/",
                                                     "count": 100_000, "drip_s": 5})
        engine = Engine(settings, store, user_id=int(local.id), client=client, compensate=not args.no_compensation,
                        preflight_s=10.0)
        window = None
        if args.with_window:
            window = _open_window(settings, store, int(local.id), client, engine, args.ui_stall_ms / 1000)
        elif args.ui_stall_ms > 0:
            threading.Thread(target=_stall, args=(stop, args.ui_stall_ms / 1000), daemon=True).start()
        await engine.start()
        last_end = max(ends.values())
        # Sim clock = local + offset: wait (polling the database) until every auction ended and settled.
        deadline = time.time() + (last_end - args.clock_offset - time.time()) + 15
        while time.time() < deadline:
            await asyncio.sleep(0.5)
            pending = store.list_snipes(status=["PENDING", "SCHEDULED", "PLACING"])
            if not pending and time.time() > last_end - args.clock_offset + 1:
                break
        stop.set()
        statuses = [s.status for s in store.list_snipes()]
        # Our own side of the error: when the bytes left versus when they were planned to (local clock).
        send_errors = {
            s.rest_item_id: (s.sent_at - s.planned_at).total_seconds() * 1000
            for s in store.list_snipes()
            if s.sent_at is not None and s.planned_at is not None
        }
        if window is not None:
            window.stall_timer.stop()
            window.allow_close()
            window.shutdown()
            window.close()
        await engine.stop()
        requests = httpx.get(base + "/_sim/requests", timeout=30).json()["requests"]
        await client.aclose()
        store.close()
    finally:
        stop.set()
        proc.terminate()
        proc.wait(10)
    first: dict[str, float] = {}
    for r in requests:
        if r["method"] == "POST" and r["path"].endswith("/place_proxy_bid"):
            item = r["path"].split("/bidding/")[1].split("/")[0].replace("%7C", "|")
            first.setdefault(item, r["arrival_epoch"])
    errors = [(first[i] - (ends[i] - args.lead)) * 1000 for i in first if i in ends]
    late = sum(1 for i in first if first[i] >= ends[i])
    absolute = sorted(abs(e) for e in errors)

    def pct(p: float) -> float | None:
        if not absolute:
            return None
        return round(absolute[min(len(absolute) - 1, int(p * len(absolute)))], 3)

    return {
        "snipes": args.snipes,
        "placed": sum(1 for s in statuses if s in ("PLACED", "WON", "LOST")),
        "missed": args.snipes - len(first),
        "late": late,
        "error_p50_ms": pct(0.5),
        "error_p99_ms": pct(0.99),
        "error_max_ms": round(absolute[-1], 3) if absolute else None,
        "error_mean_signed_ms": round(statistics.fmean(errors), 3) if errors else None,
        "worst_signed_ms": [round(e, 1) for e in sorted(errors, key=abs)[-5:]],
        "worst_order": sorted(sorted(ends, key=lambda i: ends[i]).index(i) for i in first
                              if abs(first[i] - (ends[i] - args.lead)) * 1000 >= sorted(absolute)[-5]),
        "send_error_p99_ms": round(sorted(abs(e) for e in send_errors.values())[int(0.99 * len(send_errors))], 3)
        if send_errors else None,
        "send_error_max_ms": round(max(abs(e) for e in send_errors.values()), 3) if send_errors else None,
        "worst_send_error_ms": [round(send_errors.get(i, float("nan")), 1)
                                for i in sorted(first, key=lambda i: abs(first[i] - (ends[i] - args.lead)))[-5:]],
        "statuses": {s: statuses.count(s) for s in sorted(set(statuses))},
        "options": {k: v for k, v in vars(args).items()},
    }


def _open_window(
    settings: Settings, store: Store, user_id: int, client: EbayClient, engine: Engine, stall_s: float
) -> Any:
    """The main window over the engine, shown, and a timer that blocks the GUI thread every 2 s."""
    from sniper_app.engine.service import SniperService
    from sniper_app.ui.main_window import MainWindow
    from sniper_app.ui.qt import QtCore

    service = SniperService(settings, store, user_id=user_id, client=client, engine=engine, bus=engine.bus,
                            metrics=engine.metrics, data_dir=_TMP)
    window = MainWindow(service, engine.bus, settings, user_id, service=service)
    window.show()

    def block() -> None:
        until = time.perf_counter() + stall_s
        x = 0
        while time.perf_counter() < until:
            for i in range(200):
                x += i * i

    window.stall_timer = QtCore.QTimer(window)
    window.stall_timer.setInterval(2000)
    window.stall_timer.timeout.connect(block)
    if stall_s > 0:
        window.stall_timer.start()
    return window


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.snipe_precision")
    parser.add_argument("--snipes", type=int, default=200)
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--burst", type=int, default=1)
    parser.add_argument("--lead", type=float, default=2.0)
    parser.add_argument("--clock-offset", type=float, default=2.5)
    parser.add_argument("--latency-ms", type=float, default=40.0)
    parser.add_argument("--jitter-ms", type=float, default=5.0)
    parser.add_argument("--ui-stall-ms", type=float, default=300.0)
    parser.add_argument("--no-compensation", action="store_true")
    parser.add_argument("--with-window", action="store_true", help="the app's qasync loop with the window open")
    parser.add_argument("--preflight-hang", action="store_true", help="the simulator drips every item read")
    args = parser.parse_args()
    if not args.with_window:
        print(json.dumps(asyncio.run(_run(args))), flush=True)
        return
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["SNIPER_CACHE_DIR"] = str(_TMP / "cache")
    from sniper_app.ui.qt import QtWidgets

    qasync = importlib.import_module("qasync")  # only after the binding is chosen

    app = QtWidgets.QApplication([])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        print(json.dumps(loop.run_until_complete(_run(args))), flush=True)


if __name__ == "__main__":
    main()
