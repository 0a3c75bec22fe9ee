"""The facade's reads on a real store: plain frozen views only, one ownership rule, history paged by keyset."""

from __future__ import annotations

import dataclasses
import enum
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sniper_app.domain.errors import NoSuchSnipe
from sniper_app.domain.history import HistoryAction
from sniper_app.domain.rules import AUTO_LEAD, MIN_LEAD_SECONDS
from sniper_app.domain.status import SnipeStatus
from sniper_app.domain.views import HistoryFilter, SnipeView
from sniper_app.engine.autolead import LEAD_KEY
from sniper_app.engine.reads import Reads
from sniper_app.store import Store, User, WatchItemData
from tests.support.store import FakeClock

END = datetime(2030, 5, 2, 18, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    st = Store.open(tmp_path / "data", clock=clock)
    yield st
    st.close()


def _snipe(store: Store, user_id: int, item: str, **kw: Any) -> int:
    fields: dict[str, Any] = {
        "legacy_item_id": item, "currency": "USD", "max_bid_minor": 2500, "end_time": END, "lead_seconds": 5.0,
        "title": f"Brass lamp {item}",
    }
    snipe_id: int = store.create_snipe(user_id, **(fields | kw)).id
    return snipe_id


def _plain(value: Any, path: str = "view") -> None:
    """Fail unless ``value`` is what a wire protocol could carry: no live object anywhere inside."""
    if value is None or isinstance(value, bool | int | float | str | enum.Enum):
        return
    if isinstance(value, datetime):
        assert value.utcoffset() == timedelta(0), f"{path} is not an aware UTC instant"
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        params = getattr(type(value), "__dataclass_params__")  # noqa: B009
        assert params.frozen, f"{path} ({type(value).__name__}) is not frozen"
        for f in dataclasses.fields(value):
            _plain(getattr(value, f.name), f"{path}.{f.name}")
        return
    if isinstance(value, tuple | frozenset):
        for n, item in enumerate(value):
            _plain(item, f"{path}[{n}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            assert isinstance(key, str), f"{path} has a key that is not text"
            _plain(item, f"{path}[{key!r}]")
        return
    if isinstance(value, list):
        for n, item in enumerate(value):
            _plain(item, f"{path}[{n}]")
        return
    raise AssertionError(f"{path} is a {type(value).__module__}.{type(value).__name__}, not plain data")


def test_every_read_returns_frozen_plain_data(store: Store, clock: FakeClock) -> None:
    user_id = store.get_or_create_user(ebay_user_id="buyer").id
    store.link_ebay_account(user_id, ebay_username="buyer_1", ebay_user_id="buyer")
    group = store.create_group(user_id, "Lamps", target_wins=2)
    grouped = _snipe(store, user_id, "110000000001", group_id=group.id, converted_currency="GBP",
                     converted_price_minor=1800, current_price_minor=2300)
    _snipe(store, user_id, "110000000002", lead_seconds=AUTO_LEAD)
    store.add_event(HistoryAction.NOTE, snipe_id=grouped, message="chosen", details={LEAD_KEY: 1.5, "why": "fast"})
    store.upsert_watch_items(
        user_id, [WatchItemData("110000000003", title="Kettle", currency="USD", current_price_minor=900,
                                end_time=END, listing_type="AUCTION")], clock.now,
    )
    reads = Reads(store, user_id)

    every = {
        "snipes": reads.snipes(),
        "snipe": reads.snipe(grouped),
        "active": reads.active_snipes(),
        "groups": reads.groups(),
        "summaries": reads.group_summaries(),
        "watch": reads.watch_items(),
        "page": reads.history_page(details=True),
        "light page": reads.history_page(),
        "account": reads.account(),
    }
    for name, value in every.items():
        _plain(value, name)

    snipe = reads.snipe(grouped)
    assert (snipe.group_id, snipe.group_name) == (group.id, "Lamps")
    assert snipe.group is not None
    assert snipe.group.target_wins == 2
    assert (snipe.current_price_minor, snipe.converted_price_minor, snipe.converted_currency) == (2300, 1800, "GBP")
    assert snipe.status is SnipeStatus.PENDING
    with pytest.raises(dataclasses.FrozenInstanceError):
        snipe.max_bid_minor = 1  # type: ignore[misc]
    assert [s.legacy_item_id for s in reads.snipes(SnipeStatus.PENDING)] == ["110000000001", "110000000002"]
    assert reads.snipes(SnipeStatus.WON) == ()
    assert (reads.account().username, reads.account().needs_relink) == ("buyer_1", False)
    assert [w.legacy_item_id for w in reads.watch_items()] == ["110000000003"]


def test_another_profiles_snipe_is_as_unknown_as_a_missing_one(store: Store) -> None:
    mine = store.get_or_create_user(ebay_user_id="me").id
    # The store keeps to one active profile; a second, inactive one stands for someone else's data.
    theirs = User.create(ebay_user_id="them", active=False, created_at=store.now(), updated_at=store.now()).id
    assert theirs != mine
    their_snipe = _snipe(store, theirs, "120000000001")

    with pytest.raises(NoSuchSnipe, match=rf"^There is no snipe #{their_snipe}\.$"):
        Reads(store, mine).snipe(their_snipe)
    with pytest.raises(NoSuchSnipe, match=r"^There is no snipe #999\.$"):
        Reads(store, mine).snipe(999)
    assert Reads(store, mine).find_snipe(their_snipe) is None
    assert Reads(store, mine).snipes() == ()
    assert Reads(store, theirs).snipe(their_snipe).id == their_snipe


def test_history_is_read_a_keyset_page_at_a_time_and_counted_off_thread(store: Store, clock: FakeClock) -> None:
    user_id = store.get_or_create_user().id
    for n in range(25):
        clock.advance(seconds=1)
        store.add_event(HistoryAction.NOTE, message=f"note {n}", details={"n": n})
    reads = Reads(store, user_id)

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = reads.history_page(cursor=cursor, limit=10)
        pages += 1
        seen.extend(e.message for e in page.entries)
        assert all(e.details is None for e in page.entries)  # a list never pays for the details
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert seen == [f"note {n}" for n in reversed(range(25))]
    assert [e.message for e in reads.iter_history(HistoryFilter(text="note 1"))] == [
        f"note {n}" for n in (19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 1)
    ]
    (newest,) = reads.history_page(limit=1, details=True).entries
    assert newest.details == {"n": 24}

    assert reads.count_history() == 25
    assert reads.count_history(HistoryFilter(text="note 2")) == 6
    counter = reads.history_counter(HistoryFilter(actions=(HistoryAction.NOTE,)))
    counted: list[int] = []
    worker = threading.Thread(target=lambda: counted.append(counter()))
    worker.start()
    worker.join(timeout=30)
    assert counted == [25]


def test_an_automatic_lead_is_told_with_the_lead_the_engine_chose() -> None:
    snipe = SnipeView(
        id=7, legacy_item_id="130000000001", title="Kettle", currency="USD", max_bid_minor=4_000,
        lead_seconds=AUTO_LEAD, end_time=END, status=SnipeStatus.SCHEDULED,
    )
    assert snipe.timing_facts().lead_seconds == MIN_LEAD_SECONDS
    assert snipe.timing_facts(2.5).lead_seconds == 2.5
    assert snipe.fire_at == END - timedelta(seconds=MIN_LEAD_SECONDS)
    fixed = dataclasses.replace(snipe, lead_seconds=6.0)
    assert fixed.timing_facts(2.5).lead_seconds == 6.0
    assert fixed.timing_facts().max_bid_minor == 4_000
