"""The command line: every action of the app, usable with or without the window running.

Exit codes: 0 success, 1 a failure the user did not cause directly (eBay refused, network), 2 bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, TypeVar

from sniper_app import __version__
from sniper_app.domain.errors import InputError, SniperError
from sniper_app.domain.items import is_auction_listing
from sniper_app.domain.money import Money, names_currency, near_price, with_converted
from sniper_app.domain.rules import AUTO_LEAD
from sniper_app.domain.status import SnipeStatus
from sniper_app.domain.text import MAX_GROUP_SIZE, visible

if TYPE_CHECKING:
    from sniper_app.app import AppContext
    from sniper_app.domain.lead import LeadChoice
    from sniper_app.domain.views import HistoryEntry, SnipeView, WatchView
    from sniper_app.ebay import EbayClient
    from sniper_app.engine.reads import Reads

T = TypeVar("T")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
COMMAND_DEADLINE_S = 90.0  # SNIPER_COMMAND_DEADLINE_S may shorten it (slow-network tests, scripts)


class UsageError(InputError):
    """The command line itself is wrong (unknown option, missing argument)."""


class CommandTimedOut(SniperError):
    """A command's total deadline passed."""


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
            # Titles come from eBay and names from anyone: no escape sequence reaches the terminal.
            print(visible(text, keep_newlines=True), file=self.out)

    def error(self, message: str, code: int) -> int:
        if self.as_json:
            print(json.dumps({"error": message, "exit_code": code}), file=self.err)
        else:
            print(f"sniper-app: {visible(message)}", file=self.err)
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
    parser.add_argument(
        "--headless", action="store_true", help="run the sniping engine without a window until Ctrl+C or SIGTERM"
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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    config = sub.add_parser("config", help="show or change settings")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", parser_class=_Parser)
    config.set_defaults(handler=_missing_action(config))
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

    # Listed here for --help only: main() hands "simulator ..." to the simulator's own parser.
    sub.add_parser("simulator", help="run the local eBay simulator (see 'sniper-app simulator --help')")

    _add_snipe_commands(sub)
    _add_other_commands(sub)
    from sniper_app.secrets_cli import add_secrets_commands

    secrets = add_secrets_commands(sub, _json_flag)
    secrets.set_defaults(handler=_missing_action(secrets))
    return parser


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")


# SQLite's integers are 64-bit: anything larger can name no row and would overflow on the way in.
_MAX_ID = 2**63 - 1


def _shown_arg(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:20]}…"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{_shown_arg(text)}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{_shown_arg(text)}' must be 1 or more")
    if value > _MAX_ID:
        raise argparse.ArgumentTypeError(f"'{_shown_arg(text)}' is far too large to be one")
    return value


def _wins(text: str) -> int:
    value = _positive_int(text)
    if value > MAX_GROUP_SIZE:
        raise argparse.ArgumentTypeError(
            f"a group holds at most {MAX_GROUP_SIZE} snipes, so it can aim to win at most {MAX_GROUP_SIZE}"
        )
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{_shown_arg(text)}' is not a number of seconds") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"'{_shown_arg(text)}' is not a number of seconds")
    return value


def _lead_arg(text: str) -> float | str:
    return "auto" if text.strip().lower() == "auto" else _seconds(text)


def _add_snipe_commands(sub: Any) -> None:
    snipe = sub.add_parser("snipe", help="add, list, edit or cancel snipes")
    snipe_sub = snipe.add_subparsers(dest="snipe_command", metavar="ACTION", parser_class=_Parser)
    snipe.set_defaults(handler=_missing_action(snipe))

    add = snipe_sub.add_parser("add", help="snipe an auction: ITEM is a number, a link or an id like v1|…|0")
    add.add_argument("item", metavar="ITEM")
    add.add_argument("max", metavar="MAX", help="the most you will pay, e.g. 25.50 (in the item's currency)")
    add.add_argument("--lead", type=_lead_arg, metavar="S",
                     help="seconds before the end to bid (1–120), or 'auto': the shortest safe lead, measured")
    add.add_argument("--group", metavar="NAME", help="an existing group ('group add' creates one)")
    _json_flag(add)
    add.set_defaults(handler=_snipe_add)

    list_ = snipe_sub.add_parser("list", help="list snipes, soonest ending first")
    list_.add_argument("--status", metavar="S", help=f"only this status ({', '.join(s.value for s in SnipeStatus)})")
    _json_flag(list_)
    list_.set_defaults(handler=_snipe_list)

    cancel = snipe_sub.add_parser("cancel", help="cancel a snipe that has not fired")
    cancel.add_argument("id", type=_positive_int, metavar="ID")
    _json_flag(cancel)
    cancel.set_defaults(handler=_snipe_cancel)

    edit = snipe_sub.add_parser("edit", help="change the maximum or lead of a snipe that has not fired")
    edit.add_argument("id", type=_positive_int, metavar="ID")
    edit.add_argument("--max", metavar="M", dest="max_amount")
    edit.add_argument("--lead", type=_lead_arg, metavar="S", help="seconds (1–120) or 'auto'")
    _json_flag(edit)
    edit.set_defaults(handler=_snipe_edit)


