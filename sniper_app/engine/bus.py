"""A small synchronous event bus: the engine publishes, the window, the tray and email subscribe.

Handlers run on the engine's loop thread, in subscription order, and must not block; a failing handler is
logged and never stops the others or the engine (a broken notifier must not cost a bid).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sniper_app.domain.status import SnipeStatus

if TYPE_CHECKING:
    from sniper_app.config import Settings

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    at: datetime = field(default_factory=_now)


@dataclass(frozen=True, slots=True, kw_only=True)
class SnipeStatusChanged(Event):
    snipe_id: int
    old: SnipeStatus | None
    new: SnipeStatus
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuctionEndingSoon(Event):
    snipe_id: int
    ends_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class WatchlistSynced(Event):
    count: int
    added: int
    removed: int
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockMeasured(Event):
    offset_s: float
    rtt_s: float
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountStateChanged(Event):
    username: str | None
    state: str  # "linked" | "needs_relink" | "unlinked"
    message: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingsApplied(Event):
    """The running engine took new settings: ``settings`` is what is in force now (the fields that wait
    for a restart keep their old values there), ``applied`` what changed at once, ``waiting`` what did not."""

    settings: Settings
    applied: tuple[str, ...]
    waiting: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SnipeWarning(Event):
    """Something the user should know about a snipe that is not a status change (e.g. group timing)."""

    snipe_id: int | None
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SnipeAtRisk(SnipeWarning):
    """A health check before the fire found what may cost this bid; ``advice`` says what the user can do."""

    problems: tuple[str, ...]
    advice: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class NotificationFailed(Event):
    """A notice could not be delivered (email given up after its retries); ``reason`` is one sentence."""

    kind: str  # a NoticeKind value, e.g. "BID_WON"
    channel: str  # "email"
    snipe_id: int | None
    title: str
    reason: str


E = TypeVar("E", bound=Event)
Handler = Callable[[Any], None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: list[tuple[type[Event], Handler]] = []

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> Callable[[], None]:
        """Call ``handler`` for every published event of ``event_type`` (or a subclass); returns an unsubscriber."""
        entry: tuple[type[Event], Handler] = (event_type, handler)
        self._handlers.append(entry)

        def unsubscribe() -> None:
            if entry in self._handlers:
                self._handlers.remove(entry)

        return unsubscribe

    def publish(self, event: Event) -> None:
        for event_type, handler in list(self._handlers):
            if isinstance(event, event_type):
                try:
                    handler(event)
                except Exception:
                    log.exception("Event handler %r failed on %s", handler, type(event).__name__)
