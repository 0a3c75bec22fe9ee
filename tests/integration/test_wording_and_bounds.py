"""Small words that mislead and bounds the store keeps: each as the user would meet it."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from sniper_app.domain.errors import RuleViolation
from sniper_app.domain.text import MAX_GROUP_SIZE
from sniper_app.ebay.transport import rest_error
from sniper_app.engine.clock_service import ClockService
from sniper_app.simulator import SimulatorServer
from sniper_app.store import Store


@pytest.mark.parametrize("status", [301, 302, 307])
def test_a_redirect_is_named_as_one_and_no_error_none(status: int) -> None:
    error = rest_error(httpx.Response(status, headers={"location": "https://elsewhere"}), "getItem")
    assert str(error) == f"eBay answered getItem with a redirect (HTTP {status}), which the app does not follow."


def test_a_refusal_without_an_error_id_does_not_say_none() -> None:
    error = rest_error(httpx.Response(418, json={"errors": [{"message": "teapot"}]}), "getItem")
    assert str(error) == "eBay refused getItem (HTTP 418): teapot"
    coded = rest_error(httpx.Response(418, json={"errors": [{"errorId": 12345}]}), "getItem")
    assert str(coded) == "eBay refused getItem (HTTP 418, error 12345)."


def test_the_first_clock_line_says_the_latency_is_assumed(
    sim: SimulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ClockService(f"127.0.0.1:{sim.sntp_address[1]}")
    with caplog.at_level(logging.INFO, logger="sniper_app.engine.clock_service"):
        asyncio.run(clock.measure())
        clock.note_rtt(0.040)
        asyncio.run(clock.measure())
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("clock offset")]
    assert len(lines) == 2
    assert lines[0].endswith("latency 50.0 ms (assumed: no eBay round trip timed yet)")
    assert lines[1].endswith("latency 20.0 ms")


def test_a_group_holds_at_most_its_size(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        user = store.get_or_create_user()
        group = store.create_group(user.id, "Lenses", target_wins=MAX_GROUP_SIZE)
        end = datetime.now(UTC) + timedelta(days=1)
        for n in range(MAX_GROUP_SIZE):
            store.create_snipe(user.id, legacy_item_id=str(100000000 + n), currency="USD", max_bid_minor=100,
                               end_time=end, lead_seconds=5, group_id=group.id)
        with pytest.raises(RuleViolation, match=f"at most {MAX_GROUP_SIZE} snipes"):
            store.create_snipe(user.id, legacy_item_id="999999999", currency="USD", max_bid_minor=100,
                               end_time=end, lead_seconds=5, group_id=group.id)
        assert len(store.group_members(group.id)) == MAX_GROUP_SIZE
