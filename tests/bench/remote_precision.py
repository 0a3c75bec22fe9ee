"""How close to ``end − lead`` (on eBay's clock) a box's bids arrive when the desktop that added them is gone.

    python -m tests.bench.remote_precision [--snipes 20 --window 20 --lead 2 --clock-offset 2.5
        --latency-ms 40 --jitter-ms 5 --no-sleep]

Everything is a real process, as a user runs it: the simulator (with its clock offset and latency), a box
(``sniper-app --headless --listen`` on loopback), and a desktop paired by the real commands (``remote invite``
on the box, ``remote connect`` on the desktop; both timed). A desktop client process then adds the snipes
through the box's facade over HTTPS and holds the box's event stream open, as the window does; then it is
SIGSTOPped (a laptop lid closed), the desktop disconnects (``remote disconnect``), and the client is killed
(quit) while the auctions end. Arrival instants come from the simulator's request log (its own clock); the
outcomes from the box's own command line afterwards. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

_FINAL = ("WON", "LOST", "FAILED", "MISSED", "SKIPPED", "CANCELLED")
_LEAD_IN_S = 25.0  # the first auction's end: after every snipe is added, past the box's 10 s minimum


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _home(root: Path, name: str) -> dict[str, str]:
    """A private data, config and log folder and keyring file: one machine's view of the world."""
    home = root / name
    for part in ("data", "config", "logs"):
        (home / part).mkdir(parents=True, exist_ok=True)
    return {
        "SNIPER_DATA_DIR": str(home / "data"), "SNIPER_CONFIG_DIR": str(home / "config"),
        "SNIPER_LOG_DIR": str(home / "logs"), "SNIPER_TEST_KEYRING_FILE": str(home / "keyring.json"),
        "PYTHON_KEYRING_BACKEND": "tests.support.keyring_backend.FileKeyring",
    }


