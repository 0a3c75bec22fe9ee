"""Peewee models of the one SQLite file. The tables themselves are created by ``migrations``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from peewee import (
    AutoField,
    BigIntegerField,
    BooleanField,
    Field,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from sniper_app.domain.status import SnipeStatus
from sniper_app.store.db import JSONField, UtcDateTimeField, database_proxy


class BaseModel(Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class User(BaseModel):
    """The local profile. eBay tokens are never stored here: they live in the OS keyring."""

    id = AutoField()
    ebay_username = TextField(null=True)
    ebay_user_id = TextField(null=True)
    marketplace = TextField(default="EBAY_US")
    needs_relink = BooleanField(default=False)
    active = BooleanField(default=True)
    created_at: Field[datetime] = UtcDateTimeField()
    updated_at: Field[datetime] = UtcDateTimeField()


class SnipeGroup(BaseModel):
    """ "Win N of these": once ``target_wins`` snipes of the group are WON, the rest are cancelled."""

    id = AutoField()
    user = ForeignKeyField(User, backref="groups", on_delete="CASCADE")
    user_id: int  # the key peewee reads without loading the user
    name = TextField()
    target_wins = IntegerField(default=1)
    created_at: Field[datetime] = UtcDateTimeField()


class Snipe(BaseModel):
    id = AutoField()
    user = ForeignKeyField(User, backref="snipes", on_delete="CASCADE")
    user_id: int  # the key peewee reads without loading the user
    legacy_item_id = TextField()
    rest_item_id = TextField(null=True)
    title = TextField(default="")
    image_url = TextField(null=True)
    item_url = TextField(null=True)
    marketplace = TextField(default="EBAY_US")
    currency = TextField()
    max_bid_minor = BigIntegerField()
    lead_seconds = FloatField()
    end_time: Field[datetime] = UtcDateTimeField()
    current_price_minor = BigIntegerField(null=True)
    bid_count = IntegerField(default=0)
    status = TextField(default=SnipeStatus.PENDING.value)
    status_reason = TextField(null=True)
    group = ForeignKeyField(SnipeGroup, null=True, backref="snipes", on_delete="SET NULL")
    group_id: int | None
    job_id = TextField(null=True)
    created_at: Field[datetime] = UtcDateTimeField()
    updated_at: Field[datetime] = UtcDateTimeField()
    final_price_minor = BigIntegerField(null=True)
    # The timing record of the fire.
    planned_at: Field[datetime | None] = UtcDateTimeField(null=True)
    sent_at: Field[datetime | None] = UtcDateTimeField(null=True)
    reply_at: Field[datetime | None] = UtcDateTimeField(null=True)
    clock_offset_ms = FloatField(null=True)
    latency_ms = FloatField(null=True)
    attempts = IntegerField(default=0)
    ebay_message = TextField(null=True)
    proxy_bid_id = TextField(null=True)
    # The current price as eBay converted it for the user's marketplace: for display only.
    converted_currency = TextField(null=True)
    converted_price_minor = BigIntegerField(null=True)
    # How it ended (set with the final status), and the landed cost its bid was judged on.
    outcome_code = TextField(null=True)
    outcome_text = TextField(null=True)
    includes_shipping = BooleanField(default=False)
    shipping_minor = BigIntegerField(null=True)
    shipping_currency = TextField(null=True)
    import_charges_minor = BigIntegerField(null=True)
    import_charges_currency = TextField(null=True)

    @property
    def snipe_status(self) -> SnipeStatus:
        return SnipeStatus(self.status)


class HistoryEvent(BaseModel):
    """Append-only record of everything that happened; kept until ``expires_at``."""

    id = AutoField()
    at: Field[datetime] = UtcDateTimeField()
    action = TextField()
    snipe = ForeignKeyField(Snipe, null=True, backref="events", on_delete="SET NULL")
    snipe_id: int | None
    legacy_item_id = TextField(null=True)
    title = TextField(null=True)
    amount_minor = BigIntegerField(null=True)
    currency = TextField(null=True)
    final_price_minor = BigIntegerField(null=True)
    status = TextField(null=True)
    message = TextField(default="")
    details: Field[Any] = JSONField(null=True)
    expires_at: Field[datetime] = UtcDateTimeField()
    # The amounts at eBay's conversion for the user when the event happened: for display only.
    converted_currency = TextField(null=True)
    converted_amount_minor = BigIntegerField(null=True)
    converted_final_price_minor = BigIntegerField(null=True)


class WatchItem(BaseModel):
    """One item of the user's eBay watch list, cached so the window shows it at once on start."""

    id = AutoField()
    user = ForeignKeyField(User, backref="watch_items", on_delete="CASCADE")
    user_id: int
    legacy_item_id = TextField()
    rest_item_id = TextField(null=True)
    title = TextField(default="")
    image_url = TextField(null=True)
    item_url = TextField(null=True)
    currency = TextField(null=True)
    current_price_minor = BigIntegerField(null=True)
    bid_count = IntegerField(default=0)
    end_time: Field[datetime | None] = UtcDateTimeField(null=True)
    listing_type = TextField(null=True)
    buy_it_now_minor = BigIntegerField(null=True)
    synced_at: Field[datetime] = UtcDateTimeField()
    expires_at: Field[datetime] = UtcDateTimeField()
    converted_currency = TextField(null=True)
    converted_price_minor = BigIntegerField(null=True)


MODELS: tuple[type[BaseModel], ...] = (User, SnipeGroup, Snipe, HistoryEvent, WatchItem)
