"""New settings reach a running engine: the sync period, the client's marketplace, the time server and the
history's retention at once; the data folder and the eBay environment at the next start."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.interval import IntervalTrigger

from sniper_app.config import Settings, load_settings, save_settings
from sniper_app.engine.bus import SettingsApplied
from sniper_app.engine.engine import Engine
from sniper_app.engine.live_settings import SettingsWatch
from sniper_app.simulator import SimulatorServer
from tests.support.engine import rig
from tests.support.wait import wait_until_async


def _sync_trigger(engine: Engine) -> IntervalTrigger:
    assert engine.scheduler is not None
    job = engine.scheduler.get_job("sync")
    assert isinstance(job.trigger, IntervalTrigger)
    return job.trigger


def test_applied_settings_reach_the_client_the_clock_the_sync_and_the_history(
    sim: SimulatorServer, tmp_path: Path
) -> None:
    other = SimulatorServer(host="127.0.0.1", port=0, sntp_port=0, clock_offset=30.0)
    other.start()

    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            legacy = str(sim.create_auction("Leica M3", "100.00", ends_in=3600)["legacy_item_id"])
            async with r.running() as engine:
                assert (await engine.client.get_item_by_legacy_id(legacy)).converted_price is None
                assert abs(engine.clock.offset_s) < 1.0
                new = r.settings.model_copy(update={
                    "marketplace": "EBAY_GB",
                    "time_server": f"127.0.0.1:{other.sntp_address[1]}",
                    "watchlist_sync_minutes": 1,
                    "history_retention_days": 30,
                    "ebay_env": "sandbox",
                })
                assert engine.apply_settings(new) == ["ebay_env"]
                # eBay now reads for the British site: it converts the US listing's price to pounds.
                converted = (await engine.client.get_item_by_legacy_id(legacy)).converted_price
                assert converted is not None
                assert converted.currency == "GBP"
                await wait_until_async(
                    lambda: abs(engine.clock.offset_s - 30.0) < 1.0, 10, "the offset of the new server"
                )
                assert _sync_trigger(engine).interval == timedelta(minutes=1)
                next_sync = engine.scheduler.get_job("sync").next_run_time  # type: ignore[union-attr]
                assert next_sync - datetime.now(UTC) <= timedelta(minutes=1)
                assert r.store.retention == timedelta(days=30)
                # What waits for a restart keeps running as it was, and the engine says which it is.
                assert engine.settings.ebay_env == "simulator"
                assert engine.settings.marketplace == "EBAY_GB"
                told = [e for e in r.events if isinstance(e, SettingsApplied)]
                assert [(e.applied, e.waiting) for e in told] == [(
                    ("marketplace", "time_server", "watchlist_sync_minutes", "history_retention_days"),
                    ("ebay_env",),
                )]
                assert engine.apply_settings(new) == ["ebay_env"]  # still waiting, said again

    try:
        asyncio.run(main())
    finally:
        other.stop()


def test_a_running_engine_follows_the_settings_file_and_the_environment_still_wins(
    sim: SimulatorServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="sniper_app.engine.live_settings")
    async def main() -> None:
        async with rig(sim, tmp_path) as r:
            path = tmp_path / "config" / "settings.json"
            save_settings(r.settings.model_dump(mode="json", exclude_none=True), path)
            environ = {"SNIPER_MARKETPLACE": "EBAY_DE"}

            def load() -> Settings:
                return load_settings(environ=environ, path=path)

            r.settings = load()
            async with r.running(settings_watch=SettingsWatch(path, load)) as engine:
                assert _sync_trigger(engine).interval == timedelta(minutes=10)
                # Another process's 'config set', as it writes the file.
                save_settings({"watchlist_sync_minutes": 1, "marketplace": "EBAY_GB",
                               "data_dir": str(tmp_path / "elsewhere")}, path)
                await wait_until_async(lambda: engine.settings.watchlist_sync_minutes == 1, 5, "the new sync period")
                assert _sync_trigger(engine).interval == timedelta(minutes=1)
                assert engine.settings.marketplace == "EBAY_DE"  # SNIPER_MARKETPLACE overrides the file
                assert engine.settings.data_dir == tmp_path  # the open database stays where it is
                told = [e for e in r.events if isinstance(e, SettingsApplied)]
                assert [(e.applied, e.waiting) for e in told] == [(("watchlist_sync_minutes",), ("data_dir",))]
                # A hand edit the app cannot use changes nothing and stops nothing; the next good one arrives.
                edited = json.loads(path.read_text(encoding="utf-8")) | {"watchlist_sync_minutes": 0}
                path.write_text(json.dumps(edited), encoding="utf-8")
                await wait_until_async(lambda: "were not applied" in caplog.text, 5, "the refusal in the log")
                assert "watchlist_sync_minutes" in caplog.text
                assert engine.settings.watchlist_sync_minutes == 1
                save_settings({"watchlist_sync_minutes": 2, "history_retention_days": 7}, path)
                await wait_until_async(lambda: engine.settings.watchlist_sync_minutes == 2, 5, "the next good change")
                assert r.store.retention == timedelta(days=7)

    asyncio.run(main())
