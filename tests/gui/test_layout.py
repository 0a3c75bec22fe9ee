"""The window and its dialogs at a small size, with a large font and under a dark palette: nothing is cut,
nothing overlaps, every message reads, and what the status bar says fits in it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from sniper_app.domain.money import Money
from sniper_app.domain.status import SnipeStatus
from sniper_app.engine.service import ClockState, ItemPreview
from sniper_app.store import Store
from sniper_app.ui import window_status_bar
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets
from sniper_app.ui.snipe_form import Field
from sniper_app.ui.widgets import (
    ERROR_STYLE,
    LINK_TONE,
    NOTE_STYLE,
    OK_STYLE,
    WARNING_STYLE,
    contrast,
    message_label,
    tone_colour,
)
from sniper_app.ui.window_status_bar import TailLabel
from tests.gui.conftest import seed
from tests.support.store import FakeClock
from tests.support.wait import wait_until_async

LONG_TITLE = ("LEGO Star Wars Ultimate Collector Series 75192 Millennium Falcon (complete, sealed box, "
              "with minifigures and instructions)")


def _light() -> QtGui.QPalette:
    palette = QtGui.QPalette(QtGui.QColor("#efefef"))
    palette.setColor(QtGui.QPalette.ColorRole.WindowText, QtGui.QColor("#000000"))
    return palette


def _dark() -> QtGui.QPalette:
    palette = QtGui.QPalette(QtGui.QColor("#353535"))
    for role, colour in ((QtGui.QPalette.ColorRole.WindowText, "#ffffff"), (QtGui.QPalette.ColorRole.Text, "#ffffff"),
                         (QtGui.QPalette.ColorRole.Base, "#2a2a2a"), (QtGui.QPalette.ColorRole.Link, "#2a82da")):
        palette.setColor(role, QtGui.QColor(colour))
    return palette


@pytest.fixture
def idle_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop that is set but never run: what the dialogs submit to it is made, then cancelled
    (nothing in these tests needs eBay to answer)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        for task in asyncio.all_tasks(loop):
            task.cancel()
        loop.run_until_complete(asyncio.sleep(0))
        asyncio.set_event_loop(None)
        loop.close()


@pytest.fixture
def large_font(qapp: QtWidgets.QApplication) -> Iterator[QtGui.QFont]:
    """The application's font at one and a half times its size, for the test's length."""
    before = qapp.font()
    font = QtGui.QFont(before)
    font.setPointSizeF(before.pointSizeF() * 1.5)
    qapp.setFont(font)
    try:
        yield font
    finally:
        qapp.setFont(before)


def _fit_problems(root: QtWidgets.QWidget) -> list[str]:
    """Visible controls of ``root`` that overlap one another, and labels too small for their text."""
    kinds = (QtWidgets.QLabel, QtWidgets.QLineEdit, QtWidgets.QAbstractButton, QtWidgets.QComboBox,
             QtWidgets.QAbstractSpinBox)
    inner = (QtWidgets.QComboBox, QtWidgets.QAbstractSpinBox)
    widgets = []
    for widget in root.findChildren(QtWidgets.QWidget):
        if not isinstance(widget, kinds) or not widget.isVisibleTo(root) or widget.isWindow():
            continue
        parent = widget.parentWidget()
        if any(isinstance(p, inner) for p in _ancestors(widget, root)) or parent is None:
            continue
        # What shows of it: a control scrolled out of a scroll area's viewport is not in anyone's way.
        shown = widget.visibleRegion().boundingRect()
        if shown.isEmpty():
            continue
        widgets.append((widget, shown.translated(widget.mapTo(root, QtCore.QPoint(0, 0)))))
    problems = []
    for n, (a, ra) in enumerate(widgets):
        for b, rb in widgets[n + 1:]:
            if a in _ancestors(b, root) or b in _ancestors(a, root):
                continue
            overlap = ra.intersected(rb)
            if overlap.width() > 1 and overlap.height() > 1:
                problems.append(f"{_name(a)} overlaps {_name(b)}")
        if isinstance(a, QtWidgets.QLabel) and a.text():
            if a.wordWrap():
                if a.heightForWidth(a.width()) > a.height() + 1:
                    problems.append(f"{_name(a)} needs {a.heightForWidth(a.width())} px, has {a.height()}")
            elif a.minimumSizeHint().width() > a.width() + 1 or a.minimumSizeHint().height() > a.height() + 1:
                problems.append(f"{_name(a)} needs {a.minimumSizeHint()}, has {a.size()}")
        # A check box or button says its words on one line: narrower than they need, they are cut.
        if (isinstance(a, QtWidgets.QCheckBox | QtWidgets.QRadioButton | QtWidgets.QPushButton) and a.text()
                and a.minimumSizeHint().width() > a.width() + 1):
            problems.append(f"{_name(a)} needs {a.minimumSizeHint().width()} px, has {a.width()}")
    return problems


def _ancestors(widget: QtWidgets.QWidget, root: QtWidgets.QWidget) -> list[QtWidgets.QWidget]:
    found = []
    parent = widget.parentWidget()
    while parent is not None and parent is not root:
        found.append(parent)
        parent = parent.parentWidget()
    return found


def _name(widget: QtWidgets.QWidget) -> str:
    text = getattr(widget, "text", lambda: "")()
    return f"{type(widget).__name__}({widget.objectName() or str(text)[:30]!r})"


def _at_smallest(dialog: QtWidgets.QWidget, qtbot: Any) -> None:
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.wait(50)
    dialog.resize(1, 1)  # clamped to the dialog's minimum
    qtbot.wait(50)


# ------------------------------------------------------------------------------------------ status bar


def _bar_problems(window: Any) -> list[str]:
    """Status-bar fields cut, run off the bar or overlapping: each field paints one of its own forms whole
    (or its full text with the middle elided, the tail kept), in the width it was given."""
    bar = window.statusBar()
    shown = [w for w in bar.findChildren(QtWidgets.QWidget, options=QtCore.Qt.FindChildOption.FindDirectChildrenOnly)
             if w.isVisible() and not isinstance(w, QtWidgets.QSizeGrip)]
    problems = []
    for widget in shown:
        if widget.geometry().right() >= bar.width():
            problems.append(f"{_name(widget)} runs off the bar")
        if isinstance(widget, TailLabel):
            painted = widget.shown_text()
            room = widget.contentsRect().width()
            if widget.fontMetrics().horizontalAdvance(painted) > room:
                problems.append(f"{painted!r} is cut to {room} px")
            tail = painted.rsplit("…", 1)[1] if "…" in painted else ""
            whole = painted in widget.forms or bool(tail and widget.forms[0].endswith(tail))
            if not whole and not (painted == "" and widget.droppable and widget.level >= len(widget.forms)):
                problems.append(f"{painted!r} is none of {widget.forms}")
            if widget.width() + 1 < widget.level_width(widget.level):
                problems.append(f"{_name(widget)} asked {widget.level_width(widget.level)} px, has {widget.width()}")
        elif (isinstance(widget, QtWidgets.QLabel) and widget.text()
              and widget.minimumSizeHint().width() > widget.width() + 1):
                problems.append(f"{_name(widget)} needs {widget.minimumSizeHint().width()} px, has {widget.width()}")
    for n, a in enumerate(shown):
        for b in shown[n + 1:]:
            overlap = a.geometry().intersected(b.geometry())
            if overlap.width() > 0 and a.width() and b.width():
                problems.append(f"{_name(a)} overlaps {_name(b)}")
    return problems


def _settled_bar(qtbot: Any, window: Any) -> list[str]:
    """The bar's problems once its layout has caught up with the last change of text or width."""
    bar = window.statusBar()
    bar.layout().activate()
    QtWidgets.QApplication.processEvents()
    # A timeout is no failure here: the problems themselves are the caller's assertion message.
    with contextlib.suppress(qtbot.TimeoutError):
        qtbot.waitUntil(lambda: not _bar_problems(window), timeout=2000)
    return _bar_problems(window)


