"""Versioned schema migrations: an ordered list of steps, each applied in its own transaction.

The DDL is written out here rather than derived from the models, so a step keeps meaning the same
thing after the models move on.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sniper_app.store.db import SniperDatabase, to_epoch_us
from sniper_app.store.errors import SchemaTooNew, StoreError


@dataclass(frozen=True)
class Step:
    version: int
    description: str
    statements: tuple[str, ...]


# FTS5's trigram tokenizer (step 2) needs 3.34, ALTER TABLE DROP COLUMN (step 5) 3.35.
MIN_SQLITE = (3, 35, 0)

_ACTIVE = "('PENDING', 'SCHEDULED', 'PLACING', 'PLACED')"

STEP_1 = Step(
    1,
    "first schema",
    (
        """CREATE TABLE "user" (
            id INTEGER PRIMARY KEY,
            email TEXT,
            ebay_username TEXT,
            ebay_user_id TEXT,
            marketplace TEXT NOT NULL DEFAULT 'EBAY_US',
            default_lead_seconds REAL NOT NULL DEFAULT 8.0,
            notification_prefs TEXT NOT NULL DEFAULT '{}',
            needs_relink INTEGER NOT NULL DEFAULT 0,
            active INTEGER NOT NULL DEFAULT 1,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        )""",
        """CREATE TABLE snipe_group (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES "user"(id) ON DELETE CASCADE,
            name TEXT NOT NULL COLLATE NOCASE,
            target_wins INTEGER NOT NULL DEFAULT 1 CHECK (target_wins >= 1),
            created_at INTEGER NOT NULL,
            UNIQUE (user_id, name)
        )""",
        # AUTOINCREMENT: a snipe id names a scheduler job and appears in history; never reuse one.
        """CREATE TABLE snipe (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id INTEGER NOT NULL REFERENCES "user"(id) ON DELETE CASCADE,
            legacy_item_id TEXT NOT NULL,
            rest_item_id TEXT,
            title TEXT NOT NULL DEFAULT '',
            image_url TEXT,
            item_url TEXT,
            marketplace TEXT NOT NULL DEFAULT 'EBAY_US',
            currency TEXT NOT NULL,
            max_bid_minor INTEGER NOT NULL CHECK (max_bid_minor > 0),
            lead_seconds REAL NOT NULL CHECK (lead_seconds >= 0),
            end_time INTEGER NOT NULL,
            current_price_minor INTEGER,
            bid_count INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'PENDING',
            status_reason TEXT,
            group_id INTEGER REFERENCES snipe_group(id) ON DELETE SET NULL,
            job_id TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            final_price_minor INTEGER,
            planned_at INTEGER,
            sent_at INTEGER,
            reply_at INTEGER,
            clock_offset_ms REAL,
            latency_ms REAL,
            attempts INTEGER NOT NULL DEFAULT 0,
            ebay_message TEXT,
            proxy_bid_id TEXT
        )""",
        # The database itself refuses a second active snipe on one item, whatever the code does.
        f"""CREATE UNIQUE INDEX snipe_one_active ON snipe (user_id, legacy_item_id)
            WHERE status IN {_ACTIVE}""",
        "CREATE INDEX snipe_status_end ON snipe (status, end_time)",
        "CREATE INDEX snipe_group_id ON snipe (group_id)",
        "CREATE INDEX snipe_user_item ON snipe (user_id, legacy_item_id)",
        """CREATE TABLE history_event (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            action TEXT NOT NULL,
            snipe_id INTEGER REFERENCES snipe(id) ON DELETE SET NULL,
            legacy_item_id TEXT,
            title TEXT,
            amount_minor INTEGER,
            currency TEXT,
            final_price_minor INTEGER,
            status TEXT,
            message TEXT NOT NULL DEFAULT '',
            details TEXT,
            expires_at INTEGER NOT NULL
        )""",
        # Each filter has an index ending in (at, id), so a filtered page is one ordered index range.
        "CREATE INDEX history_at ON history_event (at, id)",
        "CREATE INDEX history_action_at ON history_event (action, at, id)",
        "CREATE INDEX history_item_at ON history_event (legacy_item_id, at, id)",
        "CREATE INDEX history_snipe_at ON history_event (snipe_id, at, id)",
        "CREATE INDEX history_expires ON history_event (expires_at)",
        """CREATE TABLE watch_item (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES "user"(id) ON DELETE CASCADE,
            legacy_item_id TEXT NOT NULL,
            rest_item_id TEXT,
            title TEXT NOT NULL DEFAULT '',
            image_url TEXT,
            item_url TEXT,
            currency TEXT,
            current_price_minor INTEGER,
            bid_count INTEGER NOT NULL DEFAULT 0,
            end_time INTEGER,
            listing_type TEXT,
            buy_it_now_minor INTEGER,
            synced_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            UNIQUE (user_id, legacy_item_id)
        )""",
    ),
)

# Substring search over history titles and messages: a trigram full-text index kept in step by
# triggers, so a rare word is found without reading the whole history.
STEP_2 = Step(
    2,
    "history text search (FTS5 trigram) and eBay account lookup",
    (
        """CREATE VIRTUAL TABLE history_fts USING fts5(
            title, message, content='history_event', content_rowid='id', tokenize='trigram'
        )""",
        """CREATE TRIGGER history_fts_insert AFTER INSERT ON history_event BEGIN
            INSERT INTO history_fts (rowid, title, message) VALUES (new.id, new.title, new.message);
        END""",
        """CREATE TRIGGER history_fts_delete AFTER DELETE ON history_event BEGIN
            INSERT INTO history_fts (history_fts, rowid, title, message)
            VALUES ('delete', old.id, old.title, old.message);
        END""",
        """CREATE TRIGGER history_fts_update AFTER UPDATE OF title, message ON history_event BEGIN
            INSERT INTO history_fts (history_fts, rowid, title, message)
            VALUES ('delete', old.id, old.title, old.message);
            INSERT INTO history_fts (rowid, title, message) VALUES (new.id, new.title, new.message);
        END""",
        "INSERT INTO history_fts (history_fts) VALUES ('rebuild')",
        'CREATE UNIQUE INDEX user_ebay_user_id ON "user" (ebay_user_id) WHERE ebay_user_id IS NOT NULL',
    ),
)

# Browse and Trading localize prices for the user's marketplace: the converted current price is kept
# beside the listing's own, for display only ("£179.95 ≈ $257.87"); bids never use it.
STEP_3 = Step(
    3,
    "converted prices for display beside the listing's own",
    (
        "ALTER TABLE snipe ADD COLUMN converted_currency TEXT",
        "ALTER TABLE snipe ADD COLUMN converted_price_minor INTEGER",
        "ALTER TABLE watch_item ADD COLUMN converted_currency TEXT",
        "ALTER TABLE watch_item ADD COLUMN converted_price_minor INTEGER",
    ),
)

# A history event keeps the "≈" amounts it was shown with: eBay's rate moves, and the snipe (whose converted
# price is the only other record of it) may be refreshed or deleted long before the event expires.
STEP_4 = Step(
    4,
    "converted amounts kept on history events",
    (
        "ALTER TABLE history_event ADD COLUMN converted_currency TEXT",
        "ALTER TABLE history_event ADD COLUMN converted_amount_minor INTEGER",
        "ALTER TABLE history_event ADD COLUMN converted_final_price_minor INTEGER",
    ),
)

# The profile's own email, notification preferences and default lead were never read: Settings holds the
# ones the app uses. ALTER TABLE DROP COLUMN rewrites the rows in place; rebuilding the table instead would
# mean dropping it, and with foreign keys on, that deletes every snipe and group through ON DELETE CASCADE.
STEP_5 = Step(
    5,
    "drop the profile columns the app never read (Settings holds the ones it uses)",
    (
        'ALTER TABLE "user" DROP COLUMN email',
        'ALTER TABLE "user" DROP COLUMN notification_prefs',
        'ALTER TABLE "user" DROP COLUMN default_lead_seconds',
    ),
)

# Every ended snipe keeps the outcome the engine named at its ending (a stable code and its sentence), and a
# snipe whose maximum includes the shipping keeps the charges the bid was taken down by.
STEP_6 = Step(
    6,
    "outcome of every ended snipe, and landed cost",
    (
        "ALTER TABLE snipe ADD COLUMN outcome_code TEXT",
        "ALTER TABLE snipe ADD COLUMN outcome_text TEXT",
        "ALTER TABLE snipe ADD COLUMN includes_shipping INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE snipe ADD COLUMN shipping_minor INTEGER",
        "ALTER TABLE snipe ADD COLUMN shipping_currency TEXT",
        "ALTER TABLE snipe ADD COLUMN import_charges_minor INTEGER",
        "ALTER TABLE snipe ADD COLUMN import_charges_currency TEXT",
    ),
)

STEPS: tuple[Step, ...] = (STEP_1, STEP_2, STEP_3, STEP_4, STEP_5, STEP_6)
LATEST_VERSION = STEPS[-1].version

_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at INTEGER NOT NULL
)"""


