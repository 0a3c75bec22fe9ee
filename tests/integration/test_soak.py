"""Soak: the headless engine (a real process) against an unkind simulator for five minutes and 300 snipes.

Faults arrive all the time (5xx, 429, requests that hang, dropped connections, steps of eBay's clock).
The property: no snipe lost, none bid twice, every outcome true to eBay, and the engine's memory flat.
"""

from __future__ import annotations

import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sniper_app.bootstrap import METRICS_FILE
from sniper_app.domain.money import Money
from sniper_app.store import Store
from tests.support.cli_sim import CliSim

SNIPES = 300
BATCHES = 3
FIRST_END_S = 50.0
LAST_END_S = 290.0
DONE = {"WON", "LOST", "FAILED", "MISSED", "CANCELLED", "SKIPPED"}
# Where faults land: item reads, the bid, the standing after it, the watch list, the sign-in.
FAULT_PATHS = [r"/buy/browse/v1/item/", r"/place_proxy_bid$", r"/bidding/[^/]+$", r"/ws/api\.dll",
               r"/identity/v1/oauth2/token"]


def _python_blocks(data_dir: Path) -> int:
    """The engine's live Python memory blocks, from the metrics file it rewrites every few seconds."""
    return int(json.loads((data_dir / METRICS_FILE).read_text())["python_blocks"])


def _native_mb(data_dir: Path) -> tuple[float, float, float]:
    """SQLite's memory, the C heap in use and the C heap free but kept, from the same metrics file."""
    data = json.loads((data_dir / METRICS_FILE).read_text())
    return tuple(round(data.get(k, 0) / 2**20, 2)  # type: ignore[return-value]
                 for k in ("sqlite_bytes", "malloc_in_use_bytes", "malloc_free_bytes"))


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise LookupError("VmRSS")


class Weather:
    """Scripted bad weather: a fault every second or so, and now and then a step of eBay's clock."""

    def __init__(self, cli: CliSim, seed: int) -> None:
        self.sim = cli.sim
        self.random = random.Random(seed)
        self.counts: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-weather", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.random.uniform(0.5, 1.5)):
            kind = self.random.choice(["status", "status", "rate_limit", "timeout", "drop", "clock"])
            if kind == "clock":
                self.sim.set_clock_offset(self.random.choice([-0.3, -0.1, 0.1, 0.3]))
            else:
                self.sim.add_fault(self.random.choice(FAULT_PATHS), kind, status=self.random.choice([500, 502, 503]),
                                   retry_after=0.5, hang_s=2.0)
            self.counts[kind] = self.counts.get(kind, 0) + 1

    def __enter__(self) -> Weather:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        with self.sim.world.lock:
            self.sim.world.faults.clear()
        self.sim.set_clock_offset(0.0)


def _add_batch(cli: CliSim, data_dir: Path, rng: random.Random, count: int, start: float) -> list[tuple[int, str]]:
    """Auctions ending between now+FIRST_END_S and start+LAST_END_S, each sniped as 'snipe add' stores it."""
    added: list[tuple[int, str]] = []
    with Store.open(data_dir) as store:
        user = store.get_or_create_user()
        for _ in range(count):
            ends_in = rng.uniform(FIRST_END_S, LAST_END_S - (time.monotonic() - start))
            rivals = []
            roll = rng.random()
            if roll < 0.2:
                rivals = [{"max": "60.00", "before_end": 8.0}]  # outbids us: a true LOST
            elif roll < 0.35:
                rivals = [{"max": "20.00", "before_end": 8.0}]  # we still win, at a higher price
            auction = cli.sim.create_auction("Soak lot", "10.00", ends_in=ends_in, rivals=rivals)
            snipe = store.create_snipe(
                user.id, legacy_item_id=auction["legacy_item_id"], rest_item_id=auction["item_id"], currency="USD",
                max_bid_minor=Money.of("40.00", "USD").minor,
                end_time=datetime.fromtimestamp(float(auction["end_epoch"]), UTC),
                lead_seconds=round(rng.uniform(3.0, 6.0), 1), title=f"Soak lot {auction['legacy_item_id']}",
            )
            added.append((int(snipe.id), str(auction["legacy_item_id"])))
    return added


RSS_BOUND = 1.10  # resident memory flat within 10 %


