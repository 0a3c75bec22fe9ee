"""The tray, quitting and closing, the single instance and the window's whole life on the qasync loop.

The OS tray host is the one thing mocked (``available=``): offscreen Qt has none. Everything behind the
tray's actions is real: the engine, the store and the simulator over loopback HTTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sniper_app.bootstrap import open_context
from sniper_app.domain.money import Money
from sniper_app.domain.status import SnipeStatus
from sniper_app.notify.notice import Notice, NoticeKind
from sniper_app.simulator import SimulatorServer
from sniper_app.ui import autostart
from sniper_app.ui.main_window import MainWindow
from sniper_app.ui.models import SnipeColumn
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets
from sniper_app.ui.shell import NoticeRelay, Shell, run_shell
from sniper_app.ui.single_instance import SingleInstance, server_name
from sniper_app.ui.tray import Tray
from tests.gui.conftest import SCREENSHOT_DIR
from tests.support.engine import engine_settings
from tests.support.live import Live, live_service
from tests.support.wait import wait_until_async

Run = Callable[[Coroutine[Any, Any, Any]], Any]


def _window(live: Live, tmp_path: Path) -> MainWindow:
    state = QtCore.QSettings(str(tmp_path / "window.ini"), QtCore.QSettings.Format.IniFormat)
    return MainWindow(live.service, live.bus, live.settings, live.user_id, state=state, service=live.service)


@contextmanager
def _shown(window: MainWindow) -> Iterator[MainWindow]:
    """The window for the test's duration, let go before its store closes (whatever the outcome)."""
    try:
        window.show()
        yield window
    finally:
        _dispose(window)


def _dispose(window: MainWindow) -> None:
    # Deleted now, on the GUI thread: a Qt object left for interpreter shutdown can crash it.
    window.allow_close()
    window.shutdown()
    window.close()
    window.deleteLater()
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)


def _icon() -> QtGui.QIcon:
    return QtWidgets.QApplication.style().standardIcon(QtWidgets.QStyle.StandardPixmap.SP_ComputerIcon)


def _menu_texts(tray: Tray) -> list[str]:
    return [a.text().replace("&", "") for a in tray.menu.actions() if not a.isSeparator()]


def _message_box(window: MainWindow, name: str) -> QtWidgets.QMessageBox:
    box = window.dialog("confirm")
    assert isinstance(box, QtWidgets.QMessageBox)
    assert box.objectName() == name
    assert box.isVisible()
    return box


def test_tray_menu_pause_sync_and_quit_with_pending_snipes(
    sim: SimulatorServer, tmp_path: Path, qloop: Run, qtbot: Any
) -> None:
    auction = sim.create_auction("Zeiss Ikon Contax II", "80.00", ends_in=3600, watched_by=["demo"])

    async def scenario() -> None:
        async with live_service(sim, tmp_path / "data") as live:
            with _shown(_window(live, tmp_path)) as window:
                await _tray_scenario(sim, live, window, auction)

    qloop(scenario())


