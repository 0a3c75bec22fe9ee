"""The one small facade a front end (the window, the tray, the self-test) uses to drive a running engine.

It is Qt-free and owns nothing it did not build: the caller starts and stops it around the engine's life.
Every coroutine raises the domain's :class:`~sniper_app.domain.errors.SniperError` family with a sentence
the user can read; the window shows that sentence as it is.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sniper_app.config import Settings
from sniper_app.domain.increments import minimum_next_bid
from sniper_app.domain.items import parse_item_ref
from sniper_app.domain.money import Money
from sniper_app.domain.rules import increment_site
from sniper_app.domain.views import ExposureView, GroupSummary, GroupView, SnipeView, WatchSyncResult
from sniper_app.ebay import EbayClient, EbayUser, ItemNotFound
from sniper_app.engine.accounts import Accounts, AccountStatus, UnlinkResult
from sniper_app.engine.actions import Actions, UnknownItem
from sniper_app.engine.bus import EventBus, SettingsApplied, WatchlistSynced
from sniper_app.engine.engine import Engine
from sniper_app.engine.metrics import Metrics
from sniper_app.engine.reads import Reads
from sniper_app.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ItemPreview:
    """What the Add snipe dialog shows of an item as soon as eBay has answered."""

    legacy_item_id: str
    title: str
    image_url: str | None
    currency: str | None
    current_price: Money | None
    minimum_next_bid: Money | None
    shipping_cost: Money | None
    # The current price as eBay converted it for the user's marketplace: shown beside, never bid.
    converted_price: Money | None
    # The site the item is listed on (its increments apply) and eBay's own minimum, when eBay gave them.
    listing_marketplace: str | None
    ebay_minimum: Money | None
    end_time: datetime | None
    bid_count: int
    is_auction: bool
    web_url: str | None
    import_charges: Money | None = None


@dataclass(frozen=True)
class ClockState:
    """The engine's view of eBay's clock, for the status bar and diagnostics."""

    synced: bool
    offset_s: float
    latency_s: float
    age_s: float
    server: str
    last_error: str | None
    latency_measured: bool = True  # False while latency_s is the default guess, before any round trip


class SniperService(Reads):
    """Snipes, account, watch list and engine controls of one profile, over a running :class:`Engine`.

    Its reads (inherited from :class:`Reads`) and its commands take and return plain values only.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        user_id: int,
        client: EbayClient,
        engine: Engine,
        bus: EventBus,
        metrics: Metrics,
        data_dir: Any,
        demo: bool = False,
    ) -> None:
        super().__init__(store, user_id)
        self.settings = settings
        self.client = client
        self.engine = engine
        self.bus = bus
        self.metrics = metrics
        self.demo = demo
        self.data_dir = Path(data_dir)
        self.actions = Actions(
            settings, store, user_id=user_id, client=client, bus=bus, metrics=metrics, on_change=engine.reconcile,
            bid_left=engine.bid_left,
        )
        self.accounts = Accounts(store, client, user_id=user_id, data_dir=data_dir, bus=bus)
        self._sync_lock = asyncio.Lock()
        # The engine may take new settings from the settings file too: the facade reads what it runs on.
        bus.subscribe(SettingsApplied, self._follow_settings)

    # --- settings -----------------------------------------------------------------------------------

    def apply_settings(self, new: Settings) -> list[str]:
        """Put saved settings in force in the running engine; returns the changed fields that take effect
        only when the app restarts."""
        return self.engine.apply_settings(new)

    def _follow_settings(self, event: SettingsApplied) -> None:
        self.settings = event.settings
        self.actions.settings = event.settings

    # --- items and snipes ---------------------------------------------------------------------------

    async def preview_item(self, text: str) -> ItemPreview:
        """Parse what the user pasted and ask eBay about it (no snipe is made)."""
        ref = parse_item_ref(text)
        try:
            if ref.variation_id == "0":
                details = await self.client.get_item_by_legacy_id(ref.legacy_id)
            else:
                details = await self.client.get_item(ref)
        except ItemNotFound:
            raise UnknownItem(f"eBay does not know item {ref}; check the item number or link.") from None
        least = details.minimum_to_bid
        if least is None and details.current_price is not None:
            site = increment_site(
                details.current_price.currency,
                listing_marketplace=details.listing_marketplace,
                marketplace=self.settings.marketplace,
            )
            # Without eBay's figure or a table that surely applies, the dialog says "unknown" rather than guess.
            if site is not None:
                least = minimum_next_bid(details.current_price, details.bid_count, site)
        return ItemPreview(
            legacy_item_id=details.legacy_item_id,
            title=details.title or f"Item {details.legacy_item_id}",
            image_url=details.image_url,
            currency=details.currency,
            current_price=details.current_price,
            minimum_next_bid=least,
            shipping_cost=details.shipping_cost,
            converted_price=details.converted_price,
            listing_marketplace=details.listing_marketplace,
            ebay_minimum=details.minimum_to_bid,
            end_time=details.end_time,
            bid_count=details.bid_count,
            is_auction=details.is_auction,
            web_url=details.web_url,
            import_charges=details.import_charges,
        )

    async def add_snipe(
        self, item: str, max_amount: str, *, lead: float | Literal["auto"] | None = None, group: str | None = None,
        confirmed: bool = True,
        includes_shipping: bool = False,
    ) -> tuple[SnipeView, list[str]]:
        """Without ``confirmed``, a maximum that looks like a typo raises :class:`SuspectedTypo` to ask about."""
        return await self.actions.add_snipe(item, max_amount, lead=lead, group=group, confirmed=confirmed,
                                            includes_shipping=includes_shipping)

    async def edit_snipe(
        self, snipe_id: int, *, max_amount: str | None = None, lead: float | Literal["auto"] | None = None,
        confirmed: bool = True, includes_shipping: bool | None = None,
    ) -> tuple[SnipeView, list[str]]:
        return await self.actions.edit_snipe(snipe_id, max_amount=max_amount, lead=lead, confirmed=confirmed,
                                             includes_shipping=includes_shipping)

    def exposure(self, spending_cap: str | None = None, period_days: int | None = None) -> ExposureView:
        """As :meth:`Reads.exposure`, under the cap in force unless one is given."""
        return super().exposure(
            self.settings.spending_cap if spending_cap is None else spending_cap,
            self.settings.spending_period_days if period_days is None else period_days,
        )

    async def cancel_snipe(self, snipe_id: int) -> SnipeView:
        return await self.actions.cancel_snipe(snipe_id)

    def get_snipe(self, snipe_id: int) -> SnipeView:
        return self.snipe(snipe_id)

    def list_groups(self) -> list[GroupSummary]:
        return list(self.group_summaries())

    def add_group(self, name: str, target_wins: int = 1) -> GroupView:
        return self.actions.add_group(name, target_wins)

    # --- watch list ---------------------------------------------------------------------------------

    async def sync_watchlist(self) -> WatchSyncResult:
        """Sync now; a sync already running is joined rather than doubled."""
        async with self._sync_lock:
            try:
                result = await self.actions.sync_watchlist()
                await self.engine.fail_vanished_snipes(watched=result.kept_ids)
                return result
            except Exception as exc:
                self.bus.publish(WatchlistSynced(count=0, added=0, removed=0, error=str(exc)))
                raise

    # --- account ------------------------------------------------------------------------------------

    def start_link(self) -> str:
        """The consent page to open in the browser."""
        return self.accounts.start_link()

    async def complete_link(self, pasted_url: str) -> EbayUser:
        user = await self.accounts.complete_link(pasted_url)
        # Act for the new account at once, and show its watch list without waiting a sync period.
        await self.engine.reconcile()
        self.engine.sync_soon()
        return user

    async def account_status(self) -> AccountStatus:
        return await self.accounts.status()

    async def unlink(self) -> UnlinkResult:
        return await self.accounts.unlink()

    def linked_username(self) -> str | None:
        return self.account().username

    # --- engine -------------------------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return self.engine.paused

    def set_paused(self, paused: bool) -> None:
        self.engine.paused = paused

    def pending_count(self) -> int:
        """Snipes that would be lost (not placed) if the app quit now."""
        return len(self.store.active_snipes(self.user_id))

    def metrics_snapshot(self) -> dict[str, Any]:
        """The engine's operation counts and timings as plain JSON, for the Diagnostics tab."""
        return self.metrics.snapshot()

    def clock_state(self) -> ClockState:
        clock = self.engine.clock
        return ClockState(
            synced=clock.synced,
            offset_s=clock.offset_s,
            latency_s=clock.latency_s,
            age_s=clock.age_s(),
            server=clock.server,
            last_error=clock.last_error,
            latency_measured=clock.latency_measured,
        )

    def keep_awake_failing(self) -> bool:
        """True once this computer would not stay awake for a due snipe (a sleeping machine cannot bid)."""
        return getattr(self.engine.keepawake, "supported", None) is False

    def ebay_address(self) -> str:
        """Where the app talks to eBay (the demo's simulator on this machine, or eBay's own API host)."""
        return str(self.client.endpoints.api_url)

    async def measure_clock(self) -> ClockState:
        await self.engine.clock.measure()
        return self.clock_state()
