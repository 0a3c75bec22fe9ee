"""Arrival precision of the fire path: fires scheduled over a window against a server in its own process
that timestamps each complete request; meanwhile a thread standing in for the Qt GUI thread hogs the GIL
with pure-Python work for ``--ui-stall-ms`` every 2 s. error = arrival − send_at (same machine clock).

    python -m tests.bench.fire_micro [--fires 200] [--window 30] [--burst 1] [--ui-stall-ms 300]

``--burst N`` puts the fires in groups of N sharing one second (random instants inside it);
``--same-instant`` gives each group one single instant (the worst case: N sends back to back).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time

from sniper_app.engine.fire import Firer, FireRequest
from tests.support.arrival_server import ArrivalProcess


def _stall(stop: threading.Event, stall_s: float, period_s: float) -> None:
    """Pure-Python arithmetic (holds the GIL, never sleeps) for stall_s every period_s."""
    while not stop.is_set():
        start = time.perf_counter()
        x = 0
        while time.perf_counter() - start < stall_s:
            for i in range(2000):
                x += i * i % 7
        stop.wait(max(0.0, period_s - stall_s))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--fires", type=int, default=200)
    ap.add_argument("--window", type=float, default=30.0)
    ap.add_argument("--burst", type=int, default=1)
    ap.add_argument("--same-instant", action="store_true")
    ap.add_argument("--ui-stall-ms", type=float, default=300.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--switch-interval-ms", type=float, default=0.5, help="lowered interval for the approach")
    ap.add_argument("--spin-ms", type=float, default=2.0)
    args = ap.parse_args(argv)

    rnd = random.Random(args.seed)
    server = ArrivalProcess()
    firer = Firer(switch_interval_s=args.switch_interval_ms / 1000, spin_s=args.spin_ms / 1000)
    firer.start()
    stop = threading.Event()
    staller = threading.Thread(target=_stall, args=(stop, args.ui_stall_ms / 1000, 2.0), daemon=True)
    if args.ui_stall_ms > 0:
        staller.start()
    try:
        start = time.time() + 3.0  # lets the warmer open the first connections
        instants: list[float] = []
        if args.burst <= 1:
            instants = [start + rnd.random() * args.window for _ in range(args.fires)]
        else:
            groups = max(1, args.fires // args.burst)
            for g in range(groups):
                second = start + max(0.0, args.window - 1.0) * g / groups
                base = second + rnd.random()
                instants += [base if args.same_instant else second + rnd.random() for _ in range(args.burst)]
        body = json.dumps({"maxAmount": {"value": "123.45", "currency": "USD"}}).encode()
        futures = []
        for i, at in enumerate(instants):
            req = FireRequest(
                fire_id=f"f{i}",
                send_at=at,
                url=server.url,
                method="POST",
                path=f"/buy/offer/v1_beta/bidding/v1%7C{i}%7C0/place_proxy_bid",
                headers={
                    "Authorization": "Bearer bench-token-not-a-secret",
                    "Content-Type": "application/json",
                    "X-EBAY-C-MARKETPLACE-ID": "EBAY_US",
                },
                body=body,
                retry_until=at + 1.0,
                timeout_s=5.0,
            )
            futures.append(firer.schedule(req))
        results = [f.result(args.window + 30) for f in futures]
        arrived = {path: at for path, at in reversed(server.arrivals())}  # first arrival per path
    finally:
        stop.set()
        firer.stop()
        server.stop()

    errors = []
    for i, at in enumerate(instants):
        path = f"/buy/offer/v1_beta/bidding/v1%7C{i}%7C0/place_proxy_bid"
        if path in arrived:
            errors.append((arrived[path] - at) * 1000)
    # When the send began, by our own clock: separates our lateness from the server's reading delay.
    sends = [(r.attempts[0].sent_at - at) * 1000 for r, at in zip(results, instants, strict=True)
             if r.attempts and r.attempts[0].sent_at is not None]
    abs_err = [abs(e) for e in errors] or [float("nan")]
    print(
        json.dumps(
            {
                "fires": len(instants),
                "sent": sum(r.sent for r in results),
                "arrived": len(errors),
                "ui_stall_ms": args.ui_stall_ms,
                "burst": args.burst,
                "same_instant": args.same_instant,
                "error_p50_ms": round(statistics.median(errors), 3) if errors else None,
                "error_p99_ms": round(_pct(errors, 0.99), 3) if errors else None,
                "error_max_ms": round(max(errors), 3) if errors else None,
                "error_min_ms": round(min(errors), 3) if errors else None,
                "abs_p99_ms": round(_pct(abs_err, 0.99), 3),
                "late_over_10ms": sum(e > 10 for e in errors),
                "send_start_p99_ms": round(_pct(sends, 0.99), 3) if sends else None,
                "switch_interval_ms": args.switch_interval_ms,
                "loadavg_1m": round(os.getloadavg()[0], 2),
            }
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
