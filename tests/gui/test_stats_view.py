"""The Statistics view: the record's figures in words and a painted chart, readable in light and dark, with
nothing clipped at 800×500, read on a worker thread only once the view is shown, and read again when a
snipe ends."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sniper_app.domain.money import Money
from sniper_app.domain.outcomes import OutcomeCode
from sniper_app.domain.stats import Ended, Record, record
from sniper_app.domain.status import SnipeStatus
from sniper_app.engine.bus import EventBus, SnipeStatusChanged
from sniper_app.engine.reads import Reads
from sniper_app.store import Store
from sniper_app.ui.bridge import EngineBridge
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets
from sniper_app.ui.stats_view import StatsView
from tests.gui.conftest import SCREENSHOT_DIR, seed
from tests.support.store import FakeClock


def _busy_record() -> Record:
    """Fourteen months of results in two currencies and every outcome: more than the view shows at once."""
    ended: list[Ended] = []
    start = datetime(2025, 9, 15, 12, tzinfo=UTC)
    for month in range(14):
        at = start + timedelta(days=31 * month)
        for n in range(month % 5 + 1):
            ended.append(Ended(at, OutcomeCode.WON, Money(10_000, "USD"), Money(7_250 + n, "USD"), 3.0 + n))
        ended.append(Ended(at, OutcomeCode.OUTBID, Money(5_000, "GBP"), Money(6_000, "GBP"), 0.8))
    ended += [Ended(start, code, Money(1_000, "EUR")) for code in OutcomeCode if code is not OutcomeCode.WON]
    return record(ended)


def _palette(dark: bool) -> QtGui.QPalette:
    palette = QtGui.QPalette()
    if dark:
        role = QtGui.QPalette.ColorRole
        for r, color in ((role.Window, "#202124"), (role.WindowText, "#e8eaed"), (role.Base, "#171717"),
                         (role.Text, "#e8eaed"), (role.Highlight, "#8ab4f8"), (role.Button, "#303134"),
                         (role.ButtonText, "#e8eaed")):
            palette.setColor(r, QtGui.QColor(color))
    else:
        palette = QtWidgets.QApplication.style().standardPalette()
    return palette


def _contrast(a: QtGui.QColor, b: QtGui.QColor) -> float:
    """WCAG's contrast ratio of two colours."""
    def lum(c: QtGui.QColor) -> float:
        def ch(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
        return 0.2126 * ch(c.redF()) + 0.7152 * ch(c.greenF()) + 0.0722 * ch(c.blueF())
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_nothing_is_clipped_at_800_by_500_and_the_bars_stand_out(qtbot: Any, dark: bool) -> None:
    busy = _busy_record()
    view = StatsView(lambda: busy)
    view.setPalette(_palette(dark))
    qtbot.addWidget(view)
    view.resize(800, 500)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.record is busy, timeout=5000)
    texts = [label.text() for label in view.labels()]
    assert view.saved_box.title() == "Saved against your maxima"
    wanted = {busy.saved["USD"].format(), busy.spent["USD"].format(), "Lost on a tie", "Price passed your maximum",
              "2–5 s", "100%", "0%"}
    assert wanted <= set(texts)
    for label in view.labels():
        shown = label.contentsRect().width()
        needed = label.minimumSizeHint().width() - (label.width() - shown) if label.wordWrap() else \
            label.fontMetrics().horizontalAdvance(label.text())
        assert shown >= needed, f"{label.text()!r} is clipped ({shown} < {needed})"
    chart = view.chart
    assert len(chart.rows) == 12  # the latest year; the tables count all fourteen months
    assert chart.width() >= chart.minimumSizeHint().width()
    assert chart.height() >= chart.minimumSizeHint().height()
    back = chart.palette().color(QtGui.QPalette.ColorRole.Window)
    won, lost = chart.colors()
    assert _contrast(won, back) >= 1.8
    assert _contrast(lost, back) >= 1.8
    assert _contrast(won, lost) >= 1.2
    image = view.grab().toImage()
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    view.grab().save(str(SCREENSHOT_DIR / f"statistics-{'dark' if dark else 'light'}.png"))
    # The painted bars are there: the won colour fills some pixels of the chart.
    top_left = chart.mapTo(view, chart.rect().topLeft())
    hits = sum(
        1 for x in range(top_left.x(), top_left.x() + chart.width(), 3)
        for y in range(top_left.y(), top_left.y() + chart.height(), 3)
        if image.pixelColor(x, y) == won
    )
    assert hits > 50


def test_an_empty_record_says_what_to_do(qtbot: Any) -> None:
    view = StatsView(lambda: record([]))
    qtbot.addWidget(view)
    view.resize(800, 500)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.record is not None, timeout=5000)
    assert view.summary.text().startswith("No ended snipes yet")
    assert not view.chart.isVisible()


