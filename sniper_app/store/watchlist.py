"""The store's cached eBay watch list."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sniper_app.domain.text import clip_title
from sniper_app.domain.views import WatchSyncResult
from sniper_app.store.base import StoreBase, check_aware
from sniper_app.store.models import WatchItem

# What a watch-list sync writes for each item, in upsert_watch_items' order.
_WATCH_SYNC_COLUMNS: Final = (
    "rest_item_id", "title", "image_url", "item_url", "currency", "current_price_minor", "bid_count",
    "end_time", "listing_type", "buy_it_now_minor", "synced_at", "expires_at", "converted_currency",
    "converted_price_minor",
)

DEFAULT_WATCH_TTL: Final = timedelta(hours=1)


@dataclass(frozen=True)
class WatchItemData:
    """One watched item as eBay reported it (money in minor units of ``currency``)."""

    legacy_item_id: str
    title: str = ""
    rest_item_id: str | None = None
    image_url: str | None = None
    item_url: str | None = None
    currency: str | None = None
    current_price_minor: int | None = None
    bid_count: int = 0
    end_time: datetime | None = None
    listing_type: str | None = None
    buy_it_now_minor: int | None = None
    # The current price as eBay converted it for the user's site, for display only.
    converted_currency: str | None = None
    converted_price_minor: int | None = None


class WatchlistStore(StoreBase):
    """The cached copy of the user's eBay watch list."""

    def upsert_watch_items(
        self,
        user_id: int,
        items: Iterable[WatchItemData],
        synced_at: datetime,
        *,
        ttl: timedelta = DEFAULT_WATCH_TTL,
    ) -> WatchSyncResult:
        """Replace the cached watch list with ``items``: insert new, update known, drop the rest."""
        synced_at = check_aware(synced_at, "synced_at")
        by_id: dict[str, WatchItemData] = {}
        for item in items:
            if item.end_time is not None:
                check_aware(item.end_time, "end_time")
            by_id[item.legacy_item_id] = item
        expires_at = synced_at + ttl
        with self._write():
            self.get_user(user_id)
            known = {
                w.legacy_item_id: w.id
                for w in WatchItem.select(WatchItem.id, WatchItem.legacy_item_id).where(WatchItem.user == user_id)
            }
            # One prepared statement each for updates and inserts: a sync of hundreds of items runs on the
            # window's thread, and building a peewee query per row cost tens of ms there.
            fields = [WatchItem._meta.fields[name] for name in _WATCH_SYNC_COLUMNS]
            updates: list[list[Any]] = []
            inserts: list[list[Any]] = []
            for legacy_id, item in by_id.items():
                raw = (
                    item.rest_item_id, clip_title(item.title), item.image_url, item.item_url, item.currency,
                    item.current_price_minor, item.bid_count, item.end_time, item.listing_type,
                    item.buy_it_now_minor, synced_at, expires_at, item.converted_currency,
                    item.converted_price_minor,
                )
                values = [f.db_value(v) for f, v in zip(fields, raw, strict=True)]
                if legacy_id in known:
                    updates.append([*values, known[legacy_id]])
                else:
                    inserts.append([user_id, legacy_id, *values])
            table = WatchItem._meta.table_name
            columns = [f.column_name for f in fields]
            connection = self._db.raw_connection()
            if updates:
                assignments = ", ".join(f'"{c}" = ?' for c in columns)
                connection.executemany(f'UPDATE "{table}" SET {assignments} WHERE id = ?', updates)  # noqa: S608
            if inserts:
                names = ", ".join(f'"{c}"' for c in ["user_id", "legacy_item_id", *columns])
                marks = ", ".join("?" * (len(columns) + 2))
                connection.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', inserts)  # noqa: S608
            added, updated = len(inserts), len(updates)
            gone = [pk for legacy_id, pk in known.items() if legacy_id not in by_id]
            for start in range(0, len(gone), 500):
                WatchItem.delete().where(WatchItem.id.in_(gone[start : start + 500])).execute()
            return WatchSyncResult(added, updated, len(gone), frozenset(by_id))

    def list_watch_items(self, user_id: int, *, light: bool = False) -> list[Any]:
        """The cached watch list, soonest-ending first (items without an end last).

        ``light`` gives named tuples with the same attribute names instead of model objects: a few times
        cheaper to build, for the window, which re-reads the whole list after every sync.
        """
        query = (
            WatchItem.select()
            .where(WatchItem.user == user_id)
            .order_by(WatchItem.end_time.asc(nulls="LAST"), WatchItem.id)
        )
        return list(query.namedtuples() if light else query)
