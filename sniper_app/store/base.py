"""The open database of a data dir: opening, closing, the write transaction and the clock.

Each aggregate's operations live in a room of their own (users, snipes, groups, history, watch list);
``Store`` (:mod:`sniper_app.store.store`) puts them together over this base.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self

from peewee import DatabaseError

from sniper_app.domain.history import HistoryAction
from sniper_app.domain.status import SnipeStatus
from sniper_app.store.db import (
    DB_FILENAME,
    SniperDatabase,
    database_proxy,
    prepare_files,
)
from sniper_app.store.errors import StoreError, explain
from sniper_app.store.errors import read_only as read_only_error
from sniper_app.store.migrations import STEPS, current_version, migrate
from sniper_app.store.models import HistoryEvent, Snipe, SnipeGroup, User

log = logging.getLogger(__name__)

DEFAULT_RETENTION: Final = timedelta(days=365)


def _utc_now() -> datetime:
    return datetime.now(UTC)



def check_aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware UTC datetime, got a naive one")
    return value.astimezone(UTC)


def _writable(folder: Path) -> bool:
    """False when the data folder exists but cannot be written (permissions or a read-only mount)."""
    if not folder.exists():
        return True  # created by prepare_files; a failure there says why
    return os.access(folder, os.W_OK)


def status_values(status: SnipeStatus | str | Iterable[SnipeStatus | str]) -> list[str]:
    if isinstance(status, str):
        return [SnipeStatus(status).value]
    return [SnipeStatus(s).value for s in status]


class StoreBase:
    """The open database every room of the store works on; callers use :class:`~sniper_app.store.store.Store`."""

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
    def open(cls, data_dir: Path, **kwargs: Any) -> Self:
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

    def __enter__(self) -> Self:
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
    def transaction(self) -> Iterator[None]:
        """Several of the store's reads and writes as one IMMEDIATE transaction (the writes inside join it), a
        failure of any of them or of the commit raised as the store's own errors (``DiskFull``, ...)."""
        with self._write():
            yield

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
        return check_aware(self._clock(), "clock()")

    if TYPE_CHECKING:
        # What one room calls in another; the rooms' own definitions must keep these signatures.

        def get_user(self, user_id: int) -> User: ...

        def get_snipe(self, snipe_id: int) -> Snipe: ...

        def list_snipes(
            self,
            *,
            status: SnipeStatus | str | Collection[SnipeStatus | str] | None = None,
            user_id: int | None = None,
            group_id: int | None = None,
        ) -> list[Snipe]: ...

        def _group_of_user(self, group_id: int, user_id: int) -> SnipeGroup: ...

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
        ) -> HistoryEvent: ...