@pytest.mark.slow
@pytest.mark.xdist_group("soak")
@pytest.mark.timeout(900)
def test_soak_300_snipes_in_bad_weather_lose_nothing_and_bid_nothing_twice(cli: CliSim, tmp_path: Path) -> None:
    cli.link()
    data_dir = cli.dirs / "data"
    rng = random.Random(14)
    log_file = (tmp_path / "engine.log").open("w")
    engine = subprocess.Popen([sys.executable, "-m", "sniper_app", "--headless"], env=dict(os.environ) | cli.env,
                              stdout=subprocess.PIPE, stderr=log_file, text=True)
    snipes: list[tuple[int, str]] = []
    memory: list[tuple[float, float, int]] = []
    native: list[tuple[float, float, float]] = []
    try:
        assert engine.stdout is not None
        assert "Sniper engine running" in engine.stdout.readline()
        start = time.monotonic()
        with Weather(cli, seed=14) as weather:
            for batch in range(BATCHES):
                snipes += _add_batch(cli, data_dir, rng, SNIPES // BATCHES, start)
                if batch < BATCHES - 1:
                    time.sleep(15)  # the user adds more while the engine runs
            while time.monotonic() - start < LAST_END_S + 2:
                memory.append((time.monotonic() - start, _rss_mb(engine.pid), _python_blocks(data_dir)))
                native.append(_native_mb(data_dir))
                time.sleep(5)
        deadline = time.monotonic() + 90
        while True:
            listed = json.loads(cli.run("snipe", "list", "--json").stdout)
            if all(s["status"] in DONE for s in listed) or time.monotonic() > deadline:
                break
            time.sleep(2)
        memory.append((time.monotonic() - start, _rss_mb(engine.pid), _python_blocks(data_dir)))
        native.append(_native_mb(data_dir))
    finally:
        engine.send_signal(signal.SIGTERM)
        engine.communicate(timeout=60)
        log_file.close()
    assert engine.returncode == 0, (tmp_path / "engine.log").read_text()[-3000:]

    statuses = {s["id"]: s for s in listed}
    accepted_200 = {}
    for request in cli.sim.requests():
        if request["path"].endswith("/place_proxy_bid") and request.get("status") == 200:
            item = request["path"].split("|")[1]
            accepted_200[item] = accepted_200.get(item, 0) + 1
    lost, doubled, untrue = [], [], []
    for pk, legacy in snipes:
        auction = cli.sim.auction(legacy)
        mine = [b for b in auction["bids"] if b["bidder"] == "demo" and b["accepted"]]
        if not mine:
            lost.append((pk, statuses[pk]["status"], statuses[pk]["reason"]))
        if len(mine) > 1 or accepted_200.get(legacy, 0) > 1:
            doubled.append(pk)
        truth = "WON" if auction["winner"] == "demo" else "LOST"
        if statuses[pk]["status"] != truth:
            untrue.append((pk, statuses[pk]["status"], truth, statuses[pk]["reason"]))

    # Memory from the end of warm-up to the end. Warm-up is over once every snipe is armed (the last batch
    # comes at 30 s) and the first fires have gone out (from 50 s): the engine's threads, their allocator
    # arenas, the connection pools and SQLite's page caches exist by then, and a minute of fires (60-120 s)
    # is the baseline. Below Python, native_series has SQLite, the C heap in use and the C heap free but kept.
    # Growth that scales with the snipes handled shows here: a won/lost list read per result (a dozen
    # growing lists alive at once), a full read of every active row each second, a trim that never found a
    # quiet moment and glibc's own thresholds (freed replies kept as heap) once grew resident memory 11 %
    # beside the rest of the suite. A free-but-kept figure that climbs while the part in use stays flat is
    # the allocator's doing; one that climbs with it is something the engine keeps.
    early = [n for n, (t, _, _) in enumerate(memory) if 60 <= t <= 120]
    blocks_early = statistics.median(memory[n][2] for n in early)
    blocks_late = statistics.median(b for _, _, b in memory[-6:])
    rss_early = statistics.median(memory[n][1] for n in early)
    rss_late = statistics.median(rss for _, rss, _ in memory[-6:])
    heap_early = statistics.median(native[n][1] for n in early)
    heap_late = statistics.median(h for _, h, _ in native[-6:])
    figures = {"snipes": len(snipes), "lost": len(lost), "doubled": len(doubled), "untrue": len(untrue),
               "faults": weather.counts, "wall_s": round(memory[-1][0]),
               "python_blocks_growth_pct": round(100 * (blocks_late - blocks_early) / blocks_early, 1),
               "rss_early_mb": round(rss_early, 1), "rss_late_mb": round(rss_late, 1),
               "rss_growth_pct": round(100 * (rss_late - rss_early) / rss_early, 1),
               "c_heap_in_use_early_mb": heap_early, "c_heap_in_use_late_mb": heap_late,
               "sqlite_late_mb": statistics.median(q for q, _, _ in native[-6:]),
               "series": [(round(t), round(rss, 1), b) for t, rss, b in memory],
               "native_series": native}
    print(json.dumps(figures))
    assert len(snipes) == SNIPES
    assert lost == [], figures
    assert doubled == [], figures
    assert untrue == [], figures
    assert blocks_late <= blocks_early * 1.10, figures
    assert rss_late <= rss_early * RSS_BOUND, figures
    assert sum(weather.counts.values()) > 150, figures