async def _tray_scenario(server: SimulatorServer, live: Live, window: MainWindow, auction: dict[str, Any]) -> None:
    tray = Tray(window, _icon(), available=True)
    assert tray.start()
    snipe, _ = await live.service.add_snipe(auction["legacy_item_id"], "120.00")
    await wait_until_async(lambda: live.store.get_snipe(snipe.id).status == SnipeStatus.SCHEDULED.value)
    await wait_until_async(lambda: window.snipes_model.row_of(snipe.id) is not None, what="the row of the snipe")

    tray.refresh_menu()
    assert _menu_texts(tray) == [
        "Hide Sniper", "Add snipe from clipboard", "Add snipe…", "Pause all snipes",
        "Sync watch list now", "Quit Sniper",
    ]
    window.tick()
    assert "Zeiss Ikon Contax II" in tray.icon.toolTip()

    # Pause: every armed snipe is disarmed, and the user is told plainly.
    window.app_actions["pause"].trigger()
    assert live.service.paused
    assert live.engine.paused
    assert not live.engine._armed
    tray.refresh_menu()
    assert "Resume snipes" in _menu_texts(tray)
    assert window.paused_label.isVisible()
    window.tick()
    assert "paused" in tray.icon.toolTip()
    window.app_actions["pause"].trigger()
    assert not live.service.paused
    await wait_until_async(lambda: snipe.id in live.engine._armed, what="the snipe to be re-armed on resume")

    # Sync now: the watch list is fetched from eBay's Trading API and shown.
    before = max(r["seq"] for r in server.requests())
    trading = urlsplit(server.trading_url).path
    window.app_actions["sync"].trigger()
    await wait_until_async(lambda: any(r["path"] == trading for r in server.requests(before)),
                what="the watch list request to reach eBay")
    await wait_until_async(lambda: window.watch_model.rowCount() == 1, what="the watch list to show the item")
    await wait_until_async(lambda: "1 items, synced" in window.sync_label.text(), what="the sync state")

    # Hide/Show from the tray.
    tray.toggle_window()
    assert not window.isVisible()
    tray.toggle_window()
    assert window.isVisible()

    # Quit with a snipe waiting asks first; "No" keeps everything running.
    quits: list[bool] = []
    window.quitRequested.connect(lambda: quits.append(True))
    window.app_actions["quit"].trigger()
    box = _message_box(window, "confirmQuit")
    assert "1 snipe(s) are waiting" in box.text()
    box.button(QtWidgets.QMessageBox.StandardButton.No).click()
    await wait_until_async(lambda: not box.isVisible())
    assert quits == []
    window.app_actions["quit"].trigger()
    _message_box(window, "confirmQuit").button(QtWidgets.QMessageBox.StandardButton.Yes).click()
    await wait_until_async(lambda: quits == [True], what="the quit to go through")
    tray.hide()
    assert live.bids() == []


def test_close_to_tray_is_told_once_and_without_tray_closing_asks(
    sim: SimulatorServer, tmp_path: Path, qloop: Run, qtbot: Any
) -> None:
    auction = sim.create_auction("Rolleiflex 2.8F", "500.00", ends_in=3600)

    async def scenario() -> None:
        async with live_service(sim, tmp_path / "data") as live:
            await live.service.add_snipe(auction["legacy_item_id"], "650.00")
            window = _window(live, tmp_path)
            tray = Tray(window, _icon(), available=True)
            tray.start()
            told: list[bool] = []
            window.closedToTray.connect(lambda: told.append(True))
            window.show()
            window.close()
            assert not window.isVisible()
            assert told == [True]
            window.show()
            window.close()
            assert not window.isVisible()
            assert told == [True], "the tray hint is given only once"
            tray.hide()
            _dispose(window)

            # No tray on this desktop: closing would stop sniping, so the window asks and stays open.
            bare = _window(live, tmp_path / "bare")
            no_tray = Tray(bare, _icon(), available=False)
            assert not no_tray.start()
            quits: list[bool] = []
            bare.quitRequested.connect(lambda: quits.append(True))
            bare.show()
            bare.close()
            assert bare.isVisible()
            box = _message_box(bare, "confirmQuit")
            assert "1 snipe(s) are waiting" in box.text()
            box.button(QtWidgets.QMessageBox.StandardButton.No).click()
            await wait_until_async(lambda: not box.isVisible())
            assert bare.isVisible()
            assert quits == []
            bare.close()
            _message_box(bare, "confirmQuit").button(QtWidgets.QMessageBox.StandardButton.Yes).click()
            await wait_until_async(lambda: quits == [True], what="closing to quit once confirmed")
            no_tray.hide()
            no_tray._retry.stop()
            _dispose(bare)

    qloop(scenario())


def test_cancel_from_the_snipes_view_sends_nothing_to_ebay(
    sim: SimulatorServer, tmp_path: Path, qloop: Run, qtbot: Any
) -> None:
    auction = sim.create_auction("Hasselblad 500C/M", "300.00", ends_in=3600)

    async def scenario() -> None:
        async with live_service(sim, tmp_path / "data") as live:
            snipe, _ = await live.service.add_snipe(auction["legacy_item_id"], "450.00")
            with _shown(_window(live, tmp_path)) as window:
                await _cancel_with_delete_key(live, window, snipe.id, qtbot)
            assert live.bids() == []

    qloop(scenario())


