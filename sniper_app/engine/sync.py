"""Watch-list sync: eBay's Trading watch list (every page) becomes the cached watch list in the store."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

from sniper_app.domain.errors import SniperError
from sniper_app.domain.history import HistoryAction
from sniper_app.ebay import EbayClient, ItemDetails, NeedsRelink, WatchListItem
from sniper_app.engine.bus import AccountStateChanged, EventBus, WatchlistSynced
from sniper_app.engine.metrics import Metrics
from sniper_app.store import Store, WatchItemData, WatchSyncResult

log = logging.getLogger(__name__)


def converted_fields(details: ItemDetails) -> dict[str, Any]:
    """The store columns of the price as eBay converted it for the user's site (display only)."""
    converted = details.converted_price
    return {
        "converted_currency": converted.currency if converted else None,
        "converted_price_minor": converted.minor if converted else None,
    }


def charge_fields(details: ItemDetails) -> dict[str, Any]:
    """The store columns of the shipping and import charges Browse reports (None: none reported)."""
    shipping, imports = details.shipping_cost, details.import_charges
    return {
        "shipping_minor": shipping.minor if shipping else None,
        "shipping_currency": shipping.currency if shipping else None,
        "import_charges_minor": imports.minor if imports else None,
        "import_charges_currency": imports.currency if imports else None,
    }


def watch_item_data(item: WatchListItem) -> WatchItemData:
    """A Trading watch-list row as the store keeps it (money in minor units)."""
    price = item.current_price
    converted = item.converted_price
    bin_price = item.buy_it_now_price
    currency = price.currency if price else (bin_price.currency if bin_price else None)
    return WatchItemData(
        legacy_item_id=item.legacy_item_id,
        title=item.title,
        rest_item_id=item.item_id,
        image_url=item.image_url,
        item_url=None,
        currency=currency,
        current_price_minor=price.minor if price else None,
        bid_count=item.bid_count or 0,
        end_time=item.end_time,
        listing_type=item.listing_type,
        # A Buy It Now price in another currency than the bid price would be meaningless next to it.
        # Trading sends BuyItNowPrice 0.0 for auctions that have none: no price, not a free item.
        buy_it_now_minor=(
            bin_price.minor if bin_price and bin_price.minor > 0 and bin_price.currency == currency else None
        ),
        converted_currency=converted.currency if converted else None,
        converted_price_minor=converted.minor if converted else None,
    )


async def sync_watchlist(
    store: Store,
    client: EbayClient,
    user_id: int,
    bus: EventBus | None = None,
    metrics: Metrics | None = None,
) -> WatchSyncResult:
    """Fetch the whole watch list and replace the cached one: items no longer watched disappear.

    Snipes are separate rows, so an active snipe on an item that left the watch list is untouched.
    """
    timer = metrics.timed("sync") if metrics is not None else contextlib.nullcontext()
    try:
        with timer:
            watch = await client.get_watch_list()
            items = [watch_item_data(item) for item in watch.items]
            # Synced on the local clock: the cache's time-to-live is judged by this machine. Written from a
            # worker thread (the store gives each thread its own connection): replacing hundreds of rows
            # takes tens of ms, which the loop, shared with the window, must not spend.
            result = await asyncio.to_thread(store.upsert_watch_items, user_id, items, datetime.now(UTC))
            for sentence in watch.skipped:
                # One unreadable item costs only itself: the rest synced, and the history says which was left out.
                store.add_event(HistoryAction.SYNC, message=sentence)
    except SniperError as exc:
        if isinstance(exc, NeedsRelink) and client.account is not None:
            # A linked account whose sign-in died: say so once, where the user will look.
            store.set_needs_relink(user_id, True, reason=str(exc))
            if bus is not None:
                bus.publish(AccountStateChanged(username=client.account, state="needs_relink", message=str(exc)))
        if bus is not None:
            bus.publish(WatchlistSynced(count=0, added=0, removed=0, error=str(exc)))
        raise
    log.info("watch list synced: %d items (%d new, %d gone)", len(items), result.added, result.removed)
    if bus is not None:
        bus.publish(WatchlistSynced(count=len(items), added=result.added, removed=result.removed))
    return result
