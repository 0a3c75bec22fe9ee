"""``sniper-app notify test`` and ``sniper-app diagnostics``: check that the app can reach you, and what it holds."""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from typing import TYPE_CHECKING, Any

from sniper_app.cli.context import command_context, command_session, say_this_computer
from sniper_app.cli.formatting import iso, when
from sniper_app.cli.output import EXIT_FAILURE, EXIT_OK, Output
from sniper_app.cli.parsing import CommandParser, json_flag, missing_action

if TYPE_CHECKING:
    from sniper_app.cli.context import Facade


def add_commands(sub: Any) -> None:
    """The ``notify`` command group and the ``diagnostics`` command."""
    notify = sub.add_parser("notify", help="email, ntfy, webhook and tray notifications")
    notify_sub = notify.add_subparsers(dest="notify_command", metavar="ACTION", parser_class=CommandParser)
    notify.set_defaults(handler=missing_action(notify))
    ntest = notify_sub.add_parser(
        "test", help="send a test through every channel set up (email, ntfy, webhook) with the settings in force"
    )
    ntest.add_argument("--to", metavar="ADDRESS", help="send the test email here instead of email_to")
    ntest.add_argument("--channel", choices=("email", "ntfy", "webhook"), action="append",
                       help="test only this channel (repeat for several)")
    json_flag(ntest)
    ntest.set_defaults(handler=_notify_test)

    diag = sub.add_parser("diagnostics", help="counts, last sync and the engine's last metrics")
    json_flag(diag)
    diag.set_defaults(handler=_diagnostics)


def _channels_to_test(args: argparse.Namespace, settings: Any) -> list[str]:
    """The channels named, else every one set up; email when none is (its sentence says what is missing)."""
    if args.channel:
        return list(dict.fromkeys(args.channel))
    chosen = [name for name, ready in (
        ("email", settings.email_backend != "none"), ("ntfy", bool(settings.ntfy_topic)),
        ("webhook", bool(settings.webhook_url)),
    ) if ready]
    return chosen or ["email"]


def _notify_test(args: argparse.Namespace, out: Output) -> int:
    from pydantic import ValidationError

    from sniper_app.config import Settings, SettingsError
    from sniper_app.engine.notifications import send_test_email, send_test_push
    from sniper_app.notify import EmailConfigError, SendError

    with command_context(args) as ctx:
        settings = ctx.settings
        if args.to:
            try:
                settings = Settings.model_validate(settings.model_dump() | {"email_to": args.to})
            except ValidationError:
                raise SettingsError(f"'{args.to}' is not an email address such as you@example.com.") from None
        channels = _channels_to_test(args, settings)
        sentences: list[str] = []
        failures: list[str] = []
        for channel in channels:
            what = "test email" if channel == "email" else f"{channel} test"
            try:
                if channel == "email":
                    sentences.append(asyncio.run(send_test_email(settings, ctx.secrets)))
                else:
                    sentences.append(asyncio.run(send_test_push(channel, settings, ctx.secrets)))
            except EmailConfigError as exc:
                if len(channels) == 1:
                    raise
                failures.append(f"The {what} was not sent. {exc}")
            except SendError as exc:
                failures.append(f"The {what} was not sent. {exc}")
    if sentences:
        data: dict[str, Any] = {"sent": True, "channels": channels}
        if "email" in channels:
            data |= {"to": settings.email_to, "backend": settings.email_backend}
        if failures:
            data |= {"sent": False, "failed": failures}
        out.result(data, "\n".join(sentences))
    say_this_computer(args, out, "The test used the notification settings of")
    if failures:
        return out.error(" ".join(failures), EXIT_FAILURE)
    return EXIT_OK


def _diagnostics(args: argparse.Namespace, out: Output) -> int:
    from sniper_app.cli.secrets import store_in_use

    async def read(facade: Facade) -> tuple[Any, ...]:
        return (await facade.account(), await facade.snipes(), await facade.watch_items(),
                await facade.count_history(), await facade.metrics_snapshot())

    with command_session(args) as session:
        ctx = session.ctx
        account, snipes, watch, history_events, metrics = session.run(read)
        synced = max((w.synced_at for w in watch), default=None)
        # Written by a running engine (headless or window) every few seconds; None if none has run.
        engine: Any = metrics or None
        store, store_text = store_in_use(ctx.data_dir, demo=args.demo)
        data = {
            "data_dir": str(ctx.data_dir),
            "ebay_env": ctx.settings.ebay_env,
            "secrets_store": store,
            "box": session.box,
            "account": {"username": account.username, "needs_relink": account.needs_relink},
            "snipes": dict(sorted(Counter(s.status for s in snipes).items())),
            "watch_items": len(watch),
            "last_watchlist_sync": iso(synced),
            "history_events": history_events,
            "engine": engine,
        }
        text = [
            f"data dir: {data['data_dir']} ({ctx.settings.ebay_env})",
            f"secrets kept in: {store_text}",
            *([f"acting on the box at {session.box} (snipes, account and engine below are the box's)"]
              if session.box else []),
            f"account: {account.username or 'not linked'}" + (" (needs linking again)" if account.needs_relink else ""),
            "snipes: " + (", ".join(f"{k.lower()} {v}" for k, v in data["snipes"].items()) or "none"),
            f"watch list: {len(watch)} items, last synced {when(synced)}",
            f"history events: {data['history_events']}",
            "engine metrics: "
            + ("the box's, read now" if engine and session.box else
               f"written {engine.get('written_at')} by process {engine.get('pid')}" if engine else "none recorded"),
        ]
        out.result(data, "\n".join(text))
    return EXIT_OK
