"""``sniper-app simulator`` / ``python -m sniper_app.simulator``: run the simulated eBay until stopped."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from types import FrameType

from .server import SimulatorServer
from .world import CLIENT_ID, CLIENT_SECRET, DEMO_USER, RUNAME


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sniper-app simulator", description="Run a local simulated eBay.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="HTTP port (0 = pick a free one)")
    parser.add_argument("--sntp-port", type=int, default=0, help="SNTP UDP port (0 = pick a free one)")
    parser.add_argument("--scenario", choices=["demo", "empty"], default="demo")
    parser.add_argument("--clock-offset", type=float, default=0.0, help="seconds added to this machine's clock")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="round-trip latency added to each request")
    parser.add_argument("--jitter-ms", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--no-auto-approve", action="store_true",
                        help="show an Agree button on the consent page instead of approving at once")
    parser.add_argument("--json", action="store_true", help="print the start-up line as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sim = SimulatorServer(
        host=args.host,
        port=args.port,
        sntp_port=args.sntp_port,
        scenario=args.scenario,
        clock_offset=args.clock_offset,
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        auto_approve=not args.no_auto_approve,
        seed=args.seed,
    )
    sim.start()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    info = {
        "base_url": sim.base_url,
        "trading_url": sim.trading_url,
        "sntp_port": sim.sntp_address[1],
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "runame": RUNAME,
        "user": DEMO_USER,
    }
    if args.json:
        print(json.dumps(info), flush=True)
    else:
        print(f"eBay simulator at {sim.base_url} (Trading {sim.trading_url}), SNTP on udp port {info['sntp_port']}")
        print(f"demo credentials: client id {CLIENT_ID}, client secret {CLIENT_SECRET}, RuName {RUNAME}, "
              f"user {DEMO_USER}")
        print("Ctrl+C to stop.", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
