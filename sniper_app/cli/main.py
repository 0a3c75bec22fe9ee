"""The command line: every action of the app, usable with or without the window running.

Exit codes: 0 success, 1 a failure the user did not cause directly (eBay refused, network), 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sniper_app import __version__
from sniper_app.cli import account, config, diagnostics, exposure, group, history, remote, snipe, stats, watchlist
from sniper_app.cli.output import EXIT_BAD_INPUT, EXIT_FAILURE, Output, UsageError
from sniper_app.cli.parsing import CommandParser, Handler, listen_arg
from sniper_app.cli.run import _run_engine
from sniper_app.domain.errors import InputError, SniperError


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="sniper-app",
        description="Sniper: places your maximum bid on eBay auctions seconds before they end.",
    )
    parser.add_argument("--version", action="version", version=f"sniper-app {__version__}")
    parser.add_argument(
        "--log-level", default=None, choices=("DEBUG", "INFO", "WARNING", "ERROR"), type=str.upper,
        help="how much to log (file and stderr)",
    )
    parser.add_argument(
        "--headless", action="store_true", help="run the sniping engine without a window until Ctrl+C or SIGTERM"
    )
    parser.add_argument(
        "--listen", metavar="[HOST:]PORT", type=listen_arg,
        help="with --headless: serve the engine to paired desktops over HTTPS (127.0.0.1 unless a host is "
        "given; see 'sniper-app remote invite')",
    )
    parser.add_argument(
        "--demo", action="store_true",
        help="alone: open the window on a bundled simulated eBay (demo data kept apart; with --headless, no "
        "window); with a command: act on the running demo",
    )
    parser.add_argument(
        "--minimized", action="store_true", help="start in the tray without showing the window"
    )
    parser.add_argument(
        "--selftest", action="store_true",
        help="offscreen smoke test: snipe one short auction on the bundled simulator with private temporary "
        "data, then exit 0 (or 1 naming the failed step)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CommandParser)

    config.add_commands(sub)

    # Listed here for --help only: main() hands "simulator ..." to the simulator's own parser.
    sub.add_parser("simulator", help="run the local eBay simulator (see 'sniper-app simulator --help')")

    snipe.add_commands(sub)
    history.add_commands(sub)
    watchlist.add_commands(sub)
    account.add_commands(sub)
    group.add_commands(sub)
    exposure.add_commands(sub)
    diagnostics.add_commands(sub)
    stats.add_commands(sub)
    remote.add_commands(sub)
    # Imported here: the secrets commands load the eBay client (httpx and all), which the simulator does not need.
    from sniper_app.cli import secrets

    secrets.add_commands(sub)
    return parser


def _simulator_argv(argv: list[str]) -> list[str] | None:
    """The simulator's own arguments when the command is ``simulator``: argparse's REMAINDER cannot pass
    options such as ``--port`` through a sub-command, so the simulator parses them itself."""
    i = 0
    while i < len(argv) and argv[i].startswith("--log-level"):
        i += 1 if "=" in argv[i] else 2
    if i < len(argv) and argv[i] == "simulator":
        return argv[i + 1 :]
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    sim_argv = _simulator_argv(argv)
    if sim_argv is not None:
        from sniper_app.simulator.cli import main as simulator_main

        code: int = simulator_main(sim_argv)
        return code
    out = Output(as_json="--json" in argv)
    try:
        args = build_parser().parse_args(argv)
        handler: Handler | None = getattr(args, "handler", None)
        if handler is None and args.command is not None:
            # Only the bare program (with --headless or --demo) runs an engine; a command never does.
            raise UsageError(f"Say what to do. Try 'sniper-app {args.command} --help'.")
        if handler is None:
            if args.selftest:
                from sniper_app.selftest import run_selftest

                return run_selftest()
            return _run_engine(args, out)
        if args.headless:
            raise UsageError("--headless runs the engine and takes no command; run commands from another terminal.")
        if args.listen is not None:
            raise UsageError("--listen goes with --headless, which runs the engine and takes no command.")
        if args.demo:
            from sniper_app import paths

            paths.use_demo_config()  # a --demo command reads and saves the demo's settings, never the real ones
        return handler(args, out)
    except InputError as exc:
        return out.error(str(exc), EXIT_BAD_INPUT)
    except SniperError as exc:
        return out.error(str(exc), EXIT_FAILURE)
    except KeyboardInterrupt:
        return 130

