"""The box's engine as the window reads it: a facade of the same shape as the local one, answered from caches.

The window reads synchronously on its own thread (a table model asks for a row while it paints), but every
read of the box crosses the network. :class:`RemoteMirror` bridges the two: it keeps the last answer of each
read the window makes, refreshes them from the box through :class:`~sniper_app.remote.service.RemoteService`,
and answers the window from them at once. Its commands are the box's, awaited, with the caches brought up to
date before they return (the window shows the saved snipe as soon as the add returns).

The box's events arrive over the WebSocket (:meth:`RemoteClient.events`). Each one first refreshes what it
changed, then is published on the mirror's own :class:`~sniper_app.engine.bus.EventBus`, so the window's
models, which re-read on events exactly as they do over a local engine, read fresh caches. While the stream
is lost the caches keep the last known state (:attr:`RemoteMirror.link` says so); when it is back, everything
is read afresh before the window is told.

A desktop that drives a box runs no engine: nothing here can fire a bid, and :meth:`pending_count` is 0
because quitting this window leaves every snipe to the box.

The exposure is the box's, under the box's own cap.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

from sniper_app.config import Settings
from sniper_app.domain.errors import NoSuchSnipe, SniperError
from sniper_app.domain.lead import LeadChoice
from sniper_app.domain.rules import AUTO_LEAD
from sniper_app.domain.stats import Record
from sniper_app.domain.status import ACTIVE_STATUSES, SnipeStatus
from sniper_app.domain.text import check_group_name, check_group_wins
from sniper_app.domain.views import (
    AccountView,
    ExposureView,
    GroupSummary,
    GroupView,
    HistoryCursor,
    HistoryEntry,
    HistoryFilter,
    HistoryPage,
    SnipeView,
    WatchSyncResult,
    WatchView,
)
from sniper_app.ebay import EbayUser
from sniper_app.engine.accounts import AccountStatus, UnlinkResult
from sniper_app.engine.bus import (
    AccountStateChanged,
    ClockMeasured,
    Event,
    EventBus,
    SnipeStatusChanged,
    WatchlistSynced,
)
from sniper_app.engine.reads import MAX_PAGE_SIZE
from sniper_app.engine.service import ClockState, ItemPreview, SniperService
from sniper_app.remote.client import Connected, Disconnected, RemoteError
from sniper_app.remote.service import RemoteService
from sniper_app.remote.wire import WireError, from_wire

log = logging.getLogger(__name__)
T = TypeVar("T")

PAGE: Final = 100  # history entries read from the box at a time (the window's page)
POLL_S: Final = 5.0  # what no event announces (pause, clock age, metrics) is read again this often
HISTORY_FILTERS_KEPT: Final = 4  # a filter the user left long ago is read afresh when chosen again
_ALL: Final = HistoryFilter()


class NotFromTheBox(SniperError):
    """A read or command the box does not serve to a desktop yet; the sentence says where to do it."""


@dataclass(frozen=True)
class LinkState:
    """Where the desktop's link to its box stands, for the window's badge and banner."""

    box: str
    connected: bool = False
    ever_connected: bool = False
    reason: str = ""
    retry_in: float | None = None  # seconds until the next attempt while the link is lost
    refused: bool = False  # the box refused this desktop (token or certificate): retrying cannot mend it

    @property
    def stale(self) -> bool:
        """What the window shows is the last known state, not the box's state now."""
        return not self.connected


@dataclass
class _History:
    """The newest entries of one filter, newest first, as far as the box has been read."""

    entries: list[HistoryEntry] = field(default_factory=list)
    more: HistoryCursor | None = None  # where the box's next older page starts; None: all read
    count: int | None = None
    loaded: bool = False
    reading_more: bool = False


def _key(entry: HistoryEntry) -> tuple[Any, int]:
    return (entry.at, entry.id)


def _event_types() -> dict[str, type[Event]]:
    found: dict[str, type[Event]] = {}
    pending: list[type[Event]] = [Event]
    while pending:
        cls = pending.pop()
        found.setdefault(cls.__name__, cls)
        pending.extend(cls.__subclasses__())
    return found


