"""The store: every operation the app needs, each one short synchronous transaction.

Never call these from inside an ``await``-spanning block of your own: peewee keeps one connection per
thread, so under asyncio every coroutine shares it. Worker threads get their own connection.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Final, NamedTuple

from peewee import SQL, DatabaseError, IntegrityError, NodeList, Value, fn

from sniper_app.domain.errors import IllegalTransition, InputError, RuleViolation
from sniper_app.domain.history import HistoryAction
from sniper_app.domain.money import Money, MoneyError, at_rate_of
from sniper_app.domain.status import (
    ACTIVE_STATUSES,
    FINAL_STATUSES,
    NOT_FIRED_STATUSES,
    SnipeStatus,
    check_transition,
)
from sniper_app.domain.text import MAX_GROUP_SIZE, check_group_name, check_group_wins, clip_title
from sniper_app.domain.views import HistoryCursor, WatchSyncResult
from sniper_app.store.db import (
    DB_FILENAME,
    SniperDatabase,
    database_proxy,
    prepare_files,
    to_epoch_us,
)
from sniper_app.store.errors import NotFound, StoreError, explain
from sniper_app.store.errors import read_only as read_only_error
from sniper_app.store.migrations import STEPS, current_version, migrate
from sniper_app.store.models import HistoryEvent, Snipe, SnipeGroup, User, WatchItem

log = logging.getLogger(__name__)

# What a watch-list sync writes for each item, in upsert_watch_items' order.
_WATCH_SYNC_COLUMNS: Final = (
    "rest_item_id", "title", "image_url", "item_url", "currency", "current_price_minor", "bid_count",
    "end_time", "listing_type", "buy_it_now_minor", "synced_at", "expires_at", "converted_currency",
    "converted_price_minor",
)

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

DEFAULT_RETENTION: Final = timedelta(days=365)
DEFAULT_WATCH_TTL: Final = timedelta(hours=1)
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

_STATUS_ACTION: Final = {
    SnipeStatus.PENDING: HistoryAction.UNSCHEDULE,
    SnipeStatus.SCHEDULED: HistoryAction.SCHEDULE,
    SnipeStatus.PLACING: HistoryAction.PLACE,
    SnipeStatus.PLACED: HistoryAction.PLACE,
    SnipeStatus.WON: HistoryAction.WON,
    SnipeStatus.LOST: HistoryAction.LOST,
    SnipeStatus.FAILED: HistoryAction.FAIL,
    SnipeStatus.CANCELLED: HistoryAction.CANCEL,
    SnipeStatus.MISSED: HistoryAction.MISSED,
    SnipeStatus.SKIPPED: HistoryAction.SKIPPED,
}

# Columns the engine may set on a snipe (besides status); user-owned ones go through update_snipe.
ENGINE_FIELDS: Final = frozenset(
    {
        "rest_item_id",
        "title",
        "image_url",
        "item_url",
        "end_time",
        "current_price_minor",
        "converted_currency",
        "converted_price_minor",
        "bid_count",
        "job_id",
        "final_price_minor",
        "planned_at",
        "sent_at",
        "reply_at",
        "clock_offset_ms",
        "latency_ms",
        "attempts",
        "ebay_message",
        "proxy_bid_id",
    }
)

USER_FIELDS: Final = frozenset(
    {
        "ebay_username",
        "ebay_user_id",
        "marketplace",
        "needs_relink",
        "active",
    }
)

_UNSET: Any = object()
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def _utc_now() -> datetime:
    return datetime.now(UTC)


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


def _check_aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware UTC datetime, got a naive one")
    return value.astimezone(UTC)


def _writable(folder: Path) -> bool:
    """False when the data folder exists but cannot be written (permissions or a read-only mount)."""
    if not folder.exists():
        return True  # created by prepare_files; a failure there says why
    return os.access(folder, os.W_OK)


def _like(column: Any, pattern: str) -> Any:
    return NodeList((column, SQL("LIKE"), Value(pattern), SQL("ESCAPE '\\'")))


def _statuses(status: SnipeStatus | str | Iterable[SnipeStatus | str]) -> list[str]:
    if isinstance(status, str):
        return [SnipeStatus(status).value]
    return [SnipeStatus(s).value for s in status]


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


class Store:
    """The one SQLite database of a data dir. Open with :meth:`open`; :meth:`close` when done."""

    def __init__(
        self,
        db_path: Path,
        *,
        retention: timedelta = DEFAULT_RETENTION,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        current = database_proxy.obj
        if isinstance(current, SniperDatabase) and not current.shut:
            raise StoreError(
                f"Another Sniper database ({current.database}) is already open in this process; close it first."
            )
        if retention <= timedelta(0):
            raise ValueError("retention must be positive")
        self.path = Path(db_path)
        self.retention = retention
        self._clock = clock
        read_only = not _writable(self.path.parent)
        if read_only and not self.path.exists():
            raise read_only_error(self.path.parent)
        if not read_only:
            try:
                prepare_files(self.path)
            except OSError as exc:
                raise StoreError(
                    f"Sniper cannot prepare its database {self.path} ({exc.strerror or exc}); check that the "
                    "folder is yours and the disk has room."
                ) from None
        self._db = SniperDatabase(self.path, read_only=read_only)
        database_proxy.initialize(self._db)
        try:
            if read_only:
                self.schema_version = current_version(self._db)
                if self.schema_version != STEPS[-1].version:
                    raise StoreError(
                        f"The database {self.path} needs upgrading, which cannot be done while its folder is "
                        "read-only; make the folder writable and try again."
                    )
            else:
                self.schema_version = migrate(self._db)
        except BaseException as exc:
            self._shutdown()
            if isinstance(exc, DatabaseError | sqlite3.DatabaseError):
                raise (explain(exc, self.path, opening=True) or exc) from None
            raise

    @classmethod
    def open(cls, data_dir: Path, **kwargs: Any) -> Store:
        """Open (creating and migrating as needed) ``data_dir/sniper.db``."""
        return cls(Path(data_dir) / DB_FILENAME, **kwargs)

    def close(self) -> None:
        """Checkpoint the WAL into the main file and close every thread's connection."""
        if self._db.shut:
            return
        if self._db.read_only:
            self._shutdown()
            return
        try:
            self._db.sql("PRAGMA optimize")
            self._db.sql("PRAGMA wal_checkpoint(TRUNCATE)")
        except (DatabaseError, sqlite3.DatabaseError) as exc:
            # Tidying only: a full disk or a damaged page leaves the WAL for the next opening to fold in.
            log.info("the database was closed without its final checkpoint: %s", exc)
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        self._db.close_all()
        if database_proxy.obj is self._db:
            database_proxy.initialize(None)

    @property
    def closed(self) -> bool:
        return self._db.shut

    @property
    def read_only(self) -> bool:
        """True when the data folder cannot be written: the store reads, and every change is refused."""
        return self._db.read_only

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close_thread_connection(self) -> None:
        """Close the calling worker thread's connection (the next call from it reopens one)."""
        if not self._db.is_closed():
            self._db.close()

    @property
    def database(self) -> SniperDatabase:
        return self._db

    @contextmanager
    def _write(self) -> Iterator[None]:
        # IMMEDIATE takes the write lock at BEGIN: a read-then-write can never be overtaken by another
        # connection, and lock waits go through the busy timeout instead of failing with SQLITE_BUSY.
        try:
            with self._db.atomic("IMMEDIATE"):
                yield
        except (DatabaseError, sqlite3.DatabaseError) as exc:
            # A full disk, a read-only folder or a damaged file: SQLite rolled the transaction back, so
            # nothing is half-written; say so in a sentence instead of SQLite's words.
            translated = explain(exc, self.path)
            if translated is None:
                raise
            raise translated from exc

    def now(self) -> datetime:
        return _check_aware(self._clock(), "clock()")

    # ---------------------------------------------------------------- users

    def get_or_create_user(self, *, ebay_user_id: str | None = None, marketplace: str = "EBAY_US") -> User:
        """The profile linked to ``ebay_user_id``, else the first active profile, else a new one."""
        with self._write():
            user: User | None = None
            if ebay_user_id is not None:
                user = User.get_or_none(User.ebay_user_id == ebay_user_id)
            if user is None:
                user = User.select().where(User.active == True).order_by(User.id).first()  # noqa: E712
            if user is None:
                now = self.now()
                user = User.create(
                    ebay_user_id=ebay_user_id,
                    marketplace=marketplace,
                    created_at=now,
                    updated_at=now,
                )
            return user

    def get_user(self, user_id: int) -> User:
        user = User.get_or_none(User.id == user_id)
        if user is None:
            raise NotFound(f"There is no local profile #{user_id}.")
        return user

    def update_user(self, user_id: int, **fields: Any) -> User:
        unknown = set(fields) - USER_FIELDS
        if unknown:
            raise TypeError(f"cannot set user field(s): {', '.join(sorted(unknown))}")
        with self._write():
            self.get_user(user_id)
            if fields:
                fields["updated_at"] = self.now()
                User.update(fields).where(User.id == user_id).execute()
            return self.get_user(user_id)

    def link_ebay_account(self, user_id: int, *, ebay_username: str, ebay_user_id: str | None) -> User:
        """Remember which eBay account is linked (its tokens live in the keyring) and clear re-link."""
        with self._write():
            user = self.update_user(user_id, ebay_username=ebay_username, ebay_user_id=ebay_user_id, needs_relink=False)
            self._event(HistoryAction.ACCOUNT, message=f"eBay account {ebay_username} linked.")
            return user

    def set_needs_relink(self, user_id: int, needs: bool, *, reason: str | None = None) -> User:
        with self._write():
            before = self.get_user(user_id).needs_relink
            user = self.update_user(user_id, needs_relink=needs)
            if needs and not before:
                self._event(
                    HistoryAction.ACCOUNT,
                    message=reason or "The eBay account must be linked again.",
                )
            return user

    # ---------------------------------------------------------------- snipes

    def create_snipe(
        self,
        user_id: int,
        *,
        legacy_item_id: str,
        currency: str,
        max_bid_minor: int,
        end_time: datetime,
        lead_seconds: float,
        title: str = "",
        rest_item_id: str | None = None,
        image_url: str | None = None,
        item_url: str | None = None,
        marketplace: str = "EBAY_US",
        current_price_minor: int | None = None,
        bid_count: int = 0,
        group_id: int | None = None,
        message: str | None = None,
        details: dict[str, Any] | None = None,
        converted_currency: str | None = None,
        converted_price_minor: int | None = None,
    ) -> Snipe:
        """Insert a PENDING snipe and its CREATE event; refuse a second active snipe on one item."""
        if isinstance(max_bid_minor, bool) or not isinstance(max_bid_minor, int) or max_bid_minor <= 0:
            raise InputError("The maximum bid must be a positive whole number of minor units.")
        if not _CURRENCY_RE.match(currency):
            raise InputError(f"“{currency}” is not an ISO currency code.")
        if lead_seconds < 0:
            raise InputError("The lead time cannot be negative.")
        end_time = _check_aware(end_time, "end_time")
        title = clip_title(title)
        with self._write():
            self.get_user(user_id)
            if group_id is not None:
                self._group_of_user(group_id, user_id)
                if Snipe.select().where(Snipe.group == group_id).count() >= MAX_GROUP_SIZE:
                    raise RuleViolation(f"A group holds at most {MAX_GROUP_SIZE} snipes, and this one is full.")
            existing = (
                Snipe.select()
                .where(
                    (Snipe.user == user_id)
                    & (Snipe.legacy_item_id == legacy_item_id)
                    & Snipe.status.in_(_statuses(ACTIVE_STATUSES))
                )
                .first()
            )
            if existing is not None:
                raise self._duplicate(existing)
            now = self.now()
            try:
                snipe = Snipe.create(
                    user=user_id,
                    legacy_item_id=legacy_item_id,
                    rest_item_id=rest_item_id,
                    title=title,
                    image_url=image_url,
                    item_url=item_url,
                    marketplace=marketplace,
                    currency=currency,
                    max_bid_minor=max_bid_minor,
                    lead_seconds=float(lead_seconds),
                    end_time=end_time,
                    current_price_minor=current_price_minor,
                    converted_currency=converted_currency,
                    converted_price_minor=converted_price_minor,
                    bid_count=bid_count,
                    status=SnipeStatus.PENDING.value,
                    group=group_id,
                    created_at=now,
                    updated_at=now,
                )
            except IntegrityError as exc:
                # The partial unique index caught a race the check above could not see.
                raise RuleViolation(f"Item {legacy_item_id} already has an active snipe.") from exc
            self._event(
                HistoryAction.CREATE,
                snipe=snipe,
                amount_minor=max_bid_minor,
                message=message or f"Snipe created for {title or legacy_item_id}.",
                details=details,
            )
            return snipe

    @staticmethod
    def _duplicate(existing: Snipe) -> RuleViolation:
        return RuleViolation(
            f"Item {existing.legacy_item_id} already has an active snipe "
            f"(#{existing.id}, {existing.status.lower()}); edit or cancel that one instead."
        )

    def get_snipe(self, snipe_id: int) -> Snipe:
        snipe = Snipe.get_or_none(Snipe.id == snipe_id)
        if snipe is None:
            raise NotFound(f"There is no snipe #{snipe_id}.")
        return snipe

    def get_user_snipe(self, user_id: int, snipe_id: int) -> Snipe:
        """Snipe ``snipe_id`` if profile ``user_id`` owns it: another profile's snipe is as unknown as none."""
        snipe = self.get_snipe(snipe_id)
        if snipe.user_id != user_id:
            raise NotFound(f"There is no snipe #{snipe_id}.")
        return snipe

    def find_active_snipe(self, user_id: int, legacy_item_id: str) -> Snipe | None:
        found: Snipe | None = (
            Snipe.select()
            .where(
                (Snipe.user == user_id)
                & (Snipe.legacy_item_id == legacy_item_id)
                & Snipe.status.in_(_statuses(ACTIVE_STATUSES))
            )
            .first()
        )
        return found

    def list_snipes(
        self,
        *,
        status: SnipeStatus | str | Collection[SnipeStatus | str] | None = None,
        user_id: int | None = None,
        group_id: int | None = None,
    ) -> list[Snipe]:
        """Snipes by auction end (soonest first), optionally only those in ``status``."""
        query = Snipe.select()
        if status is not None:
            query = query.where(Snipe.status.in_(_statuses(status)))
        if user_id is not None:
            query = query.where(Snipe.user == user_id)
        if group_id is not None:
            query = query.where(Snipe.group == group_id)
        return list(query.order_by(Snipe.end_time, Snipe.id))

    def active_snipes(self, user_id: int | None = None) -> list[Snipe]:
        """Every snipe the scheduler must know about after a start (PENDING ... PLACED)."""
        return self.list_snipes(status=ACTIVE_STATUSES, user_id=user_id)

    def snipes_due(self, until: datetime) -> list[Snipe]:
        """Not-yet-fired snipes whose fire instant (end − lead) is at or before ``until``."""
        until_us = to_epoch_us(_check_aware(until, "until"))
        fire_us = Snipe.end_time - fn.CAST(SQL("lead_seconds * 1000000 AS INTEGER"))
        return list(
            Snipe.select()
            .where(Snipe.status.in_(_statuses(NOT_FIRED_STATUSES)) & (fire_us <= until_us))
            .order_by(Snipe.end_time, Snipe.id)
        )

    def set_status(
        self,
        snipe_id: int,
        new_status: SnipeStatus,
        *,
        reason: str | None = None,
        action: HistoryAction | None = None,
        details: dict[str, Any] | None = None,
        expected: SnipeStatus | Collection[SnipeStatus] | None = None,
        amount_minor: int | None = None,
        **fields: Any,
    ) -> bool:
        """Move a snipe to ``new_status`` and record the event, in one transaction.

        With ``expected``, this is a compare-and-set: nothing is written and False is returned unless
        the snipe is still in (one of) ``expected``. An illegal transition raises
        :class:`IllegalTransition` and writes nothing. ``fields`` sets engine columns in the same
        write (job_id, final_price_minor, the timing record, ...).
        """
        new_status = SnipeStatus(new_status)
        self._check_engine_fields(fields)
        with self._write():
            snipe = self.get_snipe(snipe_id)
            current = SnipeStatus(snipe.status)
            if expected is not None:
                allowed = {expected} if isinstance(expected, str) else set(expected)
                if current not in {SnipeStatus(s) for s in allowed}:
                    return False
            check_transition(current, new_status)
            self._apply_status(snipe, current, new_status, reason, action, details, amount_minor, fields)
            return True

    def _apply_status(
        self,
        snipe: Snipe,
        current: SnipeStatus,
        new_status: SnipeStatus,
        reason: str | None,
        action: HistoryAction | None,
        details: dict[str, Any] | None,
        amount_minor: int | None,
        fields: dict[str, Any],
    ) -> None:
        now = self.now()
        values: dict[str, Any] = {
            "status": new_status.value,
            "status_reason": reason,
            "updated_at": now,
            **fields,
        }
        changed = Snipe.update(values).where((Snipe.id == snipe.id) & (Snipe.status == current.value)).execute()
        if changed != 1:  # cannot happen under IMMEDIATE; a loud failure beats a silent double fire
            raise StoreError(f"Snipe #{snipe.id} changed while it was being updated; try again.")
        for name, value in values.items():
            setattr(snipe, name, value)
        self._event(
            action or _STATUS_ACTION[new_status],
            snipe=snipe,
            status=new_status,
            amount_minor=amount_minor,
            final_price_minor=fields.get("final_price_minor"),
            message=reason or f"{current.value} → {new_status.value}",
            details=details,
        )

    def hand_over_despite_cancel(self, snipe_id: int, *, amount_minor: int, reason: str) -> bool:
        """Record PLACING over a CANCELLED that landed after the bid had left but before the hand-over was
        saved (a full disk held that write back): the bid was sent, so the cancel cannot stand. The only
        way out of a final status, and only from CANCELLED; False (nothing written) otherwise."""
        with self._write():
            snipe = self.get_snipe(snipe_id)
            current = SnipeStatus(snipe.status)
            if current is not SnipeStatus.CANCELLED:
                return False
            self._apply_status(snipe, current, SnipeStatus.PLACING, reason, HistoryAction.PLACE, None, amount_minor,
                               {"job_id": None})
            return True

    def cancel(self, snipe_id: int, *, reason: str = "Cancelled by the user.") -> Snipe:
        """Cancel a snipe that has not fired yet; explain why not otherwise."""
        with self._write():
            snipe = self.get_snipe(snipe_id)
            current = SnipeStatus(snipe.status)
            name = snipe.title or f"item {snipe.legacy_item_id}"
            if current in FINAL_STATUSES:
                raise IllegalTransition(
                    f"The snipe on {name} already ended as {current.value.lower()}; there is nothing to cancel."
                )
            if current not in NOT_FIRED_STATUSES:
                raise IllegalTransition(
                    f"The bid on {name} has already been sent to eBay; it can no longer be cancelled."
                )
            self._apply_status(
                snipe, current, SnipeStatus.CANCELLED, reason, HistoryAction.CANCEL, None, None, {"job_id": None}
            )
            return snipe

    def update_snipe(
        self,
        snipe_id: int,
        *,
        max_bid_minor: int | None = None,
        lead_seconds: float | None = None,
        group_id: int | None = _UNSET,
        message: str | None = None,
    ) -> Snipe:
        """The user's edit of a snipe not yet fired; records an UPDATE event with old and new values."""
        if max_bid_minor is not None and (
            isinstance(max_bid_minor, bool) or not isinstance(max_bid_minor, int) or max_bid_minor <= 0
        ):
            raise InputError("The maximum bid must be a positive whole number of minor units.")
        if lead_seconds is not None and lead_seconds < 0:
            raise InputError("The lead time cannot be negative.")
        with self._write():
            snipe = self.get_snipe(snipe_id)
            current = SnipeStatus(snipe.status)
            if current not in NOT_FIRED_STATUSES:
                raise IllegalTransition(
                    f"The snipe on {snipe.title or snipe.legacy_item_id} is {current.value.lower()}; "
                    "it can no longer be edited."
                )
            changes: dict[str, list[Any]] = {}
            values: dict[str, Any] = {}
            if max_bid_minor is not None and max_bid_minor != snipe.max_bid_minor:
                changes["max_bid_minor"] = [snipe.max_bid_minor, max_bid_minor]
                values["max_bid_minor"] = max_bid_minor
            if lead_seconds is not None and float(lead_seconds) != snipe.lead_seconds:
                changes["lead_seconds"] = [snipe.lead_seconds, float(lead_seconds)]
                values["lead_seconds"] = float(lead_seconds)
            old_group = snipe.group_id
            if group_id is not _UNSET and group_id != old_group:
                if group_id is not None:
                    self._group_of_user(group_id, snipe.user_id)
                changes["group_id"] = [old_group, group_id]
                values["group"] = group_id
            if not values:
                return snipe
            values["updated_at"] = self.now()
            Snipe.update(values).where(Snipe.id == snipe_id).execute()
            snipe = self.get_snipe(snipe_id)
            self._event(
                HistoryAction.UPDATE,
                snipe=snipe,
                amount_minor=snipe.max_bid_minor,
                status=current,
                message=message or "Snipe edited.",
                details={"changes": changes},
            )
            return snipe

    def update_fields(
        self, snipe_id: int, *, expected: SnipeStatus | Collection[SnipeStatus] | None = None, **fields: Any
    ) -> bool:
        """Set engine columns (item refresh, job id, timing) without a status change or history event."""
        self._check_engine_fields(fields)
        if "title" in fields:
            fields["title"] = clip_title(fields["title"])
        with self._write():
            snipe = self.get_snipe(snipe_id)
            if expected is not None:
                allowed = {expected} if isinstance(expected, str) else set(expected)
                if SnipeStatus(snipe.status) not in {SnipeStatus(s) for s in allowed}:
                    return False
            if fields:
                fields["updated_at"] = self.now()
                Snipe.update(fields).where(Snipe.id == snipe_id).execute()
            return True

    def record_timing(
        self,
        snipe_id: int,
        *,
        planned_at: datetime | None = None,
        sent_at: datetime | None = None,
        reply_at: datetime | None = None,
        clock_offset_ms: float | None = None,
        latency_ms: float | None = None,
        attempts: int | None = None,
        ebay_message: str | None = None,
        proxy_bid_id: str | None = None,
    ) -> None:
        """Store the timing record of a fire; only the arguments given are written."""
        given: dict[str, Any] = {
            name: value
            for name, value in {
                "planned_at": planned_at,
                "sent_at": sent_at,
                "reply_at": reply_at,
                "clock_offset_ms": clock_offset_ms,
                "latency_ms": latency_ms,
                "attempts": attempts,
                "ebay_message": ebay_message,
                "proxy_bid_id": proxy_bid_id,
            }.items()
            if value is not None
        }
        self.update_fields(snipe_id, **given)

    @staticmethod
    def _check_engine_fields(fields: dict[str, Any]) -> None:
        unknown = set(fields) - ENGINE_FIELDS
        if unknown:
            raise TypeError(f"cannot set snipe field(s) here: {', '.join(sorted(unknown))}")
        for name, value in fields.items():
            if isinstance(value, datetime):
                _check_aware(value, name)

    # ---------------------------------------------------------------- groups

    def create_group(self, user_id: int, name: str, *, target_wins: int = 1) -> SnipeGroup:
        name = check_group_name(name)
        target_wins = check_group_wins(target_wins)
        with self._write():
            self.get_user(user_id)
            if self.find_group(user_id, name) is not None:
                raise RuleViolation(f"A group named “{name}” already exists.")
            group: SnipeGroup = SnipeGroup.create(
                user=user_id, name=name, target_wins=target_wins, created_at=self.now()
            )
            return group

    def get_group(self, group_id: int) -> SnipeGroup:
        group = SnipeGroup.get_or_none(SnipeGroup.id == group_id)
        if group is None:
            raise NotFound(f"There is no snipe group #{group_id}.")
        return group

    def _group_of_user(self, group_id: int, user_id: int) -> SnipeGroup:
        group = self.get_group(group_id)
        if group.user_id != user_id:
            raise NotFound(f"There is no snipe group #{group_id}.")
        return group

    def find_group(self, user_id: int, name: str) -> SnipeGroup | None:
        """The user's group called ``name`` (case-insensitive)."""
        return SnipeGroup.get_or_none((SnipeGroup.user == user_id) & (SnipeGroup.name == name.strip()))

    def list_groups(self, user_id: int) -> list[SnipeGroup]:
        return list(SnipeGroup.select().where(SnipeGroup.user == user_id).order_by(SnipeGroup.name))

    def group_members(self, group_id: int) -> list[Snipe]:
        return self.list_snipes(group_id=group_id)

    def group_won_count(self, group_id: int) -> int:
        return int(Snipe.select().where((Snipe.group == group_id) & (Snipe.status == SnipeStatus.WON.value)).count())

    # ---------------------------------------------------------------- history

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
        at = self.now() if at is None else _check_aware(at, "at")
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
            query = query.where(self._snipe_status_condition(_statuses(snipe_status)))
        if since is not None:
            query = query.where(HistoryEvent.at >= _check_aware(since, "since"))
        if until is not None:
            query = query.where(HistoryEvent.at < _check_aware(until, "until"))
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
        cutoff = to_epoch_us(self.now() if now is None else _check_aware(now, "now"))
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

    # ---------------------------------------------------------------- watch list

    def upsert_watch_items(
        self,
        user_id: int,
        items: Iterable[WatchItemData],
        synced_at: datetime,
        *,
        ttl: timedelta = DEFAULT_WATCH_TTL,
    ) -> WatchSyncResult:
        """Replace the cached watch list with ``items``: insert new, update known, drop the rest."""
        synced_at = _check_aware(synced_at, "synced_at")
        by_id: dict[str, WatchItemData] = {}
        for item in items:
            if item.end_time is not None:
                _check_aware(item.end_time, "end_time")
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