async def _cancel_with_delete_key(live: Live, window: MainWindow, snipe_id: int, qtbot: Any) -> None:
    window.activateWindow()  # shortcuts reach the active window only
    await wait_until_async(window.isActiveWindow, what="the window to be active")
    await wait_until_async(lambda: window.snipes_model.row_of(snipe_id) is not None)
    window.tabs.setCurrentIndex(window.SNIPES_TAB)
    window.snipes_view.selectRow(0)
    assert window.selected_snipe_id() == snipe_id
    assert window.app_actions["cancel"].isEnabled()
    qtbot.keyClick(window.snipes_view, QtCore.Qt.Key.Key_Delete)
    box = _message_box(window, "confirmCancel")
    assert "Hasselblad 500C/M" in box.text()
    assert "$450.00" in box.text()
    box.button(QtWidgets.QMessageBox.StandardButton.Yes).click()
    await wait_until_async(lambda: live.store.get_snipe(snipe_id).status == SnipeStatus.CANCELLED.value)
    row = window.snipes_model.row_of(snipe_id)
    assert row is not None
    await wait_until_async(lambda: window.snipes_model.index(row, SnipeColumn.STATUS).data() == "Cancelled")
    assert "cancelled" in window.statusBar().currentMessage()
    assert not window.app_actions["cancel"].isEnabled(), "a cancelled snipe cannot be cancelled again"
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(SCREENSHOT_DIR / "snipes_cancelled.png"))


def test_second_instance_hands_over_to_the_first(qtbot: Any, tmp_path: Path) -> None:
    name = server_name(tmp_path / "data")
    assert name != server_name(tmp_path / "other"), "each data dir has its own instance"
    first = SingleInstance.claim(name)
    assert first is not None
    assert first.listening
    try:
        with qtbot.waitSignal(first.messageReceived, timeout=3000) as signal:
            assert SingleInstance.claim(name) is None, "a second launch must not start"
        assert signal.args == [{"v": 1, "cmd": "show"}]
    finally:
        first.close()
    # The first has gone: the name is free again (even if a crash had left its socket file behind).
    again = SingleInstance.claim(name)
    assert again is not None
    assert again.listening
    again.close()


