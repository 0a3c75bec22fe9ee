"""The store's history: events, keyset paging, counts and the retention purge."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final, NamedTuple

from peewee import SQL, NodeList, Value

from sniper_app.domain.history import HistoryAction
from sniper_app.domain.money import Money, MoneyError, at_rate_of
from sniper_app.domain.status import SnipeStatus
from sniper_app.domain.text import clip_title
from sniper_app.domain.views import HistoryCursor
from sniper_app.store.base import StoreBase, check_aware, status_values
from sniper_app.store.db import to_epoch_us
from sniper_app.store.models import HistoryEvent, Snipe

# The columns of a light history page, in HistoryTuple's order.
_LIGHT_FIELDS: Final = (
    HistoryEvent.id,
    HistoryEvent.at,
    HistoryEvent.action,
    HistoryEvent.status,
    HistoryEvent.snipe,
    HistoryEvent.legacy_item_id,
    HistoryEvent.title,
    HistoryEvent.amount_minor,
    HistoryEvent.final_price_minor,
    HistoryEvent.currency,
    HistoryEvent.message,
    HistoryEvent.converted_currency,
    HistoryEvent.converted_amount_minor,
    HistoryEvent.converted_final_price_minor,
)

DEFAULT_PAGE_SIZE: Final = 100
MAX_PAGE_SIZE: Final = 1000
# Small batches: each holds the write lock (~70 ms per 1,000 rows with the text index), and a fire
# must never wait long behind housekeeping.
PURGE_BATCH: Final = 1000
# Above this many full-text matches a word is common, and walking the time index with LIKE finds a
# page of matches sooner than collecting and sorting every match.
_FTS_RARE_LIMIT: Final = 2_000
# A status held by more than 1/N of all snipes is common: its history is paged along the time index.
_STATUS_COMMON_SHARE: Final = 5


def _converted_amounts(
    snipe: Snipe | None, currency: str | None, amount_minor: int | None, final_price_minor: int | None
) -> tuple[str | None, int | None, int | None]:
    """The event's amounts at the rate eBay last converted the snipe's price for the user, for an "≈" only;
    all None where eBay converted nothing (or the event has no amount in the snipe's currency)."""
    if snipe is None or currency != snipe.currency or not snipe.converted_currency:
        return None, None, None
    if snipe.current_price_minor is None or snipe.converted_price_minor is None:
        return None, None, None
    try:
        own = Money(int(snipe.current_price_minor), str(currency))
        converted = Money(int(snipe.converted_price_minor), str(snipe.converted_currency))
        amount, final = (
            at_rate_of(Money(int(minor), str(currency)), own, converted) if minor is not None else None
            for minor in (amount_minor, final_price_minor)
        )
    except MoneyError:
        return None, None, None
    if amount is None and final is None:
        return None, None, None
    return (converted.currency, amount.minor if amount is not None else None,
            final.minor if final is not None else None)


def _like(column: Any, pattern: str) -> Any:
    return NodeList((column, SQL("LIKE"), Value(pattern), SQL("ESCAPE '\\'")))


@dataclass(frozen=True)
class HistoryPage:
    rows: list[Any]  # HistoryEvent, or HistoryTuple for a light page
    next_cursor: HistoryCursor | None  # None: this was the last page


class HistoryTuple(NamedTuple):
    """One history event as a list shows it (see ``Store.history_page(light=True)``)."""

    id: int
    at: datetime
    action: str
    status: str | None
    snipe_id: int | None
    legacy_item_id: str | None
    title: str | None
    amount_minor: int | None
    final_price_minor: int | None
    currency: str | None
    message: str
    converted_currency: str | None = None
    converted_amount_minor: int | None = None
    converted_final_price_minor: int | None = None


class HistoryStore(StoreBase):
    """The history: appending events, keyset pages, counts and the retention purge."""

    def add_event(
        self,
        action: HistoryAction,
        *,
        snipe_id: int | None = None,
        legacy_item_id: str | None = None,
        title: str | None = None,
        amount_minor: int | None = None,
        currency: str | None = None,
        final_price_minor: int | None = None,
        status: SnipeStatus | None = None,
        message: str = "",
        details: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> HistoryEvent:
        """Append one event; item, title and currency default to the snipe's."""
        with self._write():
            snipe = self.get_snipe(snipe_id) if snipe_id is not None else None
            return self._event(
                action,
                snipe=snipe,
                legacy_item_id=legacy_item_id,
                title=title,
                amount_minor=amount_minor,
                currency=currency,
                final_price_minor=final_price_minor,
                status=status,
                message=message,
                details=details,
                at=at,
            )

    def _event(
        self,
        action: HistoryAction,
        *,
        snipe: Snipe | None = None,
        legacy_item_id: str | None = None,
        title: str | None = None,
        amount_minor: int | None = None,
        currency: str | None = None,
        final_price_minor: int | None = None,
        status: SnipeStatus | None = None,
        message: str = "",
        details: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> HistoryEvent:
        at = self.now() if at is None else check_aware(at, "at")
        if snipe is not None:
            legacy_item_id = legacy_item_id or snipe.legacy_item_id
            title = title if title is not None else snipe.title
            currency = currency or snipe.currency
            if status is None:
                status = SnipeStatus(snipe.status)
        elif amount_minor is not None and currency is None:
            raise ValueError("an amount needs its currency")
        converted_currency, converted_amount, converted_final = _converted_amounts(
            snipe, currency, amount_minor, final_price_minor
        )
        event: HistoryEvent = HistoryEvent.create(
            at=at,
            action=HistoryAction(action).value,
            snipe=snipe.id if snipe is not None else None,
            legacy_item_id=legacy_item_id,
            title=clip_title(title) if title is not None else None,
            amount_minor=amount_minor,
            currency=currency,
            final_price_minor=final_price_minor,
            status=status.value if status is not None else None,
            message=message,
            details=details,
            expires_at=at + self.retention,
            converted_currency=converted_currency,
            converted_amount_minor=converted_amount,
            converted_final_price_minor=converted_final,
        )
        return event

    def _history_query(
        self,
        *,
        actions: HistoryAction | Collection[HistoryAction] | None,
        legacy_item_id: str | None,
        snipe_id: int | None,
        since: datetime | None,
        until: datetime | None,
        text: str | None,
        snipe_status: SnipeStatus | str | Collection[SnipeStatus | str] | None = None,
    ) -> Any:
        query = HistoryEvent.select()
        if actions is not None:
            names = (
                [HistoryAction(actions).value]
                if isinstance(actions, str)
                else [HistoryAction(a).value for a in actions]
            )
            query = query.where(HistoryEvent.action.in_(names))
        if legacy_item_id is not None:
            query = query.where(HistoryEvent.legacy_item_id == legacy_item_id)
        if snipe_id is not None:
            query = query.where(HistoryEvent.snipe == snipe_id)
        if snipe_status is not None:
            # The snipe's status now, not the one the event recorded: "everything about the snipes I won".
            query = query.where(self._snipe_status_condition(status_values(snipe_status)))
        if since is not None:
            query = query.where(HistoryEvent.at >= check_aware(since, "since"))
        if until is not None:
            query = query.where(HistoryEvent.at < check_aware(until, "until"))
        if text is not None and text.strip():
            query = query.where(self._text_condition(text.strip()))
        return query

    def _snipe_status_condition(self, statuses: list[str]) -> Any:
        in_status = Snipe.select(Snipe.id).where(Snipe.status.in_(statuses))
        # Both counts read the (status, end_time) index only.
        matching, total = in_status.count(), Snipe.select().count()
        if matching * _STATUS_COMMON_SHARE <= total:
            # Few snipes: gather their events through (snipe_id, at, id) and sort that small set.
            return HistoryEvent.snipe.in_(in_status)
        # Common: sorting all their events costs more than walking the time index, where a page of
        # matches comes soon. The unary plus keeps SQLite off the snipe index for this term.
        return NodeList((SQL("+"), HistoryEvent.snipe), glue="").in_(in_status)

    def _text_condition(self, text: str) -> Any:
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"
        like = _like(HistoryEvent.title, pattern) | _like(HistoryEvent.message, pattern)
        if len(text) < 3:  # below the trigram size the full-text index cannot help
            return like
        phrase = '"' + text.replace('"', '""') + '"'
        (matches,) = self._db.sql(
            "SELECT count(*) FROM (SELECT rowid FROM history_fts WHERE history_fts MATCH ? LIMIT ?)",
            (phrase, _FTS_RARE_LIMIT + 1),
        ).fetchone()
        if matches > _FTS_RARE_LIMIT:
            return like
        return HistoryEvent.id.in_(SQL("(SELECT rowid FROM history_fts WHERE history_fts MATCH ?)", [phrase]))

    def history_page(
        self,
        *,
        cursor: HistoryCursor | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        actions: HistoryAction | Collection[HistoryAction] | None = None,
        legacy_item_id: str | None = None,
        snipe_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        text: str | None = None,
        snipe_status: SnipeStatus | str | Collection[SnipeStatus | str] | None = None,
        light: bool = False,
    ) -> HistoryPage:
        """One page of history, newest first, strictly after ``cursor`` in that order.

        ``light`` returns :class:`HistoryTuple` rows (the columns a list shows) instead of model objects:
        several times cheaper per row, which is what a long scroll through the window's History needs.

        ``since`` is inclusive, ``until`` exclusive; ``text`` is a case-insensitive substring of the
        title or message; ``snipe_status`` keeps events of snipes whose status is now (one of) those.
        """
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be within 1..{MAX_PAGE_SIZE}")
        with self._db.atomic():  # one snapshot for the text probe and the page
            query = self._history_query(
                actions=actions,
                legacy_item_id=legacy_item_id,
                snipe_id=snipe_id,
                since=since,
                until=until,
                text=text,
                snipe_status=snipe_status,
            )
            if cursor is not None:
                # Written as a range on `at` plus a tie-break, so SQLite walks one index range.
                query = query.where(
                    (HistoryEvent.at <= cursor.at) & ((HistoryEvent.at < cursor.at) | (HistoryEvent.id < cursor.id))
                )
            query = query.order_by(HistoryEvent.at.desc(), HistoryEvent.id.desc()).limit(limit + 1)
            if light:
                light_rows = [HistoryTuple(*row) for row in query.select(*_LIGHT_FIELDS).tuples()]
                more = len(light_rows) > limit
                light_rows = light_rows[:limit]
                last = light_rows[-1] if light_rows else None
                return HistoryPage(light_rows, HistoryCursor(last.at, last.id) if more and last else None)
            rows = list(query)
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = HistoryCursor(rows[-1].at, rows[-1].id) if more else None
        return HistoryPage(rows, next_cursor)

    def detached_history_count(self, **filters: Any) -> Callable[[], int]:
        """Prepare :meth:`count_history` here; the returned call runs it on a private read-only connection.

        Counting a million events takes a good fraction of a second, so the window runs the returned call
        on a worker thread rather than freeze while it counts. Build it on the store's own thread.
        """
        options: dict[str, Any] = dict.fromkeys(
            ("actions", "legacy_item_id", "snipe_id", "since", "until", "text", "snipe_status")
        )
        with self._db.atomic():
            sql, params = self._history_query(**(options | filters)).select(HistoryEvent.id).sql()
        uri = f"{Path(self._db.database).resolve().as_uri()}?mode=ro"

        def count() -> int:
            connection = sqlite3.connect(uri, uri=True, timeout=5.0)
            try:
                row = connection.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()  # noqa: S608
                return int(row[0])
            finally:
                connection.close()

        return count

    def count_history(
        self,
        *,
        actions: HistoryAction | Collection[HistoryAction] | None = None,
        legacy_item_id: str | None = None,
        snipe_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        text: str | None = None,
        snipe_status: SnipeStatus | str | Collection[SnipeStatus | str] | None = None,
    ) -> int:
        """How many events match (reads the matching index range; fine for a status bar, not a loop)."""
        with self._db.atomic():
            query = self._history_query(
                actions=actions,
                legacy_item_id=legacy_item_id,
                snipe_id=snipe_id,
                since=since,
                until=until,
                text=text,
                snipe_status=snipe_status,
            )
            count: int = query.count()
            return count

    def purge_history(self, now: datetime | None = None, *, batch: int = PURGE_BATCH) -> int:
        """Delete events past their retention horizon, in batches so other writers are not held up."""
        cutoff = to_epoch_us(self.now() if now is None else check_aware(now, "now"))
        total = 0
        while True:
            with self._write():
                cursor = self._db.sql(
                    "DELETE FROM history_event WHERE id IN "
                    "(SELECT id FROM history_event WHERE expires_at <= ? LIMIT ?)",
                    (cutoff, batch),
                )
                deleted = cursor.rowcount
            total += deleted
            if deleted < batch:
                return total
