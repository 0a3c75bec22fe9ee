"""Errors of the store; each ``str(err)`` is a sentence the user can read."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from peewee import DatabaseError

from sniper_app.domain.errors import SniperError


class StoreError(SniperError):
    """The database cannot be opened or used as asked."""


class SchemaTooNew(StoreError):
    """The database was written by a newer version of the app than this one."""


class NotFound(StoreError, LookupError):
    """A snipe, group, user or event that the caller named does not exist."""


class DatabaseDamaged(StoreError):
    """The database file is damaged or is not a Sniper database; it is left untouched."""


class ReadOnlyData(StoreError):
    """The data folder cannot be written: reads work, changes are refused."""


class DiskFull(StoreError):
    """The disk holding the database is full (or failing): the change was not saved, nothing half-written."""


_DAMAGED = ("file is not a database", "database disk image is malformed", "malformed database schema")
_READ_ONLY = ("attempt to write a readonly database", "readonly database")
_FULL = ("database or disk is full",)
_IO = ("disk i/o error",)


def _backup_hint(path: Path) -> str:
    backups = sorted(path.parent.glob(f"{path.name}.v*.bak"), key=lambda p: p.stat().st_mtime)
    if backups:
        return (f"Copy its latest automatic backup {backups[-1]} over it, or move {path.name} aside to start "
                "with an empty database.")
    return (f"Restore a backup of it (Sniper keeps one as {path.name}.v<N>-<time>.bak beside it before every "
            f"upgrade), or move {path.name} aside to start with an empty database.")


def explain(exc: BaseException, path: Path, *, opening: bool = False) -> StoreError | None:
    """The sentence for a SQLite failure on the database at ``path``, or None if it is not one we know.

    A failed write inside a transaction is often followed by a second error ("cannot rollback") from the
    clean-up, so the whole chain of causes is searched for the first one.
    """
    outcome = (
        "so Sniper could not open its database" if opening else "so the change was not saved (nothing was half-written)"
    )
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = str(current).lower()
        if any(m in text for m in _DAMAGED):
            return DatabaseDamaged(
                f"The database {path} is damaged or is not a Sniper database, so Sniper left it untouched. "
                + _backup_hint(path)
            )
        if any(m in text for m in _READ_ONLY):
            return read_only(path.parent)
        if any(m in text for m in _FULL):
            return DiskFull(f"The disk holding {path.parent} is full, {outcome}. Free some space and try again.")
        if any(m in text for m in _IO):
            return DiskFull(
                f"The disk holding {path.parent} is full or failing, {outcome}. Free some space (or check the "
                "disk) and try again."
            )
        current = current.__cause__ or current.__context__
    return None


def read_only(folder: Path) -> ReadOnlyData:
    return ReadOnlyData(
        f"The data folder {folder} is read-only, so nothing can be changed; make it writable (or set data_dir "
        "to another folder) and try again."
    )


def read_failure(exc: BaseException, path: Path) -> StoreError | None:
    """The sentence for a database error met while reading ``path`` (damage past the file's header is the
    same story as at opening), or None when ``exc`` is no database error."""
    if not isinstance(exc, DatabaseError | sqlite3.DatabaseError):
        return None
    return explain(exc, path) or StoreError(f"The database {path} could not be read ({exc}).")
