"""``sniper-app snipe``: add, list, edit and cancel snipes."""

from __future__ import annotations

import argparse
import textwrap
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sniper_app.cli.context import command_session
from sniper_app.cli.formatting import amount, converted_data, iso, max_shown, price_shown, when, with_warnings
from sniper_app.cli.output import EXIT_OK, Output
from sniper_app.cli.parsing import CommandParser, json_flag, lead_arg, missing_action, positive_int
from sniper_app.domain.errors import InputError
from sniper_app.domain.landed import BidAmount
from sniper_app.domain.money import Money, names_currency
from sniper_app.domain.rules import AUTO_LEAD
from sniper_app.domain.spending import TYPO_RATIO
from sniper_app.domain.status import SnipeStatus
from sniper_app.domain.text import visible
from sniper_app.domain.timing import explain_snipe, fire_record_sentences
from sniper_app.domain.views import HistoryFilter

if TYPE_CHECKING:
    from sniper_app.cli.context import Facade
    from sniper_app.domain.lead import LeadChoice
    from sniper_app.domain.views import HistoryCursor, HistoryEntry, SnipeView


def add_commands(sub: Any) -> None:
    """The ``snipe`` command group."""
    snipe = sub.add_parser("snipe", help="add, list, edit or cancel snipes")
    snipe_sub = snipe.add_subparsers(dest="snipe_command", metavar="ACTION", parser_class=CommandParser)
    snipe.set_defaults(handler=missing_action(snipe))

    add = snipe_sub.add_parser("add", help="snipe an auction: ITEM is a number, a link or an id like v1|…|0")
    add.add_argument("item", metavar="ITEM")
    add.add_argument("max", metavar="MAX", help="the most you will pay, e.g. 25.50 (in the item's currency)")
    add.add_argument("--lead", type=lead_arg, metavar="S",
                     help="seconds before the end to bid (1–120), or 'auto': the shortest safe lead, measured")
    add.add_argument("--group", metavar="NAME", help="an existing group ('group add' creates one)")
    _confirm_flag(add)
    add.add_argument("--includes-shipping", action="store_true",
                     help="MAX includes shipping (and import charges): bid MAX less them")
    json_flag(add)
    add.set_defaults(handler=_snipe_add)

    list_ = snipe_sub.add_parser("list", help="list snipes, soonest ending first")
    list_.add_argument("--status", metavar="S", help=f"only this status ({', '.join(s.value for s in SnipeStatus)})")
    json_flag(list_)
    list_.set_defaults(handler=_snipe_list)

    cancel = snipe_sub.add_parser("cancel", help="cancel a snipe that has not fired")
    cancel.add_argument("id", type=positive_int, metavar="ID")
    json_flag(cancel)
    cancel.set_defaults(handler=_snipe_cancel)

    edit = snipe_sub.add_parser("edit", help="change the maximum or lead of a snipe that has not fired")
    edit.add_argument("id", type=positive_int, metavar="ID")
    edit.add_argument("--max", metavar="M", dest="max_amount")
    edit.add_argument("--lead", type=lead_arg, metavar="S", help="seconds (1–120) or 'auto'")
    _confirm_flag(edit)
    edit.add_argument("--includes-shipping", action=argparse.BooleanOptionalAction, default=None,
                      help="whether the maximum includes shipping (and import charges)")
    json_flag(edit)
    edit.set_defaults(handler=_snipe_edit)

    show = snipe_sub.add_parser("show", help="one snipe: its outcome, timing, shipping and history")
    show.add_argument("id", type=positive_int, metavar="ID")
    json_flag(show)
    show.set_defaults(handler=_snipe_show)


def _confirm_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--confirm", action="store_true",
                        help=f"accept a maximum more than {TYPO_RATIO} times the current price (else refused as a "
                        "likely typo)")


@contextmanager
def _typo_refused() -> Iterator[None]:
    from sniper_app.engine.actions import SuspectedTypo  # here: the engine loads the eBay client

    try:
        yield
    except SuspectedTypo as exc:
        raise InputError(f"{exc} Add --confirm if you meant it.") from None


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
        "max_bid": amount(snipe.max_bid_minor, snipe.currency),
        "lead_seconds": snipe.lead_seconds,
        "lead_auto": snipe.lead_seconds == AUTO_LEAD,
        "lead_chosen_seconds": lead.seconds if lead is not None else None,
        "lead_why": lead.why if lead is not None else None,
        "end_time": iso(snipe.end_time),
        "current_price": amount(snipe.current_price_minor, snipe.currency),
        "converted_price": converted_data(snipe),
        "bid_count": snipe.bid_count,
        "final_price": amount(snipe.final_price_minor, snipe.currency),
        "group": group.name if group is not None else None,
        "item_url": snipe.item_url,
        "attempts": snipe.attempts,
        "ebay_message": snipe.ebay_message,
        "planned_at": iso(snipe.planned_at),
        "sent_at": iso(snipe.sent_at),
        "outcome": _outcome_data(snipe),
        **_landed_data(snipe),
    }