def _scheduled(store: Store, user_id: int, clock: FakeClock, *, item: str = "399001", title: str = LONG_TITLE,
               currency: str = "USD", maximum: int = 500_00, left: timedelta = timedelta(minutes=1, seconds=31),
               status: SnipeStatus = SnipeStatus.SCHEDULED) -> int:
    snipe = store.create_snipe(user_id, legacy_item_id=item, currency=currency, max_bid_minor=maximum,
                               end_time=clock.now + left, lead_seconds=6.0, title=title)
    if status is not SnipeStatus.PENDING:
        store.set_status(snipe.id, status)
    return int(snipe.id)


def _measured_clock(window: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    state = ClockState(synced=True, offset_s=0.012, latency_s=0.002, age_s=3, server="127.0.0.1:123",
                       last_error=None)
    monkeypatch.setattr(window.service, "clock_state", lambda: state)


@pytest.mark.parametrize("width", [None, 800])
def test_the_status_bar_elides_the_title_never_the_countdown(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock, width: int | None
) -> None:
    _scheduled(store, user_id, clock)
    window = make_window()
    if width is not None:
        window.resize(width, 500)
    window.show()
    qtbot.waitExposed(window)
    window.tick()
    label = window.next_snipe_label
    qtbot.waitUntil(lambda: label.isVisible() and label.width() > 0, timeout=3000)
    assert _settled_bar(qtbot, window) == []
    shown = label.shown_text()
    assert shown.endswith(" in 1m 25s")
    assert shown.startswith("Next snipe: ")
    assert "…" in shown  # the title gave up its end
    assert label.fontMetrics().horizontalAdvance(shown) <= label.contentsRect().width()
    assert label.text() == f"Next snipe: {LONG_TITLE} in 1m 25s"  # whole for screen readers and the tooltip
    for other in (window.sync_label, window.clock_label, window.account_label):
        assert other.fontMetrics().horizontalAdvance(other.shown_text()) <= other.contentsRect().width()


@pytest.mark.parametrize(("width", "large"), [(1600, False), (800, False), (800, True)],
                         ids=["1600", "800", "800-large-font"])
def test_the_bar_says_less_by_priority_and_never_cuts_a_time_or_an_amount(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, width: int, large: bool,
) -> None:
    from sniper_app.config import Settings
    from sniper_app.engine.bus import WatchlistSynced

    if large:
        request.getfixturevalue("large_font")
    _scheduled(store, user_id, clock)
    _scheduled(store, user_id, clock, item="399002", title="Roberts radio", currency="GBP", maximum=35_00,
               left=timedelta(hours=3))
    window = make_window(Settings(ebay_env="simulator", spending_cap="600.00 USD"))
    _measured_clock(window, monkeypatch)
    window._last_sync = WatchlistSynced(count=12, added=1, removed=0, at=clock.now)
    window.awake_label.show()  # the longest warning the bar may have to hold beside the rest
    window.resize(width, 600 if large else 500)
    window.show()
    qtbot.waitExposed(window)
    window.tick()
    qtbot.waitUntil(lambda: window.width() == width, timeout=2000)
    assert _settled_bar(qtbot, window) == []

    levels = {name: field.level for name, field in window.statusBar().fields.items() if field.isVisible()}
    next_snipe, exposure = window.next_snipe_label.shown_text(), window.exposure_status.shown_text()
    assert next_snipe.endswith("in 1m 25s"), next_snipe
    assert "£35.00 · $500.00" in exposure
    if width == 1600:
        assert set(levels.values()) == {0}
        assert window.sync_label.shown_text() == "Watch list: 12 items, synced 0 s ago"
        assert window.clock_label.shown_text() == "Clock +0.012 s · 2 ms · 3 s ago"
        assert exposure == "Exposure £35.00 · $500.00"
    else:
        assert levels["sync"] >= 1, "the sync says less first"
    # The ladder's order: no step is taken while one before it is not.
    steps = [(name, level) for name, level in window_status_bar.FIT_LADDER if name in levels]
    taken = [levels[name] >= level for name, level in steps]
    assert taken == sorted(taken, reverse=True), (steps, levels)

    # Paused, the pause takes the next snipe's place and is said whole too.
    window.app_actions["pause"].trigger()
    assert _settled_bar(qtbot, window) == []
    assert window.paused_label.shown_text() in ("Paused: no snipe will be placed", "Paused")
    window.app_actions["pause"].trigger()


def test_a_long_message_is_shown_whole_above_the_bar_and_goes_when_its_time_is_up(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock
) -> None:
    _scheduled(store, user_id, clock)
    window = make_window()
    window.resize(800, 500)
    window.show()
    qtbot.waitExposed(window)
    window.tick()
    bar, toast = window.statusBar(), window.message_toast
    focus = QtWidgets.QApplication.focusWidget()
    message = ("Auction ending soon: Nintendo Game Boy Color - Atomic Purple, tested, working — Ends at 09:00; "
               "Sniper will bid up to $56.66 just before the end. Armed: the bid goes out 5 s before the end.")
    bar.showMessage(message, 60_000)
    qtbot.waitUntil(toast.isVisible, timeout=2000)
    text = toast.label
    assert text.text() == message
    # Whole: wrapped onto as many lines as it needs, inside the window, above the bar.
    assert text.heightForWidth(text.width()) <= text.height()
    assert text.height() >= 2 * text.fontMetrics().height()
    assert QtCore.QRect(0, 0, window.width(), bar.y()).contains(toast.geometry())
    assert bar.fontMetrics().horizontalAdvance(message) > bar.width(), "a message no one line could hold"
    # The fields stay where they are, and nothing took the keyboard from where it was.
    assert window.next_snipe_label.isVisible()
    assert window.clock_label.isVisible()
    assert QtWidgets.QApplication.focusWidget() is focus
    assert toast.accessibleName() == "Message"
    assert toast.close_button.accessibleName() == "Dismiss message"
    assert _settled_bar(qtbot, window) == []

    qtbot.mouseClick(toast.close_button, QtCore.Qt.MouseButton.LeftButton)
    assert bar.currentMessage() == ""
    assert not toast.isVisible()
    bar.showMessage("Settings saved.", 200)
    qtbot.waitUntil(toast.isVisible, timeout=2000)
    assert toast.width() < window.width() // 2, "a short message, a small toast"
    qtbot.waitUntil(lambda: not toast.isVisible(), timeout=3000)


def test_the_status_bar_shows_the_exposure_per_currency_and_follows_snipe_changes(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock, bus: Any
) -> None:
    from sniper_app.config import Settings
    from sniper_app.engine.bus import SnipeStatusChanged

    _scheduled(store, user_id, clock, maximum=420_00)
    pound = _scheduled(store, user_id, clock, item="399002", title="Roberts radio", currency="GBP",
                       maximum=35_00, left=timedelta(hours=3), status=SnipeStatus.PENDING)
    window = make_window(Settings(ebay_env="simulator", spending_cap="600.00 USD"))
    field = window.exposure_status
    assert field.text() == "Exposure £35.00 · $420.00"
    assert field.isVisibleTo(window)
    assert "$180.00 left of the $600.00 cap" in field.toolTip()
    assert "no spending cap in GBP" in field.toolTip()
    assert field.accessibleName() == "Exposure"

    store.cancel(pound)
    bus.publish(SnipeStatusChanged(snipe_id=pound, old=SnipeStatus.PENDING, new=SnipeStatus.CANCELLED))
    qtbot.waitUntil(lambda: field.text() == "Exposure $420.00", timeout=2000)


def test_with_a_large_font_the_window_still_fits_800_and_the_countdown_stays_whole(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock,
    large_font: QtGui.QFont,
) -> None:
    snipe = store.create_snipe(user_id, legacy_item_id="399001", currency="USD", max_bid_minor=500_00,
                               end_time=clock.now + timedelta(minutes=1, seconds=31), lead_seconds=6.0,
                               title=LONG_TITLE)
    store.set_status(snipe.id, SnipeStatus.SCHEDULED)
    window = make_window()
    window.resize(800, 500)
    window.show()
    qtbot.waitExposed(window)
    window.tick()
    qtbot.waitUntil(lambda: window.width() == 800, timeout=2000)
    label = window.next_snipe_label
    shown = label.shown_text()
    assert shown.endswith(" in 1m 25s")
    assert label.fontMetrics().horizontalAdvance(shown) <= label.contentsRect().width()


def test_the_pause_is_said_once(qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int,
                                clock: FakeClock) -> None:
    seed(store, user_id, clock)
    window = make_window()
    window.show()
    qtbot.waitExposed(window)
    window.app_actions["pause"].trigger()
    bar = window.statusBar()
    said = [w.text() for w in bar.findChildren(QtWidgets.QLabel) if w.isVisible() and "ause" in w.text()]
    assert said == ["Paused: no snipe will be placed"]
    assert "ause" not in bar.currentMessage()
    window.app_actions["pause"].trigger()
    assert not window.paused_label.isVisible()
    assert window.next_snipe_label.isVisibleTo(window) or bar.currentMessage()


# ------------------------------------------------------------------------------------------ 800 × 500


def test_the_window_works_at_800_by_500_and_diagnostics_shows_its_columns(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock
) -> None:
    seed(store, user_id, clock)
    window = make_window()
    window.resize(800, 500)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.width() == 800, timeout=2000)
    assert window.height() == 500
    for tab in range(window.tabs.count()):
        window.tabs.setCurrentIndex(tab)
        qtbot.wait(20)
        assert window.width() == 800
        assert window.tabs.currentWidget().minimumSizeHint().width() <= 800
        assert _fit_problems(window) == [], window.tabs.tabText(tab)
    view = window.diagnostics_view
    window.service.metrics.count_call("browse")
    window.service.metrics.record("sync", 0.2)
    view.refresh()
    qtbot.wait(50)
    for table in (view.calls_table, view.operations_table):
        shown = table.viewport().width()
        header = table.horizontalHeader()
        last = table.columnCount() - 1 if table is view.calls_table else 2
        right = header.sectionViewportPosition(last) + header.sectionSize(last)
        assert right <= shown, f"{table.accessibleName()}: a column is cut at {shown} px"
    calls = view.calls_table
    bottom = calls.rowViewportPosition(calls.rowCount() - 1) + calls.rowHeight(calls.rowCount() - 1)
    assert bottom <= calls.viewport().height(), "every API's row is in view"
    assert view.address_label.text() == "http://127.0.0.1:9"
    assert _fit_problems(view) == []


