"""The table models on a real store: Qt's model checker, what each cell shows, countdowns, events."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from sniper_app.domain.status import SnipeStatus
from sniper_app.engine.bus import EventBus, SnipeStatusChanged
from sniper_app.engine.reads import Reads
from sniper_app.store import Store, WatchItemData
from sniper_app.ui.bridge import EngineBridge
from sniper_app.ui.models import (
    SNIPEABLE_ROLE,
    SORT_ROLE,
    HistoryColumn,
    HistoryModel,
    SnipeColumn,
    SnipesModel,
    SnipesProxy,
    WatchColumn,
    WatchListModel,
    sort_proxy,
)
from sniper_app.ui.qt import QtCore, QtGui
from tests.gui.conftest import seed
from tests.support.store import FakeClock

Display = QtCore.Qt.ItemDataRole.DisplayRole


def cell(model: QtCore.QAbstractItemModel, row: int, col: int, role: Any = Display) -> Any:
    return model.data(model.index(row, col), role)


def test_every_model_passes_qts_model_checker(qtmodeltester: Any, store: Store, user_id: int, clock: FakeClock) -> None:
    seed(store, user_id, clock)
    watch = WatchListModel(Reads(store, user_id), clock=clock)
    snipes = SnipesModel(Reads(store, user_id), clock=clock)
    history = HistoryModel(Reads(store, user_id), page_size=3, clock=clock)
    for model in (watch, snipes, history, sort_proxy(watch), sort_proxy(snipes)):
        qtmodeltester.check(model, force_py=False)
    proxy = SnipesProxy()
    proxy.setSourceModel(snipes)
    proxy.set_show_finished(False)
    qtmodeltester.check(proxy, force_py=False)


def test_watch_list_shows_price_bids_and_time_left(store: Store, user_id: int, clock: FakeClock) -> None:
    seed(store, user_id, clock)
    model = WatchListModel(Reads(store, user_id), clock=clock)
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
    model = SnipesModel(Reads(store, user_id), clock=clock)
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
    # Cancelling the snipe does not end the auction: its real time left stays, the status says cancelled.
    assert cell(model, nikon, SnipeColumn.TIME_LEFT) == "9h 00m"
    tip = model.data(model.index(nikon, SnipeColumn.TIME_LEFT), QtCore.Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("Cancelled; the auction itself ends at")
    due = model.next_due()
    assert due is not None
    assert due.title == "Technics SL-1200MK2 turntable"


def test_finished_snipes_sort_after_the_running_ones_and_keep_their_auctions_time(
    store: Store, user_id: int, clock: FakeClock
) -> None:
    ids = seed(store, user_id, clock)["snipes"]
    # The Technics (ends in 3 min) is skipped: it ends before every running snipe, yet lists after them.
    store.set_status(ids["126004"], SnipeStatus.SKIPPED, reason="The price passed your maximum.")
    model = SnipesModel(Reads(store, user_id), clock=clock)
    proxy = SnipesProxy()
    proxy.setSourceModel(model)
    proxy.sort(SnipeColumn.TIME_LEFT, QtCore.Qt.SortOrder.AscendingOrder)
    shown = [(cell(proxy, r, SnipeColumn.ITEM), cell(proxy, r, SnipeColumn.TIME_LEFT)) for r in range(proxy.rowCount())]
    assert shown == [
        ("Leica M3 rangefinder, 50mm Summicron", "2h 13m"),
        ("Omega Speedmaster Professional 145.022", "2d 05h"),
        ("Technics SL-1200MK2 turntable", "3m 15s"),  # ends in 3 min, but skipped
        ("Nikon F2 Photomic body", "9h 00m"),  # ends in 9 h, but cancelled
    ]
    clock.advance(hours=10)
    assert cell(proxy, proxy.rowCount() - 1, SnipeColumn.TIME_LEFT) == "ended"
    proxy.sort(SnipeColumn.TIME_LEFT, QtCore.Qt.SortOrder.DescendingOrder)
    assert cell(proxy, 0, SnipeColumn.ITEM) == "Nikon F2 Photomic body"
    assert cell(proxy, proxy.rowCount() - 1, SnipeColumn.ITEM) == "Leica M3 rangefinder, 50mm Summicron"


def test_finished_snipes_can_be_hidden(store: Store, user_id: int, clock: FakeClock) -> None:
    seed(store, user_id, clock)
    proxy = SnipesProxy()
    proxy.setSourceModel(SnipesModel(Reads(store, user_id), clock=clock))
    assert proxy.rowCount() == 4
    proxy.set_show_finished(False)
    names = {cell(proxy, r, SnipeColumn.ITEM) for r in range(proxy.rowCount())}
    assert len(names) == 3
    assert "Nikon F2 Photomic body" not in names


def test_countdown_changes_only_the_time_left_column(qtbot: Any, store: Store, user_id: int, clock: FakeClock) -> None:
    seed(store, user_id, clock)
    for model, column in (
        (WatchListModel(Reads(store, user_id), clock=clock), WatchColumn.TIME_LEFT),
        (SnipesModel(Reads(store, user_id), clock=clock), SnipeColumn.TIME_LEFT),
    ):
        seen: list[tuple[int, int, int, int, list[int]]] = []
        model.dataChanged.connect(
            lambda tl, br, roles, seen=seen: seen.append((tl.row(), tl.column(), br.row(), br.column(), list(roles)))
        )
        before = [cell(model, r, column) for r in range(model.rowCount())]
        clock.advance(seconds=61)
        model.tick()
        assert seen, "a tick repaints something"
        assert all(c1 == c2 == column and roles == [int(Display)] for (_, c1, _, c2, roles) in seen)
        covered = [r for (top, _, bottom, _, _) in seen for r in range(top, bottom + 1)]
        counting = list(model.counting_rows())
        assert covered == counting, "one signal per run of counting rows, nothing else"
        after = [cell(model, r, column) for r in range(model.rowCount())]
        assert after != before
        # Rows left out are the finished ones: their "ended" never changes.
        for r in set(range(model.rowCount())) - set(counting):
            assert after[r] == before[r] == "ended"
    snipes = SnipesModel(Reads(store, user_id), clock=clock)
    cancelled = [r for r in range(snipes.rowCount()) if snipes.row(r).status.is_final]
    assert cancelled, "the seed has a cancelled snipe"
    # Its auction still runs, so its countdown ticks; once the auction is over, it stops.
    assert set(cancelled) <= set(snipes.counting_rows())
    clock.advance(hours=10)
    assert not set(cancelled) & set(snipes.counting_rows())


def test_snipe_row_follows_engine_events_from_any_thread(
    qtbot: Any, store: Store, user_id: int, clock: FakeClock
) -> None:
    ids = seed(store, user_id, clock)["snipes"]
    bus = EventBus()
    bridge = EngineBridge(bus)
    model = SnipesModel(Reads(store, user_id), clock=clock)
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
    assert cell(model, row, SnipeColumn.TIMING) == "7.00 s early · 1000 ms"
    assert (
        model.data(model.index(row, SnipeColumn.TIMING), QtCore.Qt.ItemDataRole.ToolTipRole)
        == "arrived 7.00 s before the end · latency 1000 ms · eBay: Bid received"
    )
    bridge.detach()


def test_a_new_snipe_from_an_event_is_inserted_in_end_order(store: Store, user_id: int, clock: FakeClock) -> None:
    seed(store, user_id, clock)
    model = SnipesModel(Reads(store, user_id), clock=clock)
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
    model = HistoryModel(Reads(store, user_id), page_size=10, clock=clock)
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


def test_a_countdown_tick_through_the_sorting_proxy_repaints_without_resorting(
    qtbot: Any, store: Store, user_id: int, clock: FakeClock
) -> None:
    seed(store, user_id, clock)
    model = WatchListModel(Reads(store, user_id), clock=clock)
    proxy = sort_proxy(model)
    proxy.sort(WatchColumn.TIME_LEFT, QtCore.Qt.SortOrder.AscendingOrder)
    order = [proxy.index(r, WatchColumn.TITLE).data() for r in range(proxy.rowCount())]
    asked: list[int] = []
    original = model.data

    def counting_data(index: Any, role: int = int(Display)) -> Any:
        asked.append(role)
        return original(index, role)

    model.data = counting_data  # type: ignore[method-assign]
    from_source: list[object] = []
    model.dataChanged.connect(lambda *args: from_source.append(args))
    from_proxy: list[tuple[int, int, int]] = []
    proxy.dataChanged.connect(lambda tl, br, roles: from_proxy.append((tl.row(), br.row(), tl.column())))
    before = [proxy.index(r, WatchColumn.TIME_LEFT).data() for r in range(proxy.rowCount())]
    clock.advance(seconds=30)
    asked.clear()
    model.tick(through=proxy)
    assert from_source == [], "the source model stays quiet: its proxy would re-sort on its signal"
    assert SORT_ROLE not in asked, "nothing was re-sorted"
    assert from_proxy == [(0, proxy.rowCount() - 1, WatchColumn.TIME_LEFT)]
    assert [proxy.index(r, WatchColumn.TITLE).data() for r in range(proxy.rowCount())] == order
    after = [proxy.index(r, WatchColumn.TIME_LEFT).data() for r in range(proxy.rowCount())]
    assert after != before


def test_a_sync_updates_the_watch_list_in_place_without_a_reset(
    qtbot: Any, store: Store, user_id: int, clock: FakeClock
) -> None:
    seed(store, user_id, clock)
    model = WatchListModel(Reads(store, user_id), clock=clock)
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    removed: list[tuple[int, int]] = []
    model.rowsRemoved.connect(lambda _parent, first, last: removed.append((first, last)))
    titles = {model.row(r).legacy_item_id: model.row(r).title for r in range(model.rowCount())}
    kept = [item for item in store.list_watch_items(user_id) if item.legacy_item_id != "126002"]
    fresh = [
        WatchItemData(
            legacy_item_id=item.legacy_item_id,
            title=item.title,
            currency=item.currency,
            # The Omega went up; the others did not move.
            current_price_minor=(item.current_price_minor or 0) + (5_000 if item.legacy_item_id == "126003" else 0),
            bid_count=item.bid_count + (1 if item.legacy_item_id == "126003" else 0),
            end_time=item.end_time,
        )
        for item in kept
    ] + [
        WatchItemData(legacy_item_id="126099", title="Hasselblad 503CW", currency="USD",
                      current_price_minor=120_000, bid_count=3, end_time=clock.now + timedelta(hours=5)),
    ]
    store.upsert_watch_items(user_id, fresh, clock.now)
    model.reload()
    assert resets == []
    assert len(removed) == 1
    shown = {model.row(r).legacy_item_id: model.row(r) for r in range(model.rowCount())}
    assert set(shown) == (set(titles) - {"126002"}) | {"126099"}
    assert shown["126003"].price_minor == 315_000
    assert shown["126099"].title == "Hasselblad 503CW"


def test_a_converted_price_is_shown_beside_the_listings_own_and_fixed_price_is_not_snipeable(
    store: Store, user_id: int, clock: FakeClock
) -> None:
    store.upsert_watch_items(user_id, [
        WatchItemData(legacy_item_id="226001", title="Brompton M6L", currency="GBP", current_price_minor=60000,
                      end_time=clock.now + timedelta(hours=3), listing_type="Chinese",
                      converted_currency="USD", converted_price_minor=76923),
        WatchItemData(legacy_item_id="226002", title="Film, 5-pack", currency="USD", current_price_minor=5499,
                      end_time=clock.now + timedelta(days=7), listing_type="FixedPriceItem"),
    ], clock.now)
    model = WatchListModel(Reads(store, user_id), clock=clock)
    rows = {cell(model, r, WatchColumn.TITLE): r for r in range(model.rowCount())}
    bike, film = rows["Brompton M6L"], rows["Film, 5-pack"]
    assert cell(model, bike, WatchColumn.PRICE) == "£600.00 ≈ $769.23"
    assert "Bids are in GBP" in cell(model, bike, WatchColumn.PRICE, QtCore.Qt.ItemDataRole.ToolTipRole)
    assert cell(model, bike, WatchColumn.SNIPE) == "Snipe…"
    assert cell(model, bike, WatchColumn.SNIPE, SNIPEABLE_ROLE) is True
    assert cell(model, film, WatchColumn.PRICE) == "$54.99"
    assert cell(model, film, WatchColumn.SNIPE) == "Fixed price"
    assert cell(model, film, WatchColumn.SNIPE, SNIPEABLE_ROLE) is False
    assert "nothing to snipe" in cell(model, film, WatchColumn.SNIPE, QtCore.Qt.ItemDataRole.ToolTipRole)


def test_the_snipe_list_shows_the_price_now_with_ebays_conversion(store: Store, user_id: int, clock: FakeClock) -> None:
    store.create_snipe(user_id, legacy_item_id="226001", currency="GBP", max_bid_minor=65000,
                       end_time=clock.now + timedelta(hours=3), lead_seconds=5, title="Brompton M6L",
                       current_price_minor=60000, converted_currency="USD", converted_price_minor=76923)
    model = SnipesModel(Reads(store, user_id), clock=clock)
    assert cell(model, 0, SnipeColumn.MAX) == "£650.00"
    assert cell(model, 0, SnipeColumn.PRICE) == "£600.00 ≈ $769.23"
    assert model.headerData(SnipeColumn.PRICE, QtCore.Qt.Orientation.Horizontal) == "Price now"


def _luminance(colour: QtGui.QColor) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())


def contrast(a: QtGui.QColor, b: QtGui.QColor) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _palette(base: str, text: str) -> QtGui.QPalette:
    palette = QtGui.QPalette()
    palette.setColor(QtGui.QPalette.ColorRole.Base, QtGui.QColor(base))
    palette.setColor(QtGui.QPalette.ColorRole.Text, QtGui.QColor(text))
    return palette


def test_outcomes_have_a_final_price_a_readable_colour_and_an_icon(
    qtbot: Any, store: Store, user_id: int, clock: FakeClock, monkeypatch: Any
) -> None:
    end = clock.now - timedelta(minutes=5)
    for item, status, final in (("1", SnipeStatus.WON, 18_750), ("2", SnipeStatus.LOST, 21_000),
                                ("3", SnipeStatus.FAILED, None), ("4", SnipeStatus.MISSED, None)):
        snipe = store.create_snipe(user_id, legacy_item_id=item, currency="GBP", max_bid_minor=20_000,
                                   end_time=end, lead_seconds=5, title=f"Item {item}", current_price_minor=15_000,
                                   converted_currency="USD", converted_price_minor=19_230)
        path = {SnipeStatus.WON: (SnipeStatus.SCHEDULED, SnipeStatus.PLACING, SnipeStatus.PLACED),
                SnipeStatus.LOST: (SnipeStatus.SCHEDULED, SnipeStatus.PLACING, SnipeStatus.PLACED)}.get(status, ())
        for step in path:
            store.set_status(snipe.id, step)
        store.set_status(snipe.id, status, final_price_minor=final)
    model = SnipesModel(Reads(store, user_id), clock=clock)
    by_title = {cell(model, r, SnipeColumn.ITEM): r for r in range(model.rowCount())}
    assert model.headerData(SnipeColumn.FINAL, QtCore.Qt.Orientation.Horizontal) == "Final price"
    # The final price with the "≈" at the rate eBay converted this listing's price: £187.50 at 1.282.
    assert cell(model, by_title["Item 1"], SnipeColumn.FINAL) == "£187.50 ≈ $240.38"
    assert cell(model, by_title["Item 3"], SnipeColumn.FINAL) == ""
    assert cell(model, by_title["Item 1"], SnipeColumn.PRICE) == "£150.00 ≈ $192.30"
    for name, palette in (("light", _palette("#ffffff", "#000000")), ("dark", _palette("#1e1e1e", "#ffffff"))):
        monkeypatch.setattr(QtGui.QGuiApplication, "palette", staticmethod(lambda palette=palette: palette))
        colours = set()
        for row in by_title.values():
            colour = cell(model, row, SnipeColumn.STATUS, QtCore.Qt.ItemDataRole.ForegroundRole)
            assert isinstance(colour, QtGui.QColor)
            ratio = contrast(colour, palette.color(QtGui.QPalette.ColorRole.Base))
            assert ratio >= 4.5, f"{cell(model, row, SnipeColumn.STATUS)} in {name}: {ratio:.2f}"
            colours.add(colour.name())
            icon = cell(model, row, SnipeColumn.STATUS, QtCore.Qt.ItemDataRole.DecorationRole)
            assert isinstance(icon, QtGui.QIcon)
            assert not icon.isNull()
        assert len(colours) == 4, "each outcome is told apart"
