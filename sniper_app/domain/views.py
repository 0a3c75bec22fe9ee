"""What the engine's facade hands a front end to read: plain, frozen values, defined once.

A snipe, a watched item, a history entry, a group and the account reach the window and the command line
only in these shapes. They are built inside the store from its rows and carry nothing live: no database
object, no lazy loading, no callback. Every field is an int, a str, a float, an aware UTC datetime, an enum
of the domain, a tuple of those, or (a history entry's details) plain JSON. That makes them the future wire
protocol of an engine in another process, with no change to the front ends that read them.

The reads are synchronous today: each is one short indexed SQLite query on the local file, which the
window already ran on its own thread before the facade existed (history is paged by keyset, never loaded
whole, and the one slow read, counting a large history, runs on a worker thread). A remote engine will make
these reads asynchronous; the values they return stay the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sniper_app.domain.endings import StoredOutcome
from sniper_app.domain.errors import InputError
from sniper_app.domain.history import HistoryAction
from sniper_app.domain.landed import BidAmount, LandedCost, LandedError, bid_for_maximum, landed_cost
from sniper_app.domain.money import Money, MoneyError
from sniper_app.domain.rules import AUTO_LEAD, MIN_LEAD_SECONDS
from sniper_app.domain.status import SnipeStatus
from sniper_app.domain.timing import TimingFacts

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def to_epoch_us(value: datetime) -> int:
    """Aware datetime -> integer microseconds since the Unix epoch (UTC); a naive one is a bug."""
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime given to the store; times must be timezone-aware UTC")
    return (value - _EPOCH) // timedelta(microseconds=1)


def from_epoch_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def _charge(minor: int | None, currency: str | None) -> Money | None:
    if minor is None or currency is None:
        return None
    try:
        return Money(minor, currency)
    except MoneyError:
        return None


@dataclass(frozen=True, slots=True)
class GroupView:
    """A "win N of these" group of snipes."""

    id: int
    name: str
    target_wins: int


@dataclass(frozen=True, slots=True)
class GroupSummary:
    """A group and how its members stand."""

    group: GroupView
    members: int
    active: int
    won: int


@dataclass(frozen=True, slots=True)
class SnipeView:
    """One snipe as every front end reads it: the table row, the detail window and the command line.

    Money is in integer minor units of ``currency`` (the listing's own); ``converted_*`` is eBay's
    conversion for the user's marketplace, for display only. A negative ``id`` marks a snipe the window
    shows while the engine has not accepted it yet.
    """

    id: int
    legacy_item_id: str
    title: str
    currency: str
    max_bid_minor: int
    lead_seconds: float  # AUTO_LEAD: the engine chooses it at the hand-over
    end_time: datetime
    status: SnipeStatus
    status_reason: str | None = None
    group: GroupView | None = None
    rest_item_id: str | None = None
    image_url: str | None = None
    item_url: str | None = None
    marketplace: str = "EBAY_US"
    current_price_minor: int | None = None
    bid_count: int = 0
    final_price_minor: int | None = None
    converted_currency: str | None = None
    converted_price_minor: int | None = None
    # The timing record of the fire.
    planned_at: datetime | None = None
    sent_at: datetime | None = None
    reply_at: datetime | None = None
    clock_offset_ms: float | None = None
    latency_ms: float | None = None
    attempts: int = 0
    ebay_message: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # How it ended: the stored code and sentence, or derived from the status for rows kept before them.
    outcome: StoredOutcome | None = None
    # The landed cost: the charges Browse reported, and whether the maximum includes them.
    includes_shipping: bool = False
    shipping_minor: int | None = None
    shipping_currency: str | None = None
    import_charges_minor: int | None = None
    import_charges_currency: str | None = None

    @property
    def snipe_status(self) -> SnipeStatus:
        return self.status

    @property
    def group_id(self) -> int | None:
        return self.group.id if self.group is not None else None

    @property
    def group_name(self) -> str | None:
        return self.group.name if self.group is not None else None

    @property
    def fire_at(self) -> datetime:
        # An automatic lead is chosen at the hand-over; the least it can be is the honest estimate here.
        return self.end_time - timedelta(seconds=self.lead_seconds or MIN_LEAD_SECONDS)

    @property
    def sort_key(self) -> tuple[datetime, int]:
        return (self.end_time, self.id)

    @property
    def shipping(self) -> Money | None:
        return _charge(self.shipping_minor, self.shipping_currency)

    @property
    def import_charges(self) -> Money | None:
        return _charge(self.import_charges_minor, self.import_charges_currency)

    def landed(self) -> LandedCost | None:
        """The maximum plus the charges; None for a currency the domain does not know."""
        try:
            return landed_cost(Money(self.max_bid_minor, self.currency), self.shipping, self.import_charges)
        except MoneyError:
            return None

    def bid_amount(self) -> BidAmount | LandedError | None:
        """What the fire sends for this maximum (less the charges when it includes them), or why it cannot."""
        try:
            return bid_for_maximum(Money(self.max_bid_minor, self.currency), includes_shipping=self.includes_shipping,
                                   shipping=self.shipping, import_charges=self.import_charges)
        except LandedError as exc:
            return exc
        except MoneyError:
            return None

    def timing_facts(self, chosen_lead: float | None = None) -> TimingFacts:
        """What :func:`~sniper_app.domain.timing.explain_snipe` reads; with an automatic lead, the one the
        engine last chose (``chosen_lead``), else the least it can choose."""
        lead = self.lead_seconds
        if lead == AUTO_LEAD:
            lead = chosen_lead if chosen_lead is not None else MIN_LEAD_SECONDS
        return TimingFacts(
            status=self.status,
            end_time=self.end_time,
            lead_seconds=lead,
            currency=self.currency,
            max_bid_minor=self.max_bid_minor,
            status_reason=self.status_reason,
            planned_at=self.planned_at,
            sent_at=self.sent_at,
            reply_at=self.reply_at,
            clock_offset_ms=self.clock_offset_ms,
            latency_ms=self.latency_ms,
            attempts=self.attempts,
            ebay_message=self.ebay_message,
            final_price_minor=self.final_price_minor,
            outcome=self.outcome.sentence if self.outcome is not None else None,
        )


@dataclass(frozen=True, slots=True)
class WatchView:
    """One item of the cached eBay watch list (money in minor units of ``currency``)."""

    id: int
    legacy_item_id: str
    title: str
    currency: str | None
    current_price_minor: int | None
    bid_count: int
    end_time: datetime | None
    synced_at: datetime
    rest_item_id: str | None = None
    image_url: str | None = None
    item_url: str | None = None
    listing_type: str | None = None
    buy_it_now_minor: int | None = None
    converted_currency: str | None = None
    converted_price_minor: int | None = None


@dataclass(frozen=True)
class WatchSyncResult:
    """What a watch-list sync changed in the cached list."""

    added: int
    updated: int
    removed: int
    kept_ids: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One history event. ``details`` (plain JSON) is read only when asked for: a list never needs it."""

    id: int
    at: datetime
    action: str
    status: str | None
    snipe_id: int | None
    legacy_item_id: str | None
    title: str | None
    amount_minor: int | None
    final_price_minor: int | None
    currency: str | None
    message: str
    # eBay's conversion for the user when the event happened: display only, at that day's rate.
    converted_currency: str | None = None
    converted_amount_minor: int | None = None
    converted_final_price_minor: int | None = None
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True, order=True, slots=True)
class HistoryCursor:
    """Where the next history page starts: strictly older than (at, id)."""

    at: datetime
    id: int

    def encode(self) -> str:
        return f"{to_epoch_us(self.at)}:{self.id}"

    @classmethod
    def decode(cls, token: str) -> HistoryCursor:
        try:
            at_us, event_id = (int(part) for part in token.split(":"))
        except ValueError:
            raise InputError(f"“{token}” is not a history page cursor.") from None
        return cls(from_epoch_us(at_us), event_id)