# ------------------------------------------------------------------------------------------ dark mode


@pytest.mark.parametrize("palette", [_light(), _dark()], ids=["light", "dark"])
def test_every_message_colour_reads_on_light_and_dark(qtbot: Any, palette: QtGui.QPalette) -> None:
    parent = QtWidgets.QWidget()
    qtbot.addWidget(parent)
    parent.setPalette(palette)
    window = palette.color(QtGui.QPalette.ColorRole.Window)
    for tone in (ERROR_STYLE, WARNING_STYLE, OK_STYLE, NOTE_STYLE, LINK_TONE):
        assert contrast(tone_colour(tone, palette), window) >= 4.5, tone
        label = message_label(parent, f"m_{tone}", tone, visible=True)
        label.setText("A sentence")
        label.ensurePolished()
        colour = label.palette().color(QtGui.QPalette.ColorRole.WindowText)
        assert contrast(colour, window) >= 4.5, (tone, colour.name())


def test_message_colours_follow_a_change_to_dark(qtbot: Any, qapp: QtWidgets.QApplication) -> None:
    before = qapp.palette()
    parent = QtWidgets.QWidget()
    qtbot.addWidget(parent)
    label = message_label(parent, "problem", ERROR_STYLE, visible=True)
    try:
        qapp.setPalette(_dark())
        qtbot.waitUntil(lambda: tone_colour(ERROR_STYLE, _dark()).name() in label.styleSheet(), timeout=2000)
    finally:
        qapp.setPalette(before)


