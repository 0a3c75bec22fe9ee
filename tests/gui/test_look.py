"""How the window looks and is reached: icons in light and dark at 2x, compact rows, empty views that
guide, Help › About, Settings as forms, and every control named and reachable from the keyboard."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sniper_app.domain.status import SnipeStatus
from sniper_app.engine.bus import AccountStateChanged, EventBus
from sniper_app.store import Store
from sniper_app.ui import icons
from sniper_app.ui.about_dialog import AboutDialog, readme_url
from sniper_app.ui.models import WatchColumn
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets
from tests.gui.conftest import seed
from tests.support.look import dark_palette, light_palette
from tests.support.store import FakeClock


@pytest.fixture
def palette(qapp: QtWidgets.QApplication) -> Iterator[Callable[[QtGui.QPalette], None]]:
    """Switch the application's palette for a test; the one before comes back after it."""
    before = qapp.palette()
    yield qapp.setPalette
    qapp.setPalette(before)


def _ink(icon: QtGui.QIcon, size: int = 16, ratio: float = 1.0) -> tuple[QtGui.QImage, set[str]]:
    """The icon drawn at ``size`` logical pixels and ``ratio``, and the colours of its most opaque pixels
    (the glyph's body, not the anti-aliased edge), each rounded to a step of 16 per channel."""
    image = icon.pixmap(QtCore.QSize(size, size), ratio).toImage()
    pixels = [image.pixelColor(x, y) for x in range(image.width()) for y in range(image.height())]
    strongest = max((p.alpha() for p in pixels), default=0)
    colours = {_rounded(p) for p in pixels if strongest and p.alpha() >= strongest - 8}
    return image, colours


def _rounded(colour: QtGui.QColor | str) -> str:
    c = QtGui.QColor(colour)
    return QtGui.QColor(*(min(255, round(v / 16) * 16) for v in (c.red(), c.green(), c.blue()))).name()


def _luminance(colour: QtGui.QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())


def _contrast(a: QtGui.QColor, b: QtGui.QColor) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# ------------------------------------------------------------------ icons


@pytest.mark.parametrize("name", sorted(icons.GLYPHS))
def test_every_named_icon_draws_sharp_at_twice_the_scale(qapp: QtWidgets.QApplication, name: str) -> None:
    icon = icons.icon(name)
    assert not icon.isNull()
    image, ink = _ink(icon, 16, 2.0)
    assert (image.width(), image.height()) == (32, 32)  # drawn for the screen's pixels, not scaled up
    assert ink, f"{name} draws nothing"


def test_icons_take_the_palette_colour_and_follow_a_switch_to_dark(
    make_window: Callable[..., Any], palette: Callable[[QtGui.QPalette], None]
) -> None:
    palette(light_palette())
    window = make_window()
    light_ink = _rounded(light_palette().color(QtGui.QPalette.ColorRole.WindowText))
    dark_ink = _rounded(dark_palette().color(QtGui.QPalette.ColorRole.WindowText))
    add = window.app_actions["add"]
    assert light_ink in _ink(add.icon())[1]
    assert light_ink in _ink(window.tabs.tabIcon(window.HISTORY_TAB))[1]

    palette(dark_palette())
    assert dark_ink in _ink(add.icon())[1]
    assert light_ink not in _ink(add.icon())[1]
    assert dark_ink in _ink(window.tabs.tabIcon(window.SNIPES_TAB))[1]
    # The toolbar shows an icon and a short word for each action.
    toolbar = window.findChild(QtWidgets.QToolBar, "actionsToolbar")
    assert toolbar.toolButtonStyle() == QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon
    for action in toolbar.actions():
        assert not action.icon().isNull(), action.objectName()
        assert action.iconText()
        assert "…" not in action.iconText()


@pytest.mark.parametrize("status", [SnipeStatus.WON, SnipeStatus.LOST, SnipeStatus.FAILED, SnipeStatus.MISSED])
def test_outcome_tones_read_on_light_and_dark_backgrounds(
    qapp: QtWidgets.QApplication, status: SnipeStatus
) -> None:
    tone = icons.status_tone(status)
    assert tone is not None
    for background in (light_palette(), dark_palette()):
        base = background.color(QtGui.QPalette.ColorRole.Base)
        assert _contrast(tone, base) >= 3.0, (status, base.name())
    assert _rounded(tone) in _ink(icons.status_icon(status), 24)[1]


def test_every_status_has_an_icon_in_the_snipes_view(
    make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock
) -> None:
    seed(store, user_id, clock)
    window = make_window()
    model = window.snipes_proxy
    from sniper_app.ui.models import SnipeColumn

    for row in range(model.rowCount()):
        decoration = model.index(row, SnipeColumn.STATUS).data(QtCore.Qt.ItemDataRole.DecorationRole)
        assert isinstance(decoration, QtGui.QIcon)
        assert not decoration.isNull()
    assert {status for status in SnipeStatus} == set(icons.STATUS_GLYPHS)


