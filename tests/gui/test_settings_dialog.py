"""The Settings dialog: every setting has its widget, saving goes through the same validation as the CLI
with the problem shown beside the field, secrets go to the keyring and never to settings.json, fields
fixed by the environment are read-only, and "Send test email" reaches a real SMTP server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from pytestqt.qtbot import QtBot

from sniper_app.bootstrap import apply_overrides, open_context
from sniper_app.config import Settings, load_settings
from sniper_app.ebay import SecretStore
from sniper_app.engine.notifications import email_test_sender
from sniper_app.simulator import SimulatorServer
from sniper_app.ui.bridge import AsyncRunner
from sniper_app.ui.qt import QtCore, QtWidgets
from sniper_app.ui.settings_dialog import SettingsDialog
from sniper_app.ui.shell import Shell
from tests.gui.conftest import SCREENSHOT_DIR
from tests.support.cli import run_cli
from tests.support.engine import engine_settings
from tests.support.live import drive_window
from tests.support.smtp import smtp_server
from tests.support.wait import wait_until_async

Run = Callable[[Coroutine[Any, Any, Any]], Any]


def make_dialog(qtbot: QtBot, tmp_path: Path, settings: Settings | None = None, **kw: Any) -> SettingsDialog:
    runner = AsyncRunner()
    dialog = SettingsDialog(settings or Settings(), runner, settings_file=tmp_path / "settings.json",
                            environ=kw.pop("environ", {}), **kw)
    dialog._keep_runner = runner  # type: ignore[attr-defined]  # the runner lives as long as the dialog
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def line(dialog: SettingsDialog, name: str) -> QtWidgets.QLineEdit:
    widget = dialog.field_widget(name)
    assert isinstance(widget, QtWidgets.QLineEdit)
    return widget


def set_text(qtbot: QtBot, edit: QtWidgets.QLineEdit, text: str) -> None:
    edit.clear()
    qtbot.keyClicks(edit, text)


def choose(dialog: SettingsDialog, name: str, value: str) -> None:
    combo = dialog.field_widget(name)
    assert isinstance(combo, QtWidgets.QComboBox)
    index = combo.findData(value)
    assert index >= 0, f"{value} is not offered for {name}"
    combo.setCurrentIndex(index)


@pytest.mark.usefixtures("isolated_dirs")
def test_every_setting_has_a_widget_with_its_description(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = make_dialog(qtbot, tmp_path)
    tabs = [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]
    assert tabs == ["eBay", "Sniping", "Notifications", "Email", "Startup", "Advanced"]
    for name, info in Settings.model_fields.items():
        widget = dialog.field_widget(name)
        assert widget.accessibleName(), name
        if not name.endswith("_types"):
            assert widget.toolTip() == info.description, name
    assert isinstance(dialog.field_widget("notify_email"), QtWidgets.QCheckBox)
    assert isinstance(dialog.field_widget("smtp_security"), QtWidgets.QComboBox)
    assert isinstance(dialog.field_widget("marketplace"), QtWidgets.QComboBox)
    port = dialog.field_widget("smtp_port")
    assert isinstance(port, QtWidgets.QSpinBox)
    assert (port.minimum(), port.maximum()) == (1, 65535)
    lead = dialog.field_widget("default_lead_seconds")
    assert isinstance(lead, QtWidgets.QDoubleSpinBox)
    assert (lead.minimum(), lead.maximum()) == (1, 120)
    assert dialog.findChild(QtWidgets.QPushButton, "browse_data_dir") is not None
    for key in ("ebay_client_secret", "smtp_password", "postmark_token"):
        assert dialog.secret_edit(key).echoMode() == QtWidgets.QLineEdit.EchoMode.Password
    assert dialog.changes() == {}  # an untouched form changes nothing
    # Only the chosen email backend's fields can be edited.
    assert not dialog.field_widget("smtp_host").isEnabled()
    assert not dialog.field_widget("postmark_url").isEnabled()
    choose(dialog, "email_backend", "postmark")
    assert dialog.field_widget("postmark_url").isEnabled()
    assert not dialog.field_widget("smtp_port").isEnabled()


def test_save_writes_settings_and_puts_secrets_in_the_keyring(
    qtbot: QtBot, tmp_path: Path, isolated_dirs: Path, qloop: Run
) -> None:
    secrets = SecretStore("simulator", environ={})
    dialog = make_dialog(qtbot, tmp_path, secrets=secrets)
    saved: list[Settings] = []
    dialog.settingsSaved.connect(saved.append)

    async def scenario() -> None:
        choose(dialog, "email_backend", "smtp")
        set_text(qtbot, line(dialog, "email_to"), "me@example.com")
        set_text(qtbot, line(dialog, "smtp_host"), "mail.example.com")
        set_text(qtbot, line(dialog, "smtp_user"), "bob")
        dialog.field_widget("notify_email").setProperty("checked", True)
        port = dialog.field_widget("smtp_port")
        assert isinstance(port, QtWidgets.QSpinBox)
        port.setValue(2525)
        won_by_tray = dialog.findChild(QtWidgets.QCheckBox, "notify_tray_types_BID_WON")
        ending_by_email = dialog.findChild(QtWidgets.QCheckBox, "notify_email_types_AUCTION_ENDING")
        assert won_by_tray is not None
        assert ending_by_email is not None
        won_by_tray.setChecked(False)
        ending_by_email.setChecked(True)
        set_text(qtbot, dialog.secret_edit("smtp_password"), "hunter2-smtp-secret")
        qtbot.mouseClick(dialog.save_button, QtCore.Qt.MouseButton.LeftButton)
        await wait_until_async(lambda: bool(saved), what="the settings to be saved")

    qloop(scenario())
    settings = saved[0]
    assert settings.email_backend == "smtp"
    assert settings.smtp_port == 2525
    assert settings.notify_email
    assert "BID_WON" not in settings.notify_tray_types
    assert "AUCTION_ENDING" in settings.notify_email_types
    text = (tmp_path / "settings.json").read_text()
    assert "hunter2-smtp-secret" not in text
    assert json.loads(text)["smtp_host"] == "mail.example.com"
    assert "data_dir" not in json.loads(text)  # only what the user changed is written
    assert secrets.smtp_password() == "hunter2-smtp-secret"
    assert dialog.result() == QtWidgets.QDialog.DialogCode.Accepted


@pytest.mark.usefixtures("isolated_dirs")
def test_a_refused_value_is_explained_beside_its_field_and_nothing_typed_is_lost(
    qtbot: QtBot, tmp_path: Path
) -> None:
    dialog = make_dialog(qtbot, tmp_path, secrets=SecretStore("simulator", environ={}))
    saved: list[Settings] = []
    dialog.settingsSaved.connect(saved.append)
    dialog.tabs.setCurrentIndex(0)
    set_text(qtbot, line(dialog, "ebay_client_id"), "MyApp-1234")
    choose(dialog, "email_backend", "postmark")
    set_text(qtbot, line(dialog, "email_to"), "not an address")
    set_text(qtbot, dialog.secret_edit("postmark_token"), "typed-token")
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.keyClick(line(dialog, "email_to"), QtCore.Qt.Key.Key_S, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert saved == []
    assert dialog.field_error("email_to") == (
        "Setting 'email_to' (from your change): must be an email address such as you@example.com."
    )
    assert dialog.tabs.tabText(dialog.tabs.currentIndex()) == "Email"
    assert line(dialog, "email_to").text() == "not an address"
    assert line(dialog, "ebay_client_id").text() == "MyApp-1234"
    assert dialog.secret_edit("postmark_token").text() == "typed-token"
    assert not (tmp_path / "settings.json").exists()
    assert dialog.isVisible()
    # Fixed, it saves, and the problem goes away (the keyring part is covered by the test above).
    dialog.secret_edit("postmark_token").clear()
    set_text(qtbot, line(dialog, "email_to"), "me@example.com")
    qtbot.mouseClick(dialog.save_button, QtCore.Qt.MouseButton.LeftButton)
    assert dialog.field_error("email_to") == ""
    assert saved
    assert saved[0].email_to == "me@example.com"
    assert saved[0].ebay_client_id == "MyApp-1234"


@pytest.mark.usefixtures("isolated_dirs")
def test_settings_from_the_environment_are_read_only(qtbot: QtBot, tmp_path: Path) -> None:
    environ = {"SNIPER_SMTP_HOST": "env.example.com", "SNIPER_SMTP_PASSWORD": "from-env",
               "SNIPER_NOTIFY_EMAIL_TYPES": "BID_WON"}
    settings = Settings(smtp_host="env.example.com", notify_email_types=["BID_WON"])
    dialog = make_dialog(qtbot, tmp_path, settings, environ=environ, secrets=SecretStore("simulator"))
    host = line(dialog, "smtp_host")
    assert host.isReadOnly()
    assert host.text() == "env.example.com"
    note = dialog.findChild(QtWidgets.QLabel, "envNote_smtp_host")
    assert note is not None
    assert "SNIPER_SMTP_HOST" in note.text()
    assert dialog.secret_edit("smtp_password").isReadOnly()
    check = dialog.findChild(QtWidgets.QCheckBox, "notify_email_types_BID_LOST")
    assert check is not None
    assert not check.isEnabled()
    assert "smtp_host" not in dialog.values()
    assert "notify_email_types" not in dialog.values()


def test_send_test_email_reaches_a_real_smtp_server(
    qtbot: QtBot, tmp_path: Path, isolated_dirs: Path, qloop: Run
) -> None:
    secrets = SecretStore("simulator", environ={})
    with smtp_server(tmp_path) as server:
        dialog = make_dialog(qtbot, tmp_path, secrets=secrets, test_email=email_test_sender(secrets))
        dialog.resize(680, 640)
        dialog.tabs.setCurrentIndex(3)

        async def scenario() -> None:
            choose(dialog, "email_backend", "smtp")
            choose(dialog, "smtp_security", "none")
            set_text(qtbot, line(dialog, "email_to"), "me@example.com")
            set_text(qtbot, line(dialog, "smtp_host"), server.host)
            port = dialog.field_widget("smtp_port")
            assert isinstance(port, QtWidgets.QSpinBox)
            port.setValue(server.port)
            server.handler.refuse = ["550 5.7.1 Relaying denied"]
            qtbot.mouseClick(dialog.test_button, QtCore.Qt.MouseButton.LeftButton)
            await wait_until_async(lambda: dialog.test_button.isEnabled(), what="the first test email to finish")
            assert dialog.test_result.text() == (
                f"The test email was not sent. The mail server {server.host}:{server.port} answered 550: "
                "5.7.1 Relaying denied."
            )
            qtbot.mouseClick(dialog.test_button, QtCore.Qt.MouseButton.LeftButton)
            await wait_until_async(lambda: len(server.messages) == 1 and dialog.test_button.isEnabled(),
                        what="the test email to arrive")

        qloop(scenario())
        assert dialog.test_result.text() == "A test email was sent to me@example.com through smtp."
        assert server.messages[0].message["Subject"] == "Sniper test email"
        assert not (tmp_path / "settings.json").exists()  # testing does not save
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / "settings.png"
        assert dialog.grab().save(str(path))
        dialog.tabs.setCurrentIndex(2)
        QtWidgets.QApplication.processEvents()  # lay the newly shown page out before the picture
        assert dialog.grab().save(str(SCREENSHOT_DIR / "settings-notifications.png"))


def test_restart_settings_are_marked_and_the_others_are_not(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = make_dialog(qtbot, tmp_path)
    for name in ("data_dir", "ebay_env", "ebay_api_url", "start_minimized"):
        note = dialog.findChild(QtWidgets.QLabel, f"restartNote_{name}")
        assert note is not None, name
        assert note.text() == "A change takes effect when Sniper restarts."
    for name in ("marketplace", "watchlist_sync_minutes", "time_server", "history_retention_days"):
        assert dialog.findChild(QtWidgets.QLabel, f"restartNote_{name}") is None, name


def test_saved_settings_reach_the_running_engine_and_the_window_names_what_waits(
    sim: SimulatorServer, tmp_path: Path, qloop: Run, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SNIPER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("SNIPER_DATA_DIR", raising=False)
    ctx = open_context(engine_settings(sim, tmp_path / "data"))
    outcome: list[str] = []

    async def drive(shell: Shell) -> None:
        shell.window.open_settings_dialog()
        dialog = shell.window.dialog("settings")
        assert isinstance(dialog, SettingsDialog)
        choose(dialog, "marketplace", "EBAY_GB")
        minutes = dialog.field_widget("watchlist_sync_minutes")
        assert isinstance(minutes, QtWidgets.QSpinBox)
        minutes.setValue(1)
        set_text(qtbot, line(dialog, "data_dir"), str(tmp_path / "elsewhere"))
        qtbot.mouseClick(dialog.save_button, QtCore.Qt.MouseButton.LeftButton)
        await wait_until_async(lambda: shell.engine.settings.marketplace == "EBAY_GB", what="the engine's new settings")
        assert shell.engine.client.marketplace == "EBAY_GB"
        assert shell.service.settings.marketplace == "EBAY_GB"
        assert shell.engine.scheduler is not None
        trigger = shell.engine.scheduler.get_job("sync").trigger
        assert isinstance(trigger, IntervalTrigger)
        assert trigger.interval == timedelta(minutes=1)
        assert shell.engine.settings.data_dir == tmp_path / "data"
        assert shell.window.statusBar().currentMessage() == (
            "Settings saved. These take effect when Sniper restarts: Data folder.")
        outcome.append("applied")

    try:
        code = drive_window(qloop, ctx, drive)
    finally:
        ctx.close()
    assert code == 0
    assert outcome == ["applied"]
    saved = json.loads((tmp_path / "config" / "settings.json").read_text())
    assert saved["marketplace"] == "EBAY_GB"
    assert saved["data_dir"] == str(tmp_path / "elsewhere")


def test_config_set_from_another_process_reaches_the_window_session(
    sim: SimulatorServer, tmp_path: Path, qloop: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SNIPER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("SNIPER_DATA_DIR", raising=False)
    settings = engine_settings(sim, tmp_path / "data")
    ctx = open_context(settings)
    # As the demo does: the simulator's settings stay on top of whatever the file says.
    simulator = {"ebay_env", "ebay_api_url", "ebay_auth_url", "ebay_trading_url", "ebay_client_id", "ebay_runame",
                 "time_server", "data_dir"}
    overrides = settings.model_dump(mode="json", include=simulator)
    ctx.reload_settings = lambda: apply_overrides(load_settings(), overrides)

    async def drive(shell: Shell) -> None:
        changed = await asyncio.to_thread(run_cli, "config", "set", "watchlist_sync_minutes", "1")
        assert changed.returncode == 0, changed.stderr
        await wait_until_async(lambda: shell.engine.sync_period_s == 60.0, 5.0, "the engine to take the new period")
        assert shell.service.settings.watchlist_sync_minutes == 1
        shell.window.open_settings_dialog()
        dialog = shell.window.dialog("settings")
        assert isinstance(dialog, SettingsDialog)
        minutes = dialog.field_widget("watchlist_sync_minutes")
        assert isinstance(minutes, QtWidgets.QSpinBox)
        assert minutes.value() == 1
        dialog.close()

    try:
        assert drive_window(qloop, ctx, drive) == 0
    finally:
        ctx.close()