# ------------------------------------------------------------------------------------------ Add snipe


def _preview(title: str = LONG_TITLE, least: int = 101_00) -> ItemPreview:
    return ItemPreview(
        legacy_item_id="399001", title=title, image_url=None, currency="USD",
        current_price=Money(100_00, "USD"), minimum_next_bid=Money(least, "USD"), shipping_cost=None,
        converted_price=None, listing_marketplace="EBAY_US", ebay_minimum=None, end_time=None, bid_count=3,
        is_auction=True, web_url=None,
    )


def test_add_snipe_at_its_smallest_with_a_large_font_overlaps_nothing(
    qtbot: Any, make_window: Callable[..., Any], large_font: QtGui.QFont
) -> None:
    QtWidgets.QApplication.clipboard().clear()
    window = make_window()
    dialog = window.open_add_dialog()
    dialog._set_preview(_preview())
    _at_smallest(dialog, qtbot)
    dialog._set_error(Field.AMOUNT, "Your maximum $50.00 is below the minimum next bid of $101.00, so eBay "
                                    "would refuse it.")
    dialog._set_error(Field.FORM, "The snipe could not be saved because of an unexpected problem; nothing "
                                  "you typed is lost, so you can try again.")
    dialog._set_warnings(["This auction ends in 4 minutes 23 seconds; a snipe this close may not be placed."])
    qtbot.wait(100)
    assert _fit_problems(dialog) == []
    dialog.resize(1, 1)
    qtbot.wait(100)
    assert _fit_problems(dialog) == []