def _add_other_commands(sub: Any) -> None:
    history = sub.add_parser("history", help="what happened, newest first")
    history.add_argument("--limit", type=_positive_int, default=50, metavar="N")
    _json_flag(history)
    history.set_defaults(handler=_history)

    watch = sub.add_parser("watchlist", help="your eBay watch list")
    watch_sub = watch.add_subparsers(dest="watch_command", metavar="ACTION", parser_class=_Parser)
    watch.set_defaults(handler=_missing_action(watch))
    sync = watch_sub.add_parser("sync", help="fetch the watch list from eBay now")
    _json_flag(sync)
    sync.set_defaults(handler=_watch_sync)
    wlist = watch_sub.add_parser("list", help="the watch list as last synced")
    _json_flag(wlist)
    wlist.set_defaults(handler=_watch_list)

    account = sub.add_parser("account", help="link, inspect or unlink your eBay account")
    account_sub = account.add_subparsers(dest="account_command", metavar="ACTION", parser_class=_Parser)
    account.set_defaults(handler=_missing_action(account))
    link = account_sub.add_parser(
        "link", help="link an eBay account: open the printed address, approve, paste where the browser lands"
    )
    halves = link.add_mutually_exclusive_group()
    halves.add_argument("--print-url", action="store_true", help="only print the consent address (first half)")
    halves.add_argument("--redirect-url", metavar="URL", help="finish with the address eBay sent you to (second half)")
    _json_flag(link)
    link.set_defaults(handler=_account_link)
    status = account_sub.add_parser("status", help="which account is linked and how its sign-in stands")
    _json_flag(status)
    status.set_defaults(handler=_account_status)
    unlink = account_sub.add_parser("unlink", help="forget the account and delete its sign-in from the keyring")
    _json_flag(unlink)
    unlink.set_defaults(handler=_account_unlink)

    group = sub.add_parser("group", help="groups of snipes: win N of these")
    group_sub = group.add_subparsers(dest="group_command", metavar="ACTION", parser_class=_Parser)
    group.set_defaults(handler=_missing_action(group))
    gadd = group_sub.add_parser("add", help="create a group")
    gadd.add_argument("name", metavar="NAME")
    gadd.add_argument("--wins", type=_wins, default=1, metavar="N", help="stop after winning N (default 1)")
    _json_flag(gadd)
    gadd.set_defaults(handler=_group_add)
    glist = group_sub.add_parser("list", help="list groups")
    _json_flag(glist)
    glist.set_defaults(handler=_group_list)

    notify = sub.add_parser("notify", help="email and tray notifications")
    notify_sub = notify.add_subparsers(dest="notify_command", metavar="ACTION", parser_class=_Parser)
    notify.set_defaults(handler=_missing_action(notify))
    ntest = notify_sub.add_parser("test", help="send a test email with the email settings in force")
    ntest.add_argument("--to", metavar="ADDRESS", help="send it here instead of email_to")
    _json_flag(ntest)
    ntest.set_defaults(handler=_notify_test)

    diag = sub.add_parser("diagnostics", help="counts, last sync and the engine's last metrics")
    _json_flag(diag)
    diag.set_defaults(handler=_diagnostics)


