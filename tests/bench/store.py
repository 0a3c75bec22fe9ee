"""Benchmark of the store: history paging, text search, per-event inserts and purge at scale.

Run: ``python -m tests.bench.store``. Builds a store in a temp dir with 1,000,000 history events and
10,000 snipes (bulk SQL for the build), then prints one JSON line of figures.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sniper_app.domain.history import HistoryAction
from sniper_app.store import HistoryCursor, Store
from sniper_app.store.db import to_epoch_us

EVENTS = 1_000_000
SNIPES = 10_000
INSERT_SAMPLE = 5_000
RUNS = 200
NOW = datetime(2030, 1, 1, tzinfo=UTC)
RETENTION = timedelta(days=365)
# History spans 365/0.9 days, so exactly the oldest 10 % is past its retention horizon at NOW.
SPAN_US = int(RETENTION / timedelta(microseconds=1) / 0.9)

WORDS = [
    "vintage",
    "camera",
    "lens",
    "watch",
    "guitar",
    "amplifier",
    "lamp",
    "chair",
    "bicycle",
    "record",
    "vinyl",
    "radio",
    "console",
    "cartridge",
    "jacket",
    "boots",
    "coin",
    "stamp",
    "poster",
    "figure",
    "model",
    "train",
    "brass",
    "silver",
    "ceramic",
    "vase",
    "clock",
]
RARE_WORD = "Zorblaxian"  # appears in the title of exactly one snipe
ACTIONS = [
    (HistoryAction.SYNC, 40),
    (HistoryAction.SCHEDULE, 20),
    (HistoryAction.CREATE, 10),
    (HistoryAction.UPDATE, 8),
    (HistoryAction.PLACE, 8),
    (HistoryAction.CANCEL, 5),
    (HistoryAction.LOST, 4),
    (HistoryAction.WON, 2),
    (HistoryAction.FAIL, 2),
    (HistoryAction.RETRY, 1),
]


def _p99(samples: list[float]) -> float:
    return round(statistics.quantiles(samples, n=100)[98], 3)


def _time_ms(call: Callable[[], Any], runs: int = RUNS) -> list[float]:
    call()  # warm the page cache and statement cache once
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def build(store: Store, rng: random.Random) -> None:
    db = store.database
    # A large page cache for the bulk build only: the six history indexes and the trigram index
    # otherwise spill to the WAL over and over.
    db.sql("PRAGMA cache_size = -400000")
    user = store.get_or_create_user()
    now_us = to_epoch_us(NOW)
    titles = []
    snipe_rows = []
    for i in range(1, SNIPES + 1):
        title = f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} {rng.choice(WORDS)} lot {i}"
        if i == 4242:
            title = f"{RARE_WORD} {title}"
        titles.append(title)
        end_us = now_us - rng.randrange(SPAN_US)
        snipe_rows.append(
            (
                user.id,
                str(100_000_000_000 + i),
                title,
                "USD",
                rng.randrange(100, 100_000_00),
                7.0,
                end_us,
                "LOST",
                now_us,
                now_us,
            )
        )
    with db.atomic("IMMEDIATE"):
        db.raw_connection().executemany(
            "INSERT INTO snipe (user_id, legacy_item_id, title, currency, max_bid_minor, lead_seconds, "
            "end_time, status, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            snipe_rows,
        )
    action_names = [a.value for a, _ in ACTIONS]
    weights = [w for _, w in ACTIONS]
    retention_us = int(RETENTION / timedelta(microseconds=1))
    batch = 50_000
    for _start in range(0, EVENTS, batch):
        rows = []
        actions = rng.choices(action_names, weights, k=batch)
        for k in range(batch):
            snipe = rng.randrange(SNIPES)
            # Coarse timestamps (ms) so many events share an `at`, as they do in a burst.
            at = now_us - rng.randrange(SPAN_US // 1000) * 1000
            action = actions[k]
            rows.append(
                (
                    at,
                    action,
                    snipe + 1,
                    str(100_000_000_000 + snipe + 1),
                    titles[snipe],
                    1234,
                    "USD",
                    action,
                    f"{action.lower()} for item {snipe + 1}",
                    at + retention_us,
                )
            )
        with db.atomic("IMMEDIATE"):
            db.raw_connection().executemany(
                "INSERT INTO history_event (at, action, snipe_id, legacy_item_id, title, amount_minor, "
                "currency, status, message, expires_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
    db.sql("PRAGMA cache_size = -16000")
    db.sql("ANALYZE")


def main() -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="sniper-bench-") as tmp:
        store = Store.open(Path(tmp) / "data", retention=RETENTION, clock=lambda: NOW)
        t0 = time.perf_counter()
        build(store, rng)
        build_s = time.perf_counter() - t0

        # The normal API path: one IMMEDIATE transaction per event, FTS trigger included.
        t0 = time.perf_counter()
        for i in range(INSERT_SAMPLE):
            store.add_event(
                HistoryAction.SYNC,
                snipe_id=1 + i % SNIPES,
                message=f"sample event {i}",
                at=NOW - timedelta(seconds=i),
            )
        insert_per_s = INSERT_SAMPLE / (time.perf_counter() - t0)

        deep_row = store.database.sql(
            "SELECT at, id FROM history_event ORDER BY at DESC, id DESC LIMIT 1 OFFSET ?",
            (int((EVENTS + INSERT_SAMPLE) * 0.9),),
        ).fetchone()
        from sniper_app.store.db import from_epoch_us

        deep = HistoryCursor(from_epoch_us(deep_row[0]), deep_row[1])
        first = _time_ms(lambda: store.history_page())
        deep_ms = _time_ms(lambda: store.history_page(cursor=deep))
        action_ms = _time_ms(lambda: store.history_page(actions=HistoryAction.WON))
        action_deep_ms = _time_ms(lambda: store.history_page(actions=HistoryAction.WON, cursor=deep))
        actions2_ms = _time_ms(lambda: store.history_page(actions=[HistoryAction.WON, HistoryAction.LOST]))
        item_ms = _time_ms(lambda: store.history_page(legacy_item_id=str(100_000_000_000 + 77)))
        snipe_ms = _time_ms(lambda: store.history_page(snipe_id=77))
        text_rare = _time_ms(lambda: store.history_page(text=RARE_WORD.lower()))
        text_common = _time_ms(lambda: store.history_page(text="camera"))
        text_common_deep = _time_ms(lambda: store.history_page(text="camera", cursor=deep))
        text_mid = _time_ms(lambda: store.history_page(text="lot 77"))
        range_ms = _time_ms(
            lambda: store.history_page(since=NOW - timedelta(days=200), until=NOW - timedelta(days=100))
        )
        rare_hits = len(store.history_page(text=RARE_WORD.lower(), limit=1000).rows)

        t0 = time.perf_counter()
        purged = store.purge_history(NOW)
        purge_ms = (time.perf_counter() - t0) * 1000
        store.close()

    figures = {
        "events": EVENTS,
        "snipes": SNIPES,
        "build_s": round(build_s, 1),
        "insert_per_s": round(insert_per_s),
        "insert_path": "Store.add_event, one IMMEDIATE transaction per event (build used bulk SQL)",
        "page_first_p99_ms": _p99(first),
        "page_deep_p99_ms": _p99(deep_ms),
        "page_filtered_p99_ms": _p99(action_ms),
        "page_action_deep_p99_ms": _p99(action_deep_ms),
        "page_two_actions_p99_ms": _p99(actions2_ms),
        "page_item_p99_ms": _p99(item_ms),
        "page_snipe_p99_ms": _p99(snipe_ms),
        "page_range_p99_ms": _p99(range_ms),
        "page_text_p99_ms": _p99(text_rare),
        "page_text_rare_hits": rare_hits,
        "page_text_common_p99_ms": _p99(text_common),
        "page_text_common_deep_p99_ms": _p99(text_common_deep),
        "page_text_mid_p99_ms": _p99(text_mid),
        "purged": purged,
        "purge_ms": round(purge_ms),
    }
    sys.stdout.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