def test_the_amount_hint_follows_the_item_shown(qtbot: Any, make_window: Callable[..., Any]) -> None:
    QtWidgets.QApplication.clipboard().clear()
    window = make_window()
    dialog = window.open_add_dialog()
    default = dialog.amount_edit.placeholderText()
    dialog._set_preview(_preview(least=101_00))
    assert dialog.amount_edit.placeholderText() == "At least $101.00"
    dialog._set_preview(None)  # another item is being looked up
    assert dialog.amount_edit.placeholderText() == default
    dialog._set_preview(_preview(least=7_50))
    assert dialog.amount_edit.placeholderText() == "At least $7.50"


def test_the_fit_check_itself_sees_an_overlap_and_a_cut_label(qtbot: Any) -> None:
    root = QtWidgets.QWidget()
    qtbot.addWidget(root)
    root.resize(400, 200)
    first = QtWidgets.QLabel("Current price:", root)
    first.setGeometry(10, 10, 200, 30)
    second = QtWidgets.QLabel("A title long enough to wrap onto a second line in a narrow box", root)
    second.setWordWrap(True)
    second.setGeometry(10, 20, 120, 10)
    root.show()
    qtbot.waitExposed(root)
    problems = _fit_problems(root)
    assert any("overlaps" in p for p in problems)
    assert any("needs" in p for p in problems)


# ------------------------------------------------------------------------------------------ small things


def test_ctrl_n_selects_what_it_filled_in_so_typing_replaces_it(
    qtbot: Any, make_window: Callable[..., Any], idle_loop: asyncio.AbstractEventLoop
) -> None:
    link = "https://www.ebay.com/itm/143932562271?_trkparms=amclksrc%3DITM%26aid%3D1110006"
    QtWidgets.QApplication.clipboard().setText(link)
    window = make_window()
    window.app_actions["add"].trigger()
    dialog = window.dialog("add")
    assert dialog is not None
    edit = dialog.item_edit
    assert edit.text() == link
    assert edit.selectedText() == link
    assert edit.cursorPosition() == 0  # the host shows, not the tracking tail
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(edit, "126001")
    assert edit.text() == "126001"


