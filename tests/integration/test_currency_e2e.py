"""A British listing watched from eBay US, end to end over HTTP: sniped in pounds, never in converted dollars."""

# ruff: noqa: F811
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from tests.support.cli_sim import CliSim, cli  # noqa: F401  (fixture)
from tests.support.simulator import sim  # noqa: F401  (fixture)


def _poll(condition: Callable[[], Any], deadline_s: float, what: str) -> Any:
    end = time.monotonic() + deadline_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _wait_line(proc: subprocess.Popen[str], needle: str) -> None:
    assert proc.stdout is not None
    seen: list[str] = []
    while True:
        line = proc.stdout.readline()
        if not line:
            err = proc.stderr.read() if proc.stderr else ""
            raise AssertionError(f"process ended before printing {needle!r}: {seen} {err}")
        seen.append(line)
        if needle in line:
            return


def test_gb_listing_watched_from_us_is_sniped_in_pounds_and_won(cli: CliSim) -> None:
    env = cli.env | {"SNIPER_MIN_SECONDS_BEFORE_END": "10", "SNIPER_MARKETPLACE": "EBAY_US"}
    cli.env = env
    proc = subprocess.Popen(
        [sys.executable, "-m", "sniper_app", "--headless"],
        env=dict(os.environ) | env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        _wait_line(proc, "Sniper engine running")
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
        assert "£10.00 ≈ $12.82" in added.stdout
        snipe = cli.ok_json("snipe", "list")[0]
        assert (snipe["currency"], snipe["max_bid"]) == ("GBP", "20.00")
        assert snipe["converted_price"] == {"currency": "USD", "value": "12.82"}

        def finished() -> dict[str, Any] | None:
            found = [s for s in cli.ok_json("snipe", "list") if s["id"] == snipe["id"]]
            return found[0] if found and found[0]["status"] in ("WON", "LOST", "FAILED", "MISSED", "SKIPPED") else None

        done = _poll(finished, 45.0, "the snipe to finish")
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
