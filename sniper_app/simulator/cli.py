"""``sniper-app simulator`` / ``python -m sniper_app.simulator``: run the simulated eBay until stopped."""

from __future__ import annotations

import argparse
import json
import math
import signal
import socket
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import NoReturn

from .server import SimulatorServer
from .world import CLIENT_ID, CLIENT_SECRET, DEMO_USER, RUNAME

EXIT_BAD_INPUT = 2
# A clock offset beyond a year is a typo, and far enough out a datetime overflows and every reply is a 500.
_MAX_CLOCK_OFFSET_S = 366 * 86400.0


class _Parser(argparse.ArgumentParser):
    # One sentence and exit 2, like the app's own commands, instead of argparse's usage dump.
    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message[0].upper()}{message[1:]}. Try '{self.prog} --help'.", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text[:20]}' is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"'{text[:20]}' is not a port: use 1 to 65535, or 0 for a free one")
    return value


def _number(low: float, high: float, what: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text[:20]}' is not a number of {what}") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"'{text[:20]}' must be a number of {what} from {low:.0f} to {high:.0f}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sniper-app simulator", description="Run a local simulated eBay.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=_port, default=0, help="HTTP port (0 = pick a free one)")
    parser.add_argument("--sntp-port", type=_port, default=0, help="SNTP UDP port (0 = pick a free one)")
    parser.add_argument("--scenario", choices=["demo", "empty"], default="demo")
    parser.add_argument("--clock-offset", type=_number(-_MAX_CLOCK_OFFSET_S, _MAX_CLOCK_OFFSET_S, "seconds"),
                        default=0.0, help="seconds added to this machine's clock")
    parser.add_argument("--latency-ms", type=_number(0, 60_000, "milliseconds"), default=0.0,
                        help="round-trip latency added to each request")
    parser.add_argument("--jitter-ms", type=_number(0, 60_000, "milliseconds"), default=0.0)
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
    try:
        sim.start()
    except socket.gaierror:
        return _refuse(f"The host '{args.host}' cannot be resolved to an address on this machine.")
    except OSError as exc:
        return _refuse(
            f"The simulator cannot listen on {args.host} port {args.port} or SNTP port {args.sntp_port} "
            f"({exc.strerror or exc}); pick other ports, or 0 for free ones."
        )
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


def _refuse(sentence: str) -> int:
    print(f"sniper-app simulator: {sentence}", file=sys.stderr)
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