def test_ctrl_shift_v_without_an_item_says_why_and_opens_nothing(
    qtbot: Any, make_window: Callable[..., Any]
) -> None:
    QtWidgets.QApplication.clipboard().setText("Remember to buy milk")
    window = make_window()
    window.app_actions["add_from_clipboard"].trigger()
    assert window.dialog("add") is None
    assert window.statusBar().currentMessage() == "The clipboard holds no eBay item number or link."


def test_edit_has_no_clear_button_on_its_fixed_item_and_quit_speaks_of_one_snipe(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock,
    idle_loop: asyncio.AbstractEventLoop,
) -> None:
    from sniper_app.ui.snipe_dialog import SnipeDialog

    snipe = store.create_snipe(user_id, legacy_item_id="399001399001", currency="USD", max_bid_minor=500_00,
                               end_time=clock.now + timedelta(hours=1), lead_seconds=6.0, title="Lamp")
    window = make_window()
    dialog = SnipeDialog(window.service, window.runner, None, window, snipe=snipe.id, use_clipboard=False)
    assert dialog.item_edit.isReadOnly()
    assert not dialog.item_edit.isClearButtonEnabled()
    dialog.reject()
    window.request_quit()
    box = window.dialog("confirm")
    assert box is not None
    assert box.text().startswith("1 snipe is waiting. While Sniper is not running it will not be placed.")
    box.reject()


def test_a_secret_never_saved_says_not_set(qtbot: Any, tmp_path: Any, qloop: Any) -> None:
    from sniper_app.config import Settings
    from sniper_app.ebay import SecretStore
    from sniper_app.ui.bridge import AsyncRunner
    from sniper_app.ui.settings_dialog import SettingsDialog

    secrets = SecretStore("simulator", environ={})
    secrets.set_smtp_password("kept-one")
    runner = AsyncRunner()

    async def scenario() -> None:
        dialog = SettingsDialog(Settings(), runner, settings_file=tmp_path / "settings.json", secrets=secrets,
                                environ={})
        qtbot.addWidget(dialog)
        for key in ("postmark_token", "smtp_password"):
            await wait_until_async(
                lambda key=key: "…" not in dialog.secret_edit(key).placeholderText(), what="the keyring")
        assert dialog.secret_edit("postmark_token").placeholderText().startswith("Not set")
        assert dialog.secret_edit("smtp_password").placeholderText().startswith("Unchanged")
        dialog.reject()

    try:
        qloop(scenario())
    finally:
        secrets.set_smtp_password(None)


