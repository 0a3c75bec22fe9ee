"""The table models on a real store: Qt's model checker, what each cell shows, countdowns, events."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from sniper_app.domain.status import SnipeStatus
from sniper_app.engine.bus import EventBus, SnipeStatusChanged
from sniper_app.store import Store
from sniper_app.ui.bridge import EngineBridge
from sniper_app.ui.models import (
    HistoryColumn,
    HistoryModel,
    SnipeColumn,
    SnipesModel,
    SnipesProxy,
    WatchColumn,
    WatchListModel,
    sort_proxy,
)
from sniper_app.ui.qt import QtCore
from tests.gui.conftest import seed
from tests.support.store import FakeClock

Display = QtCore.Qt.ItemDataRole.DisplayRole


def cell(model: QtCore.QAbstractItemModel, row: int, col: int, role: Any = Display) -> Any:
    return model.data(model.index(row, col), role)


def test_every_model_passes_qts_model_checker(qtmodeltester: Any, store: Store, user_id: int, clock: FakeClock) -> None:
    seed(store, user_id, clock)
    watch = WatchListModel(store, user_id, clock=clock)
    snipes = SnipesModel(store, user_id, clock=clock)
    history = HistoryModel(store, page_size=3, clock=clock)
    for model in (watch, snipes, history, sort_proxy(watch), sort_proxy(snipes)):
        qtmodeltester.check(model, force_py=False)
    proxy = SnipesProxy()
    proxy.setSourceModel(snipes)
    proxy.set_show_finished(False)
    qtmodeltester.check(proxy, force_py=False)


def test_watch_list_shows_price_bids_and_time_left(store: Store, user_id: int, clock: FakeClock) -> None:
    seed(store, user_id, clock)
    model = WatchListModel(store, user_id, clock=clock)
    rows = {cell(model, r, WatchColumn.TITLE): r for r in range(model.rowCount())}
    strat = rows["Fender Stratocaster 1978, sunburst"]
    assert cell(model, strat, WatchColumn.PRICE) == "$985.00"
    assert cell(model, strat, WatchColumn.BIDS) == "22"
    assert cell(model, strat, WatchColumn.TIME_LEFT) == "42m 07s"
    omega = rows["Omega Speedmaster Professional 145.022"]
    assert cell(model, omega, WatchColumn.PRICE) == "$3,100.00"
    assert cell(model, omega, WatchColumn.TIME_LEFT) == "2d 05h"
    clock.advance(minutes=43)
    assert cell(model, strat, WatchColumn.TIME_LEFT) == "ended"
    # Soonest end first, as the store lists them.
    assert cell(model, 0, WatchColumn.TITLE) == "Technics SL-1200MK2 turntable"


def test_snipes_show_max_lead_group_status_and_sort_by_amount(store: Store, user_id: int, clock: FakeClock) -> None:
    seed(store, user_id, clock)
    model = SnipesModel(store, user_id, clock=clock)
    proxy = sort_proxy(model)
    proxy.sort(SnipeColumn.MAX, QtCore.Qt.SortOrder.DescendingOrder)
    assert [cell(proxy, r, SnipeColumn.MAX) for r in range(proxy.rowCount())] == [
        "$3,500.00",
        "$1,500.00",
        "$450.00",
        "$300.00",
    ]
    first = {cell(model, r, SnipeColumn.ITEM): r for r in range(model.rowCount())}
    leica = first["Leica M3 rangefinder, 50mm Summicron"]
    assert cell(model, leica, SnipeColumn.GROUP) == "Cameras"
    assert cell(model, leica, SnipeColumn.STATUS) == "Scheduled"
    assert cell(model, leica, SnipeColumn.LEAD) == "6 s"
    assert cell(model, leica, SnipeColumn.TIME_LEFT) == "2h 13m"
    nikon = first["Nikon F2 Photomic body"]
    assert cell(model, nikon, SnipeColumn.STATUS) == "Cancelled"
    assert cell(model, nikon, SnipeColumn.TIME_LEFT) == ""
    due = model.next_due()
    assert due is not None
    assert due.title == "Technics SL-1200MK2 turntable"


def test_finished_snipes_can_be_hidden(store: Store, user_id: int, clock: FakeClock) -> None:
    seed(store, user_id, clock)
    proxy = SnipesProxy()
    proxy.setSourceModel(SnipesModel(store, user_id, clock=clock))
    assert proxy.rowCount() == 4
    proxy.set_show_finished(False)
    names = {cell(proxy, r, SnipeColumn.ITEM) for r in range(proxy.rowCount())}
    assert len(names) == 3
    assert "Nikon F2 Photomic body" not in names


def test_countdown_changes_only_the_time_left_column(qtbot: Any, store: Store, user_id: int, clock: FakeClock) -> None:
    seed(store, user_id, clock)
    for model, column in (
        (WatchListModel(store, user_id, clock=clock), WatchColumn.TIME_LEFT),
        (SnipesModel(store, user_id, clock=clock), SnipeColumn.TIME_LEFT),
    ):
        seen: list[tuple[int, int, int, int, list[int]]] = []
        model.dataChanged.connect(
            lambda tl, br, roles, seen=seen: seen.append((tl.row(), tl.column(), br.row(), br.column(), list(roles)))
        )
        before = [cell(model, r, column) for r in range(model.rowCount())]
        clock.advance(seconds=61)
        model.tick()
        last = model.rowCount() - 1
        assert seen == [(0, column, last, column, [int(Display)])]
        after = [cell(model, r, column) for r in range(model.rowCount())]
        assert after != before


def test_snipe_row_follows_engine_events_from_any_thread(
    qtbot: Any, store: Store, user_id: int, clock: FakeClock
) -> None:
    ids = seed(store, user_id, clock)["snipes"]
    bus = EventBus()
    bridge = EngineBridge(bus)
    model = SnipesModel(store, user_id, clock=clock)
    bridge.snipeStatusChanged.connect(model.on_status_changed)
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    changed_rows: list[int] = []
    model.dataChanged.connect(lambda tl, br, roles: changed_rows.extend(range(tl.row(), br.row() + 1)))

    technics = ids["126004"]
    row = model.row_of(technics)
    assert row is not None
    assert cell(model, row, SnipeColumn.STATUS) == "Pending"
    store.set_status(technics, SnipeStatus.SCHEDULED)
    with qtbot.waitSignal(bridge.snipeStatusChanged, timeout=2000):
        bus.publish(SnipeStatusChanged(snipe_id=technics, old=SnipeStatus.PENDING, new=SnipeStatus.SCHEDULED))
    assert cell(model, row, SnipeColumn.STATUS) == "Scheduled"
    assert changed_rows == [row]
    assert not resets

    # A publisher on a worker thread: the row still changes, and on the GUI thread.
    store.set_status(technics, SnipeStatus.PLACING)
    store.set_status(
        technics,
        SnipeStatus.PLACED,
        sent_at=clock.now + timedelta(minutes=3, seconds=7),
        latency_ms=1000.0,
        ebay_message="Bid received",
    )
    handled_on: list[Any] = []
    bridge.snipeStatusChanged.connect(lambda _e: handled_on.append(QtCore.QThread.currentThread()))
    worker = threading.Thread(
        target=bus.publish,
        args=(SnipeStatusChanged(snipe_id=technics, old=SnipeStatus.PLACING, new=SnipeStatus.PLACED),),
    )
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: cell(model, row, SnipeColumn.STATUS) == "Bid placed", timeout=2000)
    assert handled_on == [QtCore.QCoreApplication.instance().thread()]  # type: ignore[union-attr]
    # Ends at +3m15s, sent at +3m07s with 1 s latency: arrived 7 s before the end.
    assert (
        cell(model, row, SnipeColumn.TIMING) == "arrived 7.00 s before the end · latency 1000 ms · eBay: Bid received"
    )
    bridge.detach()


def test_a_new_snipe_from_an_event_is_inserted_in_end_order(store: Store, user_id: int, clock: FakeClock) -> None:
    seed(store, user_id, clock)
    model = SnipesModel(store, user_id, clock=clock)
    inserted: list[int] = []
    model.rowsInserted.connect(lambda _p, first, _last: inserted.append(first))
    snipe = store.create_snipe(
        user_id,
        legacy_item_id="300300",
        currency="GBP",
        max_bid_minor=7_99,
        end_time=clock.now + timedelta(minutes=30),
        lead_seconds=5,
        title="Penguin first edition",
    )
    model.on_status_changed(SnipeStatusChanged(snipe_id=snipe.id, old=None, new=SnipeStatus.PENDING))
    assert inserted == [1]  # after the Technics (3 min), before the Leica (2 h)
    assert cell(model, 1, SnipeColumn.MAX) == "£7.99"


def test_history_pages_newest_first_and_new_events_appear_on_top(store: Store, user_id: int, clock: FakeClock) -> None:
    from sniper_app.domain.history import HistoryAction

    for n in range(25):
        clock.advance(seconds=1)
        store.add_event(HistoryAction.NOTE, message=f"note {n}")
    model = HistoryModel(store, page_size=10, clock=clock)
    assert model.rowCount() == 10
    assert cell(model, 0, HistoryColumn.MESSAGE) == "note 24"
    while model.canFetchMore(QtCore.QModelIndex()):
        model.fetchMore(QtCore.QModelIndex())
    assert [cell(model, r, HistoryColumn.MESSAGE) for r in range(model.rowCount())] == [
        f"note {n}" for n in range(24, -1, -1)
    ]
    clock.advance(seconds=1)
    store.add_event(HistoryAction.NOTE, message="fresh")
    model.fetch_newer()
    assert model.rowCount() == 26
    assert cell(model, 0, HistoryColumn.MESSAGE) == "fresh"
