"""``sniper-app watchlist``: sync and list the eBay watch list."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from sniper_app.cli.context import command_session
from sniper_app.cli.formatting import amount, converted_data, iso, price_shown, when
from sniper_app.cli.output import EXIT_OK, Output
from sniper_app.cli.parsing import CommandParser, json_flag, missing_action
from sniper_app.domain.items import is_auction_listing
from sniper_app.domain.text import visible

if TYPE_CHECKING:
    from sniper_app.cli.context import Facade
    from sniper_app.domain.views import WatchView


def add_commands(sub: Any) -> None:
    """The ``watchlist`` command group."""
    watch = sub.add_parser("watchlist", help="your eBay watch list")
    watch_sub = watch.add_subparsers(dest="watch_command", metavar="ACTION", parser_class=CommandParser)
    watch.set_defaults(handler=missing_action(watch))
    sync = watch_sub.add_parser("sync", help="fetch the watch list from eBay now")
    json_flag(sync)
    sync.set_defaults(handler=_watch_sync)
    wlist = watch_sub.add_parser("list", help="the watch list as last synced")
    json_flag(wlist)
    wlist.set_defaults(handler=_watch_list)


def _watch_data(item: WatchView, snipes: dict[str, int]) -> dict[str, Any]:
    return {
        "item": item.legacy_item_id,
        "rest_item_id": item.rest_item_id,
        "title": item.title,
        "currency": item.currency,
        "current_price": amount(item.current_price_minor, item.currency),
        "converted_price": converted_data(item),
        "bid_count": item.bid_count,
        "end_time": iso(item.end_time),
        "listing_type": item.listing_type,
        "snipeable": is_auction_listing(item.listing_type),
        "buy_it_now": amount(item.buy_it_now_minor, item.currency),
        "synced_at": iso(item.synced_at),
        "snipe_id": snipes.get(item.legacy_item_id),
    }


def _watch_sync(args: argparse.Namespace, out: Output) -> int:
    with command_session(args) as session:
        result = session.run(lambda facade: facade.sync_watchlist())
        count = len(result.kept_ids)
        out.result(
            {"count": count, "added": result.added, "updated": result.updated, "removed": result.removed},
            f"Watch list synced: {count} item{'s' if count != 1 else ''} "
            f"({result.added} new, {result.removed} no longer watched).",
        )
    return EXIT_OK


def _watch_list(args: argparse.Namespace, out: Output) -> int:
    async def read(facade: Facade) -> tuple[tuple[WatchView, ...], dict[str, int]]:
        items = await facade.watch_items()
        return items, {s.legacy_item_id: s.id for s in await facade.active_snipes()}

    with command_session(args) as session:
        items, snipes = session.run(read)
        lines = [
            f"{i.legacy_item_id}  {price_shown(i.current_price_minor, i.currency, i):>12}  ends {when(i.end_time)}"
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

