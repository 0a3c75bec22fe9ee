"""The window on a desktop that drives a box: a real box process (``--headless --listen`` on the simulator),
reached over HTTPS and WebSocket on loopback, and the window's remote mode on a qasync loop in this process."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from sniper_app.bootstrap import open_context
from sniper_app.config import Settings, settings_path
from sniper_app.domain.status import SnipeStatus
from sniper_app.remote.credentials import RemoteLink
from sniper_app.remote.mirror import PAGE
from sniper_app.remote.service import RemoteService
from sniper_app.ui.link_dialog import LinkDialog
from sniper_app.ui.models import KEY_ROLE
from sniper_app.ui.qt import QtCore, QtWidgets
from sniper_app.ui.remote_window import RemoteShell, run_remote_shell
from sniper_app.ui.settings_dialog import SettingsDialog
from sniper_app.ui.snipes_model import SnipeColumn
from tests.gui.test_link_dialog import Browser, landing_address
from tests.gui.test_link_dialog import browser as browser  # the fixture
from tests.support.cli import run_cli
from tests.support.remote_box import Box, wait_line
from tests.support.remote_box import box as box  # the fixture
from tests.support.wait import wait_until, wait_until_async

Run = Callable[..., Any]


def _status_cell(shell: RemoteShell, snipe_id: int) -> str | None:
    model = shell.window.snipes_model
    at = model.row_of(snipe_id)
    return None if at is None else str(model.index(at, SnipeColumn.STATUS).data())


def _drive(
    tmp_path: Path, qloop: Run, link: RemoteLink, scenario: Callable[[RemoteShell], Coroutine[Any, Any, None]]
) -> None:
    """Run the window over the box of ``link`` while ``scenario`` drives it, then close it."""
    ctx = open_context(Settings(data_dir=tmp_path / "desk"))
    outcome: list[BaseException | None] = []

    def ready(shell: RemoteShell) -> None:
        async def run() -> None:
            try:
                await scenario(shell)
                outcome.append(None)
            except BaseException as exc:
                outcome.append(exc)
            finally:
                shell.stop.set()

        shell.runner.submit(run())

    try:
        code = qloop(run_remote_shell(ctx, link, tray_available=False, on_ready=ready, timeout=3.0), 120.0)
    finally:
        ctx.close()
    assert code == 0
    assert outcome, "the scenario never ran"
    if outcome[0] is not None:
        raise outcome[0]


def test_a_change_on_the_box_shows_in_the_window_within_a_second(box: Box, tmp_path: Path, qloop: Run) -> None:
    box.start()
    box.cli.link()
    item = box.cli.auction(start_price="10.00", ends_in=3600)
    link = qloop(box.pair())

    async def scenario(shell: RemoteShell) -> None:
        window = shell.window
        await wait_until_async(lambda: shell.mirror.link.connected, 20.0, "the window to reach the box")
        assert shell.status.badge.text() == f"Box: {box.address}"
        assert shell.status.banner.isHidden()
        assert window.windowTitle() == "Sniper"
        # Another desktop (the command line, say) adds a snipe and then cancels it on the box.
        async with RemoteService.of(link) as other:
            added, _ = await other.add_snipe(item, "20")
            await wait_until_async(lambda: _status_cell(shell, added.id), 5.0, "the new snipe in the window")
            # The box's exposure follows its snipes.
            await wait_until_async(lambda: "$20.00" in window.exposure_label.text(), 5.0, "the box's exposure")
            await other.cancel_snipe(added.id)
            done = time.monotonic()
            cell = await wait_until_async(
                lambda: (text := _status_cell(shell, added.id)) and "ancel" in text and text,
                1.0, "the cancellation to show in the window within 1 s (issue 17)")
        print(f"box change → window cell: {(time.monotonic() - done) * 1000:.0f} ms ({cell})")
        assert window.snipes_model.row(window.snipes_model.row_of(added.id) or 0).status is SnipeStatus.CANCELLED
        await wait_until_async(lambda: "nothing to pay" in window.exposure_label.text(), 5.0, "the exposure after")
        # No engine runs on this desktop.
        assert not (tmp_path / "desk" / "engine.lock").exists()

    _drive(tmp_path, qloop, link, scenario)


def test_a_killed_box_shows_the_banner_and_a_restarted_one_is_reached_by_itself(
    box: Box, tmp_path: Path, qloop: Run
) -> None:
    box.start()
    box.cli.link()
    first = box.cli.auction(start_price="10.00", ends_in=3600)
    second = box.cli.auction(start_price="12.00", ends_in=3600)
    link = qloop(box.pair())

    async def scenario(shell: RemoteShell) -> None:
        status, window = shell.status, shell.window
        await wait_until_async(lambda: shell.mirror.link.connected, 20.0, "the window to reach the box")
        async with RemoteService.of(link) as other:
            kept, _ = await other.add_snipe(first, "20")
        await wait_until_async(lambda: _status_cell(shell, kept.id), 5.0, "the snipe in the window")

        await asyncio.to_thread(box.stop, signal.SIGKILL)
        await wait_until_async(lambda: status.banner.isVisible(), 10.0, "the banner of a lost box")
        assert f"Lost the connection to the box at {box.address}" in status.banner.text()
        assert "trying again" in status.banner.text()
        assert status.stale
        assert all(view.property("stale") for view in (window.snipes_view, window.watch_view, window.history_view))
        assert "not connected" in window.windowTitle()
        # The last known state stays on show.
        assert _status_cell(shell, kept.id) is not None

        await asyncio.to_thread(box.start)
        await wait_until_async(lambda: shell.mirror.link.connected, 60.0, "the window to reach the box again")
        await wait_until_async(lambda: status.banner.isHidden(), 2.0, "the banner to go")
        assert not status.stale
        assert not window.snipes_view.property("stale")
        assert window.windowTitle() == "Sniper"
        # Live again: a change on the restarted box shows as it happens.
        async with RemoteService.of(link) as other:
            again, _ = await other.add_snipe(second, "25")
        await wait_until_async(lambda: _status_cell(shell, again.id), 5.0, "a snipe added after the restart")

    _drive(tmp_path, qloop, link, scenario)


def test_sniper_app_on_a_connected_desktop_opens_its_window_over_the_box(box: Box, tmp_path: Path) -> None:
    box.start()
    box.cli.link()
    desk = tmp_path / "desk-process"
    env = {
        "SNIPER_DATA_DIR": str(desk / "data"), "SNIPER_CONFIG_DIR": str(desk / "config"),
        "SNIPER_LOG_DIR": str(desk / "logs"), "SNIPER_TEST_KEYRING_FILE": str(desk / "keyring.json"),
        "SNIPER_CACHE_DIR": str(desk / "cache"), "QT_QPA_PLATFORM": "offscreen",
    }
    connected = run_cli("remote", "connect", box.invite(), env=env)
    assert connected.returncode == 0, connected.stderr
    window = subprocess.Popen([sys.executable, "-m", "sniper_app"], env=dict(os.environ) | env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        said = "".join(wait_line(window, "This window drives the Sniper box"))
        assert f"127.0.0.1:{box.port}" in said
        log = desk / "logs" / "sniper.log"
        wait_until(lambda: log.exists() and "following the box at" in log.read_text(), 30.0,
                   "the window to follow the box")
        assert window.poll() is None, "the window stays open"
        assert not (desk / "data" / "engine.lock").exists(), "no engine starts on a connected desktop"
        window.send_signal(signal.SIGTERM)
        _out, err = window.communicate(timeout=30)
    finally:
        if window.poll() is None:
            window.kill()
            window.communicate()
    assert window.returncode == 0, err
    assert "Traceback" not in err


def test_the_box_bids_and_the_window_shows_the_win_with_its_notice(box: Box, tmp_path: Path, qloop: Run) -> None:
    box.start()
    box.cli.link()
    item = box.cli.auction(start_price="10.00", ends_in=25, rivals=[{"max": "15.00", "before_end": 8.0}])
    link = qloop(box.pair())

    async def scenario(shell: RemoteShell) -> None:
        window = shell.window
        await wait_until_async(lambda: shell.mirror.link.connected, 20.0, "the window to reach the box")
        async with RemoteService.of(link) as other:
            added, _ = await other.add_snipe(item, "20", lead=2.0)
        messages: list[str] = []
        window.statusBar().messageChanged.connect(messages.append)
        await wait_until_async(lambda: _status_cell(shell, added.id) == "Won", 60.0, "the box's win in the window")
        # No tray in this test: the box's result is told in the status bar instead of a balloon.
        await wait_until_async(lambda: any(m.startswith("You won") for m in messages), 2.0, "the win's notice")
        record = shell.mirror.record()  # the Statistics view's read, fresh from the box after the win
        assert record.total == 1
        assert "USD" in record.spent
        bids = [r for r in box.cli.sim.requests() if r["method"] == "POST" and r["path"].endswith("place_proxy_bid")]
        assert len(bids) == 1, "one engine bids, the box's"

    _drive(tmp_path, qloop, link, scenario)


def test_the_history_pages_through_more_of_the_box_than_one_read_holds(box: Box, tmp_path: Path, qloop: Run) -> None:
    box.start()
    box.cli.link()
    item = box.cli.auction(start_price="10.00", ends_in=3600)
    link = qloop(box.pair())

    async def fill() -> int:
        # Before the window opens, so its first read of the box holds only the newest page.
        async with RemoteService.of(link) as other:
            for _ in range(PAGE // 2 + 10):  # each snipe leaves two events: added, cancelled
                added, _ = await other.add_snipe(item, "20")
                await other.cancel_snipe(added.id)
            return await other.count_history()

    total = qloop(fill())
    assert total > PAGE

    async def scenario(shell: RemoteShell) -> None:
        model, root = shell.window.history_model, QtCore.QModelIndex()
        await wait_until_async(lambda: shell.mirror.link.connected, 20.0, "the window to reach the box")
        await wait_until_async(lambda: model.rowCount() > 0, 5.0, "the newest events in the history view")
        assert model.rowCount() < total, "the first read holds one page"

        def scrolled_to_the_end() -> bool:
            if model.canFetchMore(root):
                model.fetchMore(root)
            return model.rowCount() == total

        await wait_until_async(scrolled_to_the_end, 20.0, f"all {total} events in the history view")
        ids = [model.index(n, 0).data(KEY_ROLE) for n in range(model.rowCount())]
        assert len(set(ids)) == total, "no event shown twice"
        assert ids == sorted(ids, reverse=True), "newest first"

    _drive(tmp_path, qloop, link, scenario)


def test_a_window_opened_while_the_box_is_down_says_so_and_follows_it_once_it_runs(
    box: Box, tmp_path: Path, qloop: Run
) -> None:
    box.start()
    link = qloop(box.pair())
    box.stop()

    async def scenario(shell: RemoteShell) -> None:
        status = shell.status
        await wait_until_async(lambda: "trying again" in status.banner.text(), 10.0, "the unreachable box's banner")
        assert f"Cannot reach the box at {box.address}" in status.banner.text()
        assert status.banner.isVisible()
        assert not status.stale, "nothing was shown yet, so nothing is out of date"
        await asyncio.to_thread(box.start)
        await wait_until_async(lambda: shell.mirror.link.connected, 60.0, "the window to reach the started box")
        await wait_until_async(lambda: status.banner.isHidden(), 2.0, "the banner to go")

    _drive(tmp_path, qloop, link, scenario)


def _own_desk(box: Box, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process (the desktop) keeps its settings and keyring apart from the box's, so each file shows
    whose a change is."""
    box.cli.env = box.cli.env | {"SNIPER_CONFIG_DIR": str(tmp_path / "config"),
                                 "SNIPER_TEST_KEYRING_FILE": str(tmp_path / "keyring.json")}
    (tmp_path / "desk-config").mkdir()
    monkeypatch.setenv("SNIPER_CONFIG_DIR", str(tmp_path / "desk-config"))
    monkeypatch.setenv("SNIPER_TEST_KEYRING_FILE", str(tmp_path / "desk-keyring.json"))


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_settings_dialog_over_a_box_shows_and_changes_the_boxs_engine_settings(
    box: Box, tmp_path: Path, qloop: Run, qtbot: Any, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    _own_desk(box, tmp_path, monkeypatch)
    set_on_box = box.cli.run("config", "set", "default_lead_seconds", "7.5")
    assert set_on_box.returncode == 0, set_on_box.stderr
    box.cli.env = box.cli.env | {"SNIPER_HISTORY_RETENTION_DAYS": "100"}  # the box's environment wins there
    box.start()
    box.cli.link()
    link = qloop(box.pair())

    async def scenario(shell: RemoteShell) -> None:
        window = shell.window
        await wait_until_async(lambda: shell.mirror.link.connected, 20.0, "the window to reach the box")
        await wait_until_async(lambda: window.exposure_label.text() != "", 5.0, "the box's exposure")
        assert _warnings(caplog) == [], "a normal start over a box warns of nothing"

        window.open_settings_dialog()
        dialog = window.dialog("settings")
        assert isinstance(dialog, SettingsDialog)
        lead = dialog.field_widget("default_lead_seconds")
        assert isinstance(lead, QtWidgets.QDoubleSpinBox)
        await wait_until_async(lambda: lead.isEnabled(), 10.0, "the box's settings in the dialog")
        assert dialog.box_note.text().startswith(f"These settings are on the box at {box.address}")
        assert lead.value() == 7.5, "the box's value, not this computer's default (5)"
        assert dialog.findChild(QtWidgets.QLabel, "boxNote_default_lead_seconds") is not None
        assert dialog.findChild(QtWidgets.QLabel, "boxNote_start_minimized") is None, "this computer's own"
        assert dialog.findChild(QtWidgets.QLabel, "boxNote_data_dir") is None

        lead.setValue(9.0)
        minimized = dialog.field_widget("start_minimized")
        assert isinstance(minimized, QtWidgets.QCheckBox)
        minimized.setChecked(True)
        cap = dialog.field_widget("spending_cap")
        assert isinstance(cap, QtWidgets.QLineEdit)
        cap.setText("lots of money")
        dialog.save_button.click()
        await wait_until_async(lambda: dialog.field_error("spending_cap") != "", 10.0, "the box's refusal")
        refusal = dialog.field_error("spending_cap")
        print(f"the box's refusal: {refusal}")
        assert refusal.startswith("Setting 'spending_cap'"), refusal
        assert "currency code" in refusal, refusal
        assert "\n" not in refusal
        assert "Traceback" not in refusal
        assert dialog.isVisible()
        assert dialog.save_button.isEnabled()
        assert cap.text() == "lots of money", "nothing typed is lost"
        async with RemoteService.of(link) as other:
            on_box = await other.engine_settings()
        assert on_box["default_lead_seconds"] == 9.0, "the change before the refused one was saved on the box"
        assert on_box["spending_cap"] == ""

        saved: list[Settings] = []
        dialog.settingsSaved.connect(saved.append)
        cap.setText("300 USD")
        dialog.save_button.click()
        await wait_until_async(lambda: saved, 10.0, "the settings to be saved")
        await wait_until_async(lambda: window.dialog("settings") is None, 5.0, "the dialog to close once saved")
        assert saved[0].start_minimized is True
        async with RemoteService.of(link) as other:
            on_box = await other.engine_settings()
        assert on_box["spending_cap"] == "300.00 USD"
        assert on_box["default_lead_seconds"] == 9.0
        # The box's cap reaches the window's exposure line without another event.
        await wait_until_async(lambda: "$300.00 cap" in window.exposure_label.text(), 5.0, "the box's cap shown")
        # This computer's file holds its own setting and none of the box's.
        desk = json.loads(settings_path().read_text())
        assert desk.get("start_minimized") is True
        assert not {"default_lead_seconds", "spending_cap"} & set(desk)
        box_file = json.loads((tmp_path / "config" / "settings.json").read_text())
        assert box_file["spending_cap"] == "300.00 USD"
        assert "start_minimized" not in box_file

        # A change the box's environment overrides is saved there, and the dialog stays to say it is not in force.
        window.open_settings_dialog()
        again = window.dialog("settings")
        assert isinstance(again, SettingsDialog)
        keep = again.field_widget("history_retention_days")
        assert isinstance(keep, QtWidgets.QSpinBox)
        await wait_until_async(lambda: keep.isEnabled(), 10.0, "the box's settings in the dialog")
        assert keep.value() == 100, "the value in force on the box"
        keep.setValue(200)
        again.save_button.click()
        await wait_until_async(lambda: "SNIPER_HISTORY_RETENTION_DAYS" in again.status_label.text(), 10.0,
                               "the box's override said")
        assert again.isVisible()
        assert again.status_label.text() == ("Saved on the box, but its environment variables keep these as they "
                                             "are while set: Keep history for (days) (SNIPER_HISTORY_RETENTION_DAYS).")
        box_file = json.loads((tmp_path / "config" / "settings.json").read_text())
        assert box_file["history_retention_days"] == 200
        again.close()

    _drive(tmp_path, qloop, link, scenario)


def test_the_link_dialog_over_a_box_links_the_boxs_account_and_its_tokens_stay_there(
    box: Box, tmp_path: Path, qloop: Run, qtbot: Any, monkeypatch: pytest.MonkeyPatch, browser: Browser,
) -> None:
    _own_desk(box, tmp_path, monkeypatch)
    box.start()  # its eBay account not linked yet
    link = qloop(box.pair())

    async def scenario(shell: RemoteShell) -> None:
        window = shell.window
        await wait_until_async(lambda: shell.mirror.link.connected, 20.0, "the window to reach the box")
        window.open_link_dialog()
        dialog = window.dialog("link")
        assert isinstance(dialog, LinkDialog)
        await wait_until_async(lambda: dialog.status is not None, 10.0, "the box's account status")
        assert dialog.status_label.text() == "No eBay account is linked yet."
        dialog.open_button.click()
        assert dialog.info_label.text() == "Asking eBay…"
        await wait_until_async(lambda: browser.opened, 10.0, "the box's consent page in the browser")
        assert dialog.error_text() == ""
        consent = browser.opened[-1]
        assert consent.startswith(box.cli.sim.base_url)
        assert "state=" in consent
        dialog.redirect_edit.setText(await landing_address(consent))
        linked: list[str] = []
        dialog.linked.connect(linked.append)
        dialog.link_button.click()
        await wait_until_async(lambda: linked == ["demo"], 10.0, "the box's account to be linked")
        assert shell.mirror.linked_username() == "demo"
        await wait_until_async(lambda: dialog.status_label.text().startswith("Linked as demo"), 5.0, "the status")
        # The box holds the sign-in; this desktop's secret store never saw it.
        desk_keyring = tmp_path / "desk-keyring.json"
        assert not desk_keyring.exists() or "refresh" not in desk_keyring.read_text()
        assert "refresh" in (tmp_path / "keyring.json").read_text()

    _drive(tmp_path, qloop, link, scenario)


def test_the_settings_dialog_says_when_the_box_cannot_be_read_and_still_saves_this_computers_settings(
    box: Box, tmp_path: Path, qloop: Run, qtbot: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _own_desk(box, tmp_path, monkeypatch)
    box.start()
    link = qloop(box.pair())
    box.stop()

    async def scenario(shell: RemoteShell) -> None:
        window = shell.window
        window.open_settings_dialog()
        dialog = window.dialog("settings")
        assert isinstance(dialog, SettingsDialog)
        await wait_until_async(lambda: "could not be read" in dialog.box_note.text(), 10.0, "the unread box")
        assert dialog.box_note.text().startswith(f"The settings of the box at {box.address} could not be read")
        lead = dialog.field_widget("default_lead_seconds")
        assert not lead.isEnabled(), "a value the box has not given is not offered for editing"
        assert dialog.box_changes() == {}
        minimized = dialog.field_widget("start_minimized")
        assert isinstance(minimized, QtWidgets.QCheckBox)
        minimized.setChecked(True)
        dialog.save_button.click()
        await wait_until_async(lambda: window.dialog("settings") is None, 5.0, "the dialog to close once saved")
        desk = json.loads(settings_path().read_text())
        assert desk == {"start_minimized": True}, "this computer's change alone, none of the box's defaults"

    _drive(tmp_path, qloop, link, scenario)
