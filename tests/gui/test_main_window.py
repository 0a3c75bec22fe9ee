"""The main window as a user meets it: tabs and shortcuts, status bar, filters, export, state, pictures."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sniper_app.config import Settings
from sniper_app.domain.history import HistoryAction
from sniper_app.domain.status import SnipeStatus
from sniper_app.engine.bus import AccountStateChanged, EventBus, SnipeStatusChanged
from sniper_app.engine.reads import Reads
from sniper_app.store import Store
from sniper_app.store.watchlist import WatchItemData
from sniper_app.ui.models import SNIPEABLE_ROLE, HistoryColumn, SnipeColumn, WatchColumn
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets
from sniper_app.ui.thumbnails import ThumbnailCache
from tests.gui.conftest import SCREENSHOT_DIR, ImageServer, seed
from tests.support.store import FakeClock

Display = QtCore.Qt.ItemDataRole.DisplayRole
Decoration = QtCore.Qt.ItemDataRole.DecorationRole


def texts(model: QtCore.QAbstractItemModel, column: int) -> list[str]:
    return [model.data(model.index(r, column), Display) for r in range(model.rowCount())]


def test_window_title_tabs_shortcuts_and_status_bar(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock, bus: EventBus
) -> None:
    seed(store, user_id, clock)
    window = make_window()
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    assert window.windowTitle() == "Sniper"
    assert [window.tabs.tabText(n).replace("&", "") for n in range(3)] == ["Watch list", "Snipes", "History"]
    for key, tab in ((QtCore.Qt.Key.Key_3, 2), (QtCore.Qt.Key.Key_2, 1), (QtCore.Qt.Key.Key_1, 0)):
        qtbot.keyClick(window, key, QtCore.Qt.KeyboardModifier.ControlModifier)
        assert window.tabs.currentIndex() == tab

    assert window.environment_badge.text() == "DEMO"
    assert window.environment_badge.isVisibleTo(window)
    assert window.account_label.text() == "No eBay account linked"
    # The Technics fires at end (3m15s) − lead (6 s).
    assert window.next_snipe_label.text() == "Next snipe: Technics SL-1200MK2 turntable in 3m 09s"
    clock.advance(seconds=9)
    with qtbot.waitSignal(window.countdown.timeout, timeout=3000):
        pass
    assert window.next_snipe_label.text() == "Next snipe: Technics SL-1200MK2 turntable in 3m 00s"

    store.link_ebay_account(user_id, ebay_username="vintage_hunter", ebay_user_id="u-1")
    bus.publish(AccountStateChanged(username="vintage_hunter", state="linked"))
    qtbot.waitUntil(lambda: window.account_label.text() == "eBay: vintage_hunter", timeout=2000)

    # Every control a user operates has a name a screen reader can speak (Qt's internal parts aside).
    kinds = (
        QtWidgets.QPushButton,
        QtWidgets.QCheckBox,
        QtWidgets.QComboBox,
        QtWidgets.QAbstractSpinBox,
        QtWidgets.QTableView,
        QtWidgets.QTabWidget,
    )
    controls = [w for kind in kinds for w in window.findChildren(kind)]
    controls += [w for w in window.findChildren(QtWidgets.QLineEdit) if not isinstance(w.parent(), kinds)]
    assert len(controls) >= 10
    for widget in controls:
        assert widget.accessibleName(), widget


def test_production_shows_no_badge(make_window: Callable[..., Any]) -> None:
    window = make_window(Settings(ebay_env="production"))
    assert window.environment_badge.isHidden()
    sandbox = make_window(Settings(ebay_env="sandbox"))
    assert sandbox.environment_badge.text() == "SANDBOX"


def test_engine_event_updates_the_snipes_view_row(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock, bus: EventBus
) -> None:
    snipe_id = seed(store, user_id, clock)["snipes"]["126003"]
    window = make_window()
    proxy = window.snipes_proxy

    def omega_status() -> str:
        row = texts(proxy, SnipeColumn.ITEM).index("Omega Speedmaster Professional 145.022")
        return str(proxy.data(proxy.index(row, SnipeColumn.STATUS), Display))

    assert omega_status() == "Pending"
    store.set_status(snipe_id, SnipeStatus.SCHEDULED)
    bus.publish(SnipeStatusChanged(snipe_id=snipe_id, old=SnipeStatus.PENDING, new=SnipeStatus.SCHEDULED))
    qtbot.waitUntil(lambda: omega_status() == "Scheduled", timeout=2000)
    # The same event brings its SCHEDULE entry to the top of the History view.
    qtbot.waitUntil(
        lambda: window.history_model.data(window.history_model.index(0, HistoryColumn.ACTION), Display) == "Scheduled",
        timeout=2000,
    )


def test_countdown_timer_repaints_only_time_left(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock
) -> None:
    seed(store, user_id, clock)
    window = make_window()
    seen: list[tuple[str, int, int, tuple[int, ...]]] = []
    quiet: list[str] = []
    # The watch list sorts itself and repaints from the model; the snipes' repaint comes from their sorting
    # proxy (a countdown never changes the order), or the proxy would sort every counting row each second.
    window.watch_model.dataChanged.connect(
        lambda tl, br, roles: seen.append(("watch", tl.column(), br.column(), tuple(roles)))
    )
    window.snipes_proxy.dataChanged.connect(
        lambda tl, br, roles: seen.append(("snipes", tl.column(), br.column(), tuple(roles)))
    )
    window.snipes_model.dataChanged.connect(lambda *_args: quiet.append("snipes"))
    with qtbot.waitSignal(window.countdown.timeout, timeout=3000):
        pass
    assert sorted(set(seen)) == [
        ("snipes", SnipeColumn.TIME_LEFT, SnipeColumn.TIME_LEFT, (int(Display),)),
        ("watch", WatchColumn.TIME_LEFT, WatchColumn.TIME_LEFT, (int(Display),)),
    ]
    assert quiet == []


def test_state_is_remembered_across_runs(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock
) -> None:
    seed(store, user_id, clock)
    first = make_window()
    first.resize(720, 480)  # within the offscreen screen (800x600)
    first.tabs.setCurrentIndex(first.SNIPES_TAB)
    first.snipes_view.sortByColumn(SnipeColumn.MAX, QtCore.Qt.SortOrder.DescendingOrder)
    first.snipes_view.horizontalHeader().resizeSection(SnipeColumn.GROUP, 177)
    first.show_finished_box.setChecked(False)
    first.close()

    second = make_window()
    assert second.tabs.currentIndex() == second.SNIPES_TAB
    header = second.snipes_view.horizontalHeader()
    assert header.sortIndicatorSection() == SnipeColumn.MAX
    assert header.sortIndicatorOrder() == QtCore.Qt.SortOrder.DescendingOrder
    assert header.sectionSize(SnipeColumn.GROUP) == 177
    assert second.size() == QtCore.QSize(720, 480)
    assert not second.show_finished_box.isChecked()
    # The view really is in that order once shown (it sorts as it first shows), with the cancelled snipe hidden.
    second.show()
    qtbot.waitExposed(second)
    assert texts(second.snipes_proxy, SnipeColumn.MAX) == ["$3,500.00", "$1,500.00", "$450.00"]


def test_history_filter_bar_narrows_and_resets(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock
) -> None:
    seed(store, user_id, clock)
    clock.advance(days=3)
    store.add_event(HistoryAction.NOTE, message="three days later")
    window = make_window()
    bar = window.history_filter_bar
    model = window.history_model
    everything = model.rowCount()
    qtbot.waitUntil(lambda: bar.count_label.text() == f"{everything} events", timeout=3000)

    bar.action_combo.setCurrentIndex(bar.action_combo.findData(HistoryAction.CREATE.value))
    assert set(texts(model, HistoryColumn.ACTION)) == {"Created"}
    assert model.rowCount() == 4
    qtbot.waitUntil(lambda: bar.count_label.text() == "4 events", timeout=3000)

    bar.action_combo.setCurrentIndex(0)
    qtbot.keyClicks(bar.search_edit, "leica")
    qtbot.waitUntil(lambda: model.rowCount() < everything, timeout=2000)  # debounced, then applied
    assert all("Leica" in t for t in texts(model, HistoryColumn.ITEM))

    bar.search_edit.clear()
    today = clock.now.astimezone().date()
    bar.since_edit.setDate(QtCore.QDate(today.year, today.month, today.day))
    assert texts(model, HistoryColumn.MESSAGE) == ["three days later"]
    bar.since_edit.setDate(bar.since_edit.minimumDate())
    bar.until_edit.setDate(QtCore.QDate(today.year, today.month, today.day).addDays(-1))
    qtbot.waitUntil(lambda: model.rowCount() == everything - 1, timeout=2000)


def test_history_counter_follows_events_as_they_arrive_and_speaks_good_english(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock, bus: EventBus
) -> None:
    seed(store, user_id, clock)
    store.add_event(HistoryAction.NOTE, message="a lone note")
    window = make_window()
    bar = window.history_filter_bar
    model = window.history_model
    qtbot.keyClicks(bar.search_edit, "lone note")
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=2000)
    qtbot.waitUntil(lambda: bar.count_label.text() == "1 event", timeout=3000)

    # Events arrive while the filter stays as it is: the counter follows without a filter change.
    for n in range(2):
        store.add_event(HistoryAction.NOTE, message=f"another lone note {n}")
    bus.publish(AccountStateChanged(username="vintage_hunter", state="linked"))
    qtbot.waitUntil(lambda: model.rowCount() == 3, timeout=3000)
    qtbot.waitUntil(lambda: bar.count_label.text() == "3 events", timeout=3000)

    bar.search_edit.clear()
    qtbot.waitUntil(lambda: bar.count_label.text() == f"{store.count_history():,} events", timeout=3000)


def test_history_status_filter_keeps_events_of_snipes_in_that_status(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock
) -> None:
    seed(store, user_id, clock)
    window = make_window()
    bar = window.history_filter_bar
    model = window.history_model
    assert bar.status_combo.accessibleName() == "Snipe status filter"
    assert bar.status_combo.currentText() == "All statuses"

    bar.status_combo.setCurrentIndex(bar.status_combo.findText("Cancelled"))
    # The Nikon's whole story, its CREATE (recorded while pending) included; nothing of the others.
    assert texts(model, HistoryColumn.ACTION) == ["Cancelled", "Created"]
    assert set(texts(model, HistoryColumn.ITEM)) == {"Nikon F2 Photomic body"}
    qtbot.waitUntil(lambda: bar.count_label.text() == "2 events", timeout=3000)

    bar.status_combo.setCurrentIndex(bar.status_combo.findData(SnipeStatus.PENDING.value))
    assert set(texts(model, HistoryColumn.ITEM)) == {
        "Omega Speedmaster Professional 145.022",
        "Technics SL-1200MK2 turntable",
    }
    bar.action_combo.setCurrentIndex(bar.action_combo.findData(HistoryAction.CREATE.value))
    assert texts(model, HistoryColumn.ACTION) == ["Created", "Created"]
    bar.status_combo.setCurrentIndex(bar.status_combo.findData(SnipeStatus.WON.value))
    assert model.rowCount() == 0
    qtbot.waitUntil(lambda: bar.count_label.text() == "0 events", timeout=3000)
    bar.status_combo.setCurrentIndex(0)
    assert model.rowCount() == 4  # every CREATE again


def test_export_csv_writes_the_filtered_history(
    make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock, tmp_path: Path
) -> None:
    ids = seed(store, user_id, clock)["snipes"]
    window = make_window()
    out = tmp_path / "history.csv"
    assert window.export_history(out) == window.history_model.count()

    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["message"] == '\'=HYPERLINK("http://evil")'  # a formula is never run by a spreadsheet
    assert rows[0]["title"] == "'+sum(A1)"
    creates = [r for r in rows if r["action"] == "CREATE"]
    assert {(r["item_id"], r["amount"], r["currency"]) for r in creates} == {
        ("126001", "1500.00", "USD"),
        ("126003", "3500.00", "USD"),
        ("126004", "450.00", "USD"),
        ("200777", "300.00", "USD"),
    }
    assert {r["snipe_id"] for r in creates} == {str(v) for v in ids.values()}
    assert rows[0]["time_utc"].endswith("Z")

    bar = window.history_filter_bar
    bar.action_combo.setCurrentIndex(bar.action_combo.findData(HistoryAction.CANCEL.value))
    assert window.export_history(out) == 1
    with out.open(encoding="utf-8-sig", newline="") as handle:
        only = list(csv.DictReader(handle))
    assert [(r["action"], r["item_id"], r["status"]) for r in only] == [("CANCEL", "200777", "CANCELLED")]


def test_thumbnails_load_in_the_background_and_come_from_disk_next_time(
    qtbot: Any, store: Store, user_id: int, clock: FakeClock, image_server: ImageServer, tmp_path: Path
) -> None:
    from sniper_app.ui.models import WatchListModel

    seed(store, user_id, clock, image_base=image_server.base)
    store.upsert_watch_items(user_id, [], clock.now)  # replace with one picture that exists, one that does not
    from sniper_app.store import WatchItemData

    store.upsert_watch_items(
        user_id,
        [
            WatchItemData(
                legacy_item_id="126001",
                title="Leica",
                image_url=f"{image_server.base}/img/126001.png",
                end_time=clock.now + timedelta(hours=1),
            ),
            WatchItemData(
                legacy_item_id="999",
                title="Gone",
                image_url=f"{image_server.base}/img/missing.png",
                end_time=clock.now + timedelta(hours=2),
            ),
        ],
        clock.now,
    )
    cache_dir = tmp_path / "thumbs"
    cache = ThumbnailCache(cache_dir)
    model = WatchListModel(Reads(store, user_id), thumbnails=cache, clock=clock)
    leica = model.index(0, WatchColumn.THUMBNAIL)
    assert model.data(leica, Decoration).cacheKey() == cache.placeholder.cacheKey()
    with qtbot.waitSignal(model.dataChanged, timeout=5000) as blocker:
        model.data(model.index(1, WatchColumn.THUMBNAIL), Decoration)
    assert blocker.args[0].row() == 0
    assert blocker.args[2] == [int(Decoration)]
    loaded = model.data(leica, Decoration)
    assert loaded.cacheKey() != cache.placeholder.cacheKey()
    assert loaded.toImage().pixelColor(24, 24) == QtGui.QColor("#c62828")
    assert loaded.width() == 48
    assert loaded.height() == 48
    qtbot.waitUntil(lambda: not cache.is_pending(f"{image_server.base}/img/missing.png"), timeout=5000)
    missing = model.data(model.index(1, WatchColumn.THUMBNAIL), Decoration)
    assert missing.cacheKey() == cache.placeholder.cacheKey()
    assert len(list(cache_dir.iterdir())) == 1

    requests = len(image_server.requests)
    fresh = ThumbnailCache(cache_dir)
    again = fresh.pixmap(f"{image_server.base}/img/126001.png")
    assert again.toImage().pixelColor(24, 24) == QtGui.QColor("#c62828")
    assert len(image_server.requests) == requests  # from disk: no network


def test_screenshots_of_each_view(
    qtbot: Any,
    make_window: Callable[..., Any],
    store: Store,
    user_id: int,
    clock: FakeClock,
    image_server: ImageServer,
) -> None:
    ids = seed(store, user_id, clock, image_base=image_server.base)["snipes"]
    store.link_ebay_account(user_id, ebay_username="vintage_hunter", ebay_user_id="u-1")
    leica = ids["126001"]
    store.set_status(leica, SnipeStatus.PLACING)
    store.set_status(
        leica,
        SnipeStatus.PLACED,
        sent_at=clock.now + timedelta(hours=2, minutes=12, seconds=51),
        latency_ms=180.0,
        ebay_message="Your bid is the highest",
    )
    window = make_window()
    window.resize(1100, 520)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: all(not window.thumbnails.is_pending(u) for u in list(window.thumbnails._pending)))
    qtbot.waitUntil(lambda: len(image_server.requests) >= 5, timeout=5000)
    qtbot.waitUntil(lambda: not window.thumbnails._pending, timeout=5000)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for tab, name in ((0, "watch_list"), (1, "snipes"), (2, "history")):
        window.tabs.setCurrentIndex(tab)
        qtbot.wait(1)  # let the tab switch paint (an event loop turn, not a timing assumption)
        path = SCREENSHOT_DIR / f"{name}.png"
        assert window.grab().save(str(path))
        image = QtGui.QImage(str(path))
        assert image.width() == window.width()
        assert image.height() == window.height()


def _many_events(store: Store, count: int) -> None:
    db = store.database
    rows = [(1_900_000_000_000_000 + n, "SYNC", str(700_000 + n % 50), f"lot {n % 50}", f"event {n}",
             2_000_000_000_000_000) for n in range(count)]
    with db.atomic("IMMEDIATE"):
        db.raw_connection().executemany(
            "INSERT INTO history_event (at, action, legacy_item_id, title, message, expires_at) VALUES (?,?,?,?,?,?)",
            rows,
        )


def test_export_runs_on_a_worker_and_reports_when_done(
    qtbot: Any, make_window: Callable[..., Any], store: Store, tmp_path: Path
) -> None:
    _many_events(store, 30_000)
    window = make_window()
    out = tmp_path / "all.csv"
    window.start_export(out)
    qtbot.waitUntil(lambda: "Exported" in window.statusBar().currentMessage(), timeout=60_000)
    assert window.statusBar().currentMessage() == f"Exported {30_000:,} events to {out}"
    with out.open(encoding="utf-8-sig", newline="") as handle:
        assert sum(1 for _ in csv.DictReader(handle)) == 30_000


def test_a_cancelled_export_leaves_nothing_behind(
    qtbot: Any, make_window: Callable[..., Any], store: Store, tmp_path: Path
) -> None:
    _many_events(store, 60_000)
    window = make_window()
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "all.csv"
    window.start_export(out)
    window.cancel_export()  # as the progress dialog's Cancel button does
    qtbot.waitUntil(lambda: "cancelled" in window.statusBar().currentMessage(), timeout=60_000)
    assert window.statusBar().currentMessage() == "Export cancelled; nothing was written."
    assert list(folder.iterdir()) == []  # neither the file nor its partial temporary


def test_a_converted_price_is_shown_whole_in_the_watch_list_and_snipes(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock
) -> None:
    seed(store, user_id, clock)
    # A narrow price column saved by an earlier run must not clip the wider converted text either.
    first = make_window()
    first.watch_view.horizontalHeader().resizeSection(WatchColumn.PRICE, 60)
    first.close()
    store.upsert_watch_items(user_id, [WatchItemData(
        legacy_item_id="284460198823", title="Roberts R200 valve radio", currency="GBP",
        current_price_minor=1_234_520, bid_count=3, end_time=clock.now + timedelta(hours=1),
        converted_currency="USD", converted_price_minor=1_582_718,
    )], clock.now)
    store.create_snipe(user_id, legacy_item_id="284460198823", currency="GBP", max_bid_minor=1_500_000,
                       end_time=clock.now + timedelta(hours=1), lead_seconds=6.0, title="Roberts R200",
                       current_price_minor=1_234_520, converted_currency="USD", converted_price_minor=1_582_718)
    window = make_window()
    window.show()
    qtbot.waitExposed(window)

    def clipped(view: QtWidgets.QTableView, model: QtCore.QAbstractItemModel, column: int) -> list[str]:
        width = view.horizontalHeader().sectionSize(column)
        metrics = view.fontMetrics()
        cells = [str(model.data(model.index(r, column), Display) or "") for r in range(model.rowCount())]
        # A cell needs its text's width plus the item's text margin on both sides (as Qt's delegate lays it out).
        margin = view.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1
        return [text for text in cells if metrics.horizontalAdvance(text) + 2 * margin > width]

    cells = texts(window.watch_model, WatchColumn.PRICE)
    assert "£12,345.20 ≈ $15,827.18" in cells
    assert clipped(window.watch_view, window.watch_model, WatchColumn.PRICE) == []
    window.tabs.setCurrentIndex(window.SNIPES_TAB)  # a view is measured as it is first shown
    assert clipped(window.snipes_view, window.snipes_proxy, SnipeColumn.MAX) == []
    assert clipped(window.snipes_view, window.snipes_proxy, SnipeColumn.PRICE) == []
    assert "£12,345.20 ≈ $15,827.18" in texts(window.snipes_proxy, SnipeColumn.PRICE)


def test_history_shows_the_conversion_of_the_day_whole_beside_the_listings_amount(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock
) -> None:
    seed(store, user_id, clock)
    # A narrow Amount column saved by an earlier run must not clip the wider converted text.
    first = make_window()
    first.history_view.horizontalHeader().resizeSection(HistoryColumn.AMOUNT, 40)
    first.close()
    snipe = store.create_snipe(
        user_id, legacy_item_id="284460198823", currency="GBP", max_bid_minor=1_500_000,
        end_time=clock.now + timedelta(hours=1), lead_seconds=6.0, title="Roberts R200",
        current_price_minor=1_234_520, converted_currency="USD", converted_price_minor=1_582_718,
    )
    window = make_window()
    window.show()
    qtbot.waitExposed(window)
    window.tabs.setCurrentIndex(2)
    model, view = window.history_model, window.history_view
    qtbot.waitUntil(lambda: model.rowCount() > 0, timeout=3000)
    cells = texts(model, HistoryColumn.AMOUNT)
    # £15,000.00 at the rate £12,345.20 = $15,827.18 on the day the snipe was made.
    assert "£15,000.00 ≈ $19,230.77" in cells
    width = view.horizontalHeader().sectionSize(HistoryColumn.AMOUNT)
    margin = view.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1
    assert all(view.fontMetrics().horizontalAdvance(text) + 2 * margin <= width for text in cells if text)

    # eBay's rate moves later: the event keeps the conversion it was shown with, new events get the new one.
    store.update_fields(snipe.id, converted_price_minor=1_700_000)
    store.update_snipe(snipe.id, max_bid_minor=1_600_000)
    window.history_model.reload()
    qtbot.waitUntil(lambda: "£16,000.00 ≈ $22,032.85" in texts(model, HistoryColumn.AMOUNT), timeout=3000)
    assert "£15,000.00 ≈ $19,230.77" in texts(model, HistoryColumn.AMOUNT)
    # Events with nothing converted show just the amount.
    assert any(text.startswith("$") and "≈" not in text for text in texts(model, HistoryColumn.AMOUNT))


def test_a_status_message_is_read_whole_and_the_status_comes_back_after(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock
) -> None:
    seed(store, user_id, clock)
    window = make_window()
    window.resize(720, 480)
    window.show()
    qtbot.waitExposed(window)
    bar = window.statusBar()
    message = "Snipe on “Roberts Revival DAB radio, duck egg blue, boxed” saved."
    toast = window.message_toast

    bar.showMessage(message, 300)
    # The toast above the bar holds the whole sentence; the status fields stay where they are.
    qtbot.waitUntil(toast.isVisible, timeout=2000)
    assert toast.label.text() == message
    assert toast.label.heightForWidth(toast.label.width()) <= toast.label.height()
    assert bar.toolTip() == message
    assert window.next_snipe_label.isVisible()
    assert window.next_snipe_label.text().startswith("Next snipe: ")
    qtbot.waitUntil(lambda: not toast.isVisible(), timeout=3000)
    assert bar.toolTip() == ""


def test_the_snipes_item_column_takes_the_room_and_timing_stays_compact(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock
) -> None:
    seed(store, user_id, clock)
    window = make_window()
    window.tabs.setCurrentIndex(window.SNIPES_TAB)
    window.resize(1600, 1000)
    window.show()
    qtbot.waitExposed(window)
    header = window.snipes_view.horizontalHeader()
    qtbot.waitUntil(lambda: header.sectionSize(SnipeColumn.ITEM) > 500, timeout=3000)
    widths = {column: header.sectionSize(column) for column in SnipeColumn}
    assert max(widths, key=lambda c: widths[c]) == SnipeColumn.ITEM
    assert widths[SnipeColumn.TIMING] <= 200
    # Every title of the seed is shown whole at this width.
    view = window.snipes_view
    for row in range(window.snipes_proxy.rowCount()):
        wanted = view.sizeHintForIndex(window.snipes_proxy.index(row, SnipeColumn.ITEM)).width()
        assert wanted <= widths[SnipeColumn.ITEM]
    assert window.snipes_proxy.headerData(SnipeColumn.FINAL, QtCore.Qt.Orientation.Horizontal) == "Final price"


def test_the_watch_list_shows_each_snipe_and_its_button_edits_it_or_says_ended(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock, bus: EventBus
) -> None:
    from sniper_app.ui.watch_list_model import SNIPE_ID_ROLE

    ids = seed(store, user_id, clock)["snipes"]
    window = make_window()
    model = window.watch_model
    rows = {model.row(r).legacy_item_id: r for r in range(model.rowCount())}

    def shown(item: str, column: int, role: Any = Display) -> Any:
        return model.data(model.index(rows[item], column), role)

    assert model.headerData(WatchColumn.MY_SNIPE, QtCore.Qt.Orientation.Horizontal) == "My snipe"
    assert shown("126001", WatchColumn.MY_SNIPE) == "Scheduled · max $1,500.00"
    assert shown("126001", WatchColumn.SNIPE) == "Edit…"
    assert shown("126001", WatchColumn.SNIPE, SNIPE_ID_ROLE) == ids["126001"]
    assert shown("126002", WatchColumn.MY_SNIPE) == ""
    assert shown("126002", WatchColumn.SNIPE) == "Snipe…"
    assert shown("126002", WatchColumn.SNIPE, SNIPE_ID_ROLE) is None

    # "Edit…" on a sniped row opens Edit for that snipe, not a second Add.
    edits: list[int] = []
    window.edit_snipe = edits.append  # the seed's short item numbers are not ones the Edit dialog accepts
    window._snipe_from_watch(model.index(rows["126001"], WatchColumn.SNIPE))
    assert edits == [ids["126001"]]
    assert window.dialog("add") is None

    # The engine moves the snipe on: the row follows.
    for status in (SnipeStatus.PLACING, SnipeStatus.PLACED):
        store.set_status(ids["126001"], status)
    bus.publish(SnipeStatusChanged(snipe_id=ids["126001"], old=SnipeStatus.PLACING, new=SnipeStatus.PLACED))
    qtbot.waitUntil(lambda: shown("126001", WatchColumn.MY_SNIPE) == "Bid placed · max $1,500.00", timeout=3000)
    assert shown("126001", WatchColumn.SNIPE) == "Details…", "a fired snipe cannot be edited, only followed"
    window._snipe_from_watch(model.index(rows["126001"], WatchColumn.SNIPE))
    assert edits == [ids["126001"]]
    assert window.dialog(f"detail:{ids['126001']}") is not None

    # The Technics ends while shown: its button gives way to "Ended", and eBay is asked again for its figures.
    ended: list[list[str]] = []
    model.itemsEnded.connect(ended.append)
    synced: list[bool] = []
    window.ended_refresh_ms = 10
    window.runner.submit = lambda coro, **_kw: (coro.close(), synced.append(True))  # eBay itself is not here
    window.service.linked_username = lambda: "vintage_hunter"
    clock.advance(minutes=4)
    window.tick()
    assert ended == [["126004"]]
    qtbot.waitUntil(lambda: synced == [True], timeout=2000)
    assert shown("126004", WatchColumn.SNIPE) == "Ended"
    assert shown("126004", WatchColumn.SNIPE, SNIPEABLE_ROLE) is False
    assert shown("126004", WatchColumn.PRICE, QtCore.Qt.ItemDataRole.FontRole).italic()
    assert "last sync" in shown("126004", WatchColumn.PRICE, QtCore.Qt.ItemDataRole.ToolTipRole)
    window._snipe_from_watch(model.index(rows["126004"], WatchColumn.SNIPE))
    assert window.dialog("add") is None
    assert "has ended" in window.statusBar().currentMessage()
    window.tick()
    assert ended == [["126004"]], "an end is told once"


def test_the_snipes_view_shows_the_exposure_and_follows_snipe_changes(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock, bus: EventBus
) -> None:
    snipes = seed(store, user_id, clock)["snipes"]
    window = make_window(Settings(ebay_env="simulator", spending_cap="6000.00 USD"))
    # The group "win 1 of these" counts its one active member; the cancelled one counts for nothing.
    assert window.exposure_label.text() == (
        "If every snipe wins: $5,450.00 ($550.00 left of the $6,000.00 cap)"
    )
    store.cancel(snipes["126003"])
    bus.publish(SnipeStatusChanged(snipe_id=snipes["126003"], old=SnipeStatus.PENDING, new=SnipeStatus.CANCELLED))
    qtbot.waitUntil(lambda: window.exposure_label.text() == (
        "If every snipe wins: $1,950.00 ($4,050.00 left of the $6,000.00 cap)"), timeout=2000)