def _outcome_data(snipe: SnipeView) -> dict[str, Any] | None:
    outcome = snipe.outcome
    if outcome is None:
        return None
    return {"code": outcome.code.value, "sentence": outcome.sentence, "derived": outcome.derived}


def _landed_data(snipe: SnipeView) -> dict[str, Any]:
    landed = snipe.landed()
    bid = snipe.bid_amount()
    return {
        "shipping": _money_data(snipe.shipping),
        "import_charges": _money_data(snipe.import_charges),
        "landed_total": amount(landed.total.minor, landed.total.currency) if landed is not None else None,
        "includes_shipping": snipe.includes_shipping,
        "bid": amount(bid.bid.minor, bid.bid.currency) if isinstance(bid, BidAmount) else None,
    }


def _money_data(money: Money | None) -> dict[str, str] | None:
    return None if money is None else {"currency": money.currency, "value": money.to_ebay_value()}


def _landed_words(snipe: SnipeView) -> str:
    """"Landed: $40.00 + $5.00 shipping = $45.00." and, when the maximum includes them, what is bid."""
    landed = snipe.landed()
    words = f"Landed: {landed.sentence}" if landed is not None else ""
    if snipe.includes_shipping:
        bid = snipe.bid_amount()
        told = bid.sentence if isinstance(bid, BidAmount) else str(bid) if bid is not None else ""
        words = f"{words} {told}".strip()
    return words


# A terminal's width when nothing says otherwise: the list is laid out to read at 80 columns.
LIST_WIDTH = 80
_INDENT = "      "


def _columns(text: str) -> int:
    """How many terminal columns ``text`` takes: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` columns with an ellipsis (a title; never an amount)."""
    if _columns(text) <= width:
        return text
    out, used = [], 0
    for char in text:
        size = _columns(char)
        if used + size > width - 1:
            break
        out.append(char)
        used += size
    return "".join(out) + "…"


def _snipe_line(snipe: SnipeView, lead: LeadChoice | None = None, *, outcome: bool = True,
                width: int = LIST_WIDTH) -> str:
    """One snipe in at most ``width`` columns: the amounts whole, the title cut to what is left; then, for an
    ended snipe, its outcome sentence (for one still to fire, how an automatic lead was chosen) wrapped
    below it."""
    shown_lead = f"{snipe.lead_seconds:g}s" if snipe.lead_seconds != AUTO_LEAD else (
        f"auto {lead.seconds:g}s" if lead is not None else "auto")
    ended = SnipeStatus(snipe.status).is_final
    end = snipe.end_time.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if ended:
        # The final price is in the outcome sentence below.
        head = f"#{snipe.id:<4} {snipe.status:<9} max {max_shown(snipe)}  ended {end}"
    else:
        now = price_shown(snipe.current_price_minor, snipe.currency, snipe)
        head = f"#{snipe.id:<4} {snipe.status:<9} max {max_shown(snipe)}  now {now}  lead {shown_lead}  ends {end}"
    room = width - _columns(head) - 2
    title = visible(snipe.title or snipe.legacy_item_id)
    # Below a readable stub the title gets a line of its own rather than a few letters.
    line = f"{head}  {_clip(title, room)}" if room >= 12 else f"{head}\n{_INDENT}{_clip(title, width - len(_INDENT))}"
    notes: list[str] = []
    if ended and outcome:
        told = snipe.outcome.sentence if snipe.outcome is not None else snipe.status_reason
        if told:
            notes.append(visible(told))
    if lead is not None and snipe.lead_seconds == AUTO_LEAD and not ended:
        notes.append(f"lead chosen: {visible(lead.why)}")
    wrapped = [textwrap.fill(note, width, initial_indent=_INDENT, subsequent_indent=_INDENT,
                             break_long_words=False, break_on_hyphens=False) for note in notes]
    return "\n".join([line, *wrapped])


def _lead_words(snipe: SnipeView) -> str:
    return f"{snipe.lead_seconds:g} s" if snipe.lead_seconds != AUTO_LEAD else "at the shortest safe lead"


