"""Persistence: one SQLite file per data dir (peewee, WAL, versioned migrations).

``Store`` (store.py) gathers one room per aggregate over the open database (base.py): users.py, snipes.py,
groups.py, history.py and watchlist.py; views.py turns rows into the facade's plain views.
"""

from sniper_app.domain.views import HistoryCursor, WatchSyncResult
from sniper_app.store.db import DB_FILENAME
from sniper_app.store.errors import NotFound, SchemaTooNew, StoreError
from sniper_app.store.history import HistoryPage, HistoryTuple
from sniper_app.store.models import HistoryEvent, Snipe, SnipeGroup, User, WatchItem
from sniper_app.store.store import Store
from sniper_app.store.watchlist import WatchItemData

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
