"""The command line: every action of the app, usable with or without the window running.

Exit codes: 0 success, 1 a failure the user did not cause directly (eBay refused, network), 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TextIO

from sniper_app import __version__
from sniper_app.domain.errors import InputError, SniperError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


class UsageError(InputError):
    """The command line itself is wrong (unknown option, missing argument)."""


class _Parser(argparse.ArgumentParser):
    # argparse prints and exits on its own; we want one sentence and exit code 2 through our own path,
    # in JSON too when --json was asked for.
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message[0].upper()}{message[1:]}. Try '{self.prog} --help'.")


class Output:
    """Writes results and errors as text or, with ``--json``, as JSON lines."""

    def __init__(self, as_json: bool, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.as_json = as_json
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def result(self, data: Any, text: str) -> None:
        if self.as_json:
            print(json.dumps(data, default=str), file=self.out)
        else:
            print(text, file=self.out)

    def error(self, message: str, code: int) -> int:
        if self.as_json:
            print(json.dumps({"error": message, "exit_code": code}), file=self.err)
        else:
            print(f"sniper-app: {message}", file=self.err)
        return code


Handler = Callable[[argparse.Namespace, Output], int]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sniper-app",
        description="Sniper: places your maximum bid on eBay auctions seconds before they end.",
    )
    parser.add_argument("--version", action="version", version=f"sniper-app {__version__}")
    parser.add_argument(
        "--log-level", default=None, choices=("DEBUG", "INFO", "WARNING", "ERROR"), type=str.upper,
        help="how much to log (file and stderr)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    config = sub.add_parser("config", help="show or change settings")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", parser_class=_Parser)
    show = config_sub.add_parser("show", help="print the settings in force")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=_config_show)
    set_ = config_sub.add_parser("set", help="save a setting, e.g. 'config set default_lead_seconds 7'")
    set_.add_argument("field")
    set_.add_argument("value")
    set_.add_argument("--json", action="store_true", help="print JSON")
    set_.set_defaults(handler=_config_set)
    path = config_sub.add_parser("path", help="print where settings, data and logs are kept")
    path.add_argument("--json", action="store_true", help="print JSON")
    path.set_defaults(handler=_config_path)

    sim = sub.add_parser("simulator", help="run the local eBay simulator", add_help=False)
    sim.add_argument("sim_args", nargs=argparse.REMAINDER)
    sim.set_defaults(handler=_simulator)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    out = Output(as_json="--json" in argv)
    try:
        args = build_parser().parse_args(argv)
        handler: Handler | None = getattr(args, "handler", None)
        if handler is None:
            build_parser().print_help()
            return EXIT_OK
        return handler(args, out)
    except InputError as exc:
        return out.error(str(exc), EXIT_BAD_INPUT)
    except SniperError as exc:
        return out.error(str(exc), EXIT_FAILURE)
    except KeyboardInterrupt:
        return 130


# --- config ---------------------------------------------------------------------------------------


def _config_show(args: argparse.Namespace, out: Output) -> int:
    from sniper_app.config import load_settings

    settings = load_settings()
    data = settings.model_dump(mode="json")
    out.result(data, "\n".join(f"{key} = {'' if value is None else value}" for key, value in data.items()))
    return EXIT_OK


def _config_set(args: argparse.Namespace, out: Output) -> int:
    from sniper_app.config import FIELDS, SettingsError, save_settings

    if args.field not in FIELDS:
        raise SettingsError(f"Unknown setting '{args.field}'. Settings are: {', '.join(FIELDS)}.")
    value: Any = None if args.value == "" else args.value
    settings = save_settings({args.field: value})
    saved = getattr(settings, args.field)
    out.result({args.field: json.loads(settings.model_dump_json(include={args.field}))[args.field]},
               f"{args.field} = {saved}")
    return EXIT_OK


def _config_path(args: argparse.Namespace, out: Output) -> int:
    from sniper_app import paths
    from sniper_app.config import load_settings, settings_path

    data = {
        "settings": str(settings_path()),
        "data": str(load_settings().resolved_data_dir()),
        "logs": str(paths.log_dir()),
    }
    out.result(data, "\n".join(f"{key}: {value}" for key, value in data.items()))
    return EXIT_OK


# --- simulator ------------------------------------------------------------------------------------


def _simulator(args: argparse.Namespace, out: Output) -> int:
    from sniper_app.simulator.cli import main as simulator_main

    code: int = simulator_main(args.sim_args)
    return code
