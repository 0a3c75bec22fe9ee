"""A running `sniper-app --headless` picks up another process's `snipe add` and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from typing import Any

from tests.support.cli import wait_line
from tests.support.cli_sim import CliSim
from tests.support.wait import wait_until


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sniper_app", *args],
        env=dict(os.environ) | env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )




def _poll_finished(cli: CliSim, snipe_id: int, deadline_s: float) -> dict[str, Any]:
    """The snipe as `snipe list` shows it once it has ended."""

    def finished() -> dict[str, Any] | None:
        found = [s for s in cli.ok_json("snipe", "list") if s["id"] == snipe_id]
        return found[0] if found and found[0]["status"] in ("WON", "LOST", "FAILED", "MISSED", "SKIPPED") else None

    found: dict[str, Any] = wait_until(finished, deadline_s, "the snipe to finish")
    return found

def test_headless_engine_schedules_a_snipe_added_from_another_process_and_stops_on_sigterm(cli: CliSim) -> None:
    cli.link()
    item = cli.auction(start_price="10.00", ends_in=3600)
    proc = _start(["--headless"], cli.env)
    try:
        wait_line(proc, "Sniper engine running")
        added = time.monotonic()
        snipe_id = cli.ok_json("snipe", "add", item, "20")["snipe"]["id"]

        def scheduled() -> bool:
            return any(s["id"] == snipe_id and s["status"] == "SCHEDULED" for s in cli.ok_json("snipe", "list"))

        wait_until(scheduled, 5.0, "the running engine to schedule the new snipe")
        assert time.monotonic() - added < 5.0
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Sniper engine stopped." in out
    assert "Traceback" not in err
    metrics = json.loads((cli.dirs / "data" / "metrics.json").read_text())
    assert metrics["stopped"] is True
    assert "operations" in metrics
    diag = cli.ok_json("diagnostics")
    assert diag["engine"]["pid"] == proc.pid


def test_demo_runs_apart_from_real_data_and_other_commands_reach_it(cli: CliSim) -> None:
    env = {"SNIPER_DATA_DIR": str(cli.dirs / "data")}  # no simulator settings: the demo brings its own
    proc = _start(["--demo", "--headless"], env)
    try:
        banner = "".join(wait_line(proc, "Press Ctrl+C to stop."))
        assert "sniper-app --demo account link" in banner
        demo_dir = cli.dirs / "data" / "demo"
        assert oct((demo_dir / "demo.json").stat().st_mode & 0o777) == "0o600"
        url = json.loads(_run(["--demo", "account", "link", "--print-url", "--json"], env))["consent_url"]
        _run(["--demo", "account", "link", "--redirect-url", cli.consent_redirect(url)], env)
        synced = json.loads(_run(["--demo", "watchlist", "sync", "--json"], env))
        # The demo's 18 auctions (US, GB and DE) and 2 fixed-price listings.
        assert synced["count"] == 20
        watched = json.loads(_run(["--demo", "watchlist", "list", "--json"], env))
        last = [w for w in watched if w["snipeable"]][-1]
        item = last["item"]
        # Twice the price: a maximum a buyer would type (five times it asks for --confirm).
        _run(["--demo", "snipe", "add", item, str(Decimal(last["current_price"]) * 2)], env)
        wait_until(
            lambda: json.loads(_run(["--demo", "snipe", "list", "--json"], env))[0]["status"] == "SCHEDULED",
            5.0, "the demo engine to schedule the snipe",
        )
        assert (demo_dir / "sniper.db").exists()
        assert not (cli.dirs / "data" / "sniper.db").exists()  # real data untouched
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert not (cli.dirs / "data" / "demo" / "demo.json").exists()
    assert not (cli.dirs / "config" / "settings.json").exists()  # demo settings never saved
    stopped = subprocess.run(
        [sys.executable, "-m", "sniper_app", "--demo", "snipe", "list"],
        env=dict(os.environ) | env, capture_output=True, text=True, timeout=30, check=False,
    )
    assert stopped.returncode == 1
    assert "No demo is running" in stopped.stderr


def _run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "sniper_app", *args],
        env=dict(os.environ) | env, capture_output=True, text=True, timeout=30, check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout



def test_headless_started_unlinked_bids_for_the_account_linked_later_from_another_process(cli: CliSim) -> None:
    env = cli.env | {"SNIPER_MIN_SECONDS_BEFORE_END": "10"}
    proc = _start(["--headless"], env)
    try:
        wait_line(proc, "Sniper engine running")
        cli.env = env
        cli.link()
        item = cli.auction(start_price="10.00", ends_in=14, rivals=[{"max": "15.00", "before_end": 6.0}])
        snipe_id = cli.ok_json("snipe", "add", item, "20", "--lead", "2")["snipe"]["id"]

        snipe = _poll_finished(cli, snipe_id, 30.0)
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert snipe["status"] == "WON", snipe
    auction = cli.sim.auction(item)
    assert auction["winner"] == "demo"


# A British listing watched from eBay US, end to end over HTTP: sniped in pounds, never in converted dollars.
def test_gb_listing_watched_from_us_is_sniped_in_pounds_and_won(cli: CliSim) -> None:
    env = cli.env | {"SNIPER_MIN_SECONDS_BEFORE_END": "10", "SNIPER_MARKETPLACE": "EBAY_US"}
    cli.env = env
    proc = _start(["--headless"], env)
    try:
        wait_line(proc, "Sniper engine running")
        cli.link()
        item = cli.auction(
            title="Roberts radio", start_price="10.00", marketplace="EBAY_GB", ends_in=30,
            rivals=[{"max": "15.00", "before_end": 8.0, "user": "uk_rival"}],
        )

        # A dollar maximum on a pound listing is refused, naming the listing's currency; nothing is saved.
        refused = cli.run("snipe", "add", item, "$40")
        assert refused.returncode == 2, refused.stderr
        assert "GBP" in refused.stderr
        assert "Traceback" not in refused.stderr
        as_json = cli.run("snipe", "add", item, "$40", "--json")
        assert as_json.returncode == 2
        assert json.loads(as_json.stderr)["exit_code"] == 2
        assert cli.ok_json("snipe", "list") == []

        # A bare number is read in pounds, and the output says so.
        added = cli.run("snipe", "add", item, "20", "--lead", "2")
        assert added.returncode == 0, added.stderr
        assert "read in GBP, the listing's own currency" in added.stdout
        # The listing's own price first, eBay's conversion for the user beside it.
        assert "Price now £10.00 ≈ $12.82." in added.stdout
        snipe = cli.ok_json("snipe", "list")[0]
        assert (snipe["currency"], snipe["max_bid"]) == ("GBP", "20.00")
        assert snipe["converted_price"] == {"currency": "USD", "value": "12.82"}

        done = _poll_finished(cli, snipe["id"], 45.0)
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert done["status"] == "WON", done
    auction = cli.sim.auction(item)
    assert auction["currency"] == "GBP"
    assert auction["winner"] == "demo"
    # What reached eBay: demo's bid of 20.00 accepted, so it came in pounds (any other currency is 120009).
    mine = [b for b in auction["bids"] if b["bidder"] == "demo"]
    assert [(b["max"], b["accepted"], b["reason"]) for b in mine] == [("20.00", True, None)]
    # eBay UK's step at £15.00 is £1.00 (the US table would say $0.50): the rival's 15.00 plus one step.
    assert done["final_price"] == auction["final_price"] == "16.00"
