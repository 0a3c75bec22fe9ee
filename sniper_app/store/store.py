"""``Store``: the one SQLite database of a data dir, with every operation the app needs.

Each aggregate's operations live in their own room; this class only puts them together, so callers keep
one object (``store.create_snipe(...)``, ``store.history_page(...)``) whatever room a method lives in.

Never call these from inside an ``await``-spanning block of your own: peewee keeps one connection per
thread, so under asyncio every coroutine shares it. Worker threads get their own connection.
"""

from __future__ import annotations

from sniper_app.store.groups import GroupStore
from sniper_app.store.history import HistoryStore
from sniper_app.store.snipes import SnipeStore
from sniper_app.store.users import UserStore
from sniper_app.store.watchlist import WatchlistStore


class Store(UserStore, SnipeStore, GroupStore, HistoryStore, WatchlistStore):
    """The one SQLite database of a data dir. Open with :meth:`open`; :meth:`close` when done."""
