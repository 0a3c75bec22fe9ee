"""Actions and watch-list sync in process: real store, real simulator, the bus and metrics they feed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sniper_app.config import Settings
from sniper_app.domain.errors import InputError, RuleViolation
from sniper_app.domain.status import SnipeStatus
from sniper_app.ebay import NeedsRelink
from sniper_app.engine.accounts import Accounts
from sniper_app.engine.actions import Actions, NoSuchSnipe
from sniper_app.engine.bus import AccountStateChanged, Event, EventBus, SnipeStatusChanged, WatchlistSynced
from sniper_app.engine.metrics import Metrics
from sniper_app.engine.sync import sync_watchlist
from sniper_app.simulator import SimulatorServer
from sniper_app.store import Store
from tests.support.ebay import consent_redirect, ctl, make_client, run


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "data") as opened:
        yield opened


def _settings(**kw: object) -> Settings:
    return Settings.model_validate({"ebay_env": "simulator", "min_seconds_before_end": 30, **kw})


async def _linked(sim: SimulatorServer, store: Store, tmp_path: Path, bus: EventBus) -> tuple[int, Accounts]:
    user_id = store.get_or_create_user().id
    accounts = Accounts(store, make_client(sim), user_id=user_id, data_dir=tmp_path, bus=bus)
    await accounts.complete_link(await consent_redirect(accounts.client, accounts.start_link()))
    return user_id, accounts


def test_add_edit_cancel_publish_and_notify(sim: SimulatorServer, store: Store, tmp_path: Path) -> None:
    bus, events, changes = EventBus(), list[Event](), list[str]()
    bus.subscribe(Event, events.append)

    async def changed() -> None:
        changes.append("db")

    async def scenario() -> None:
        user_id, accounts = await _linked(sim, store, tmp_path, bus)
        assert isinstance(events[-1], AccountStateChanged)
        assert events[-1].state == "linked"
        actions = Actions(_settings(), store, user_id=user_id, client=accounts.client, bus=bus, on_change=changed)
        item = sim.create_auction(start_price="10.00", ends_in=600)["legacy_item_id"]
        actions.add_group("Cameras", 1)
        snipe, warnings = await actions.add_snipe(item, "12", lead=3, group="Cameras")
        assert warnings == []
        assert (snipe.max_bid_minor, snipe.lead_seconds) == (1200, 3.0)
        assert snipe.group is not None
        assert snipe.group.name == "Cameras"
        edited, _ = await actions.edit_snipe(snipe.id, lead=6)
        assert (edited.max_bid_minor, edited.lead_seconds) == (1200, 6.0)
        await actions.cancel_snipe(snipe.id)
        with pytest.raises(RuleViolation, match="nothing to cancel"):
            await actions.cancel_snipe(snipe.id)
        with pytest.raises(NoSuchSnipe, match="#42"):
            await actions.edit_snipe(42, lead=5)
        summary = actions.list_groups()[0]
        assert (summary.members, summary.active, summary.won) == (1, 0, 0)

    run(scenario())
    statuses = [(e.old, e.new) for e in events if isinstance(e, SnipeStatusChanged)]
    assert statuses == [(None, SnipeStatus.PENDING), (SnipeStatus.PENDING, SnipeStatus.CANCELLED)]
    assert changes == ["db", "db", "db"]


def test_a_lead_longer_than_the_time_left_and_a_short_auction_are_refused(
    sim: SimulatorServer, store: Store, tmp_path: Path
) -> None:
    async def scenario() -> None:
        user_id, accounts = await _linked(sim, store, tmp_path, EventBus())
        actions = Actions(_settings(), store, user_id=user_id, client=accounts.client)
        soon = sim.create_auction(start_price="10.00", ends_in=20)["legacy_item_id"]
        with pytest.raises(RuleViolation, match="ends in"):
            await actions.add_snipe(soon, "20")
        later = sim.create_auction(start_price="10.00", ends_in=100)["legacy_item_id"]
        with pytest.raises(RuleViolation, match="Lead time must be between"):
            await actions.add_snipe(later, "20", lead=0.5)
        _, warnings = await actions.add_snipe(later, "20", lead=60)
        assert any("gives other bidders time" in w for w in warnings)
        assert any("little time" in w for w in warnings)

    run(scenario())


def test_sync_feeds_bus_and_metrics_and_a_dead_sign_in_flags_the_account(
    sim: SimulatorServer, store: Store, tmp_path: Path
) -> None:
    bus, metrics, synced = EventBus(), Metrics(), list[WatchlistSynced]()
    bus.subscribe(WatchlistSynced, synced.append)
    for n in range(3):
        sim.create_auction(title=f"watched {n}", watched_by=["demo"])

    async def scenario() -> None:
        user_id, accounts = await _linked(sim, store, tmp_path, bus)
        result = await sync_watchlist(store, accounts.client, user_id, bus, metrics)
        assert (result.added, result.removed, len(store.list_watch_items(user_id))) == (3, 0, 3)
        ctl(sim, "POST", "/_sim/tokens/expire", {"user": "demo"})
        ctl(sim, "POST", "/_sim/tokens/revoke", {"user": "demo"})
        with pytest.raises(NeedsRelink):
            await sync_watchlist(store, accounts.client, user_id, bus, metrics)
        assert store.get_user(user_id).needs_relink is True
        assert len(store.list_watch_items(user_id)) == 3  # a failed sync keeps the cached list

    run(scenario())
    assert [(e.count, e.added, e.error is None) for e in synced] == [(3, 3, True), (0, 0, False)]
    assert metrics.operations["sync"].count == 2
    assert metrics.operations["sync"].errors == 1


def test_a_listing_from_another_site_is_stored_in_its_own_currency_with_the_conversion_beside(
    sim: SimulatorServer, store: Store, tmp_path: Path
) -> None:
    gb = sim.create_auction(title="Brompton bike", start_price="600.00", marketplace="EBAY_GB", ends_in=900,
                            watched_by=["demo"])["legacy_item_id"]
    fixed = sim.create_auction(title="Film, 5-pack", start_price="54.99", buy_it_now="54.99", ends_in=9000,
                               watched_by=["demo"], fixed_price=True)["legacy_item_id"]

    async def scenario() -> None:
        user_id, accounts = await _linked(sim, store, tmp_path, EventBus())
        actions = Actions(_settings(marketplace="EBAY_US"), store, user_id=user_id, client=accounts.client)
        await sync_watchlist(store, accounts.client, user_id)
        watched = {w.legacy_item_id: w for w in store.list_watch_items(user_id)}
        assert (watched[gb].currency, watched[gb].current_price_minor) == ("GBP", 60000)
        assert (watched[gb].converted_currency, watched[gb].converted_price_minor) == ("USD", 76923)
        assert watched[fixed].listing_type == "FixedPriceItem"
        # A dollar maximum on a pound listing is refused with the listing's currency named, never converted.
        with pytest.raises(InputError, match="This item is priced in GBP; enter the amount in GBP"):
            await actions.add_snipe(gb, "$800", lead=3)
        with pytest.raises(RuleViolation, match="not an auction"):
            await actions.add_snipe(fixed, "60", lead=3)
        snipe, _ = await actions.add_snipe(gb, "650", lead=3)
        assert (snipe.currency, snipe.max_bid_minor) == ("GBP", 65000)
        assert (snipe.converted_currency, snipe.converted_price_minor) == ("USD", 76923)

    run(scenario())