@dataclass(frozen=True, slots=True)
class HistoryPage:
    entries: tuple[HistoryEntry, ...]
    next_cursor: HistoryCursor | None  # None: this was the last page


@dataclass(frozen=True)
class HistoryFilter:
    """What the user narrowed the history to; every field None/empty means "all"."""

    actions: tuple[HistoryAction, ...] | None = None
    text: str | None = None
    since: datetime | None = None  # inclusive, aware UTC
    until: datetime | None = None  # exclusive, aware UTC
    legacy_item_id: str | None = None
    snipe_id: int | None = None
    # Events of snipes whose status is now one of these (not the status each event recorded).
    snipe_statuses: tuple[SnipeStatus, ...] | None = None


@dataclass(frozen=True, slots=True)
class AccountView:
    """The local profile as the status bar and diagnostics show it (tokens never leave the keyring)."""

    username: str | None
    needs_relink: bool
    marketplace: str


@dataclass(frozen=True, slots=True)
class ExposureRow:
    """One currency of the exposure, in its minor units: won in the period, pending (the most the active
    snipes could cost), and the cap with the room left under it (None without a cap for this currency)."""

    currency: str
    won_minor: int
    pending_minor: int
    cap_minor: int | None
    room_minor: int | None
    shipping_minor: int = 0  # the shipping and import charges inside pending_minor


@dataclass(frozen=True, slots=True)
class ExposureView:
    """The exposure and the spending cap per currency, ordered by currency code."""

    period_days: int
    rows: tuple[ExposureRow, ...]