def _cli(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sniper_app", *args], env=dict(os.environ) | env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _ok_json(env: dict[str, str], *args: str) -> Any:
    done = _cli(env, *args, "--json")
    if done.returncode != 0:
        raise SystemExit(f"sniper-app {' '.join(args)} failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def _percentile(sorted_values: list[float], p: float) -> float | None:
    if not sorted_values:
        return None
    return round(sorted_values[min(len(sorted_values) - 1, int(p * len(sorted_values)))], 3)


def arrival_errors(requests: list[dict[str, Any]], ends: dict[str, float], lead: float) -> dict[str, float]:
    """Per item: how far the first bid's arrival (simulator clock) was from ``end − lead``, in ms."""
    first: dict[str, float] = {}
    for r in requests:
        if r["method"] == "POST" and r["path"].endswith("/place_proxy_bid"):
            item = r["path"].split("/bidding/")[1].split("/")[0].replace("%7C", "|")
            first.setdefault(item, r["arrival_epoch"])
    return {item: (at - (ends[item] - lead)) * 1000 for item, at in first.items() if item in ends}


# --- the desktop client ---------------------------------------------------------------------------------


async def _desktop(items: list[str], max_bid: str, lead: float) -> None:
    """Add the snipes on the box this desktop is paired with, say so, then hold its event stream open."""
    from sniper_app.app import app_context
    from sniper_app.cli.context import stored_link
    from sniper_app.config import load_settings
    from sniper_app.remote.service import RemoteService

    with app_context(load_settings(), demo=False) as ctx:
        link = stored_link(ctx)
    assert link is not None, "the desktop is not paired"
    async with RemoteService.of(link) as box:
        started = time.perf_counter()
        ids = [(await box.add_snipe(item, max_bid, lead=lead, confirmed=True))[0].id for item in items]
        print(json.dumps({"added": ids, "add_s": round(time.perf_counter() - started, 3)}), flush=True)
        async for _message in box.client.events():
            pass  # a window would redraw; a sleeping one reads nothing at all


# --- the run ---------------------------------------------------------------------------------------------


def _run(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    sim = subprocess.Popen(
        [sys.executable, "-m", "sniper_app.simulator", "--port", "0", "--sntp-port", "0", "--scenario", "empty",
         "--clock-offset", str(args.clock_offset), "--latency-ms", str(args.latency_ms),
         "--jitter-ms", str(args.jitter_ms), "--json"],
        stdout=subprocess.PIPE, text=True,
    )
    box: subprocess.Popen[str] | None = None
    desk: subprocess.Popen[str] | None = None
    try:
        assert sim.stdout is not None
        info = json.loads(sim.stdout.readline())
        base = info["base_url"]
        box_env = _home(root, "box") | {
            "SNIPER_EBAY_ENV": "simulator", "SNIPER_EBAY_API_URL": base, "SNIPER_EBAY_AUTH_URL": base,
            "SNIPER_EBAY_TRADING_URL": info["trading_url"], "SNIPER_EBAY_CLIENT_ID": info["client_id"],
            "SNIPER_EBAY_RUNAME": info["runame"], "SNIPER_EBAY_CLIENT_SECRET": info["client_secret"],
            "SNIPER_TIME_SERVER": f"127.0.0.1:{info['sntp_port']}", "SNIPER_MIN_SECONDS_BEFORE_END": "10",
        }
        desk_env = _home(root, "desk")
        consent = _ok_json(box_env, "account", "link", "--print-url")["consent_url"]
        redirect = httpx.get(consent, follow_redirects=False, timeout=30).headers["location"]
        if _cli(box_env, "account", "link", "--redirect-url", redirect).returncode != 0:
            raise SystemExit("the box's eBay account could not be linked")

        port = _free_port()
        box = subprocess.Popen(
            [sys.executable, "-m", "sniper_app", "--headless", "--listen", f"127.0.0.1:{port}"],
            env=dict(os.environ) | box_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert box.stdout is not None
        for line in box.stdout:
            if "Sniper engine running" in line:
                break
        else:
            raise SystemExit(f"the box did not start: {box.stderr.read() if box.stderr else ''}")

        # The README's pairing, timed as a user types it (less the typing): invite on the box, connect here.
        started = time.perf_counter()
        invited = _cli(box_env, "remote", "invite")
        invite = invited.stdout.strip().splitlines()[-1]
        invite_s = time.perf_counter() - started
        started = time.perf_counter()
        connected = _cli(desk_env, "remote", "connect", invite)
        connect_s = time.perf_counter() - started
        if connected.returncode != 0:
            raise SystemExit(f"remote connect failed: {connected.stderr.strip()}")

        ends: dict[str, float] = {}
        legacy: list[str] = []
        with httpx.Client(base_url=base, timeout=30) as ctl:
            for i in range(args.snipes):
                ends_in = _LEAD_IN_S + i * (args.window / max(1, args.snipes))
                reply = ctl.post("/_sim/auctions", json={"title": f"remote bench {i}", "start_price": "1.00",
                                                         "ends_in": ends_in}).json()
                ends[reply["item_id"]] = reply["end_epoch"]
                legacy.append(reply["legacy_item_id"])
        desk = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.remote_precision", "--desktop", "--lead", str(args.lead)],
            env=dict(os.environ) | desk_env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )
        assert desk.stdin is not None
        assert desk.stdout is not None
        desk.stdin.write(json.dumps(legacy))
        desk.stdin.close()
        added = json.loads(desk.stdout.readline() or "{}")
        if "added" not in added:
            raise SystemExit(f"the desktop could not add the snipes: {desk.stderr.read() if desk.stderr else ''}")

        # The desktop goes to sleep with the stream open, is disconnected, and quits before the first end.
        if not args.no_sleep:
            desk.send_signal(signal.SIGSTOP)
        disconnected = _cli(desk_env, "remote", "disconnect").returncode == 0
        last_end_local = max(ends.values()) - args.clock_offset
        deadline = last_end_local + 30
        while time.time() < deadline:
            time.sleep(3)
            if time.time() > last_end_local + 1:
                snipes = _ok_json(box_env, "snipe", "list")
                if all(s["status"] in _FINAL for s in snipes):
                    break
        desk.kill()  # quit while asleep: SIGKILL ends a stopped process too
        desk.wait(10)
        desk = None

        snipes = _ok_json(box_env, "snipe", "list")
        requests = httpx.get(base + "/_sim/requests", timeout=30).json()["requests"]
        box.send_signal(signal.SIGTERM)
        box.communicate(timeout=30)
        box_exit = box.returncode
        box = None
    finally:
        for proc in (desk, box):
            if proc is not None:
                proc.kill()
                proc.wait(10)
        sim.terminate()
        sim.wait(10)

    errors = arrival_errors(requests, ends, args.lead)
    late = sum(1 for item, e in errors.items() if e / 1000 >= args.lead)
    absolute = sorted(abs(e) for e in errors.values())
    statuses = [s["status"] for s in snipes]
    return {
        "snipes": args.snipes,
        "added": len(added["added"]),
        "add_s": added["add_s"],
        "desktop": "SIGSTOPped, disconnected, killed" if not args.no_sleep else "disconnected, killed",
        "desktop_disconnected": disconnected,
        "bids": len(errors),
        "won": statuses.count("WON"),
        "lost": statuses.count("LOST"),
        "missed": args.snipes - len(errors),
        "late": late,
        "error_p50_ms": _percentile(absolute, 0.5),
        "error_p99_ms": _percentile(absolute, 0.99),
        "error_max_ms": round(absolute[-1], 3) if absolute else None,
        "error_mean_signed_ms": round(statistics.fmean(errors.values()), 3) if errors else None,
        "statuses": {s: statuses.count(s) for s in sorted(set(statuses))},
        "pairing_s": {"invite": round(invite_s, 2), "connect": round(connect_s, 2)},
        "box_exit": box_exit,
        "options": vars(args),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.remote_precision")
    parser.add_argument("--snipes", type=int, default=20)
    parser.add_argument("--window", type=float, default=20.0, help="seconds over which the auctions end")
    parser.add_argument("--lead", type=float, default=2.0)
    parser.add_argument("--clock-offset", type=float, default=2.5)
    parser.add_argument("--latency-ms", type=float, default=40.0)
    parser.add_argument("--jitter-ms", type=float, default=5.0)
    parser.add_argument("--no-sleep", action="store_true", help="do not SIGSTOP the desktop client")
    parser.add_argument("--max", default="100.00", help=argparse.SUPPRESS)
    parser.add_argument("--desktop", action="store_true", help=argparse.SUPPRESS)  # the desktop client's role
    args = parser.parse_args()
    if args.desktop:
        asyncio.run(_desktop(json.loads(sys.stdin.read()), args.max, args.lead))
        return
    root = Path(tempfile.mkdtemp(prefix="sniper-remote-bench-"))
    print(json.dumps(_run(args, root)), flush=True)


if __name__ == "__main__":
    main()