# ------------------------------------------------------------------ density


def test_rows_are_as_tall_as_their_text_and_the_snipe_button_is_compact(
    make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock
) -> None:
    seed(store, user_id, clock)
    window = make_window()
    window.resize(1000, 500)
    window.show()
    line = window.fontMetrics().height()
    for view in (window.snipes_view, window.history_view):
        assert view.verticalHeader().defaultSectionSize() <= line + 10, view.objectName()
    assert window.watch_view.verticalHeader().defaultSectionSize() <= 2 * line
    index = window.watch_model.index(0, WatchColumn.SNIPE)
    option = QtWidgets.QStyleOptionViewItem()
    option.rect = window.watch_view.visualRect(index)
    option.fontMetrics = window.watch_view.fontMetrics()
    button = window.snipe_delegate.button_rect(option, index)
    assert option.rect.contains(button)
    assert button.width() < option.rect.width()
    assert button.height() <= line + 6


# ------------------------------------------------------------------ empty states


def test_empty_views_say_how_to_fill_them_and_give_way_to_data(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock, bus: EventBus
) -> None:
    window = make_window()
    window.resize(900, 500)
    window.show()
    qtbot.waitExposed(window)
    states = window.empty_states
    assert states["watch"].text() == "Link your eBay account to see your watch list (Ctrl+L)."
    window.tabs.setCurrentIndex(window.SNIPES_TAB)
    assert states["snipes"].text() == "No snipes yet: press Ctrl+N or pick an item in the Watch list."
    assert states["snipes"].geometry() == window.snipes_view.viewport().rect()

    store.link_ebay_account(user_id, ebay_username="vintage_hunter", ebay_user_id="u-1")
    bus.publish(AccountStateChanged(username="vintage_hunter", state="linked"))
    qtbot.waitUntil(lambda: "watch list is empty" in states["watch"].text(), timeout=2000)

    seed(store, user_id, clock)
    window.watch_model.reload()
    window.snipes_model.reload()
    assert states["watch"].text() == ""
    assert states["snipes"].text() == ""



def test_an_empty_history_tells_apart_no_events_and_a_filter_that_matches_none(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock
) -> None:
    seed(store, user_id, clock)
    window = make_window()
    window.resize(900, 500)
    window.show()
    window.tabs.setCurrentIndex(window.HISTORY_TAB)
    state = window.empty_states["history"]
    qtbot.waitUntil(lambda: window.history_model.rowCount() > 0, timeout=3000)
    assert state.text() == ""
    window.history_filter_bar.search_edit.setText("no such thing anywhere")
    qtbot.waitUntil(lambda: state.text() == "No events match this filter.", timeout=3000)
    window.history_filter_bar.search_edit.setText("")
    qtbot.waitUntil(lambda: state.text() == "", timeout=3000)


# ------------------------------------------------------------------ about


def test_about_names_the_version_the_folders_and_the_manual(
    qtbot: Any, make_window: Callable[..., Any], isolated_dirs: Path
) -> None:
    from sniper_app import __version__, paths

    window = make_window()
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    about = next(a for a in help_menu.actions() if a.objectName() == "about")
    about.trigger()
    dialog = window.dialog("about")
    assert isinstance(dialog, AboutDialog)
    assert f"Sniper {__version__}" in dialog.title.text()
    assert dialog.folders["config"] == paths.config_dir()
    assert dialog.folders["logs"] == paths.log_dir()
    assert dialog.folders["data"] == window._settings.resolved_data_dir()
    for key, folder in dialog.folders.items():
        assert dialog.findChild(QtWidgets.QLabel, f"folder_{key}").text() == str(folder)
    url = readme_url()
    assert url is not None
    # A checkout has no published address: the manual is its own README.md.
    assert url.startswith("file://")
    assert url.endswith("/README.md")
    assert f'href="{url}"' in dialog.link.text()
    assert dialog.link.openExternalLinks()


# ------------------------------------------------------------------ settings


def test_settings_pages_are_forms_without_half_empty_pages(qtbot: Any, make_window: Callable[..., Any]) -> None:
    window = make_window()
    window.open_settings_dialog()
    dialog = window.dialog("settings")
    rows = []
    for n in range(dialog.tabs.count()):
        area = dialog.tabs.widget(n)
        assert isinstance(area, QtWidgets.QScrollArea)
        form = area.widget().layout()
        assert isinstance(form, QtWidgets.QFormLayout)
        rows.append(form.rowCount())
    assert min(rows) >= 5, rows  # no page of one or two lonely fields