@pytest.mark.usefixtures("isolated_dirs")
def test_reads_the_record_again_when_a_snipe_ends(qtbot: Any, tmp_path: Path) -> None:
    store = Store.open(tmp_path / "store")
    try:
        user = store.get_or_create_user()
        pk = int(store.create_snipe(int(user.id), legacy_item_id="555", currency="USD", max_bid_minor=5_000,
                                    end_time=datetime.now(UTC) + timedelta(minutes=5), lead_seconds=5.0).id)
        bus = EventBus()
        bridge = EngineBridge(bus)
        reads_done: list[Record] = []
        reads = Reads(store, int(user.id))

        def source() -> Record:
            reads_done.append(reads.record())
            return reads_done[-1]

        view = StatsView(source, bridge)
        qtbot.addWidget(view)
        view.show()
        qtbot.waitExposed(view)
        qtbot.waitUntil(lambda: view.record is not None, timeout=5000)
        assert view.record is not None
        assert view.record.total == 0
        for step in (SnipeStatus.SCHEDULED, SnipeStatus.PLACING, SnipeStatus.PLACED):
            store.set_status(pk, step)
            bus.publish(SnipeStatusChanged(snipe_id=pk, old=SnipeStatus.PENDING, new=step))
        qtbot.wait(50)
        assert len(reads_done) == 1  # not final yet: nothing to read
        store.set_status(pk, SnipeStatus.WON, final_price_minor=4_200)
        bus.publish(SnipeStatusChanged(snipe_id=pk, old=SnipeStatus.PLACED, new=SnipeStatus.WON))
        qtbot.waitUntil(lambda: view.record is not None and view.record.total == 1, timeout=5000)
        assert view.record.saved == {"USD": Money(800, "USD")}
        assert view.summary.text() == "1 ended snipe: 1 won, 0 lost."
        bridge.detach()
    finally:
        store.close()


def _gated(records: list[Record]) -> tuple[Callable[[], Record], threading.Event, list[int]]:
    """A record source that waits for its gate, returns ``records`` in turn, and notes each reading thread."""
    gate = threading.Event()
    readers: list[int] = []

    def source() -> Record:
        readers.append(threading.get_ident())
        assert gate.wait(10), "the gate was never opened"
        return records[min(len(readers), len(records)) - 1]

    return source, gate, readers


def _no_read_running() -> None:
    # A read started by mistake would be on the pool: let whatever is there finish before looking.
    assert QtCore.QThreadPool.globalInstance().waitForDone(5000)


def test_the_record_is_read_on_a_worker_while_the_view_says_counting(qtbot: Any) -> None:
    busy = _busy_record()
    source, gate, readers = _gated([busy])
    view = StatsView(source)
    qtbot.addWidget(view)
    view.resize(800, 500)
    _no_read_running()
    assert readers == []  # nothing is read, or built, before the view is first shown
    assert not view.built
    try:
        view.show()
        qtbot.waitExposed(view)
        qtbot.waitUntil(lambda: len(readers) == 1, timeout=5000)
        # The read waits on its gate, yet the view is shown and says what it is doing: it is not on this thread.
        assert readers[0] != threading.get_ident()
        assert view.summary.isVisible()
        assert view.summary.text() == "Counting your record…"
        assert not view.chart.isVisible()
        assert not view.saved_box.isVisible()
        assert view.record is None
        # And this thread goes on with its work meanwhile: a timer fires while the read is held.
        with qtbot.waitSignal(_ticker(view).timeout, timeout=3000):
            pass
        assert view.record is None
    finally:
        gate.set()
    qtbot.waitUntil(lambda: view.record is busy, timeout=5000)
    assert view.summary.text().startswith(f"{busy.total} ended snipes:")
    assert view.chart.isVisible()
    assert view.saved_box.isVisible()
    assert len(readers) == 1


def _ticker(parent: QtCore.QObject) -> QtCore.QTimer:
    timer = QtCore.QTimer(parent)
    timer.setSingleShot(True)
    timer.start(10)
    return timer


def test_a_snipe_ending_during_a_read_is_counted_by_one_more_read_after_it(qtbot: Any) -> None:
    first, busy = record([]), _busy_record()
    source, gate, readers = _gated([first, busy])
    bus = EventBus()
    bridge = EngineBridge(bus)
    view = StatsView(source, bridge)
    qtbot.addWidget(view)
    try:
        view.show()
        qtbot.waitExposed(view)
        qtbot.waitUntil(lambda: len(readers) == 1, timeout=5000)
        with qtbot.waitSignal(bridge.snipeStatusChanged, timeout=3000):
            bus.publish(SnipeStatusChanged(snipe_id=1, old=SnipeStatus.PLACED, new=SnipeStatus.WON))
        qtbot.waitUntil(lambda: not view._timer.isActive(), timeout=3000)
        assert len(readers) == 1  # one read at a time: the end waits for the running read
    finally:
        gate.set()
    qtbot.waitUntil(lambda: view.record is busy, timeout=5000)
    assert len(readers) == 2
    assert readers[1] != threading.get_ident()
    bridge.detach()


def test_a_failed_read_says_so_in_a_sentence(qtbot: Any) -> None:
    def broken() -> Record:
        raise OSError("disk I/O error")

    view = StatsView(broken)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.summary.text().startswith("Your record could not be read just now"), timeout=5000)
    assert view.record is None


def test_the_windows_statistics_tab_reads_once_when_first_shown_and_off_the_gui_thread(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed(store, user_id, clock)
    readers: list[int] = []
    real_record = Reads.record

    def noted(self: Reads) -> Record:
        readers.append(threading.get_ident())
        return real_record(self)

    monkeypatch.setattr(Reads, "record", noted)
    window = make_window()
    window.show()
    qtbot.waitExposed(window)
    _no_read_running()
    assert readers == []
    assert not window.stats_view.built
    window.tabs.setCurrentWidget(window.stats_view)
    qtbot.waitUntil(lambda: window.stats_view.record is not None, timeout=5000)
    assert len(readers) == 1
    assert readers[0] != threading.get_ident()
    assert window.stats_view.record == real_record(Reads(store, user_id))
