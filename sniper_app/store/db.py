"""The SQLite database behind a peewee proxy: file creation, permissions, pragmas and UTC time columns.

Nothing here runs at import time; :func:`open_database` binds the proxy to one file when a store opens.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from peewee import BigIntegerField, DatabaseProxy, SqliteDatabase, TextField

from sniper_app.domain.views import from_epoch_us as from_epoch_us
from sniper_app.domain.views import to_epoch_us as to_epoch_us

DB_FILENAME = "sniper.db"
BUSY_TIMEOUT_S = 5.0

# Every model binds to this proxy; a store initialises it with its own file, so tests and processes
# each use their own database without any module-level connection.
database_proxy = DatabaseProxy()



class UtcDateTimeField(BigIntegerField):
    """An instant stored as integer epoch microseconds: exact, compact, and ordered in indexes."""

    field_type = "INTEGER"

    def db_value(self, value: datetime | None) -> int | None:
        return None if value is None else to_epoch_us(value)

    def python_value(self, value: int | None) -> datetime | None:
        return None if value is None else from_epoch_us(int(value))


class JSONField(TextField):
    """A JSON document in a TEXT column (sorted keys, so equal documents compare equal)."""

    def db_value(self, value: Any) -> str | None:
        return None if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"))

    def python_value(self, value: str | None) -> Any:
        return None if value is None else json.loads(value)


class SniperDatabase(SqliteDatabase):
    """A SqliteDatabase that remembers every per-thread connection, so close() can close them all.

    peewee keeps one connection per thread; a worker thread's connection would otherwise stay open
    after the store closes and keep the WAL from being checkpointed and removed.
    """

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        pragmas: dict[str, Any] = {
            "journal_mode": "wal",
            "foreign_keys": 1,
            "synchronous": 1,  # NORMAL: durable at checkpoints, safe against corruption in WAL mode
            "busy_timeout": int(BUSY_TIMEOUT_S * 1000),
        }
        target = str(path)
        if read_only:
            # A WAL database in a folder that cannot be written: with its -wal and -shm files present SQLite
            # can read it as is; without them (a clean close folds the WAL in) nothing can change it, so it
            # is read as immutable, which needs no -shm file.
            pragmas = {"foreign_keys": 1}
            wal = path.with_name(path.name + "-wal")
            shm = path.with_name(path.name + "-shm")
            target = f"{path.as_uri()}?mode=ro" + ("" if wal.exists() and shm.exists() else "&immutable=1")
        super().__init__(
            target,
            pragmas=pragmas,
            timeout=BUSY_TIMEOUT_S,
            # Closing is done from the thread that closes the store; each connection is otherwise
            # used only by the thread that opened it.
            check_same_thread=False,
            uri=read_only,
        )
        self.read_only = read_only
        self._all_conns: set[sqlite3.Connection] = set()
        self._all_lock = threading.Lock()
        self._shut = False

    @property
    def shut(self) -> bool:
        """True once the store closed this database for good."""
        return self._shut

    def _connect(self) -> sqlite3.Connection:
        if self._shut:
            raise sqlite3.ProgrammingError("the store is closed")
        conn: sqlite3.Connection = super()._connect()  # type: ignore[misc]
        with self._all_lock:
            self._all_conns.add(conn)
        return conn

    def sql(self, statement: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Run raw SQL on this thread's connection (typed wrapper of peewee's execute_sql)."""
        cursor: sqlite3.Cursor = self.execute_sql(statement, params)  # type: ignore[no-untyped-call]
        return cursor

    def raw_connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection = self.connection()  # type: ignore[no-untyped-call]
        return conn

    def _close(self, conn: sqlite3.Connection) -> None:
        with self._all_lock:
            self._all_conns.discard(conn)
        conn.close()

    def close_all(self) -> None:
        """Close this thread's connection through peewee and every other thread's directly."""
        self._shut = True
        if not self.is_closed():
            self.close()
        with self._all_lock:
            conns = list(self._all_conns)
            self._all_conns.clear()
        for conn in conns:
            conn.close()


def prepare_files(path: Path) -> None:
    """Make the data dir (0700) and the database file (0600) before SQLite touches them.

    SQLite gives the -wal and -shm files the permissions of the database file, so creating it
    ourselves with 0600 keeps all three private without changing the process-wide umask.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.chmod(side, 0o600)
