"""Helpers for engine tests: a store and a linked simulator account, snipes created straight in the store,
and polling with a deadline (never a fixed sleep)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sniper_app.bootstrap import AppContext, Runtime
from sniper_app.config import Settings
from sniper_app.domain.money import Money
from sniper_app.ebay import AccountLinker, EbayClient, SecretStore
from sniper_app.ebay.endpoints import Endpoints
from sniper_app.engine.bus import Event, EventBus
from sniper_app.engine.engine import Engine
from sniper_app.simulator import SimulatorServer
from sniper_app.store import Store
from sniper_app.store.models import Snipe
from tests.support.ebay import FAST_RETRY, consent_redirect, sim_endpoints
from tests.support.wait import wait_until_async

# Time compressed to seconds: these are the engine's own knobs, scaled down with the auctions.
FAST = {"preflight_s": 2.0, "prep_s": 1.0, "handover_s": 0.5, "late_fire_min_s": 0.8, "result_delay_s": 0.2}


def engine_settings(sim: SimulatorServer, data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        ebay_env="simulator",
        ebay_api_url=sim.base_url,
        ebay_auth_url=sim.base_url,
        ebay_trading_url=sim.trading_url,
        ebay_client_id="sim-client",
        ebay_runame="sim-runame",
        min_seconds_before_end=10,
        time_server=f"127.0.0.1:{sim.sntp_address[1]}",
    )


def new_client(sim: SimulatorServer, api_url: str | None = None) -> EbayClient:
    """``api_url``: reach the REST APIs (and send the bids) through another address, such as a NetLink."""
    endpoints = sim_endpoints(sim) if api_url is None else Endpoints.for_environment(
        "simulator", api_url=api_url, auth_url=sim.base_url, trading_url=sim.trading_url)
    return EbayClient(
        endpoints=endpoints, client_id="sim-client", runame="sim-runame",
        secrets=SecretStore("simulator"), client_secret="sim-secret", timeout_s=5.0, retry=FAST_RETRY,
    )


async def link_demo(client: EbayClient, store: Store) -> int:
    """Link the simulator's demo user (tokens to the keyring via the client) and return the local user id."""
    linker = AccountLinker(client)
    user = await linker.complete(await consent_redirect(client, linker.start()))
    local = store.get_or_create_user()
    store.link_ebay_account(int(local.id), ebay_username=user.username, ebay_user_id=user.user_id)
    return int(local.id)


@dataclass
class Rig:
    sim: SimulatorServer
    store: Store
    settings: Settings
    user_id: int
    client: EbayClient
    bus: EventBus = field(default_factory=EventBus)
    events: list[Event] = field(default_factory=list)

    def engine(self, **kw: Any) -> Engine:
        """An engine built as the app builds one, on this rig's client and bus, its timing compressed."""
        ctx = AppContext(self.settings, self.store, self.user_id, SecretStore("simulator"), bus=self.bus)
        return Runtime(ctx, client=self.client, engine_options=FAST | kw, notices=False).engine

    @asynccontextmanager
    async def running(self, **kw: Any) -> AsyncIterator[Engine]:
        """An engine of :meth:`engine`, started for the block and stopped whatever the block does."""
        engine = self.engine(**kw)
        await engine.start()
        try:
            yield engine
        finally:
            await engine.stop()

    def snipe(self, auction: dict[str, Any], max_amount: str, *, lead: float = 1.0, group_id: int | None = None) -> int:
        snipe = self.store.create_snipe(
            self.user_id,
            legacy_item_id=str(auction["legacy_item_id"]),
            rest_item_id=str(auction["item_id"]),
            currency="USD",
            max_bid_minor=Money.of(max_amount, "USD").minor,
            end_time=datetime.fromtimestamp(float(auction["end_epoch"]), UTC),
            lead_seconds=lead,
            title=str(auction.get("title") or auction["legacy_item_id"]),
            group_id=group_id,
        )
        return int(snipe.id)

    def get(self, pk: int) -> Snipe:
        return self.store.get_snipe(pk)

    def bids(self) -> list[dict[str, Any]]:
        """Every placeProxyBid request that reached the simulator."""
        return [r for r in self.sim.requests() if r["path"].endswith("/place_proxy_bid")]


@asynccontextmanager
async def rig(sim: SimulatorServer, tmp_path: Path, *, api_url: str | None = None) -> AsyncIterator[Rig]:
    store = Store.open(tmp_path)
    client = new_client(sim, api_url)
    try:
        user_id = await link_demo(client, store)
        r = Rig(sim, store, engine_settings(sim, tmp_path), user_id, client)
        r.bus.subscribe(Event, r.events.append)
        yield r
    finally:
        await client.aclose()
        store.close()


async def wait_status(r: Rig, pk: int, statuses: set[str], timeout_s: float) -> Snipe:
    await wait_until_async(lambda: r.get(pk).status in statuses, timeout_s, f"snipe {pk} to become {sorted(statuses)}")
    return r.get(pk)