def test_a_guessed_latency_is_not_shown_as_a_fact(
    qtbot: Any, make_window: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    window = make_window()
    guess = ClockState(synced=True, offset_s=0.012, latency_s=0.05, age_s=3, server="127.0.0.1:123",
                       last_error=None, latency_measured=False)
    monkeypatch.setattr(window.service, "clock_state", lambda: guess)
    window.tick()
    assert "measuring…" in window.clock_label.text()
    assert "50 ms" not in window.clock_label.text()
    metrics = window.service.metrics
    metrics.record_clock(0.012, None)  # the first measurement, before any round trip to eBay
    metrics.record_clock(0.011, 0.002)
    view = window.diagnostics_view
    view.refresh()
    assert view.latency_label.text().startswith("measuring…")
    assert [p.latency_ms for p in view.chart.points] == [None, 2.0]  # no 50 ms spike
    assert "latency 2.0..2.0 ms" in view.report_text()
    measured = ClockState(synced=True, offset_s=0.012, latency_s=0.002, age_s=3, server="127.0.0.1:123",
                          last_error=None)
    monkeypatch.setattr(window.service, "clock_state", lambda: measured)
    window.tick()
    assert "· 2 ms ·" in window.clock_label.text()


def test_a_computer_that_cannot_stay_awake_is_told_in_the_window(
    qtbot: Any, make_window: Callable[..., Any]
) -> None:
    window = make_window()
    window.show()
    qtbot.waitExposed(window)
    window.tick()
    assert not window.awake_label.isVisible()
    window.service.engine.keepawake.supported = False  # as after wakepy found no way on this desktop
    window.tick()
    assert window.awake_label.isVisible()
    assert window.awake_label.text() == "Cannot keep the computer awake"


# ------------------------------------------------------------------------------------------ Snipes columns


def _cells_fit(view: QtWidgets.QTableView, column: int) -> list[str]:
    """Texts of ``column`` wider than its section (with the cell's margins)."""
    model = view.model()
    margin = 2 * (view.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1)
    width = view.horizontalHeader().sectionSize(column)
    texts = [model.index(row, column).data() or "" for row in range(model.rowCount())]
    return [t for t in texts if view.fontMetrics().horizontalAdvance(t) + margin > width]


@pytest.mark.parametrize("width", [800, 1600])
def test_the_snipes_view_gives_item_the_room_and_fits_its_other_columns(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock, bus: Any,
    width: int,
) -> None:
    from sniper_app.engine.bus import SnipeStatusChanged
    from sniper_app.ui.models import SnipeColumn

    ids = seed(store, user_id, clock)["snipes"]
    window = make_window()
    window.tabs.setCurrentIndex(window.SNIPES_TAB)
    window.resize(width, 500)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.width() == width, timeout=2000)
    view = window.snipes_view
    header = view.horizontalHeader()

    def check(least_chars: int = 25) -> dict[int, int]:
        qtbot.waitUntil(lambda: header.length() <= view.viewport().width(), timeout=2000)  # no scrolling
        shown = {c: header.sectionSize(c) for c in SnipeColumn if not header.isSectionHidden(c)}
        assert max(shown, key=lambda c: shown[c]) == SnipeColumn.ITEM, shown
        assert shown[SnipeColumn.ITEM] >= least_chars * view.fontMetrics().averageCharWidth()
        for column in shown:
            # Short of room, Timing alone may cut its figure's tail (its tooltip has the whole sentence).
            if column != SnipeColumn.ITEM and not (least_chars < 25 and column == SnipeColumn.TIMING):
                assert _cells_fit(view, column) == [], SnipeColumn(column).name
                assert header.sectionSize(column) >= header.sectionSizeHint(column), SnipeColumn(column).name
        if SnipeColumn.TIMING in shown:
            assert shown[SnipeColumn.TIMING] <= 200
        return shown

    shown = check()
    empty = {SnipeColumn.TIMING, SnipeColumn.FINAL}  # nothing has fired yet
    if width == 800:
        # Columns with nothing in them yet give Item their room; Group has the seed's group.
        assert not empty & set(shown)
        assert SnipeColumn.GROUP in shown
    else:
        assert set(shown) == set(SnipeColumn)
        # Every title of the seed is shown whole at this width.
        for row in range(window.snipes_proxy.rowCount()):
            wanted = view.sizeHintForIndex(window.snipes_proxy.index(row, SnipeColumn.ITEM)).width()
            assert wanted <= shown[SnipeColumn.ITEM]

    # An auction ends: its final price shows, in a column that comes back for it.
    for status in (SnipeStatus.SCHEDULED, SnipeStatus.PLACING, SnipeStatus.PLACED):
        store.set_status(ids["126004"], status)
    store.set_status(ids["126004"], SnipeStatus.WON)
    store.update_fields(ids["126004"], final_price_minor=44_000, sent_at=clock.now, latency_ms=180.0)
    bus.publish(SnipeStatusChanged(snipe_id=ids["126004"], old=SnipeStatus.PLACED, new=SnipeStatus.WON))
    qtbot.waitUntil(lambda: not header.isSectionHidden(SnipeColumn.FINAL), timeout=3000)
    # Every column has something to show now: at 800 px Item keeps the most room, if less of it.
    shown = check(25 if width > 800 else 20)
    assert SnipeColumn.TIMING in shown


# ------------------------------------------------------------------------------------------ Diagnostics


def _overlapping(rects: Any) -> list[tuple[Any, Any]]:
    rects = list(rects)
    return [(a, b) for n, a in enumerate(rects) for b in rects[n + 1:] if a.intersects(b)]


@pytest.mark.parametrize("large", [False, True], ids=["normal-font", "large-font"])
def test_the_clock_chart_labels_never_overlap_at_800_by_500(
    qtbot: Any, make_window: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest,
    large: bool,
) -> None:
    from datetime import UTC, datetime

    if large:
        request.getfixturevalue("large_font")
    window = make_window()
    _measured_clock(window, monkeypatch)
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    # Offsets that wander over tens of milliseconds, latencies over a few: each panel gets several ticks.
    for n, (offset, latency) in enumerate([(0.012, None), (-0.031, 0.002), (0.054, 0.0025), (0.007, 0.0041)]):
        window.service.metrics.record_clock(offset, latency, start + timedelta(minutes=n))
    window.resize(800, 600 if large else 500)
    window.tabs.setCurrentWidget(window.diagnostics_view)
    window.show()
    qtbot.waitExposed(window)
    view = window.diagnostics_view
    view.refresh()
    chart = view.chart
    qtbot.waitUntil(lambda: chart.height() > 0, timeout=2000)
    chart.grab()  # paints it, as the screen would
    rects = chart.label_rects
    assert len(rects) >= 5, "both panels' ranges (two ends each) and the time axis are labelled"
    assert _overlapping(rects) == []
    assert all(chart.rect().contains(r.toAlignedRect()) for r in rects)
    assert chart.height() >= chart.minimumHeight()
    assert _fit_problems(view) == []