def current_version(db: SniperDatabase) -> int:
    """The highest applied step; 0 for a new, empty file."""
    tables = {row[0] for row in db.sql("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "schema_version" not in tables:
        if tables - {"sqlite_sequence"}:
            raise StoreError(f"The file {db.database} holds tables but no schema version; it is not a Sniper database.")
        return 0
    row = db.sql("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
    return int(row[0])


def backup_file(db: SniperDatabase, version: int) -> Path:
    """Copy the whole database (WAL included) beside it, private like the original, and return the copy."""
    src = Path(db.database)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    dest = src.with_name(f"{src.name}.v{version}-{stamp}.bak")
    fd = os.open(dest, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    target = sqlite3.connect(dest)
    try:
        # The online backup API copies a consistent snapshot, including pages still only in the WAL.
        db.raw_connection().backup(target)
    finally:
        target.close()
    return dest


def migrate(db: SniperDatabase, *, target: int | None = None, steps: Sequence[Step] = STEPS) -> int:
    """Bring ``db`` up to ``target`` (default: the latest step) and return the version reached.

    An existing, non-empty database is backed up before its first step runs. Each step runs in one
    IMMEDIATE transaction that re-reads the version, so two processes opening the file at once apply
    every step exactly once.
    """
    latest = steps[-1].version
    goal = latest if target is None else target
    if sqlite3.sqlite_version_info < MIN_SQLITE:
        raise StoreError(
            f"Sniper needs SQLite {'.'.join(map(str, MIN_SQLITE))} or newer, and this Python comes with "
            f"{sqlite3.sqlite_version}; install a newer Python (or one built against a newer SQLite)."
        )
    version = current_version(db)
    if version > latest:
        raise SchemaTooNew(
            f"The database {db.database} was written by a newer version of Sniper (schema {version}; "
            f"this version knows up to {latest}). Please update Sniper, or open another data folder."
        )
    if version >= goal:
        return version
    if version > 0:
        backup_file(db, version)
    for step in steps:
        if step.version > goal:
            break
        with db.atomic("IMMEDIATE"):
            db.sql(_VERSION_TABLE)
            if current_version(db) >= step.version:
                continue
            for sql in step.statements:
                db.sql(sql)
            db.sql(
                "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                (step.version, step.description, to_epoch_us(datetime.now(UTC))),
            )
    return current_version(db)