def event_of(message: dict[str, Any]) -> Event | None:
    """A message of the box's event stream as the bus event it was on the box (None: unknown or malformed)."""
    cls = _event_types().get(str(message.get("type")))
    if cls is None:
        return None
    fields = {key: value for key, value in message.items() if key != "type"}
    try:
        event: Event = from_wire(cls, fields)
    except WireError as exc:
        log.warning("an event from the box was not understood (%s): %s", cls.__name__, exc)
        return None
    return event


class RemoteMirror(SniperService):
    """The facade of the box behind ``remote``, read from caches kept fresh by its events.

    A :class:`SniperService` by shape (the window takes one), but it owns no store, engine or eBay client:
    :meth:`SniperService.__init__` is deliberately not called, and every public method is overridden here
    (a test checks that none is left to the local implementation).
    """

    def __init__(
        self, remote: RemoteService, settings: Settings, *, user_id: int, data_dir: Path, bus: EventBus | None = None,
    ) -> None:
        self.remote = remote
        self.settings = settings
        self.user_id = user_id
        self.data_dir = Path(data_dir)
        self.demo = False
        self.bus = bus if bus is not None else EventBus()
        self.link = LinkState(remote.box)
        self._snipes: dict[int, SnipeView] = {}
        self._leads: dict[int, LeadChoice | None] = {}
        self._groups: tuple[GroupSummary, ...] = ()
        self._watch: tuple[WatchView, ...] = ()
        self._account = AccountView(username=None, needs_relink=False, marketplace=settings.marketplace)
        self._history: OrderedDict[HistoryFilter, _History] = OrderedDict()
        self._paused = False
        self._clock = ClockState(synced=False, offset_s=0.0, latency_s=0.0, age_s=0.0, server=remote.box,
                                 last_error="not connected to the box yet", latency_measured=False)
        self._metrics: dict[str, Any] = {}
        self._exposure: ExposureView | None = None
        self._record: Record | None = None
        self._pending_groups: dict[str, asyncio.Task[GroupView]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._listeners: list[Callable[[str], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: asyncio.Task[None] | None = None

    # --- life ---------------------------------------------------------------------------------------

    def on_change(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call ``listener`` on the loop thread with what changed beyond a bus event: "link" (see
        :attr:`link`), "all" (everything was read afresh), "history", "history_more", "paused", "exposure"."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _tell(self, what: str) -> None:
        for listener in tuple(self._listeners):
            try:
                listener(what)
            except Exception:
                log.exception("a listener of the box's mirror failed on %s", what)

    def _set_link(self, link: LinkState) -> None:
        self.link = link
        self._tell("link")

    def start(self) -> None:
        """Follow the box from now on (on the running loop): events, reconnects and the slow poll."""
        self._loop = asyncio.get_running_loop()
        if self._runner is None:
            self._runner = self._loop.create_task(self._follow(), name="remote-mirror")

    async def stop(self) -> None:
        tasks = [t for t in (self._runner, *self._tasks, *self._pending_groups.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._runner = None
        await self.remote.aclose()

    def _spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _follow(self) -> None:
        poller: asyncio.Task[None] | None = None
        try:
            # Closed here, not left to the collector: a cancelled follower must not leave the WebSocket open.
            async with contextlib.aclosing(self.remote.client.events(max_delay=30.0)) as events:
                async for item in events:
                    if isinstance(item, Connected):
                        await self._connected()
                        if poller is None:
                            poller = self._spawn(self._poll())
                    elif isinstance(item, Disconnected):
                        self._set_link(LinkState(self.remote.box, connected=False, reason=item.reason,
                                                 ever_connected=self.link.ever_connected, retry_in=item.retry_in))
                    else:
                        try:
                            await self._on_message(item)
                        except Exception:  # one event handled badly must not stop the window following the box
                            log.exception("an event from the box could not be followed")
        except RemoteError as exc:  # a refused token or a changed certificate: retrying cannot mend either
            log.warning("the box refused this desktop: %s", exc.message)
            self._set_link(LinkState(self.remote.box, connected=False, ever_connected=self.link.ever_connected,
                                     reason=exc.message, refused=True))
        finally:
            if poller is not None:
                poller.cancel()

    async def _connected(self) -> None:
        for attempt in range(3):
            try:
                await self.refresh_all()
                break
            except SniperError as exc:  # lost again at once, the stream notices and says so; or a hiccup
                log.info("reading the box afresh failed: %s", exc)
                if attempt == 2:
                    return
                await asyncio.sleep(1.0)
        log.info("following the box at %s (its state read afresh)", self.remote.box)
        self._set_link(LinkState(self.remote.box, connected=True, ever_connected=True))
        self._tell("all")

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL_S)
            if not self.link.connected:
                continue
            try:
                await asyncio.gather(self._read_status(), self._read_clock(), self._read_metrics())
            except SniperError as exc:
                log.debug("polling the box failed: %s", exc)

    # --- reading the box ----------------------------------------------------------------------------

    async def refresh_all(self) -> None:
        """Read everything the window shows from the box (after a (re)connect)."""
        snipes, watch, groups, account = await asyncio.gather(
            self.remote.snipes(), self.remote.watch_items(), self.remote.group_summaries(), self.remote.account())
        await asyncio.gather(self._read_status(), self._read_clock(), self._read_metrics(), self._read_exposure(),
                             self._read_record())
        self._snipes = {s.id: s for s in snipes}
        self._watch, self._groups, self._account = watch, groups, account
        autos = [s.id for s in snipes if s.lead_seconds == AUTO_LEAD]
        leads = await asyncio.gather(*(self.remote.lead_choice(i) for i in autos))
        self._leads = dict(zip(autos, leads, strict=True))
        filters = list(self._history) or [_ALL]
        self._history.clear()
        await asyncio.gather(*(self._read_history_head(f, fresh=True) for f in filters))

    async def _read_status(self) -> None:
        status = await self.remote.status()
        paused = status.get("state") == "paused"
        if paused != self._paused:
            self._paused = paused
            self._tell("paused")

    async def _read_clock(self) -> None:
        self._clock = await self.remote.clock_state()

    async def _read_metrics(self) -> None:
        self._metrics = await self.remote.metrics_snapshot()

    async def _read_exposure(self) -> None:
        self._exposure = await self.remote.exposure()

    async def _read_record(self) -> None:
        self._record = await self.remote.record()

    async def _read_snipe(self, snipe_id: int) -> None:
        fresh = await self.remote.find_snipe(snipe_id)
        if fresh is None:
            self._snipes.pop(snipe_id, None)
            self._leads.pop(snipe_id, None)
            return
        self._put(fresh)
        if fresh.lead_seconds == AUTO_LEAD:
            self._leads[snipe_id] = await self.remote.lead_choice(snipe_id)

    async def _read_snipes(self) -> None:
        self._snipes = {s.id: s for s in await self.remote.snipes()}

    async def _read_groups(self) -> None:
        self._groups = await self.remote.group_summaries()

    async def _read_watch(self) -> None:
        self._watch = await self.remote.watch_items()

    async def _read_account(self) -> None:
        self._account = await self.remote.account()

    def _put(self, snipe: SnipeView) -> None:
        self._snipes[snipe.id] = snipe

    async def _read_history_head(self, history_filter: HistoryFilter, *, fresh: bool = False) -> None:
        """The newest page of ``history_filter`` merged in front of what is cached, and its count."""
        page, count = await asyncio.gather(
            self.remote.history_page(history_filter, limit=PAGE), self.remote.count_history(history_filter))
        cache = None if fresh else self._history.get(history_filter)
        if cache is None or not cache.loaded or not cache.entries:
            cache = _History(list(page.entries), page.next_cursor, count, loaded=True)
        else:
            head = _key(cache.entries[0])
            newer = [e for e in page.entries if _key(e) > head]
            if len(newer) == len(page.entries) and page.next_cursor is not None:
                cache = _History(list(page.entries), page.next_cursor, count, loaded=True)  # a gap: start over
            else:
                cache.entries[0:0] = newer
                cache.count = count
        self._history[history_filter] = cache
        self._history.move_to_end(history_filter)
        while len(self._history) > HISTORY_FILTERS_KEPT:
            self._history.popitem(last=False)

    async def _read_history_more(self, history_filter: HistoryFilter) -> None:
        cache = self._history.get(history_filter)
        if cache is None or cache.more is None or cache.reading_more:
            return
        cache.reading_more = True  # a view scrolling to the end asks many times; the box is asked once
        try:
            page = await self.remote.history_page(history_filter, cursor=cache.more, limit=MAX_PAGE_SIZE)
        finally:
            cache.reading_more = False
        tail = _key(cache.entries[-1]) if cache.entries else None
        cache.entries.extend(e for e in page.entries if tail is None or _key(e) < tail)
        cache.more = page.next_cursor
        self._tell("history_more")

    async def _on_message(self, message: dict[str, Any]) -> None:
        event = event_of(message)
        if event is None:
            return
        reads: list[Coroutine[Any, Any, None]] = [self._read_history_head(f) for f in list(self._history)]
        snipe_id = getattr(event, "snipe_id", None)
        if isinstance(snipe_id, int):
            reads.append(self._read_snipe(snipe_id))
        if isinstance(event, SnipeStatusChanged):
            reads += [self._read_groups(), self._read_exposure()]
            if event.new.is_final:
                reads.append(self._read_record())
        if isinstance(event, WatchlistSynced):
            reads += [self._read_watch(), self._read_snipes()]
        if isinstance(event, AccountStateChanged):
            reads.append(self._read_account())
        if isinstance(event, ClockMeasured):
            reads.append(self._read_clock())
        try:
            await asyncio.gather(*reads)
        except SniperError as exc:  # the link broke meanwhile: the event still tells what happened
            log.info("reading the box after %s failed: %s", type(event).__name__, exc)
        self.bus.publish(event)

    def _call_from_thread(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the mirror's loop and wait for it, from a worker thread (never the loop's own)."""
        if self._loop is None:
            coro.close()
            raise NotFromTheBox("The box has not been reached yet; try again in a moment.")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=self.remote.client.timeout + 5)

    # --- reads: snipes --------------------------------------------------------------------------------

    def snipes(self, status: SnipeStatus | Iterable[SnipeStatus] | None = None) -> tuple[SnipeView, ...]:
        if status is None:
            chosen = list(self._snipes.values())
        else:
            wanted = {status} if isinstance(status, SnipeStatus) else set(status)
            chosen = [s for s in self._snipes.values() if s.status in wanted]
        return tuple(sorted(chosen, key=lambda s: s.sort_key))

    def active_snipes(self) -> tuple[SnipeView, ...]:
        return self.snipes(ACTIVE_STATUSES)

    def snipe(self, snipe_id: int) -> SnipeView:
        found = self._snipes.get(snipe_id)
        if found is None:
            raise NoSuchSnipe(f"There is no snipe #{snipe_id}.")
        return found

    def find_snipe(self, snipe_id: int) -> SnipeView | None:
        return self._snipes.get(snipe_id)

    def get_snipe(self, snipe_id: int) -> SnipeView:
        return self.snipe(snipe_id)

    def lead_choice(self, snipe_id: int) -> LeadChoice | None:
        return self._leads.get(snipe_id)

    def groups(self) -> tuple[GroupView, ...]:
        return tuple(summary.group for summary in self._groups)

    def group_summaries(self) -> tuple[GroupSummary, ...]:
        return self._groups

    def list_groups(self) -> list[GroupSummary]:
        return list(self._groups)

    def exposure(self, spending_cap: str | None = None, period_days: int | None = None) -> ExposureView:
        """The box's exposure under its own cap and period (the window asks for no other)."""
        if spending_cap is not None or period_days is not None:
            raise NotFromTheBox("The window shows the box's exposure under the box's own cap; for another, run "
                                "'sniper-app exposure' (it acts on the box).")
        if self._exposure is None:
            raise NotFromTheBox("The box's exposure has not been read yet.")
        return self._exposure

    def known_exposure(self) -> ExposureView | None:
        """The box's exposure as last read, or None before the box has answered (the window shows nothing
        rather than a guess)."""
        return self._exposure

    def record(self) -> Record:
        if self._record is None:
            raise NotFromTheBox("The box's record has not been read yet; it shows once the box is reached.")
        return self._record

    # --- reads: watch list, account -----------------------------------------------------------------

    def watch_items(self) -> tuple[WatchView, ...]:
        return self._watch

    def account(self) -> AccountView:
        return self._account

    def linked_username(self) -> str | None:
        return self._account.username

    # --- reads: history -------------------------------------------------------------------------------

    def history_page(
        self,
        history_filter: HistoryFilter = _ALL,
        *,
        cursor: HistoryCursor | None = None,
        limit: int = PAGE,
        details: bool = False,
    ) -> HistoryPage:
        """From the entries read so far; asking past them reads more from the box (told as "history_more"),
        and a filter not read yet is read at once (told as "history")."""
        cache = self._history.get(history_filter)
        if cache is None:
            self._history[history_filter] = _History()
            self._background(self._read_history_head(history_filter), "history")
            return HistoryPage((), None)
        self._history.move_to_end(history_filter)
        start = 0
        if cursor is not None:
            # Newest first, so "older than the cursor" is false then true along the list: one bisection.
            bound = (cursor.at, cursor.id)
            start = bisect.bisect_left(cache.entries, True, key=lambda e: _key(e) < bound)
        entries = cache.entries[start:start + limit + 1]
        shown = tuple(entries[:limit])
        if len(entries) > limit:
            return HistoryPage(shown, HistoryCursor(shown[-1].at, shown[-1].id))
        if cache.more is None:
            return HistoryPage(shown, None)
        self._background(self._read_history_more(history_filter))
        last = shown[-1] if shown else None
        return HistoryPage(shown, HistoryCursor(last.at, last.id) if last is not None else cursor or cache.more)

    def _background(self, coro: Coroutine[Any, Any, None], then: str | None = None) -> None:
        async def run() -> None:
            try:
                await coro
            except SniperError as exc:
                log.info("reading the box failed: %s", exc)
                return
            if then is not None:
                self._tell(then)

        if self._loop is None:
            coro.close()
            return
        self._spawn(run())

    def count_history(self, history_filter: HistoryFilter = _ALL) -> int:
        cache = self._history.get(history_filter)
        if cache is None or cache.count is None:
            return len(cache.entries) if cache is not None else 0
        return cache.count

    def history_counter(self, history_filter: HistoryFilter = _ALL) -> Callable[[], int]:
        cache = self._history.get(history_filter)
        if cache is not None and cache.count is not None:
            known = cache.count  # read with the filter's newest page, after every event
            return lambda: known
        # Run on a worker thread: it may wait for the box there, never on the window's thread.
        return lambda: self._call_from_thread(self.remote.count_history(history_filter))

    def iter_history(self, history_filter: HistoryFilter = _ALL) -> Iterator[HistoryEntry]:
        """Every matching event from the box, page by page (on a worker thread: each page is awaited on the
        loop)."""
        cursor: HistoryCursor | None = None
        while True:
            page = self._call_from_thread(self.remote.history_page(history_filter, cursor=cursor, limit=MAX_PAGE_SIZE))
            yield from page.entries
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def release_thread(self) -> None:
        """Nothing to release: a worker reads the box through the loop, not a connection of its own."""

    # --- settings -------------------------------------------------------------------------------------

    def apply_settings(self, new: Settings) -> list[str]:
        """This desktop's settings (notices, look) are its own; the box keeps its own engine settings."""
        self.settings = new
        return []

    @property
    def box(self) -> str:
        return self.remote.box

    @property
    def engine_fields(self) -> tuple[str, ...]:
        """The settings that steer the box's engine: the box's, read and changed there."""
        from sniper_app.remote.box import ENGINE_SETTINGS  # the server's module: only once the dialog asks

        return tuple(ENGINE_SETTINGS)

    async def engine_settings(self) -> dict[str, Any]:
        return await self.remote.engine_settings()

    async def change_engine_setting(self, field: str, value: str | int | float | bool | None) -> dict[str, Any]:
        done = await self.remote.change_engine_setting(field, value)
        if field in ("spending_cap", "spending_period_days"):
            # The exposure line is shown under the cap; the box's engine takes the saved cap within seconds and
            # no event says when, so the exposure is read under the saved values at once.
            with contextlib.suppress(SniperError, KeyError, TypeError, ValueError):
                saved = await self.remote.engine_settings()
                self._exposure = await self.remote.exposure(
                    str(saved["spending_cap"]), int(saved["spending_period_days"]))
                self._tell("exposure")
        return done

    # --- commands -------------------------------------------------------------------------------------

    async def preview_item(self, text: str) -> ItemPreview:
        return await self.remote.preview_item(text)

    async def _group_made(self, group: str | None) -> None:
        made = self._pending_groups.get(group) if group is not None else None
        if made is not None:
            await made  # a new group's name reaches the box before the snipe that names it

    async def add_snipe(
        self, item: str, max_amount: str, *, lead: float | Literal["auto"] | None = None, group: str | None = None,
        confirmed: bool = True, includes_shipping: bool = False,
    ) -> tuple[SnipeView, list[str]]:
        await self._group_made(group)
        snipe, warnings = await self.remote.add_snipe(
            item, max_amount, lead=lead, group=group, confirmed=confirmed, includes_shipping=includes_shipping)
        self._put(snipe)
        return snipe, warnings

    async def edit_snipe(
        self, snipe_id: int, *, max_amount: str | None = None, lead: float | Literal["auto"] | None = None,
        confirmed: bool = True, includes_shipping: bool | None = None,
    ) -> tuple[SnipeView, list[str]]:
        snipe, warnings = await self.remote.edit_snipe(
            snipe_id, max_amount=max_amount, lead=lead, confirmed=confirmed, includes_shipping=includes_shipping)
        self._put(snipe)
        with contextlib.suppress(SniperError):  # a new maximum changes the exposure, and no status event says so
            await self._read_exposure()
        return snipe, warnings

    async def cancel_snipe(self, snipe_id: int) -> SnipeView:
        snipe = await self.remote.cancel_snipe(snipe_id)
        self._put(snipe)
        return snipe

    def add_group(self, name: str, target_wins: int = 1) -> GroupView:
        """Made on the box in the background (the dialog asks synchronously); a snipe added to it waits for
        it, and a refusal reaches that snipe's add."""
        clean, wins = check_group_name(name), check_group_wins(target_wins)
        if any(summary.group.name == clean for summary in self._groups):
            raise NotFromTheBox(f"A group named “{clean}” exists already.")

        async def make() -> GroupView:
            try:
                return await self.remote.add_group(clean, wins)
            finally:
                self._pending_groups.pop(clean, None)
                with contextlib.suppress(SniperError):
                    await self._read_groups()

        self._pending_groups[clean] = self._spawn(make())
        return GroupView(id=0, name=clean, target_wins=wins)

    async def sync_watchlist(self) -> WatchSyncResult:
        result = await self.remote.sync_watchlist()
        await asyncio.gather(self._read_watch(), self._read_snipes())
        return result

    def start_link(self) -> str:
        raise NotFromTheBox(
            "This computer drives a Sniper box: link the box's eBay account from the window's Link dialog or with "
            "'sniper-app account link' (both act on the box).")

    async def consent_page(self) -> str:
        """eBay's consent page for linking the box's account; the box keeps the attempt and, once linked,
        the tokens (only this address and the pasted one cross the wire)."""
        return await self.remote.start_link()

    async def complete_link(self, pasted_url: str) -> EbayUser:
        user = await self.remote.complete_link(pasted_url)
        await self._read_account()
        return user

    async def account_status(self) -> AccountStatus:
        return await self.remote.account_status()

    async def unlink(self) -> UnlinkResult:
        result = await self.remote.unlink()
        await self._read_account()
        return result

    @property
    def paused(self) -> bool:
        return self._paused

    def set_paused(self, paused: bool) -> None:
        """Shown at once, sent to the box in the background; a refusal puts the shown state back."""
        before, self._paused = self._paused, paused

        async def send() -> None:
            try:
                await self.remote.set_paused(paused)
            except SniperError as exc:
                log.warning("the box did not take the pause: %s", exc)
                self._paused = before
                self._tell("paused")

        if self._loop is not None:
            self._spawn(send())

    def pending_count(self) -> int:
        """None: quitting this window leaves every snipe to the box, which bids whether it runs or not."""
        return 0

    def metrics_snapshot(self) -> dict[str, Any]:
        return self._metrics

    def clock_state(self) -> ClockState:
        return self._clock

    def keep_awake_failing(self) -> bool:
        """The box stays awake, not this computer: nothing here needs to."""
        return False

    def ebay_address(self) -> str:
        """eBay is the box's to reach: this desktop never talks to it."""
        return f"reached by the box at {self.remote.box}"

    async def measure_clock(self) -> ClockState:
        self._clock = await self.remote.measure_clock()
        return self._clock
