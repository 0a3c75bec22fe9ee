"""The window's mirror of a box's facade, without a box: its shape and what it answers before any read."""

from __future__ import annotations

import inspect
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sniper_app.config import Settings
from sniper_app.domain.errors import NoSuchSnipe
from sniper_app.domain.status import SnipeStatus
from sniper_app.domain.views import HistoryCursor, HistoryEntry, HistoryFilter
from sniper_app.engine.bus import AccountStateChanged, SnipeStatusChanged, WatchlistSynced
from sniper_app.engine.service import SniperService
from sniper_app.remote.box import event_data
from sniper_app.remote.client import RemoteClient
from sniper_app.remote.invite import parse_address
from sniper_app.remote.mirror import NotFromTheBox, RemoteMirror, _History, event_of
from sniper_app.remote.service import RemoteService


def _mirror(tmp_path: Path) -> RemoteMirror:
    client = RemoteClient(parse_address("127.0.0.1:9"), "00" * 32, "token")
    return RemoteMirror(RemoteService(client), Settings(data_dir=tmp_path), user_id=1, data_dir=tmp_path)


def test_every_public_member_of_the_local_facade_is_answered_by_the_mirror() -> None:
    # The mirror skips the local facade's constructor (it has no store or engine): a member it did not
    # override would reach for one and fail in the window.
    public = {name for name, _ in inspect.getmembers(SniperService) if not name.startswith("_")}
    missing = sorted(name for name in public if name not in vars(RemoteMirror))
    assert missing == []


@pytest.mark.parametrize("event", [
    SnipeStatusChanged(snipe_id=7, old=SnipeStatus.SCHEDULED, new=SnipeStatus.WON, reason="Won for $12.00.",
                       at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
    WatchlistSynced(count=3, added=1, removed=0, at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
    AccountStateChanged(username="demo", state="needs_relink", message="Link again.",
                        at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
])
def test_a_box_event_arrives_as_the_event_it_was_on_the_box(event: object) -> None:
    message = event_data(event)  # type: ignore[arg-type]
    assert message is not None
    assert event_of(message) == event


def test_unknown_or_malformed_messages_are_dropped() -> None:
    assert event_of({"type": "NoSuchEvent"}) is None
    assert event_of({"type": "SnipeStatusChanged", "snipe_id": "seven"}) is None
    assert event_of({}) is None


def test_before_the_box_answers_the_mirror_shows_nothing_and_never_holds_snipes_back_from_quitting(
    tmp_path: Path,
) -> None:
    mirror = _mirror(tmp_path)
    assert mirror.snipes() == ()
    assert mirror.watch_items() == ()
    assert mirror.account().username is None
    assert mirror.find_snipe(1) is None
    with pytest.raises(NoSuchSnipe, match="There is no snipe #1"):
        mirror.get_snipe(1)
    assert mirror.pending_count() == 0  # quitting the window leaves the snipes to the box
    assert not mirror.keep_awake_failing()
    assert not mirror.link.connected
    assert mirror.link.stale
    assert "127.0.0.1:9" in mirror.ebay_address()
    with pytest.raises(NotFromTheBox, match="exposure has not been read yet"):
        mirror.exposure()
    assert mirror.known_exposure() is None  # what the window's exposure line reads: not known yet, no error
    with pytest.raises(NotFromTheBox, match="box's own cap"):
        mirror.exposure("USD 100", 30)
    with pytest.raises(NotFromTheBox, match="record has not been read yet"):
        mirror.record()
    with pytest.raises(NotFromTheBox, match="account link"):
        mirror.start_link()
    # The box keeps its own engine settings: nothing saved here waits for a restart.
    assert mirror.apply_settings(Settings(data_dir=tmp_path, default_lead_seconds=4.0)) == []


def _entry(event_id: int, at: datetime) -> HistoryEntry:
    return HistoryEntry(id=event_id, at=at, action="ADDED", status=None, snipe_id=None, legacy_item_id=None,
                        title=None, amount_minor=None, final_price_minor=None, currency=None, message="")


@given(
    times=st.lists(st.integers(min_value=0, max_value=50), min_size=0, max_size=120),
    limit=st.integers(min_value=1, max_value=40),
)
@settings(max_examples=60, deadline=None)
def test_pages_of_what_was_read_hold_every_event_once_newest_first(times: list[int], limit: int) -> None:
    # Events sharing a time are told apart by id, as the box's own keyset pages do.
    base = datetime(2026, 12, 1, tzinfo=UTC)
    entries = sorted((_entry(n + 1, base + timedelta(seconds=t)) for n, t in enumerate(times)),
                     key=lambda e: (e.at, e.id), reverse=True)
    with tempfile.TemporaryDirectory() as folder:
        mirror = _mirror(Path(folder))
    mirror._history[HistoryFilter()] = _History(list(entries), None, len(entries), loaded=True)
    seen: list[HistoryEntry] = []
    cursor: HistoryCursor | None = None
    for _ in range(len(entries) + 2):  # a cursor that did not move on would page forever
        page = mirror.history_page(cursor=cursor, limit=limit)
        assert len(page.entries) <= limit
        seen.extend(page.entries)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    else:
        raise AssertionError("the pages never ended")
    assert seen == entries
    assert mirror.count_history() == len(entries)
    if entries:  # the window re-reads a page from just above its first row
        first = entries[0]
        again = mirror.history_page(cursor=HistoryCursor(first.at, first.id + 1), limit=limit)
        assert again.entries == tuple(entries[:limit])
