"""The store against real SQLite files in temp dirs."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import peewee
import pytest

from sniper_app.domain.errors import IllegalTransition, InputError, RuleViolation
from sniper_app.domain.history import HistoryAction
from sniper_app.domain.status import SnipeStatus
from sniper_app.store import (
    HistoryCursor,
    HistoryEvent,
    NotFound,
    SchemaTooNew,
    Snipe,
    Store,
    StoreError,
    WatchItemData,
)
from sniper_app.store import history as history_module
from sniper_app.store.migrations import LATEST_VERSION
from sniper_app.store.models import MODELS
from tests.support.store import FakeClock, create_database_at_version

S = SnipeStatus
A = HistoryAction


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    st = Store.open(tmp_path / "data", clock=clock)
    yield st
    st.close()


@pytest.fixture
def user_id(store: Store) -> int:
    return store.get_or_create_user().id


def _snipe(store: Store, user_id: int, item: str = "110000000001", **kw: object) -> Snipe:
    args: dict[str, object] = {
        "legacy_item_id": item,
        "currency": "USD",
        "max_bid_minor": 2500,
        "end_time": datetime(2030, 5, 2, 18, 30, tzinfo=UTC),
        "lead_seconds": 6.5,
        "title": f"Brass lamp {item}",
    }
    args.update(kw)
    return store.create_snipe(user_id, **args)  # type: ignore[arg-type]


def _events(store: Store) -> int:
    return store.count_history()


# ------------------------------------------------------------------ files, pragmas, lifecycle


def test_files_are_private_and_pragmas_hold_in_every_thread(tmp_path: Path, store: Store) -> None:
    data = tmp_path / "data"
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    store.get_or_create_user()  # forces the WAL and shared-memory files into being
    for name in ("sniper.db", "sniper.db-wal", "sniper.db-shm"):
        assert stat.S_IMODE(os.stat(data / name).st_mode) == 0o600, name

    def pragmas() -> tuple[object, ...]:
        db = store.database
        return (
            db.sql("PRAGMA journal_mode").fetchone()[0],
            db.sql("PRAGMA foreign_keys").fetchone()[0],
            db.sql("PRAGMA synchronous").fetchone()[0],
            db.sql("PRAGMA busy_timeout").fetchone()[0],
        )

    seen: list[tuple[object, ...]] = []
    worker = threading.Thread(target=lambda: seen.append(pragmas()))
    worker.start()
    worker.join()
    assert pragmas() == ("wal", 1, 1, 5000)
    assert seen == [("wal", 1, 1, 5000)]


def test_close_checkpoints_wal_and_reopen_keeps_data(tmp_path: Path, clock: FakeClock) -> None:
    st = Store.open(tmp_path / "data", clock=clock)
    uid = st.get_or_create_user().id
    _snipe(st, uid)
    st.close()
    wal = tmp_path / "data" / "sniper.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    with Store.open(tmp_path / "data", clock=clock) as again:
        assert [s.title for s in again.list_snipes()] == ["Brass lamp 110000000001"]
    # Reopening a current database makes no backup.
    assert not list((tmp_path / "data").glob("*.bak"))


def test_a_second_open_store_in_one_process_is_refused(tmp_path: Path, store: Store) -> None:
    with pytest.raises(StoreError, match="already open"):
        Store.open(tmp_path / "other")
    store.close()
    with Store.open(tmp_path / "other") as other:
        assert other.schema_version == LATEST_VERSION


def test_models_match_the_migrated_tables(store: Store) -> None:
    for model in MODELS:
        table = model._meta.table_name
        columns = {row[1] for row in store.database.sql(f'PRAGMA table_info("{table}")')}
        assert columns == {f.column_name for f in model._meta.sorted_fields}, table


def test_naive_datetimes_are_refused_and_nothing_written(store: Store, user_id: int) -> None:
    with pytest.raises(ValueError, match="naive"):
        _snipe(store, user_id, end_time=datetime(2030, 5, 2, 18, 30))  # noqa: DTZ001
    with pytest.raises(ValueError, match="naive"):
        store.add_event(A.NOTE, message="x", at=datetime(2030, 1, 1))  # noqa: DTZ001
    assert store.list_snipes() == []
    assert _events(store) == 0


# ------------------------------------------------------------------ users


def test_users(store: Store) -> None:
    user = store.get_or_create_user()
    assert store.get_or_create_user().id == user.id
    assert user.needs_relink is False
    assert user.active is True
    assert user.marketplace == "EBAY_US"
    assert user.created_at.tzinfo is UTC

    updated = store.update_user(user.id, marketplace="EBAY_GB")
    assert (updated.marketplace, store.get_user(user.id).marketplace) == ("EBAY_GB", "EBAY_GB")
    with pytest.raises(TypeError, match="email"):
        store.update_user(user.id, email="a@example.org")  # the profile keeps no email: Settings does
    with pytest.raises(TypeError, match="access_token"):
        store.update_user(user.id, access_token="secret")

    store.set_needs_relink(user.id, True, reason="Refresh token expired.")
    assert store.get_user(user.id).needs_relink is True
    linked = store.link_ebay_account(user.id, ebay_username="bidder42", ebay_user_id="U42")
    assert (linked.ebay_username, linked.ebay_user_id, linked.needs_relink) == ("bidder42", "U42", False)
    assert store.get_or_create_user(ebay_user_id="U42").id == user.id
    messages = [e.message for e in store.history_page(actions=A.ACCOUNT).rows]
    assert messages == ["eBay account bidder42 linked.", "Refresh token expired."]
    with pytest.raises(NotFound, match=r"^There is no local profile #999\.$"):
        store.get_user(999)


# ------------------------------------------------------------------ snipes


def test_create_snipe_writes_row_and_create_event(store: Store, user_id: int, clock: FakeClock) -> None:
    snipe = _snipe(store, user_id, current_price_minor=1200, bid_count=3)
    got = store.get_snipe(snipe.id)
    assert (got.status, got.max_bid_minor, got.currency, got.lead_seconds) == ("PENDING", 2500, "USD", 6.5)
    assert got.end_time == datetime(2030, 5, 2, 18, 30, tzinfo=UTC)
    assert got.end_time.tzinfo is UTC
    assert got.created_at == clock.now
    (event,) = store.history_page().rows
    assert (event.action, event.snipe_id, event.amount_minor, event.currency) == ("CREATE", snipe.id, 2500, "USD")
    assert event.legacy_item_id == "110000000001"
    assert event.title == "Brass lamp 110000000001"
    assert event.at == clock.now
    assert event.expires_at == clock.now + timedelta(days=365)


def test_create_snipe_validates_input(store: Store, user_id: int) -> None:
    positive = r"^The maximum bid must be a positive whole number of minor units\.$"
    for bad, sentence in (
        ({"max_bid_minor": 0}, positive),
        ({"max_bid_minor": 12.5}, positive),
        ({"currency": "usd"}, r"^“usd” is not an ISO currency code\.$"),
        ({"lead_seconds": -1}, r"^The lead time cannot be negative\.$"),
    ):
        with pytest.raises(InputError, match=sentence):
            _snipe(store, user_id, **bad)
    assert store.list_snipes() == []


def test_second_active_snipe_on_an_item_is_refused_until_cancelled(store: Store, user_id: int) -> None:
    first = _snipe(store, user_id)
    with pytest.raises(RuleViolation, match="already has an active snipe"):
        _snipe(store, user_id, max_bid_minor=9999)
    assert len(store.list_snipes()) == 1
    assert _events(store) == 1
    store.cancel(first.id)
    second = _snipe(store, user_id, max_bid_minor=9999)
    assert second.id != first.id
    assert store.find_active_snipe(user_id, "110000000001").id == second.id  # type: ignore[union-attr]


def test_database_itself_refuses_a_second_active_snipe(store: Store, user_id: int) -> None:
    _snipe(store, user_id)
    with pytest.raises(peewee.IntegrityError):
        store.database.sql(
            "INSERT INTO snipe (user_id, legacy_item_id, currency, max_bid_minor, lead_seconds, end_time, "
            "status, created_at, updated_at) VALUES (?, '110000000001', 'USD', 100, 5, 0, 'SCHEDULED', 0, 0)",
            (user_id,),
        )


def test_status_walk_records_history(store: Store, user_id: int) -> None:
    snipe = _snipe(store, user_id)
    assert store.set_status(snipe.id, S.SCHEDULED, job_id="snipe:1")
    assert store.set_status(snipe.id, S.PLACING, expected=S.SCHEDULED)
    assert store.set_status(snipe.id, S.PLACED, reason="eBay accepted the bid.", proxy_bid_id="PB1")
    assert store.set_status(snipe.id, S.WON, final_price_minor=2100, details={"bids": 7})
    got = store.get_snipe(snipe.id)
    assert (got.status, got.job_id, got.proxy_bid_id, got.final_price_minor) == ("WON", "snipe:1", "PB1", 2100)
    events = store.history_page(snipe_id=snipe.id).rows
    assert [e.action for e in events] == ["WON", "PLACE", "PLACE", "SCHEDULE", "CREATE"]
    assert events[0].final_price_minor == 2100
    assert events[0].details == {"bids": 7}
    assert events[0].status == "WON"
    assert events[1].message == "eBay accepted the bid."


def test_illegal_transition_writes_nothing(store: Store, user_id: int, clock: FakeClock) -> None:
    snipe = _snipe(store, user_id)
    clock.advance(seconds=5)
    with pytest.raises(IllegalTransition):
        store.set_status(snipe.id, S.WON, final_price_minor=1)
    got = store.get_snipe(snipe.id)
    assert (got.status, got.final_price_minor, got.updated_at) == ("PENDING", None, snipe.updated_at)
    assert _events(store) == 1
    with pytest.raises(TypeError, match="max_bid_minor"):
        store.set_status(snipe.id, S.SCHEDULED, max_bid_minor=1)
    assert store.get_snipe(snipe.id).status == "PENDING"


def test_compare_and_set_applies_only_from_the_expected_status(store: Store, user_id: int) -> None:
    snipe = _snipe(store, user_id)
    store.set_status(snipe.id, S.SCHEDULED)
    store.cancel(snipe.id)
    before = _events(store)
    assert store.set_status(snipe.id, S.PLACING, expected=S.SCHEDULED) is False
    assert store.get_snipe(snipe.id).status == "CANCELLED"
    assert _events(store) == before
    assert store.update_fields(snipe.id, expected={S.PENDING, S.SCHEDULED}, job_id="x") is False
    assert store.get_snipe(snipe.id).job_id is None


def test_cancel_racing_with_fire_never_both(store: Store, user_id: int) -> None:
    """A worker thread tries to fire while the loop thread cancels: exactly one of them wins."""
    outcomes: list[tuple[bool, bool]] = []
    for n in range(40):
        snipe = _snipe(store, user_id, item=f"2200{n}")
        store.set_status(snipe.id, S.SCHEDULED)
        barrier = threading.Barrier(2)
        fired: list[bool] = []

        def fire(snipe_id: int = snipe.id, barrier: threading.Barrier = barrier, fired: list[bool] = fired) -> None:
            barrier.wait()
            fired.append(store.set_status(snipe_id, S.PLACING, expected=S.SCHEDULED))
            store.close_thread_connection()

        worker = threading.Thread(target=fire)
        worker.start()
        barrier.wait()
        try:
            store.cancel(snipe.id)
            cancelled = True
        except IllegalTransition:
            cancelled = False
        worker.join()
        outcomes.append((fired[0], cancelled))
        final = store.get_snipe(snipe.id).status
        assert final == ("PLACING" if fired[0] else "CANCELLED")
    assert all(f != c for f, c in outcomes)


def test_cancel_explains_why_not(store: Store, user_id: int) -> None:
    placing = _snipe(store, user_id, item="1")
    store.set_status(placing.id, S.SCHEDULED)
    store.set_status(placing.id, S.PLACING)
    with pytest.raises(IllegalTransition, match="already been sent to eBay"):
        store.cancel(placing.id)
    won = _snipe(store, user_id, item="2")
    for status in (S.SCHEDULED, S.PLACING, S.PLACED, S.WON):
        store.set_status(won.id, status)
    with pytest.raises(IllegalTransition, match="already ended as won"):
        store.cancel(won.id)
    pending = _snipe(store, user_id, item="3")
    cancelled = store.cancel(pending.id)
    assert cancelled.status == "CANCELLED"
    assert cancelled.status_reason == "Cancelled by the user."
    assert store.history_page(snipe_id=pending.id).rows[0].action == "CANCEL"
    with pytest.raises(NotFound, match=r"^There is no snipe #12345\.$"):
        store.cancel(12345)


def test_update_snipe_records_old_and_new(store: Store, user_id: int) -> None:
    snipe = _snipe(store, user_id)
    group = store.create_group(user_id, "Lamps")
    edited = store.update_snipe(snipe.id, max_bid_minor=4000, lead_seconds=3, group_id=group.id)
    assert (edited.max_bid_minor, edited.lead_seconds, edited.group_id) == (4000, 3.0, group.id)
    event = store.history_page(actions=A.UPDATE).rows[0]
    assert event.details == {
        "changes": {"max_bid_minor": [2500, 4000], "lead_seconds": [6.5, 3.0], "group_id": [None, group.id]}
    }
    assert event.amount_minor == 4000
    count = _events(store)
    store.update_snipe(snipe.id, max_bid_minor=4000)
    assert _events(store) == count  # no change, no event
    store.set_status(snipe.id, S.SCHEDULED)
    store.set_status(snipe.id, S.PLACING)
    with pytest.raises(IllegalTransition, match="can no longer be edited"):
        store.update_snipe(snipe.id, max_bid_minor=5000)
    assert store.get_snipe(snipe.id).max_bid_minor == 4000


def test_record_timing_round_trips_to_the_microsecond(store: Store, user_id: int) -> None:
    snipe = _snipe(store, user_id)
    planned = datetime(2030, 5, 2, 18, 29, 53, 500_123, tzinfo=UTC)
    store.record_timing(snipe.id, planned_at=planned, clock_offset_ms=-12.25, latency_ms=81.5, attempts=1)
    store.record_timing(snipe.id, sent_at=planned + timedelta(microseconds=7), ebay_message="ok")
    got = store.get_snipe(snipe.id)
    assert got.planned_at == planned
    assert got.sent_at == planned + timedelta(microseconds=7)
    assert (got.clock_offset_ms, got.latency_ms, got.attempts, got.ebay_message) == (-12.25, 81.5, 1, "ok")
    assert got.reply_at is None


def test_listing_and_due_snipes(store: Store, user_id: int) -> None:
    base = datetime(2030, 5, 1, 13, 0, tzinfo=UTC)
    late = _snipe(store, user_id, item="L", end_time=base + timedelta(hours=5))
    soon = _snipe(store, user_id, item="S", end_time=base + timedelta(minutes=1), lead_seconds=10)
    done = _snipe(store, user_id, item="D", end_time=base)
    store.cancel(done.id)
    assert [s.id for s in store.list_snipes()] == [done.id, soon.id, late.id]
    assert [s.id for s in store.active_snipes()] == [soon.id, late.id]
    assert [s.id for s in store.list_snipes(status=S.CANCELLED)] == [done.id]
    assert [s.id for s in store.list_snipes(status={S.CANCELLED, S.PENDING}, user_id=user_id)] == [
        done.id,
        soon.id,
        late.id,
    ]
    fire_soon = base + timedelta(minutes=1) - timedelta(seconds=10)
    assert store.snipes_due(fire_soon - timedelta(microseconds=1)) == []
    assert [s.id for s in store.snipes_due(fire_soon)] == [soon.id]
    with pytest.raises(NotFound, match=r"^There is no snipe #999\.$"):
        store.get_snipe(999)


# ------------------------------------------------------------------ groups


def test_groups(store: Store, user_id: int) -> None:
    group = store.create_group(user_id, "Cameras", target_wins=2)
    with pytest.raises(RuleViolation, match="already exists"):
        store.create_group(user_id, "cameras")
    with pytest.raises(InputError, match=r"^A group must aim to win at least one item \(--wins 1 or more\)\.$"):
        store.create_group(user_id, "Zero", target_wins=0)
    other = store.create_group(user_id, "Amps")
    assert [g.name for g in store.list_groups(user_id)] == ["Amps", "Cameras"]
    assert store.find_group(user_id, "CAMERAS").id == group.id  # type: ignore[union-attr]
    assert store.get_group(group.id).target_wins == 2
    members = [_snipe(store, user_id, item=str(i), group_id=group.id) for i in range(3)]
    _snipe(store, user_id, item="x", group_id=other.id)
    assert [s.id for s in store.group_members(group.id)] == [s.id for s in members]
    assert store.group_won_count(group.id) == 0
    for status in (S.SCHEDULED, S.PLACING, S.PLACED, S.WON):
        store.set_status(members[0].id, status)
    assert store.group_won_count(group.id) == 1
    with pytest.raises(NotFound, match=r"^There is no snipe group #999\.$"):
        store.get_group(999)


# ------------------------------------------------------------------ history


def _fill_history(store: Store, clock: FakeClock, n: int = 230) -> list[HistoryEvent]:
    start = clock.now
    out = []
    for i in range(n):
        # Only a handful of distinct instants: paging must break ties by id.
        at = start + timedelta(seconds=i // 40)
        out.append(
            store.add_event(
                [A.SYNC, A.SCHEDULE, A.WON][i % 3],
                legacy_item_id=f"item{i % 5}",
                title=f"Leica lens {i % 7}" if i % 10 == 0 else "Tube radio",
                message=f"event number {i}" + (" 100%_off" if i == 17 else ""),
                at=at,
            )
        )
    return out


def _walk(store: Store, limit: int, **filters: object) -> list[int]:
    seen: list[int] = []
    cursor = None
    while True:
        page = store.history_page(cursor=cursor, limit=limit, **filters)  # type: ignore[arg-type]
        seen.extend(e.id for e in page.rows)
        assert len(page.rows) <= limit
        if page.next_cursor is None:
            return seen
        assert len(page.rows) == limit
        cursor = HistoryCursor.decode(page.next_cursor.encode())


def test_keyset_paging_has_no_duplicates_or_gaps(store: Store, clock: FakeClock) -> None:
    events = _fill_history(store, clock)
    expected = [e.id for e in sorted(events, key=lambda e: (e.at, e.id), reverse=True)]
    for limit in (1, 7, 40, 100, 230, 1000):
        assert _walk(store, limit) == expected
    first = store.history_page()
    assert len(first.rows) == 100
    assert first.next_cursor == HistoryCursor(first.rows[-1].at, first.rows[-1].id)
    assert all(e.at.tzinfo is UTC and e.expires_at.tzinfo is UTC for e in first.rows)
    with pytest.raises(InputError, match=r"^“nonsense” is not a history page cursor\.$"):
        HistoryCursor.decode("nonsense")
    with pytest.raises(ValueError, match="limit"):
        store.history_page(limit=0)


def test_every_history_filter(store: Store, user_id: int, clock: FakeClock) -> None:
    events = _fill_history(store, clock)
    snipe = _snipe(store, user_id, item="item3")
    newest_first = sorted(events, key=lambda e: (e.at, e.id), reverse=True)

    def ids(pred: object) -> list[int]:
        return [e.id for e in newest_first if pred(e)]  # type: ignore[operator]

    assert _walk(store, 9, actions=A.WON) == ids(lambda e: e.action == "WON")
    assert _walk(store, 9, actions=[A.WON, A.SYNC]) == ids(lambda e: e.action in {"WON", "SYNC"})
    assert _walk(store, 9, legacy_item_id="item2") == ids(lambda e: e.legacy_item_id == "item2")
    assert [e.action for e in store.history_page(snipe_id=snipe.id).rows] == ["CREATE"]
    since, until = clock.now + timedelta(seconds=1), clock.now + timedelta(seconds=3)
    assert _walk(store, 9, since=since, until=until) == ids(lambda e: since <= e.at < until)
    assert _walk(store, 9, text="LEICA LENS 3") == ids(lambda e: "Leica lens 3" in e.title)
    assert _walk(store, 9, text="number 12") == ids(lambda e: "number 12" in e.message)
    assert _walk(store, 9, text="12") == ids(lambda e: "12" in e.message)  # short: no trigram
    assert _walk(store, 9, text="100%_") == ids(lambda e: "100%_" in e.message)  # LIKE wildcards literal
    assert _walk(store, 9, text="0%") == ids(lambda e: "0%" in e.message)
    assert store.history_page(text="nowhere to be found").rows == []
    both = _walk(store, 5, actions=A.SYNC, legacy_item_id="item0", text="radio", until=until)
    assert both == ids(
        lambda e: e.action == "SYNC" and e.legacy_item_id == "item0" and "radio" in e.title and e.at < until
    )
    assert both
    assert store.count_history(actions=A.WON) == len(ids(lambda e: e.action == "WON"))
    assert store.count_history(text="leica") == len(ids(lambda e: "Leica" in e.title))


@pytest.mark.parametrize("common_share", [history_module._STATUS_COMMON_SHARE, 1], ids=["time-index", "snipe-index"])
def test_history_of_snipes_by_their_current_status(
    store: Store, user_id: int, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, common_share: int
) -> None:
    # Both query plans (a status held by many snipes, by few) must page to the same events.
    monkeypatch.setattr(history_module, "_STATUS_COMMON_SHARE", common_share)
    won, lost, open_ = (_snipe(store, user_id, item=f"item{n}") for n in range(3))
    for step in range(12):  # many events on a few instants: paging must break ties by id
        clock.advance(seconds=step % 2)
        for snipe in (won, lost, open_):
            store.add_event(A.NOTE, snipe_id=snipe.id, message=f"step {step}")
    store.add_event(A.SYNC, message="not about any snipe")
    for snipe, end in ((won, S.WON), (lost, S.LOST)):
        for status in (S.SCHEDULED, S.PLACING, S.PLACED, end):
            store.set_status(snipe.id, status)
    everything = _walk(store, 1000)

    def of(*snipes: Snipe) -> list[int]:
        wanted = {s.id for s in snipes}
        return [e for e in everything if HistoryEvent.get_by_id(e).snipe_id in wanted]  # type: ignore[attr-defined]

    # Events recorded while the snipe was still PENDING count too: the filter is on what it is now.
    assert _walk(store, 4, snipe_status=S.WON) == of(won)
    assert len(of(won)) == 1 + 12 + 4
    assert _walk(store, 5, snipe_status=[S.WON, S.LOST]) == of(won, lost)
    assert _walk(store, 3, snipe_status="PENDING", actions=A.NOTE) == [
        e for e in of(open_) if HistoryEvent.get_by_id(e).action == "NOTE"
    ]
    assert store.count_history(snipe_status=S.LOST) == len(of(lost))
    assert store.count_history(snipe_status=S.CANCELLED) == 0
    store.cancel(open_.id)
    everything = _walk(store, 1000)
    assert _walk(store, 7, snipe_status=S.CANCELLED) == of(open_)  # its CANCEL event included
    with pytest.raises(ValueError, match="BOGUS"):
        store.history_page(snipe_status="BOGUS")


def test_common_words_take_the_index_walk_with_the_same_results(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill_history(store, clock)
    via_fts = _walk(store, 11, text="radio")
    monkeypatch.setattr(history_module, "_FTS_RARE_LIMIT", 3)
    assert _walk(store, 11, text="radio") == via_fts
    assert len(via_fts) == 207


def test_history_survives_snipe_delete_and_text_search_follows_updates(store: Store, user_id: int) -> None:
    snipe = _snipe(store, user_id)
    store.database.sql("DELETE FROM snipe WHERE id = ?", (snipe.id,))
    (event,) = store.history_page().rows
    assert event.snipe_id is None
    assert event.legacy_item_id == "110000000001"
    store.database.sql("UPDATE history_event SET title = 'Copper kettle', message = 'edited' WHERE id = ?", (event.id,))
    assert store.history_page(text="brass").rows == []
    assert [e.id for e in store.history_page(text="kettle").rows] == [event.id]


def test_purge_deletes_only_expired_events_in_batches(tmp_path: Path, clock: FakeClock) -> None:
    with Store.open(tmp_path / "data", clock=clock, retention=timedelta(days=10)) as st:
        start = clock.now
        for day in range(20):
            st.add_event(A.NOTE, message=f"day {day} note", at=start + timedelta(days=day))
        assert st.history_page(limit=1).rows[0].expires_at == start + timedelta(days=29)
        assert st.purge_history(start + timedelta(days=14, hours=1), batch=2) == 5
        left = st.history_page().rows
        assert sorted(e.message for e in left) == sorted(f"day {d} note" for d in range(5, 20))
        assert st.history_page(text="day 3 note").rows == []
        assert st.purge_history(start + timedelta(days=14, hours=1)) == 0
        with pytest.raises(ValueError, match="naive"):
            st.purge_history(datetime(2031, 1, 1))  # noqa: DTZ001


# ------------------------------------------------------------------ watch list


def test_watch_list_upsert_updates_adds_and_removes(store: Store, user_id: int, clock: FakeClock) -> None:
    end = datetime(2030, 6, 1, tzinfo=UTC)
    first = [
        WatchItemData("A", title="Amp", currency="USD", current_price_minor=100, end_time=end),
        WatchItemData("B", title="Bike", currency="USD", current_price_minor=200, end_time=end - timedelta(days=1)),
        WatchItemData("C", title="Clock"),
    ]
    result = store.upsert_watch_items(user_id, first, clock.now)
    assert (result.added, result.updated, result.removed) == (3, 0, 0)
    assert [w.legacy_item_id for w in store.list_watch_items(user_id)] == ["B", "A", "C"]

    clock.advance(minutes=10)
    second = [
        WatchItemData("A", title="Amp", currency="USD", current_price_minor=150, bid_count=2, end_time=end),
        WatchItemData("D", title="Desk", currency="EUR", buy_it_now_minor=9900, listing_type="Chinese"),
    ]
    result = store.upsert_watch_items(user_id, second, clock.now, ttl=timedelta(minutes=5))
    assert (result.added, result.updated, result.removed) == (1, 1, 2)
    items = {w.legacy_item_id: w for w in store.list_watch_items(user_id)}
    assert set(items) == {"A", "D"}
    assert (items["A"].current_price_minor, items["A"].bid_count, items["A"].end_time) == (150, 2, end)
    assert items["A"].synced_at == clock.now
    assert items["A"].expires_at == clock.now + timedelta(minutes=5)
    assert items["D"].buy_it_now_minor == 9900
    assert items["D"].end_time is None

    with pytest.raises(ValueError, match="naive"):
        store.upsert_watch_items(user_id, [], datetime(2030, 1, 1))  # noqa: DTZ001
    assert store.upsert_watch_items(user_id, [], clock.now).removed == 2
    assert store.list_watch_items(user_id) == []


# ------------------------------------------------------------------ migrations


def test_upgrade_from_version_1_keeps_data_and_applies_step_2(tmp_path: Path) -> None:
    db_path = tmp_path / "data" / "sniper.db"
    create_database_at_version(db_path, 1)
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "INSERT INTO \"user\" (id, email, ebay_username, created_at, updated_at) "
            "VALUES (1, 'old@example.org', 'oldbidder', 0, 0)"
        )
        conn.execute(
            "INSERT INTO snipe (user_id, legacy_item_id, currency, max_bid_minor, lead_seconds, end_time, "
            "status, created_at, updated_at, title) "
            "VALUES (1, '99', 'GBP', 1234, 5, 1893456000000000, 'SCHEDULED', 0, 0, 'Old gramophone')"
        )
        conn.execute(
            "INSERT INTO history_event (at, action, snipe_id, title, message, expires_at) "
            "VALUES (1, 'CREATE', 1, 'Old gramophone', 'made before the upgrade', 99)"
        )
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone() == (1,)
        assert not conn.execute("SELECT name FROM sqlite_master WHERE name = 'history_fts'").fetchall()
    conn.close()

    with Store(db_path) as st:
        assert st.schema_version == LATEST_VERSION == 5
        snipe = st.get_snipe(1)
        assert (snipe.title, snipe.max_bid_minor, snipe.currency, snipe.status) == (
            "Old gramophone",
            1234,
            "GBP",
            "SCHEDULED",
        )
        assert snipe.end_time == datetime(2030, 1, 1, tzinfo=UTC)
        # Step 2 indexed the old rows for text search.
        assert [e.message for e in st.history_page(text="gramophone").rows] == ["made before the upgrade"]
        assert st.get_user(1).ebay_username == "oldbidder"

    (backup,) = (tmp_path / "data").glob("sniper.db.v1-*.bak")
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    with sqlite3.connect(backup) as old:
        assert old.execute("SELECT max(version) FROM schema_version").fetchone() == (1,)
        assert old.execute("SELECT title FROM snipe").fetchall() == [("Old gramophone",)]
    old.close()


def test_upgrade_from_version_3_keeps_events_and_they_show_no_conversion(tmp_path: Path) -> None:
    db_path = tmp_path / "data" / "sniper.db"
    create_database_at_version(db_path, 3)
    with sqlite3.connect(db_path) as conn:
        conn.execute("INSERT INTO \"user\" (id, email, created_at, updated_at) VALUES (1, 'old@example.org', 0, 0)")
        conn.execute(
            "INSERT INTO snipe (user_id, legacy_item_id, currency, max_bid_minor, lead_seconds, end_time, status, "
            "created_at, updated_at, title, current_price_minor, converted_currency, converted_price_minor) "
            "VALUES (1, '99', 'GBP', 5000, 5, 1893456000000000, 'SCHEDULED', 0, 0, 'Old gramophone', 17995, "
            "'USD', 25787)"
        )
        conn.execute(
            "INSERT INTO history_event (at, action, snipe_id, title, amount_minor, currency, message, expires_at) "
            "VALUES (1, 'CREATE', 1, 'Old gramophone', 5000, 'GBP', 'made before the upgrade', 4102444800000000)"
        )
    conn.close()

    with Store(db_path) as st:
        assert st.schema_version == LATEST_VERSION
        (old,) = st.history_page().rows
        assert (old.amount_minor, old.currency, old.message) == (5000, "GBP", "made before the upgrade")
        # The rate of the day was never kept for it: the old event shows its own amount only.
        assert (old.converted_currency, old.converted_amount_minor, old.converted_final_price_minor) == (
            None, None, None)
        (light,) = st.history_page(light=True).rows
        assert (light.amount_minor, light.converted_amount_minor) == (5000, None)
        # A new event on the same snipe keeps the conversion of its day.
        st.update_snipe(1, max_bid_minor=6000)
        newest = st.history_page(light=True).rows[0]
        assert (newest.amount_minor, newest.converted_currency, newest.converted_amount_minor) == (6000, "USD", 8598)

    (backup,) = (tmp_path / "data").glob("sniper.db.v3-*.bak")
    with sqlite3.connect(backup) as old_db:
        assert old_db.execute("SELECT max(version) FROM schema_version").fetchone() == (3,)
    old_db.close()


def test_history_events_keep_the_conversion_shown_at_the_time(store: Store, user_id: int) -> None:
    snipe = _snipe(store, user_id, currency="GBP", max_bid_minor=5000, current_price_minor=17995,
                   converted_currency="USD", converted_price_minor=25787)
    (created,) = store.history_page(snipe_id=snipe.id).rows
    # £50.00 at the rate £179.95 = $257.87.
    assert (created.amount_minor, created.converted_currency, created.converted_amount_minor) == (5000, "USD", 7165)
    # eBay's rate moves: later events keep the new one, the first keeps its own.
    store.update_fields(snipe.id, current_price_minor=20000, converted_price_minor=30000)
    store.set_status(snipe.id, SnipeStatus.SCHEDULED, job_id="fire-1")
    store.set_status(snipe.id, SnipeStatus.PLACING, amount_minor=5000)
    store.set_status(snipe.id, SnipeStatus.PLACED)
    store.set_status(snipe.id, SnipeStatus.WON, final_price_minor=4600)
    events = store.history_page(snipe_id=snipe.id, light=True).rows
    won = events[0]
    assert (won.action, won.final_price_minor, won.converted_final_price_minor) == ("WON", 4600, 6900)
    placing = events[2]
    assert (placing.amount_minor, placing.converted_amount_minor) == (5000, 7500)
    assert store.history_page(snipe_id=snipe.id).rows[-1].converted_amount_minor == 7165
    # A listing in the user's own currency has nothing to convert.
    plain = _snipe(store, user_id, item="110000000002")
    (event,) = store.history_page(snipe_id=plain.id).rows
    assert (event.converted_currency, event.converted_amount_minor) == (None, None)


def test_upgrade_from_version_4_drops_the_unread_profile_columns_and_keeps_every_row(tmp_path: Path) -> None:
    db_path = tmp_path / "data" / "sniper.db"
    create_database_at_version(db_path, 4)
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "INSERT INTO \"user\" (id, email, ebay_username, ebay_user_id, marketplace, default_lead_seconds, "
            "notification_prefs, needs_relink, created_at, updated_at) "
            "VALUES (1, 'old@example.org', 'oldbidder', 'U1', 'EBAY_GB', 8.0, '{\"won\": true}', 1, 0, 0)"
        )
        conn.execute(
            "INSERT INTO snipe_group (id, user_id, name, target_wins, created_at) VALUES (1, 1, 'Lamps', 2, 0)"
        )
        conn.execute(
            "INSERT INTO snipe (user_id, legacy_item_id, currency, max_bid_minor, lead_seconds, end_time, "
            "status, group_id, created_at, updated_at, title) "
            "VALUES (1, '99', 'GBP', 1234, 5, 1893456000000000, 'SCHEDULED', 1, 0, 0, 'Old gramophone')"
        )
        conn.execute(
            "INSERT INTO watch_item (user_id, legacy_item_id, synced_at, expires_at) VALUES (1, '77', 0, 99)"
        )
    conn.close()

    with Store(db_path) as st:
        assert st.schema_version == LATEST_VERSION
        columns = {row[1] for row in st.database.sql('PRAGMA table_info("user")')}
        assert not columns & {"email", "notification_prefs", "default_lead_seconds"}
        user = st.get_user(1)
        assert (user.ebay_username, user.ebay_user_id, user.marketplace, user.needs_relink) == (
            "oldbidder", "U1", "EBAY_GB", True,
        )
        # Nothing hanging off the profile went with the old columns (no cascade ran).
        assert [(s.title, s.group_id) for s in st.list_snipes()] == [("Old gramophone", 1)]  # type: ignore[attr-defined]
        assert st.get_group(1).name == "Lamps"
        assert [w.legacy_item_id for w in st.list_watch_items(1)] == ["77"]
        assert st.database.sql("PRAGMA foreign_key_check").fetchall() == []
        # The profile still links like any other.
        assert st.link_ebay_account(1, ebay_username="newbidder", ebay_user_id="U2").ebay_username == "newbidder"

    (backup,) = (tmp_path / "data").glob("sniper.db.v4-*.bak")
    with sqlite3.connect(backup) as old:
        assert old.execute('SELECT email, default_lead_seconds FROM "user"').fetchall() == [("old@example.org", 8.0)]
    old.close()


def test_a_python_with_too_old_a_sqlite_is_told_so_in_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 34, 1))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.34.1")
    told = r"^Sniper needs SQLite 3\.35\.0 or newer, and this Python comes with 3\.34\.1;"
    with pytest.raises(StoreError, match=told):
        Store(tmp_path / "data" / "sniper.db")


def test_a_database_from_a_newer_app_is_refused(tmp_path: Path) -> None:
    db_path = tmp_path / "data" / "sniper.db"
    create_database_at_version(db_path, LATEST_VERSION)
    with sqlite3.connect(db_path) as conn:
        conn.execute("INSERT INTO schema_version VALUES (99, 'from the future', 0)")
    conn.close()
    with pytest.raises(SchemaTooNew, match="newer version of Sniper"):
        Store(db_path)
    # The refused store released the process's database slot.
    with Store.open(tmp_path / "elsewhere") as other:
        assert other.schema_version == LATEST_VERSION


def test_a_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    db_path = tmp_path / "data" / "sniper.db"
    db_path.parent.mkdir()
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE something (x)")
    conn.close()
    with pytest.raises(StoreError, match="not a Sniper database"):
        Store(db_path)


# ------------------------------------------------------------------ threads


def test_two_threads_writing_at_once_lose_nothing(store: Store, user_id: int) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def creates() -> None:
        try:
            barrier.wait()
            for i in range(500):
                _snipe(store, user_id, item=f"T{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            store.close_thread_connection()

    def events() -> None:
        try:
            barrier.wait()
            for i in range(500):
                store.add_event(A.SYNC, message=f"sync {i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            store.close_thread_connection()

    workers = [threading.Thread(target=creates), threading.Thread(target=events)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    assert len(store.list_snipes()) == 500
    assert store.count_history(actions=A.CREATE) == 500
    assert store.count_history(actions=A.SYNC) == 500


def test_a_prepared_count_runs_on_another_thread_and_agrees_with_the_store(store: Store, clock: FakeClock) -> None:
    for n in range(30):
        store.add_event(
            HistoryAction.WON if n % 3 == 0 else HistoryAction.SYNC,
            message=f"event {n}",
            title="Leica lens" if n % 5 == 0 else "Watch",
        )
        clock.advance(seconds=1)
    filters_list: list[dict[str, object]] = [
        {},
        {"actions": (HistoryAction.WON,)},
        {"text": "leica"},
        {"actions": (HistoryAction.WON,), "text": "leica"},
    ]
    for filters in filters_list:
        prepared = store.detached_history_count(**filters)
        answers: list[int] = []
        worker = threading.Thread(target=lambda prepared=prepared, answers=answers: answers.append(prepared()))
        worker.start()
        worker.join(10)
        assert answers == [store.count_history(**filters)], filters  # type: ignore[arg-type]
    assert store.count_history(actions=(HistoryAction.WON,), text="leica") == 2
