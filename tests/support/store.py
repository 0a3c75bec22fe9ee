"""Helpers for store tests: a controllable clock and a database left at an old schema version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sniper_app.store.db import SniperDatabase, database_proxy, prepare_files
from sniper_app.store.migrations import migrate


class FakeClock:
    """A clock the test moves by hand; always aware UTC."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2030, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


def create_database_at_version(db_path: Path, version: int) -> None:
    """Create ``db_path`` with exactly the migration steps up to ``version`` applied, then close it."""
    prepare_files(db_path)
    db = SniperDatabase(db_path)
    database_proxy.initialize(db)
    try:
        assert migrate(db, target=version) == version
    finally:
        db.close_all()
        database_proxy.initialize(None)
