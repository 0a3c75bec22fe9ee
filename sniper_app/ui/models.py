"""The table models of the three main views, one room each, fed from the facade's reads and kept fresh by events.

Rows are the facade's frozen views, never live database rows: painting a cell never touches the database.
The Watch list and Snipes models are loaded whole (hundreds of rows) and sorted by a proxy; History holds
far more and is paged lazily from the store's keyset cursor, newest first, with filters applied by SQL.
"""

from __future__ import annotations

from sniper_app.ui.history_model import DEFAULT_HISTORY_PAGE, MAX_CACHED_PAGES, HistoryColumn, HistoryModel
from sniper_app.ui.snipes_model import SnipeColumn, SnipesModel, SnipesProxy
from sniper_app.ui.table_model import (
    KEY_ROLE,
    SNIPEABLE_ROLE,
    SORT_ROLE,
    Clock,
    action_text,
    sort_proxy,
    status_text,
    utc_now,
)
from sniper_app.ui.watch_list_model import WatchColumn, WatchListModel, WatchRow

__all__ = [
    "DEFAULT_HISTORY_PAGE",
    "KEY_ROLE",
    "MAX_CACHED_PAGES",
    "SNIPEABLE_ROLE",
    "SORT_ROLE",
    "Clock",
    "HistoryColumn",
    "HistoryModel",
    "SnipeColumn",
    "SnipesModel",
    "SnipesProxy",
    "WatchColumn",
    "WatchListModel",
    "WatchRow",
    "action_text",
    "sort_proxy",
    "status_text",
    "utc_now",
]
