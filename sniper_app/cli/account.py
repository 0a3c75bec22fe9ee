"""``sniper-app account``: link, inspect and unlink the eBay account."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from sniper_app.cli.context import command_session
from sniper_app.cli.formatting import when, with_warnings
from sniper_app.cli.output import EXIT_OK, Output
from sniper_app.cli.parsing import CommandParser, json_flag, missing_action
from sniper_app.domain.errors import InputError

if TYPE_CHECKING:
    from sniper_app.cli.context import Facade


def add_commands(sub: Any) -> None:
    """The ``account`` command group."""
    account = sub.add_parser("account", help="link, inspect or unlink your eBay account")
    account_sub = account.add_subparsers(dest="account_command", metavar="ACTION", parser_class=CommandParser)
    account.set_defaults(handler=missing_action(account))
    link = account_sub.add_parser(
        "link", help="link an eBay account: open the printed address, approve, paste where the browser lands"
    )
    halves = link.add_mutually_exclusive_group()
    halves.add_argument("--print-url", action="store_true", help="only print the consent address (first half)")
    halves.add_argument("--redirect-url", metavar="URL", help="finish with the address eBay sent you to (second half)")
    json_flag(link)
    link.set_defaults(handler=_account_link)
    status = account_sub.add_parser("status", help="which account is linked and how its sign-in stands")
    json_flag(status)
    status.set_defaults(handler=_account_status)
    unlink = account_sub.add_parser("unlink", help="forget the account and delete its sign-in from the keyring")
    json_flag(unlink)
    unlink.set_defaults(handler=_account_unlink)


def _account_link(args: argparse.Namespace, out: Output) -> int:
    from sniper_app.engine.demo_link import demo_consent_redirect

    with command_session(args) as session:

        async def link(facade: Facade) -> int:
            if args.redirect_url is not None:
                pasted = args.redirect_url
            else:
                url = await facade.start_link()
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
            user = await facade.complete_link(pasted)
            status = await facade.account_status()
            on_box = f" on the box at {session.box}" if session.box else ""
            out.result(
                {"linked": True, "username": user.username, "environment": status.environment},
                f"eBay account {user.username} linked{on_box}.",
            )
            return EXIT_OK

        return session.run(link)


def _account_status(args: argparse.Namespace, out: Output) -> int:
    with command_session(args) as session:
        status = session.run(lambda facade: facade.account_status())
        if status.linked:
            lines = [
                f"eBay account: {status.username} ({status.environment})",
                f"Sign-in valid until: {when(status.access_token_expires_at)}; "
                f"renewable until: {when(status.refresh_token_expires_at)}",
                "Needs linking again: " + ("YES — run 'sniper-app account link'" if status.needs_relink else "no"),
                f"Active snipes: {status.active_snipes}",
            ]
        else:
            lines = [f"No eBay account is linked ({status.environment}); link one with 'sniper-app account link'."]
        out.result(status.as_dict(), "\n".join(lines))
    return EXIT_OK


def _account_unlink(args: argparse.Namespace, out: Output) -> int:
    with command_session(args) as session:
        result = session.run(lambda facade: facade.unlink())
        text = f"eBay account {result.username} unlinked." if result.username else "No eBay account was linked."
        out.result(
            {"unlinked": result.username, "active_snipes": result.active_snipes, "warnings": result.warnings},
            with_warnings(text, result.warnings),
        )
    return EXIT_OK