def _snipe_add(args: argparse.Namespace, out: Output) -> int:
    with command_session(args) as session, _typo_refused():
        snipe, warnings = session.run(
            lambda facade: facade.add_snipe(args.item, args.max, lead=args.lead, group=args.group,
                                            confirmed=args.confirm, includes_shipping=args.includes_shipping)
        )
        # A bare number is read in the listing's currency: say so, since the user may have thought in another.
        read_as = (
            f" Your maximum was read in {snipe.currency}, the listing's own currency."
            if not names_currency(args.max) else ""
        )
        out.result(
            {"snipe": _snipe_data(snipe), "warnings": warnings, "max_read_in": snipe.currency},
            with_warnings(
                f"Snipe #{snipe.id} added: {visible(snipe.title or snipe.legacy_item_id)} — max "
                f"{max_shown(snipe)}, bid {_lead_words(snipe)} before the end "
                f"({when(snipe.end_time)}). Price now "
                f"{price_shown(snipe.current_price_minor, snipe.currency, snipe)}.{read_as}"
                f"\n{_landed_words(snipe)}",
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
    async def read(facade: Facade) -> tuple[tuple[SnipeView, ...], dict[int, LeadChoice | None]]:
        snipes = await facade.snipes(status)
        return snipes, {s.id: await facade.lead_choice(s.id) for s in snipes if s.lead_seconds == AUTO_LEAD}

    with command_session(args) as session:
        snipes, leads = session.run(read)
        out.result([_snipe_data(s, leads.get(s.id)) for s in snipes],
                   "\n".join(_snipe_line(s, leads.get(s.id)) for s in snipes) or "No snipes.")
    return EXIT_OK


def _snipe_cancel(args: argparse.Namespace, out: Output) -> int:
    with command_session(args) as session:
        snipe = session.run(lambda facade: facade.cancel_snipe(args.id))
        name = visible(snipe.title or snipe.legacy_item_id)
        out.result({"snipe": _snipe_data(snipe)}, f"Snipe #{snipe.id} cancelled ({name}).")
    return EXIT_OK


def _snipe_edit(args: argparse.Namespace, out: Output) -> int:
    if args.max_amount is None and args.lead is None and args.includes_shipping is None:
        raise InputError("Nothing to change: give a new maximum (--max), lead time (--lead) and/or "
                         "--includes-shipping / --no-includes-shipping.")
    with command_session(args) as session, _typo_refused():
        snipe, warnings = session.run(
            lambda facade: facade.edit_snipe(args.id, max_amount=args.max_amount, lead=args.lead,
                                             confirmed=args.confirm, includes_shipping=args.includes_shipping)
        )
        out.result(
            {"snipe": _snipe_data(snipe), "warnings": warnings},
            with_warnings(
                f"Snipe #{snipe.id} now bids at most {max_shown(snipe)}, "
                f"{_lead_words(snipe)} before the end."
                + (f" Your maximum was read in {snipe.currency}, the listing's own currency."
                   if args.max_amount is not None and not names_currency(args.max_amount) else "")
                + f"\n{_landed_words(snipe)}",
                warnings,
            ),
        )
    return EXIT_OK


async def _snipe_story(facade: Facade, snipe_id: int) -> tuple[SnipeView, LeadChoice | None, list[HistoryEntry]]:
    """The snipe, its chosen lead and its whole history (oldest first), a page at a time."""
    from sniper_app.engine.reads import MAX_PAGE_SIZE

    snipe = await facade.snipe(snipe_id)
    lead = await facade.lead_choice(snipe.id) if snipe.lead_seconds == AUTO_LEAD else None
    events: list[HistoryEntry] = []
    cursor: HistoryCursor | None = None
    while True:
        page = await facade.history_page(HistoryFilter(snipe_id=snipe.id), cursor=cursor, limit=MAX_PAGE_SIZE)
        events.extend(page.entries)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    events.reverse()  # oldest first: the story in the order it happened
    return snipe, lead, events


def _snipe_show(args: argparse.Namespace, out: Output) -> int:
    with command_session(args) as session:
        snipe, lead, events = session.run(lambda facade: _snipe_story(facade, args.id))
        facts = snipe.timing_facts(lead.seconds if lead is not None else None)
        # An ended snipe's outcome has its own line: the timing is then the fire record alone.
        timing = (fire_record_sentences(facts) if snipe.status.is_final
                  else explain_snipe(facts, datetime.now(UTC), tz=UTC))
        data = _snipe_data(snipe, lead) | {
            "timing": timing,
            "history": [{"at": iso(e.at), "action": e.action, "status": e.status, "message": e.message}
                        for e in events],
        }
        lines = [_snipe_line(snipe, lead, outcome=False)]
        if snipe.outcome is not None:
            derived = " (derived from its status)" if snipe.outcome.derived else ""
            lines.append(f"Outcome: {snipe.outcome.code.value}{derived} — {snipe.outcome.sentence}")
        lines.append(f"Timing: {' '.join(timing)}" if timing else "Timing: no bid was sent.")
        landed = _landed_words(snipe)
        if landed:
            lines.append(landed)
        lines.append("History:")
        lines.extend(f"  {when(e.at)}  {e.action:<10} {e.message}" for e in events)
        out.result(data, "\n".join(lines))
    return EXIT_OK
