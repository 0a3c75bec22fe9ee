"""Persistence: one SQLite file per data dir (peewee, WAL, versioned migrations)."""

from sniper_app.domain.views import HistoryCursor, WatchSyncResult
from sniper_app.store.db import DB_FILENAME
from sniper_app.store.errors import NotFound, SchemaTooNew, StoreError
from sniper_app.store.models import HistoryEvent, Snipe, SnipeGroup, User, WatchItem
from sniper_app.store.repo import (
    HistoryPage,
    HistoryTuple,
    Store,
    WatchItemData,
)

__all__ = [
    "DB_FILENAME",
    "HistoryCursor",
    "HistoryEvent",
    "HistoryPage",
    "HistoryTuple",
    "NotFound",
    "SchemaTooNew",
    "Snipe",
    "SnipeGroup",
    "Store",
    "StoreError",
    "User",
    "WatchItem",
    "WatchItemData",
    "WatchSyncResult",
]