# ------------------------------------------------------------------ accessibility


def _unnamed(top: QtWidgets.QWidget) -> list[QtWidgets.QWidget]:
    """Focusable, shown widgets with neither an accessible name nor a label that names them."""
    buddies = {id(label.buddy()) for label in top.findChildren(QtWidgets.QLabel) if label.buddy() is not None}
    missing = []
    for widget in top.findChildren(QtWidgets.QWidget):
        keyboard = widget.focusPolicy() & QtCore.Qt.FocusPolicy.TabFocus
        if not keyboard or not widget.isVisibleTo(top):
            continue
        parent = widget.parentWidget()
        # The editor inside a combo or spin box, and a tab widget's bar, speak with their owner's name.
        if isinstance(parent, QtWidgets.QComboBox | QtWidgets.QAbstractSpinBox | QtWidgets.QTabWidget):
            continue
        if isinstance(widget, QtWidgets.QAbstractButton) and widget.text().replace("&", "").strip():
            continue  # a button's own words are its name
        if widget.accessibleName() or id(widget) in buddies:
            continue
        missing.append(widget)
    return missing


def test_every_control_of_the_window_and_its_dialogs_has_a_name(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock
) -> None:
    seed(store, user_id, clock)
    window = make_window()
    window.resize(1000, 600)
    window.show()
    qtbot.waitExposed(window)
    for tab in range(window.tabs.count()):
        window.tabs.setCurrentIndex(tab)
        assert _unnamed(window) == [], window.tabs.tabText(tab)
    window.open_settings_dialog()
    settings = window.dialog("settings")
    for tab in range(settings.tabs.count()):
        settings.tabs.setCurrentIndex(tab)
        assert _unnamed(settings) == [], settings.tabs.tabText(tab)
    window.app_actions["about"].trigger()
    assert _unnamed(window.dialog("about")) == []
    window.open_add_dialog("126001")
    assert _unnamed(window.dialog("add")) == []
    snipe_id = window.snipes_model.row(0).id
    window.open_details(snipe_id)
    assert _unnamed(window.dialog(f"detail:{snipe_id}")) == []


def test_the_keyboard_reaches_every_main_control_in_order(
    qtbot: Any, make_window: Callable[..., Any], store: Store, user_id: int, clock: FakeClock
) -> None:
    seed(store, user_id, clock)
    window = make_window()
    window.resize(1000, 600)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)

    def tab_round(start: QtWidgets.QWidget) -> list[QtWidgets.QWidget]:
        start.setFocus(QtCore.Qt.FocusReason.TabFocusReason)
        seen: list[QtWidgets.QWidget] = []
        for _ in range(80):
            focused = QtWidgets.QApplication.focusWidget()
            if focused is None or (focused in seen and focused is not seen[-1]):
                break  # round the chain and back
            if not seen or focused is not seen[-1]:
                seen.append(focused)
            # A date field takes Tab to its next part (day, month, year) before it lets the focus go.
            qtbot.keyClick(focused, QtCore.Qt.Key.Key_Tab)
        return seen

    window.tabs.setCurrentIndex(window.WATCH_TAB)
    seen = tab_round(window.watch_view)
    assert window.tabs.tabBar() in seen
    assert window.watch_view in seen

    window.tabs.setCurrentIndex(window.SNIPES_TAB)
    seen = tab_round(window.tabs.tabBar())
    assert seen.index(window.tabs.tabBar()) < seen.index(window.show_finished_box) < seen.index(window.snipes_view)

    window.tabs.setCurrentIndex(window.HISTORY_TAB)
    seen = tab_round(window.tabs.tabBar())
    bar = window.history_filter_bar
    # Every filter is reached, the date fields too (showing "Any", they used to keep Tab to themselves).
    for control in (bar.action_combo, bar.status_combo, bar.search_edit, bar.since_edit, bar.until_edit,
                    bar.export_button):
        assert control in seen, control.accessibleName()
    reached = [w for w in bar.findChildren(QtWidgets.QWidget) if w in seen]
    assert bar.search_edit in reached
    assert window.history_view in seen
    assert seen.index(bar.search_edit) < seen.index(window.history_view)
    for widget in seen:
        # Every stop shows where the focus is: the style draws a focus frame on what takes it by Tab.
        assert widget.focusPolicy() & QtCore.Qt.FocusPolicy.TabFocus, widget


def test_the_tray_menu_shows_an_icon_beside_each_entry(make_window: Callable[..., Any]) -> None:
    from sniper_app.ui.tray import Tray

    window = make_window()
    tray = Tray(window, window.windowIcon(), available=False)
    entries = [action for action in tray.menu.actions() if not action.isSeparator()]
    assert len(entries) >= 5
    for action in entries:
        assert not action.icon().isNull(), action.text()
