"""The argument parser's pieces every command group uses: one-sentence usage errors and checked argument types."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import NoReturn

from sniper_app.cli.output import Output, UsageError
from sniper_app.domain.text import MAX_GROUP_SIZE


class CommandParser(argparse.ArgumentParser):
    # argparse prints and exits on its own; we want one sentence and exit code 2 through our own path,
    # in JSON too when --json was asked for.
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message[0].upper()}{message[1:]}. Try '{self.prog} --help'.")


Handler = Callable[[argparse.Namespace, Output], int]


def json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")


# SQLite's integers are 64-bit: anything larger can name no row and would overflow on the way in.
_MAX_ID = 2**63 - 1


def _shown_arg(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:20]}…"


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{_shown_arg(text)}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{_shown_arg(text)}' must be 1 or more")
    if value > _MAX_ID:
        raise argparse.ArgumentTypeError(f"'{_shown_arg(text)}' is far too large to be one")
    return value


def wins_arg(text: str) -> int:
    value = positive_int(text)
    if value > MAX_GROUP_SIZE:
        raise argparse.ArgumentTypeError(
            f"a group holds at most {MAX_GROUP_SIZE} snipes, so it can aim to win at most {MAX_GROUP_SIZE}"
        )
    return value


def seconds_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{_shown_arg(text)}' is not a number of seconds") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"'{_shown_arg(text)}' is not a number of seconds")
    return value


def lead_arg(text: str) -> float | str:
    return "auto" if text.strip().lower() == "auto" else seconds_arg(text)


def listen_arg(text: str) -> str:
    from sniper_app.config import DEFAULT_LISTEN_PORT
    from sniper_app.remote.invite import InviteError, parse_listen

    try:
        return str(parse_listen(text, default_port=DEFAULT_LISTEN_PORT))
    except InviteError as exc:
        raise argparse.ArgumentTypeError(str(exc).rstrip(".")) from None


def missing_action(parser: argparse.ArgumentParser) -> Handler:
    def handler(args: argparse.Namespace, out: Output) -> int:
        raise UsageError(f"Say what to do. Try '{parser.prog} --help'.")

    return handler