def test_latency_is_measuring_or_a_value_in_one_voice(
    qtbot: Any, make_window: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    window = make_window()
    view = window.diagnostics_view
    window.service.metrics.record_clock(0.012, None)  # measured before any round trip to eBay
    guess = ClockState(synced=True, offset_s=0.012, latency_s=0.05, age_s=3, server="127.0.0.1:123",
                       last_error=None, latency_measured=False)
    monkeypatch.setattr(view, "_clock_provider", lambda: guess)
    view.refresh()
    assert view.latency_label.text() == "measuring…"
    assert view.chart.latency_words() == "measuring…"
    assert "latency measuring…" in view.chart.accessibleDescription()

    # A bid's round trip is timed before the next clock measurement: the figure and the chart agree on it.
    measured = ClockState(synced=True, offset_s=0.012, latency_s=0.0001, age_s=3, server="127.0.0.1:123",
                          last_error=None, latency_measured=True)
    monkeypatch.setattr(view, "_clock_provider", lambda: measured)
    view.refresh()
    assert view.latency_label.text() == "0.1 ms"
    assert view.chart.latency_words() == "0.1 ms"
    assert "measuring" not in view.chart.accessibleDescription()
    assert [p.latency_ms for p in view.chart.points] == [None]  # not invented as a point of the series


# ------------------------------------------------------------------------------------------ a large font


def test_with_a_large_font_every_view_fits_800_by_600_and_nothing_is_cut(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch, large_font: QtGui.QFont,
) -> None:
    seed(store, user_id, clock)
    window = make_window()
    _measured_clock(window, monkeypatch)
    window.resize(800, 600)
    window.show()
    qtbot.waitExposed(window)
    window.tick()
    qtbot.waitUntil(lambda: window.width() == 800, timeout=2000)
    assert window.height() <= 620, "the smallest window a font half as large again needs"
    for tab in range(window.tabs.count()):
        window.tabs.setCurrentIndex(tab)
        qtbot.wait(20)
        assert (window.width(), window.tabs.currentWidget().minimumSizeHint().width() <= 800) == (800, True)
        assert _fit_problems(window) == [], window.tabs.tabText(tab)
    assert _settled_bar(qtbot, window) == []
    # The history's time, action and status are read whole in this font too.
    from sniper_app.ui.models import HistoryColumn

    window.tabs.setCurrentIndex(window.HISTORY_TAB)
    qtbot.waitUntil(lambda: window.history_model.rowCount() > 0, timeout=3000)
    for column in (HistoryColumn.WHEN, HistoryColumn.ACTION, HistoryColumn.STATUS):
        assert _cells_fit(window.history_view, column) == [], HistoryColumn(column).name


@pytest.mark.parametrize("which", ["settings", "about", "link"])
def test_with_a_large_font_the_dialogs_cut_nothing_at_their_smallest(
    qtbot: Any, make_window: Callable[..., Any], large_font: QtGui.QFont, idle_loop: asyncio.AbstractEventLoop,
    which: str,
) -> None:
    window = make_window()
    if which == "settings":
        window.open_settings_dialog()
    elif which == "about":
        window.app_actions["about"].trigger()
    else:
        window.open_link_dialog()
    dialog = window.dialog(which)
    assert dialog is not None
    _at_smallest(dialog, qtbot)
    pages = dialog.tabs.count() if which == "settings" else 1
    for page in range(pages):
        if which == "settings":
            dialog.tabs.setCurrentIndex(page)
            qtbot.wait(20)
        assert _fit_problems(dialog) == [], page
    # Each fits the height of a screen a window of 800 x 600 fits on; Settings' one-line choices make it
    # wider than 800 px at this font rather than cut them.
    assert dialog.minimumSizeHint().width() <= 1000
    assert dialog.minimumSizeHint().height() <= 600
    dialog.close()


@pytest.mark.parametrize("large", [False, True], ids=["normal-font", "large-font"])
def test_the_watch_list_title_keeps_its_room_at_800_and_its_figures_fit(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock,
    request: pytest.FixtureRequest, large: bool,
) -> None:
    from sniper_app.ui.models import WatchColumn

    if large:
        request.getfixturevalue("large_font")
    seed(store, user_id, clock)
    window = make_window()
    window.resize(800, 600 if large else 500)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.width() == 800, timeout=2000)
    view = window.watch_view
    header = view.horizontalHeader()
    chars = view.fontMetrics().averageCharWidth()
    qtbot.waitUntil(lambda: header.sectionSize(WatchColumn.TITLE) >= 20 * chars, timeout=2000)
    for column in (WatchColumn.PRICE, WatchColumn.BIDS, WatchColumn.TIME_LEFT, WatchColumn.MY_SNIPE):
        assert _cells_fit(view, column) == [], WatchColumn(column).name
    if not large:
        # Room enough for all: the title takes what the others leave, and nothing scrolls sideways.
        assert header.length() <= view.viewport().width()
        assert header.sectionSize(WatchColumn.TITLE) >= 25 * chars