def _missing_action(parser: argparse.ArgumentParser) -> Handler:
    def handler(args: argparse.Namespace, out: Output) -> int:
        raise UsageError(f"Say what to do. Try '{parser.prog} --help'.")

    return handler


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
    from sniper_app.config import APPLIES, FIELDS, SettingsError, env_name, load_settings, save_settings

    if args.field not in FIELDS:
        raise SettingsError(f"Unknown setting '{args.field}'. Settings are: {', '.join(FIELDS)}.")
    value: Any = None if args.value == "" else args.value
    save_settings({args.field: value})
    # What was saved, not what is in force: a SNIPER_<FIELD> variable may override it, and that is said.
    saved_settings = load_settings(environ={})
    saved = getattr(saved_settings, args.field)
    override = os.environ.get(env_name(args.field))
    data = {args.field: json.loads(saved_settings.model_dump_json(include={args.field}))[args.field]}
    text = f"{args.field} = {'' if saved is None else saved}"
    if override is not None:
        data["overridden_by"] = env_name(args.field)
        text += f" (saved; {env_name(args.field)} overrides it while set)"
    out.result(data, text)
    # Beside the result, not in it: the result stays the saved value that scripts already read.
    applies = APPLIES[args.field]
    note = ("A running Sniper applies it within seconds." if applies == "live"
            else "A running Sniper keeps the old value until it restarts.")
    print(json.dumps({"applies": applies, "note": note}) if out.as_json else note, file=out.err)
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


# --- engine: --headless and --demo ----------------------------------------------------------------


def _announce(text: str) -> None:
    print(visible(text, keep_newlines=True), flush=True)


def _run_engine(args: argparse.Namespace, out: Output) -> int:
    from sniper_app.app import run_demo, run_headless, run_window
    from sniper_app.config import load_settings

    settings = load_settings()
    if not args.headless:
        return run_window(settings, _announce, args.log_level, demo=args.demo, minimized=args.minimized)
    if args.demo:
        return run_demo(settings, _announce, args.log_level)
    return run_headless(settings, _announce, args.log_level)


# --- shared plumbing for the commands -------------------------------------------------------------


@contextmanager
def _context(args: argparse.Namespace) -> Iterator[AppContext]:
    """The app context of this command: the running demo's with --demo, else the user's settings."""
    from sniper_app.app import app_context, running_demo_settings
    from sniper_app.config import load_settings
    from sniper_app.logging_setup import setup_logging

    if args.log_level:
        setup_logging(args.log_level)
    settings = running_demo_settings() if args.demo else load_settings()
    with app_context(settings, demo=args.demo) as ctx:
        try:
            yield ctx
        except Exception as exc:
            # Damage found past the file's header (a read of a broken page) is the same story as at opening.
            from sniper_app.engine.reads import read_failure

            failure = read_failure(exc, ctx.store.path)
            if failure is None:
                raise
            raise failure from None


def _reads(ctx: AppContext) -> Reads:
    from sniper_app.engine.reads import Reads

    return Reads(ctx.store, ctx.user_id)


def _with_client(ctx: AppContext, work: Callable[[EbayClient], Coroutine[Any, Any, T]]) -> T:
    try:
        deadline = float(os.environ.get("SNIPER_COMMAND_DEADLINE_S") or COMMAND_DEADLINE_S)
    except ValueError:
        raise InputError("SNIPER_COMMAND_DEADLINE_S must be a number of seconds.") from None

    async def run() -> T:
        client = ctx.build_client()
        try:
            # A whole command has a deadline too: each request has one, but retries, pages and a keyring
            # prompt add up, and a command line must come back.
            async with asyncio.timeout(deadline):
                return await work(client)
        except TimeoutError:
            waiting = client.transport.in_flight
            what = f"eBay did not answer {waiting}" if waiting else "the keyring or eBay did not answer"
            raise CommandTimedOut(f"Gave up after {deadline:g} s: {what} in time. Try again later.") from None
        finally:
            await client.aclose()

    return asyncio.run(run())


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "-"


def _amount(minor: int | None, currency: str | None) -> str | None:
    return Money(minor, currency).to_ebay_value() if minor is not None and currency else None


def _shown(minor: int | None, currency: str | None) -> str:
    return Money(minor, currency).format() if minor is not None and currency else "-"


def _price_shown(minor: int | None, currency: str | None, row: SnipeView | WatchView) -> str:
    """A current price in the listing's currency, with eBay's conversion beside it: "£179.95 ≈ $257.87"."""
    if minor is None or not currency:
        return "-"
    conv_minor, conv_currency = row.converted_price_minor, row.converted_currency
    converted = Money(conv_minor, conv_currency) if conv_minor is not None and conv_currency else None
    return with_converted(Money(minor, currency), converted)


