"""The one builder: a context's runtime wires one engine, its facade and notices, and stops them once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sniper_app.bootstrap import Runtime, open_context
from sniper_app.config import Settings
from sniper_app.ebay import EbayClient, Endpoints, SecretStore
from sniper_app.engine.bus import SettingsApplied

# Port 9 (discard): nothing listens, and nothing here should reach out.
NOWHERE = "http://127.0.0.1:9"


def _settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir, ebay_env="simulator", ebay_api_url=NOWHERE, ebay_auth_url=NOWHERE,
        ebay_trading_url=NOWHERE, ebay_client_id="sim-client", ebay_runame="sim-runame",
        time_server="127.0.0.1:9",
    )


def test_a_runtime_wires_one_engine_behind_its_facade_and_stops_once(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "data")
    ctx = open_context(settings)
    try:
        runtime = Runtime(ctx)
        assert runtime.service.engine is runtime.engine
        assert runtime.service.client is runtime.client
        assert runtime.engine.bus is ctx.bus
        assert runtime.engine.clock.server == "127.0.0.1:9"
        assert runtime.notifier is not None

        asyncio.run(runtime.stop())
        asyncio.run(runtime.stop())  # a second stop does nothing and raises nothing

        # The client it built is closed, and the engine it never started let go of the fire thread's sockets.
        assert runtime.client.http.is_closed
        assert runtime.engine.firer._io_in.fileno() == -1
        # Stopped notices no longer follow settings.
        before = runtime.notifier.settings
        ctx.bus.publish(SettingsApplied(settings=settings.model_copy(update={"marketplace": "EBAY_GB"}),
                                        applied=("marketplace",), waiting=()))
        assert runtime.notifier.settings is before
    finally:
        ctx.close()


def test_a_client_handed_in_stays_open_and_rigs_can_leave_notices_out(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "data")
    ctx = open_context(settings)
    client = EbayClient(
        endpoints=Endpoints.for_environment("simulator", api_url=NOWHERE, auth_url=NOWHERE, trading_url=NOWHERE),
        client_id="sim-client", runame="sim-runame", secrets=SecretStore("simulator"), client_secret="sim-secret",
    )
    try:
        runtime = Runtime(ctx, client=client, engine_options={"clock_server": None}, notices=False)
        assert runtime.client is client
        assert runtime.notifier is None
        assert runtime.engine.clock.server == settings.time_server  # no server of its own: the settings'
        asyncio.run(runtime.stop())
        assert not client.http.is_closed
    finally:
        asyncio.run(client.aclose())
        ctx.close()
