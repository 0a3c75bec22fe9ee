"""``sniper-app history``: what happened, newest first."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from sniper_app.cli.context import command_session
from sniper_app.cli.formatting import amount, iso, when
from sniper_app.cli.output import EXIT_OK, Output
from sniper_app.cli.parsing import json_flag, positive_int
from sniper_app.domain.errors import InputError
from sniper_app.domain.money import Money, with_converted
from sniper_app.domain.text import visible

if TYPE_CHECKING:
    from sniper_app.domain.views import HistoryEntry


def add_commands(sub: Any) -> None:
    """The ``history`` command."""
    history = sub.add_parser("history", help="what happened, newest first")
    history.add_argument("--limit", type=positive_int, default=50, metavar="N")
    json_flag(history)
    history.set_defaults(handler=_history)


def _event_data(event: HistoryEntry) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": iso(event.at),
        "action": event.action,
        "snipe_id": event.snipe_id,
        "item": event.legacy_item_id,
        "title": event.title,
        "status": event.status,
        "currency": event.currency,
        "amount": amount(event.amount_minor, event.currency),
        "final_price": amount(event.final_price_minor, event.currency),
        # eBay's conversion for the user when the event happened; display only, as in the watch list.
        "converted_amount": _converted_value(event.converted_amount_minor, event.converted_currency),
        "converted_final_price": _converted_value(event.converted_final_price_minor, event.converted_currency),
        "message": event.message,
        "details": event.details,
    }


def _converted_value(minor: int | None, currency: str | None) -> dict[str, str] | None:
    value = amount(minor, currency)
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
    with command_session(args) as session:
        rows = session.run(lambda facade: facade.history_page(limit=args.limit, details=True)).entries
        lines = [
            f"{when(e.at)}  {e.action:<10} "
            + (f"#{e.snipe_id} " if e.snipe_id else "")
            + (f"{visible(subject)}: " if (subject := e.title or e.legacy_item_id) else "")
            + visible(e.message)
            + _event_amount(e)
            for e in rows
        ]
        out.result([_event_data(e) for e in rows], "\n".join(lines) or "No history yet.")
    return EXIT_OK