def _max_shown(snipe: SnipeView) -> str:
    """The maximum in the listing's currency, with "≈" at the rate eBay converted the price: "£50.00 ≈ $64.10"."""
    own = Money(snipe.max_bid_minor, snipe.currency)
    if snipe.current_price_minor is None or snipe.converted_price_minor is None or not snipe.converted_currency:
        return own.format()
    return near_price(own, Money(snipe.current_price_minor, snipe.currency),
                      Money(snipe.converted_price_minor, snipe.converted_currency))


def _converted_data(row: SnipeView | WatchView) -> dict[str, str] | None:
    # For display only: the snipe's own currency is what is bid.
    if row.converted_price_minor is None or not row.converted_currency:
        return None
    return {"currency": row.converted_currency, "value": Money(row.converted_price_minor, row.converted_currency)
            .to_ebay_value()}


def _snipe_data(snipe: SnipeView, lead: LeadChoice | None = None) -> dict[str, Any]:
    group = snipe.group
    return {
        "id": snipe.id,
        "item": snipe.legacy_item_id,
        "rest_item_id": snipe.rest_item_id,
        "title": snipe.title,
        "status": snipe.status,
        "reason": snipe.status_reason,
        "currency": snipe.currency,
        "max_bid": _amount(snipe.max_bid_minor, snipe.currency),
        "lead_seconds": snipe.lead_seconds,
        "lead_auto": snipe.lead_seconds == AUTO_LEAD,
        "lead_chosen_seconds": lead.seconds if lead is not None else None,
        "lead_why": lead.why if lead is not None else None,
        "end_time": _iso(snipe.end_time),
        "current_price": _amount(snipe.current_price_minor, snipe.currency),
        "converted_price": _converted_data(snipe),
        "bid_count": snipe.bid_count,
        "final_price": _amount(snipe.final_price_minor, snipe.currency),
        "group": group.name if group is not None else None,
        "item_url": snipe.item_url,
        "attempts": snipe.attempts,
        "ebay_message": snipe.ebay_message,
        "planned_at": _iso(snipe.planned_at),
        "sent_at": _iso(snipe.sent_at),
    }


def _snipe_line(snipe: SnipeView, lead: LeadChoice | None = None) -> str:
    shown_lead = f"{snipe.lead_seconds:g}s" if snipe.lead_seconds != AUTO_LEAD else (
        f"auto {lead.seconds:g}s" if lead is not None else "auto")
    return (
        f"#{snipe.id:<4} {snipe.status:<9} max {_max_shown(snipe):>12}  "
        f"now {_price_shown(snipe.current_price_minor, snipe.currency, snipe)}  "
        f"lead {shown_lead}  ends {_when(snipe.end_time)}  {visible(snipe.title or snipe.legacy_item_id)}"
        + (f"  ({visible(snipe.status_reason)})" if snipe.status_reason and SnipeStatus(snipe.status).is_final else "")
        + (f"\n      lead chosen: {visible(lead.why)}" if lead is not None and snipe.lead_seconds == AUTO_LEAD else "")
    )


def _lead_words(snipe: SnipeView) -> str:
    return f"{snipe.lead_seconds:g} s" if snipe.lead_seconds != AUTO_LEAD else "at the shortest safe lead"


def _with_warnings(text: str, warnings: list[str]) -> str:
    return "\n".join([text, *(f"Warning: {w}" for w in warnings)])


# --- snipes ---------------------------------------------------------------------------------------


def _snipe_add(args: argparse.Namespace, out: Output) -> int:
    with _context(args) as ctx:
        snipe, warnings = _with_client(
            ctx, lambda client: ctx.actions(client).add_snipe(args.item, args.max, lead=args.lead, group=args.group)
        )
        # A bare number is read in the listing's currency: say so, since the user may have thought in another.
        read_as = (
            f" Your maximum was read in {snipe.currency}, the listing's own currency."
            if not names_currency(args.max) else ""
        )
        out.result(
            {"snipe": _snipe_data(snipe), "warnings": warnings, "max_read_in": snipe.currency},
            _with_warnings(
                f"Snipe #{snipe.id} added: {visible(snipe.title or snipe.legacy_item_id)} — max "
                f"{_max_shown(snipe)}, bid {_lead_words(snipe)} before the end "
                f"({_when(snipe.end_time)}). Price now "
                f"{_price_shown(snipe.current_price_minor, snipe.currency, snipe)}.{read_as}",
                warnings,
            ),
        )
    return EXIT_OK


