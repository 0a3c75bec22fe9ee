"""The reading half of the facade: what the window and the command line may know of one profile's data.

Every read returns the plain views of :mod:`sniper_app.domain.views` (see there why they are synchronous
today). :class:`~sniper_app.engine.service.SniperService` is a :class:`Reads`; a front end that only reads
(the command line, a table model under test) can use one on its own over an open store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Final

from sniper_app.domain.errors import NoSuchSnipe
from sniper_app.domain.lead import LeadChoice
from sniper_app.domain.spending import cap_overview, parse_spending_cap, validate_period_days
from sniper_app.domain.stats import Record
from sniper_app.domain.status import SnipeStatus
from sniper_app.domain.views import (
    AccountView,
    ExposureRow,
    ExposureView,
    GroupSummary,
    GroupView,
    HistoryCursor,
    HistoryEntry,
    HistoryFilter,
    HistoryPage,
    SnipeView,
    WatchView,
)
from sniper_app.engine.autolead import latest_lead_choice
from sniper_app.store import NotFound, Store, views
from sniper_app.store.errors import read_failure as read_failure
from sniper_app.store.history import DEFAULT_PAGE_SIZE
from sniper_app.store.history import MAX_PAGE_SIZE as _MAX_PAGE_SIZE
from sniper_app.store.spending import spending_facts

MAX_PAGE_SIZE: Final = _MAX_PAGE_SIZE  # the most history entries one page may hold
_ALL: Final = HistoryFilter()


class Reads:
    """Snipes, groups, watch list, history and account of profile ``user_id``, as plain views."""

    def __init__(self, store: Store, user_id: int) -> None:
        self.store = store
        self.user_id = user_id

    # --- snipes -------------------------------------------------------------------------------------

    def snipes(self, status: SnipeStatus | Iterable[SnipeStatus] | None = None) -> tuple[SnipeView, ...]:
        """The profile's snipes by auction end, soonest first (only those in ``status`` when given)."""
        return views.snipes(self.store, self.user_id, status)

    def active_snipes(self) -> tuple[SnipeView, ...]:
        """Snipes the engine still acts on (PENDING to PLACED)."""
        return views.active_snipes(self.store, self.user_id)

    def snipe(self, snipe_id: int) -> SnipeView:
        """Snipe ``snipe_id``; :class:`NoSuchSnipe` if there is none, or it is another profile's."""
        try:
            return views.user_snipe(self.store, self.user_id, snipe_id)
        except NotFound as exc:
            raise NoSuchSnipe(str(exc)) from None

    def find_snipe(self, snipe_id: int) -> SnipeView | None:
        """Snipe ``snipe_id`` of this profile, or None."""
        try:
            return self.snipe(snipe_id)
        except NoSuchSnipe:
            return None

    def lead_choice(self, snipe_id: int) -> LeadChoice | None:
        """The lead the engine last chose for a snipe with an automatic lead (None before it has)."""
        return latest_lead_choice(self.store, snipe_id)

    def groups(self) -> tuple[GroupView, ...]:
        return views.groups(self.store, self.user_id)

    def group_summaries(self) -> tuple[GroupSummary, ...]:
        return views.group_summaries(self.store, self.user_id)

    def exposure(self, spending_cap: str | None = None, period_days: int | None = None) -> ExposureView:
        """Per currency: the exposure (the most the active snipes could cost), the wins of the period up to
        now, and the cap with the room left under it (``spending_cap`` as the setting is written)."""
        caps = parse_spending_cap(spending_cap or "")
        days = validate_period_days(period_days)
        now = datetime.now(UTC)
        facts = spending_facts(self.store, self.user_id, now=now, period_days=days)
        rows = cap_overview(caps, days, wins=facts.wins, snipes=facts.snipes, now=now)
        return ExposureView(period_days=days, rows=tuple(
            ExposureRow(r.currency, r.won.minor, r.pending.minor, None if r.cap is None else r.cap.minor,
                        None if r.room is None else r.room.minor,
                        0 if r.pending_charges is None else r.pending_charges.minor)
            for r in rows))

    # --- watch list ---------------------------------------------------------------------------------

    def watch_items(self) -> tuple[WatchView, ...]:
        """The cached watch list, soonest-ending first (items without an end last)."""
        return views.watch_items(self.store, self.user_id)

    # --- history ------------------------------------------------------------------------------------

    def history_page(
        self,
        history_filter: HistoryFilter = _ALL,
        *,
        cursor: HistoryCursor | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        details: bool = False,
    ) -> HistoryPage:
        """One page of matching history, newest first, strictly older than ``cursor``: one indexed query of
        ``limit`` rows (1..MAX_PAGE_SIZE), however long the history. ``details`` adds each event's details."""
        return views.history_page(self.store, history_filter, cursor=cursor, limit=limit, details=details)

    def iter_history(self, history_filter: HistoryFilter = _ALL) -> Iterator[HistoryEntry]:
        """Every matching event, newest first, one keyset page at a time (memory stays flat)."""
        cursor: HistoryCursor | None = None
        while True:
            page = self.history_page(history_filter, cursor=cursor, limit=MAX_PAGE_SIZE)
            yield from page.entries
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def count_history(self, history_filter: HistoryFilter = _ALL) -> int:
        """How many events match (reads the matching index range; fine for a status line, not a loop)."""
        return views.count_history(self.store, history_filter)

    def history_counter(self, history_filter: HistoryFilter = _ALL) -> Callable[[], int]:
        """:meth:`count_history` prepared here, to be run on a worker thread on a private read-only
        connection: counting a million events takes longer than a frame. Local only; a remote engine
        answers :meth:`count_history` asynchronously instead."""
        return views.history_counter(self.store, history_filter)

    def release_thread(self) -> None:
        """Close the calling worker thread's connection (a read from that thread opens another)."""
        self.store.close_thread_connection()

    # --- record -------------------------------------------------------------------------------------

    def record(self) -> Record:
        """The user's record: won and lost by month, saved against maxima, win rate by lead, outcomes."""
        return views.user_record(self.store, self.user_id)

    # --- account ------------------------------------------------------------------------------------

    def account(self) -> AccountView:
        return views.account(self.store, self.user_id)