def test_the_whole_window_session_on_qasync(
    sim: SimulatorServer, tmp_path: Path, qloop: Run, monkeypatch: Any
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    settings = engine_settings(sim, tmp_path / "data").model_copy(update={"autostart": True})
    ctx = open_context(settings)
    seen: list[Shell] = []

    def ready(shell: Shell) -> None:
        seen.append(shell)
        assert shell.window.isVisible()
        assert shell.window.windowTitle() == "Sniper"
        shell.stop.set()

    try:
        code = qloop(run_shell(ctx, tray_available=False, on_ready=ready, engine_options={"preflight_s": 2.0}))
    finally:
        ctx.close()
    assert code == 0
    assert seen
    assert not seen[0].engine._started, "the engine is stopped when the window session ends"
    # The start-at-login setting made its entry (however the setting was changed).
    assert "--minimized" in (tmp_path / "xdg" / "autostart" / "sniper-app.desktop").read_text()


def test_autostart_entries_per_os(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert not autostart.is_enabled("linux", tmp_path)
    autostart.set_enabled(True, "linux", tmp_path)
    entry = tmp_path / "xdg" / "autostart" / "sniper-app.desktop"
    text = entry.read_text()
    assert "Exec=" in text
    assert "--minimized" in text
    assert "Name=Sniper" in text
    assert autostart.is_enabled("linux", tmp_path)
    autostart.set_enabled(False, "linux", tmp_path)
    assert not entry.exists()

    autostart.set_enabled(True, "darwin", tmp_path)
    plist = tmp_path / "Library" / "LaunchAgents" / "org.sniper.sniper-app.plist"
    assert b"--minimized" in plist.read_bytes()
    assert b"RunAtLoad" in plist.read_bytes()
    autostart.set_enabled(False, "darwin", tmp_path)
    assert not plist.exists()


def test_a_notice_shows_in_the_tray_and_its_click_opens_the_snipe(
    sim: SimulatorServer, tmp_path: Path, qloop: Run, qtbot: Any
) -> None:
    auction = sim.create_auction("Leica Summilux 35mm", "900.00", ends_in=3600)

    async def scenario() -> None:
        async with live_service(sim, tmp_path / "data") as live:
            snipe, _ = await live.service.add_snipe(auction["legacy_item_id"], "1200.00")
            with _shown(_window(live, tmp_path)) as window:
                tray = Tray(window, _icon(), available=True)
                tray.start()
                await wait_until_async(lambda: window.snipes_model.row_of(snipe.id) is not None)
                shown: list[tuple[str, str]] = []
                tray.icon.showMessage = lambda title, text, *_args: shown.append((title, text))  # type: ignore[method-assign]
                relay = NoticeRelay(window, tray)
                notice = Notice(kind=NoticeKind.BID_WON, title="Leica Summilux 35mm", snipe_id=snipe.id,
                                max_bid=Money.of("1200.00", "USD"), final_price=Money.of("950.00", "USD"))
                relay.noticed.emit(notice)
                await wait_until_async(lambda: shown != [], what="the tray balloon")
                assert shown[0][1].startswith("Leica Summilux 35mm")
                assert "950.00" in shown[0][1]
                window.tabs.setCurrentIndex(window.WATCH_TAB)
                tray.icon.messageClicked.emit()
                assert window.tabs.currentIndex() == window.SNIPES_TAB
                assert window.selected_snipe_id() == snipe.id
                detail = window.dialog(f"detail:{snipe.id}")
                assert detail is not None
                assert detail.isVisible()
                tray.hide()

                # Without a tray the same notice lands in the status bar.
                bare_tray = Tray(window, _icon(), available=False)
                bare_tray.start()
                bare_tray._retry.stop()
                NoticeRelay(window, bare_tray).noticed.emit(notice)
                await wait_until_async(lambda: "Leica Summilux 35mm" in window.statusBar().currentMessage())

    qloop(scenario())


def test_the_demo_window_links_in_two_clicks_on_a_machine_without_a_keyring(
    sim: SimulatorServer, tmp_path: Path, qloop: Run, qtbot: Any
) -> None:
    import keyring
    from keyring.backends import fail

    from sniper_app.ui.link_dialog import LinkDialog

    sim.create_auction("Leica M3", "100.00", ends_in=3600, watched_by=["demo"])
    settings = engine_settings(sim, tmp_path / "demo")
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    ctx = open_context(settings, demo=True)
    outcome: list[str] = []

    async def drive(shell: Shell) -> None:
        try:
            await wait_until_async(lambda: isinstance(shell.window.dialog("link"), LinkDialog), what="the Link dialog")
            dialog = shell.window.dialog("link")
            assert isinstance(dialog, LinkDialog)
            await wait_until_async(lambda: dialog.status is not None, what="the account status")
            qtbot.mouseClick(dialog.open_button, QtCore.Qt.MouseButton.LeftButton)  # click 1
            await wait_until_async(lambda: "code=" in dialog.redirect_edit.text(), what="the demo's redirect")
            qtbot.mouseClick(dialog.link_button, QtCore.Qt.MouseButton.LeftButton)  # click 2
            await wait_until_async(lambda: shell.service.linked_username() == "demo" or dialog.error_text() != "",
                        what="the link")
            assert dialog.error_text() == ""
            await wait_until_async(lambda: len(ctx.store.list_watch_items(ctx.user_id)) == 1, what="the watch list")
            outcome.append("linked")
        finally:
            shell.stop.set()

    tasks: set[asyncio.Task[None]] = set()

    def ready(shell: Shell) -> None:
        tasks.add(asyncio.get_running_loop().create_task(drive(shell)))

    try:
        code = qloop(run_shell(ctx, tray_available=False, on_ready=ready, engine_options={"preflight_s": 2.0}))
        for task in tasks:
            task.result()  # a failed assertion in the drive surfaces here
    finally:
        ctx.close()
        keyring.set_keyring(previous)
    assert code == 0
    assert outcome == ["linked"]
    kept = tmp_path / "demo" / "demo-secrets.json"
    assert oct(kept.stat().st_mode & 0o777) == "0o600"