def _parse_status(text: str | None) -> SnipeStatus | None:
    if text is None:
        return None
    try:
        return SnipeStatus(text.strip().upper())
    except ValueError:
        raise InputError(
            f"'{text}' is not a snipe status; use one of {', '.join(s.value for s in SnipeStatus)}."
        ) from None


def _snipe_list(args: argparse.Namespace, out: Output) -> int:
    status = _parse_status(args.status)
    with _context(args) as ctx:
        reads = _reads(ctx)
        snipes = reads.snipes(status)
        leads = {s.id: reads.lead_choice(s.id) for s in snipes if s.lead_seconds == AUTO_LEAD}
        out.result([_snipe_data(s, leads.get(s.id)) for s in snipes],
                   "\n".join(_snipe_line(s, leads.get(s.id)) for s in snipes) or "No snipes.")
    return EXIT_OK


def _snipe_cancel(args: argparse.Namespace, out: Output) -> int:
    with _context(args) as ctx:
        snipe = asyncio.run(ctx.actions(None).cancel_snipe(args.id))
        name = visible(snipe.title or snipe.legacy_item_id)
        out.result({"snipe": _snipe_data(snipe)}, f"Snipe #{snipe.id} cancelled ({name}).")
    return EXIT_OK


def _snipe_edit(args: argparse.Namespace, out: Output) -> int:
    if args.max_amount is None and args.lead is None:
        raise InputError("Nothing to change: give a new maximum (--max) and/or lead time (--lead).")
    with _context(args) as ctx:
        snipe, warnings = _with_client(
            ctx, lambda client: ctx.actions(client).edit_snipe(args.id, max_amount=args.max_amount, lead=args.lead)
        )
        out.result(
            {"snipe": _snipe_data(snipe), "warnings": warnings},
            _with_warnings(
                f"Snipe #{snipe.id} now bids at most {_max_shown(snipe)}, "
                f"{_lead_words(snipe)} before the end."
                + (f" Your maximum was read in {snipe.currency}, the listing's own currency."
                   if args.max_amount is not None and not names_currency(args.max_amount) else ""),
                warnings,
            ),
        )
    return EXIT_OK


# --- history --------------------------------------------------------------------------------------


def _event_data(event: HistoryEntry) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": _iso(event.at),
        "action": event.action,
        "snipe_id": event.snipe_id,
        "item": event.legacy_item_id,
        "title": event.title,
        "status": event.status,
        "currency": event.currency,
        "amount": _amount(event.amount_minor, event.currency),
        "final_price": _amount(event.final_price_minor, event.currency),
        # eBay's conversion for the user when the event happened; display only, as in the watch list.
        "converted_amount": _converted_value(event.converted_amount_minor, event.converted_currency),
        "converted_final_price": _converted_value(event.converted_final_price_minor, event.converted_currency),
        "message": event.message,
        "details": event.details,
    }


def _converted_value(minor: int | None, currency: str | None) -> dict[str, str] | None:
    value = _amount(minor, currency)
    return {"currency": str(currency), "value": value} if value is not None else None


def _event_amount(event: HistoryEntry) -> str:
    """The event's amount (the final price where there is one) in the listing's currency, with the "≈" it was
    shown with at the time: " (£50.00 ≈ $64.10)"; nothing for an event without an amount."""
    final = event.final_price_minor is not None
    minor = event.final_price_minor if final else event.amount_minor
    if minor is None or not event.currency:
        return ""
    converted = event.converted_final_price_minor if final else event.converted_amount_minor
    shown = with_converted(
        Money(minor, event.currency),
        Money(converted, event.converted_currency) if converted is not None and event.converted_currency else None,
    )
    return f" ({shown})"


def _history(args: argparse.Namespace, out: Output) -> int:
    from sniper_app.engine.reads import MAX_PAGE_SIZE

    if args.limit > MAX_PAGE_SIZE:
        raise InputError(f"--limit can be at most {MAX_PAGE_SIZE}.")
    with _context(args) as ctx:
        rows = _reads(ctx).history_page(limit=args.limit, details=True).entries
        lines = [
            f"{_when(e.at)}  {e.action:<10} "
            + (f"#{e.snipe_id} " if e.snipe_id else "")
            + (f"{visible(subject)}: " if (subject := e.title or e.legacy_item_id) else "")
            + visible(e.message)
            + _event_amount(e)
            for e in rows
        ]
        out.result([_event_data(e) for e in rows], "\n".join(lines) or "No history yet.")
    return EXIT_OK


