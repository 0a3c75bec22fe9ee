"""Helpers for the notification tests: a store with one snipe, settings for each email backend, and a
notifier attached to a bus that records what it publishes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sniper_app.config import Settings
from sniper_app.domain.history import HistoryAction
from sniper_app.ebay import SecretStore
from sniper_app.engine.bus import Event, EventBus, NotificationFailed
from sniper_app.engine.notifications import NotifierHandle
from sniper_app.store import Store
from sniper_app.store.models import HistoryEvent

FAST_RETRIES = (0.01, 0.02)  # three attempts in all, in milliseconds rather than minutes


def email_settings(tmp_path: Path, **fields: Any) -> Settings:
    base: dict[str, Any] = {
        "data_dir": tmp_path, "notify_email": True, "email_to": "me@example.com",
        "email_from": "sniper@example.com", "notify_email_types": ["BID_WON", "BID_LOST", "BID_FAILED"],
    }
    return Settings.model_validate(base | fields)


def add_snipe(store: Store, title: str = "Leica M3 rangefinder", **fields: Any) -> int:
    user = store.get_or_create_user()
    snipe = store.create_snipe(
        int(user.id), legacy_item_id="126001", currency="USD", max_bid_minor=40_000,
        end_time=datetime.now(UTC) + timedelta(hours=1), lead_seconds=5.0, title=title,
        item_url="https://www.ebay.com/itm/126001", image_url="https://i.ebayimg.com/126001.jpg", **fields,
    )
    return int(snipe.id)


@dataclass
class NotifyRig:
    store: Store
    bus: EventBus
    handle: NotifierHandle
    events: list[Event] = field(default_factory=list)

    def failures(self) -> list[NotificationFailed]:
        return [e for e in self.events if isinstance(e, NotificationFailed)]

    def history_notes(self) -> list[HistoryEvent]:
        return list(self.store.history_page(actions=HistoryAction.NOTE).rows)


@asynccontextmanager
async def notify_rig(settings: Settings, secrets: SecretStore | None = None, **kw: Any) -> AsyncIterator[NotifyRig]:
    store = Store.open(settings.resolved_data_dir())
    bus = EventBus()
    rig = NotifyRig(store, bus, NotifierHandle(settings, store, bus, secrets or SecretStore("simulator"),
                                                retry_delays=kw.pop("retry_delays", FAST_RETRIES), **kw))
    bus.subscribe(Event, rig.events.append)
    await rig.handle.start()
    try:
        yield rig
    finally:
        await rig.handle.stop()
        store.close()


def finish(rig: NotifyRig, pk: int, status: str = "WON", final_price_minor: int | None = 31_250) -> None:
    """Walk a snipe to its end as the engine would, then publish the change as the engine does."""
    from sniper_app.domain.status import SnipeStatus
    from sniper_app.engine.bus import SnipeStatusChanged

    path = {"WON": ["SCHEDULED", "PLACING", "PLACED", "WON"], "LOST": ["SCHEDULED", "PLACING", "PLACED", "LOST"],
            "FAILED": ["SCHEDULED", "PLACING", "FAILED"]}[status]
    old = SnipeStatus(rig.store.get_snipe(pk).status)
    for step in path:
        fields: dict[str, Any] = {}
        if step in ("WON", "LOST"):
            fields["final_price_minor"] = final_price_minor
        rig.store.set_status(pk, SnipeStatus(step), reason="eBay refused the bid." if step == "FAILED" else None,
                             **fields)
    rig.bus.publish(SnipeStatusChanged(snipe_id=pk, old=old, new=SnipeStatus(status)))
