"""Benchmark of the window: start-up time, event-loop lag under load, and memory, at a heavy user's scale.

Run: ``python -m tests.bench.ui_responsiveness``. It builds a data dir with 400 watch-list items, 1,000
snipes and 1,000,000 history events, starts the simulator (400 auctions on the demo user's watch list) in
this process, then starts the real app (``run_window``, offscreen) as a child process and prints one JSON
line:

- ``shown_ms``: from just before the child process is started to the first paint of the main window;
- ``lag_p99_ms`` / ``lag_max_ms``: how late a 5 ms precise Qt timer on the GUI thread fires while the
  window syncs the 400-item watch list from the simulator and the History view is scrolled from the
  newest event to the millionth (every page fetched as the view asks for it);
- ``rss_mb``: the child's peak resident memory (VmHWM) after the whole scroll; ``rss_end_mb`` its current.

``--data DIR`` keeps the built data dir between runs (the build takes about a minute). ``--export`` then
exports the whole history to CSV from the window (on its worker, with its progress dialog) and reports the
lag of that phase as ``lag_export_max_ms``; ``--scroll-rows 0`` skips the scroll.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sniper_app.simulator import SimulatorServer
from sniper_app.store import Store, WatchItemData
from tests.bench import store as store_bench
from tests.support.engine import engine_settings, link_demo, new_client

WATCH_ITEMS = 400
SNIPES = 1_000
EVENTS = 1_000_000


def build(data_dir: Path) -> None:
    rng = random.Random(7)
    store_bench.SNIPES = SNIPES
    store_bench.EVENTS = EVENTS
    store = Store.open(data_dir)
    try:
        store_bench.build(store, rng)
        user = store.get_or_create_user()
        now = datetime.now(UTC)
        store.upsert_watch_items(
            int(user.id),
            [
                WatchItemData(
                    legacy_item_id=str(300_000_000_000 + n),
                    title=f"Cached watch item {n}",
                    currency="USD",
                    current_price_minor=1000 + n,
                    bid_count=n % 9,
                    end_time=now + timedelta(hours=1 + n),
                )
                for n in range(WATCH_ITEMS)
            ],
            now,
        )
    finally:
        store.close()


def child_env(sim: SimulatorServer, data_dir: Path, base: Path) -> dict[str, str]:
    settings = engine_settings(sim, data_dir)
    env = dict(os.environ)
    for key in ("data_dir", "ebay_env", "ebay_api_url", "ebay_auth_url", "ebay_trading_url", "ebay_client_id",
                "ebay_runame", "time_server"):
        env[f"SNIPER_{key.upper()}"] = str(getattr(settings, key))
    env.update(
        {
            "SNIPER_CONFIG_DIR": str(base / "config"),
            "SNIPER_LOG_DIR": str(base / "logs"),
            "SNIPER_CACHE_DIR": str(base / "cache"),
            "SNIPER_EBAY_CLIENT_SECRET": "sim-secret",
            "SNIPER_MIN_SECONDS_BEFORE_END": "60",
            "PYTHON_KEYRING_BACKEND": "tests.support.keyring_backend.FileKeyring",
            "SNIPER_TEST_KEYRING_FILE": str(base / "keyring.json"),
            "QT_QPA_PLATFORM": "offscreen",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }
    )
    return env


async def link(sim: SimulatorServer, data_dir: Path) -> None:
    client = new_client(sim)
    store = Store.open(data_dir)
    try:
        await link_demo(client, store)
    finally:
        store.close()
        await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="keep the built data dir here between runs")
    parser.add_argument("--scroll-rows", type=int, default=10**9, help="scroll only this far (profiling)")
    parser.add_argument("--export", action="store_true", help="then export the whole history to CSV")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sniper-uibench-") as tmp:
        base = Path(tmp)
        data_dir = args.data or base / "data"
        built = time.perf_counter()
        if not (data_dir / "sniper.db").exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            build(data_dir)
        build_s = time.perf_counter() - built
        with SimulatorServer(host="127.0.0.1", port=0, sntp_port=0) as sim:
            for n in range(WATCH_ITEMS):
                sim.create_auction(f"Watched auction {n}", "12.00", ends_in=7200 + n * 30, watched_by=["demo"])
            env = child_env(sim, data_dir, base)
            os.environ["PYTHON_KEYRING_BACKEND"] = env["PYTHON_KEYRING_BACKEND"]
            os.environ["SNIPER_TEST_KEYRING_FILE"] = env["SNIPER_TEST_KEYRING_FILE"]
            asyncio.run(link(sim, data_dir))
            report = base / "report.json"
            started = time.time()
            proc = subprocess.run(
                [sys.executable, "-m", "tests.bench.ui_child", "--report", str(report), "--started", repr(started),
                 "--scroll-rows", str(args.scroll_rows),
                 *(["--export-to", str(base / "history.csv")] if args.export else [])],
                env=env, capture_output=True, text=True, timeout=900, check=False,
            )
            if proc.returncode != 0 or not report.exists():
                sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
                raise SystemExit(f"the app exited with {proc.returncode}")
            figures = json.loads(report.read_text())
    figures["build_s"] = round(build_s, 1)
    figures.update({"watch_items": WATCH_ITEMS, "snipes": SNIPES, "events": EVENTS})
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