# --- watch list -----------------------------------------------------------------------------------


def _watch_data(item: WatchView, snipes: dict[str, int]) -> dict[str, Any]:
    return {
        "item": item.legacy_item_id,
        "rest_item_id": item.rest_item_id,
        "title": item.title,
        "currency": item.currency,
        "current_price": _amount(item.current_price_minor, item.currency),
        "converted_price": _converted_data(item),
        "bid_count": item.bid_count,
        "end_time": _iso(item.end_time),
        "listing_type": item.listing_type,
        "snipeable": is_auction_listing(item.listing_type),
        "buy_it_now": _amount(item.buy_it_now_minor, item.currency),
        "synced_at": _iso(item.synced_at),
        "snipe_id": snipes.get(item.legacy_item_id),
    }


def _watch_sync(args: argparse.Namespace, out: Output) -> int:
    with _context(args) as ctx:
        result = _with_client(ctx, lambda client: ctx.actions(client).sync_watchlist())
        count = len(result.kept_ids)
        out.result(
            {"count": count, "added": result.added, "updated": result.updated, "removed": result.removed},
            f"Watch list synced: {count} item{'s' if count != 1 else ''} "
            f"({result.added} new, {result.removed} no longer watched).",
        )
    return EXIT_OK


def _watch_list(args: argparse.Namespace, out: Output) -> int:
    with _context(args) as ctx:
        reads = _reads(ctx)
        items = reads.watch_items()
        snipes = {s.legacy_item_id: s.id for s in reads.active_snipes()}
        lines = [
            f"{i.legacy_item_id}  {_price_shown(i.current_price_minor, i.currency, i):>12}  ends {_when(i.end_time)}"
            f"  {visible(i.title)}"
            + (f"  [snipe #{snipes[i.legacy_item_id]}]" if i.legacy_item_id in snipes else "")
            + ("" if is_auction_listing(i.listing_type) else "  [fixed price: not snipeable]")
            for i in items
        ]
        out.result(
            [_watch_data(i, snipes) for i in items],
            "\n".join(lines) or "The watch list is empty (run 'sniper-app watchlist sync').",
        )
    return EXIT_OK


# --- account --------------------------------------------------------------------------------------


def _account_link(args: argparse.Namespace, out: Output) -> int:
    from sniper_app.engine.demo_link import demo_consent_redirect

    with _context(args) as ctx:

        async def link(client: EbayClient) -> int:
            accounts = ctx.accounts(client)
            if args.redirect_url is not None:
                pasted = args.redirect_url
            else:
                url = accounts.start_link()
                if args.print_url:
                    out.result({"consent_url": url}, url)
                    return EXIT_OK
                # The demo's own consent page agrees at once: read where it lands rather than ask for a
                # browser that a server or a Raspberry Pi does not have.
                landed = await demo_consent_redirect(url) if args.demo else None
                if landed is not None:
                    pasted = landed
                else:
                    print("Open this address in your browser, sign in to eBay and agree:", file=out.err)
                    print(url, file=out.out, flush=True)
                    print("Then paste the address your browser lands on and press Enter:", file=out.err, flush=True)
                    pasted = sys.stdin.readline().strip()
                    if not pasted:
                        raise InputError("No address was pasted, so the account is not linked.")
            user = await accounts.complete_link(pasted)
            out.result(
                {"linked": True, "username": user.username, "environment": client.endpoints.environment},
                f"eBay account {user.username} linked.",
            )
            return EXIT_OK

        return _with_client(ctx, link)


def _account_status(args: argparse.Namespace, out: Output) -> int:
    with _context(args) as ctx:
        status = _with_client(ctx, lambda client: ctx.accounts(client).status())
        if status.linked:
            lines = [
                f"eBay account: {status.username} ({status.environment})",
                f"Sign-in valid until: {_when(status.access_token_expires_at)}; "
                f"renewable until: {_when(status.refresh_token_expires_at)}",
                "Needs linking again: " + ("YES — run 'sniper-app account link'" if status.needs_relink else "no"),
                f"Active snipes: {status.active_snipes}",
            ]
        else:
            lines = [f"No eBay account is linked ({status.environment}); link one with 'sniper-app account link'."]
        out.result(status.as_dict(), "\n".join(lines))
    return EXIT_OK


def _account_unlink(args: argparse.Namespace, out: Output) -> int:
    with _context(args) as ctx:
        result = _with_client(ctx, lambda client: ctx.accounts(client).unlink())
        text = f"eBay account {result.username} unlinked." if result.username else "No eBay account was linked."
        out.result(
            {"unlinked": result.username, "active_snipes": result.active_snipes, "warnings": result.warnings},
            _with_warnings(text, result.warnings),
        )
    return EXIT_OK


# --- groups ---------------------------------------------------------------------------------------


def _group_add(args: argparse.Namespace, out: Output) -> int:
    with _context(args) as ctx:
        group = ctx.actions(None).add_group(args.name, args.wins)
        out.result(
            {"id": group.id, "name": group.name, "target_wins": group.target_wins},
            f"Group “{group.name}” created: win {group.target_wins} and the rest are cancelled. "
            f"Add snipes to it with 'snipe add ITEM MAX --group \"{group.name}\"'.",
        )
    return EXIT_OK


def _group_list(args: argparse.Namespace, out: Output) -> int:
    with _context(args) as ctx:
        groups = _reads(ctx).group_summaries()
        out.result(
            [
                {"id": g.group.id, "name": g.group.name, "target_wins": g.group.target_wins,
                 "members": g.members, "active": g.active, "won": g.won}
                for g in groups
            ],
            "\n".join(
                f"{visible(g.group.name)}: win {g.group.target_wins} — "
                f"{g.members} snipe{'s' if g.members != 1 else ''}, "
                f"{g.active} active, {g.won} won"
                for g in groups
            ) or "No groups yet (create one with 'sniper-app group add NAME --wins N').",
        )
    return EXIT_OK


# --- diagnostics ----------------------------------------------------------------------------------


def _notify_test(args: argparse.Namespace, out: Output) -> int:
    from pydantic import ValidationError

    from sniper_app.config import Settings, SettingsError
    from sniper_app.engine.notifications import send_test_email
    from sniper_app.notify import EmailConfigError, SendError

    with _context(args) as ctx:
        settings = ctx.settings
        if args.to:
            try:
                settings = Settings.model_validate(settings.model_dump() | {"email_to": args.to})
            except ValidationError:
                raise SettingsError(f"'{args.to}' is not an email address such as you@example.com.") from None
        try:
            sentence = asyncio.run(send_test_email(settings, ctx.secrets))
        except EmailConfigError:
            raise
        except SendError as exc:
            return out.error(f"The test email was not sent. {exc}", EXIT_FAILURE)
    out.result({"sent": True, "to": settings.email_to, "backend": settings.email_backend}, sentence)
    return EXIT_OK


def _diagnostics(args: argparse.Namespace, out: Output) -> int:
    from sniper_app.app import METRICS_FILE
    from sniper_app.secrets_cli import store_in_use

    with _context(args) as ctx:
        reads = _reads(ctx)
        account = reads.account()
        snipes = reads.snipes()
        watch = reads.watch_items()
        synced = max((w.synced_at for w in watch), default=None)
        try:
            engine: Any = json.loads((ctx.data_dir / METRICS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            engine = None
        store, store_text = store_in_use(ctx.data_dir, demo=args.demo)
        data = {
            "data_dir": str(ctx.data_dir),
            "ebay_env": ctx.settings.ebay_env,
            "secrets_store": store,
            "account": {"username": account.username, "needs_relink": account.needs_relink},
            "snipes": dict(sorted(Counter(s.status for s in snipes).items())),
            "watch_items": len(watch),
            "last_watchlist_sync": _iso(synced),
            "history_events": reads.count_history(),
            # Written by a running engine (headless or window) every few seconds; None if none has run.
            "engine": engine,
        }
        text = [
            f"data dir: {data['data_dir']} ({ctx.settings.ebay_env})",
            f"secrets kept in: {store_text}",
            f"account: {account.username or 'not linked'}" + (" (needs linking again)" if account.needs_relink else ""),
            "snipes: " + (", ".join(f"{k.lower()} {v}" for k, v in data["snipes"].items()) or "none"),
            f"watch list: {len(watch)} items, last synced {_when(synced)}",
            f"history events: {data['history_events']}",
            "engine metrics: "
            + (f"written {engine.get('written_at')} by process {engine.get('pid')}" if engine else "none recorded"),
        ]
        out.result(data, "\n".join(text))
    return EXIT_OK
