"""The Settings dialog: every field of :class:`sniper_app.config.Settings`, grouped in tabs, built from the
model itself so a new setting appears here without touching this file.

Values are saved through ``save_settings`` (the same validation as ``sniper-app config set``); a refused
value is explained beside its field and nothing typed is lost. Secrets (the eBay client secret, the SMTP
password, the Postmark and ntfy tokens, the webhook secret) never reach settings.json: they go to the keyring,
off the GUI thread.
A setting given by a ``SNIPER_<FIELD>`` variable is shown read-only: the environment wins at every start.

On a desktop that drives a box, the settings that steer the box's engine are the box's: the dialog shows the
values the box has saved and Save sends the changed ones to the box, which validates them as its own
``config set`` would. The rest (folders, this desktop's notices, the link itself) stay in this computer's file.
"""

from __future__ import annotations

import json
import logging
import os
import re
import typing
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from pydantic import ValidationError
from pydantic.fields import FieldInfo

from sniper_app.config import MARKETPLACES, Settings, SettingsError, env_name, needs_restart, save_settings
from sniper_app.domain.errors import InputError, SniperError
from sniper_app.ui.bridge import AsyncRunner
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets
from sniper_app.ui.widgets import ERROR_STYLE, NOTE_STYLE, OK_STYLE, message_label, set_tone

if typing.TYPE_CHECKING:
    from sniper_app.remote.service import DesktopLink

log = logging.getLogger(__name__)


TestEmail = Callable[[Settings, str | None], Coroutine[Any, Any, str]]


class SecretSink(Protocol):
    """Where typed secrets go (``sniper_app.ebay.SecretStore``): the keyring or the encrypted secrets file,
    never the settings file."""

    async def aset_client_secret(self, secret: str) -> None: ...

    async def aset_smtp_password(self, secret: str | None) -> None: ...

    async def aset_postmark_token(self, secret: str | None) -> None: ...

    async def aset_ntfy_token(self, secret: str | None) -> None: ...

    async def aset_webhook_secret(self, secret: str | None) -> None: ...
    async def aclient_secret(self) -> str | None: ...

    async def asmtp_password(self) -> str | None: ...

    async def apostmark_token(self) -> str | None: ...

    async def antfy_token(self) -> str | None: ...

    async def awebhook_secret(self) -> str | None: ...


class BoxSettings(Protocol):
    """The box's engine settings as a desktop reaches them (``RemoteMirror``): read and changed on the box."""

    @property
    def box(self) -> str: ...

    @property
    def engine_fields(self) -> tuple[str, ...]: ...

    async def engine_settings(self) -> dict[str, Any]: ...

    async def change_engine_setting(self, field: str, value: str | int | float | bool | None) -> dict[str, Any]: ...


# Tabs in order, and the fields each holds; a field not named here lands in Advanced. Each page is a
# full form: what is set once (start-up, history) sits with the everyday sniping settings, and the
# addresses only a custom eBay needs sit in Advanced.
SECTIONS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("General", ("default_lead_seconds", "auto_lead", "min_seconds_before_end", "watchlist_sync_minutes",
                 "history_retention_days", "start_minimized", "autostart")),
    ("eBay", ("ebay_env", "marketplace", "ebay_client_id", "ebay_runame")),
    ("Notifications", ("notify_tray", "notify_email", "notify_ending_minutes", "notify_summary_hour",
                       "notify_ntfy", "ntfy_server", "ntfy_topic", "notify_webhook", "webhook_url",
                       "notify_tray_types", "notify_email_types", "notify_ntfy_types", "notify_webhook_types")),
    ("Email", ("email_backend", "email_to", "email_from", "smtp_host", "smtp_port", "smtp_security", "smtp_user",
               "postmark_url")),
    ("Advanced", ("ebay_api_url", "ebay_auth_url", "ebay_trading_url", "data_dir", "time_server")),
)

LABELS: Final[dict[str, str]] = {
    "data_dir": "Data folder",
    "ebay_env": "eBay",
    "ebay_api_url": "REST API URL",
    "ebay_auth_url": "Sign-in URL",
    "ebay_trading_url": "Trading API URL",
    "ebay_client_id": "Client ID (App ID)",
    "ebay_runame": "RuName",
    "marketplace": "Marketplace",
    "default_lead_seconds": "Bid this long before the end (s)",
    "auto_lead": "New snipes choose the shortest safe lead automatically",
    "min_seconds_before_end": "Refuse auctions ending within (s)",
    "time_server": "Time server",
    "watchlist_sync_minutes": "Sync the watch list every (min)",
    "history_retention_days": "Keep history for (days)",
    "notify_tray": "Tray notifications",
    "notify_email": "Email notifications",
    "notify_ending_minutes": "Warn before an auction ends (min)",
    "notify_summary_hour": "Daily summary at (hour)",
    "notify_tray_types": "Tray",
    "notify_email_types": "Email",
    "notify_ntfy": "ntfy push notifications",
    "ntfy_server": "ntfy server",
    "ntfy_topic": "ntfy topic",
    "notify_ntfy_types": "ntfy",
    "notify_webhook": "Webhook notifications",
    "webhook_url": "Webhook URL",
    "notify_webhook_types": "Webhook",
    "email_backend": "Send email with",
    "email_to": "Send to",
    "email_from": "Send from",
    "smtp_host": "SMTP server",
    "smtp_port": "SMTP port",
    "smtp_security": "Encryption",
    "smtp_user": "SMTP user name",
    "postmark_url": "Postmark API URL",
    "start_minimized": "Start in the tray",
    "autostart": "Start when I log in",
}

CHOICE_LABELS: Final[dict[str, str]] = {
    "production": "eBay (production)",
    "sandbox": "eBay sandbox",
    "simulator": "Simulator",
    "custom": "Custom URLs",
    "none": "None",
    "smtp": "SMTP server",
    "postmark": "Postmark",
    "starttls": "STARTTLS",
    "ssl": "SSL/TLS",
    "BID_PLACED": "Bid placed",
    "BID_WON": "Won",
    "BID_LOST": "Lost (outbid)",
    "BID_FAILED": "Bid failed",
    "BID_MISSED": "Snipe missed",
    "AUCTION_ENDING": "Auction ending soon",
    "ACCOUNT_NEEDS_RELINK": "Account needs linking again",
    "SNIPE_AT_RISK": "A snipe is at risk (health check)",
    "DAILY_SUMMARY": "Daily summary",
}

def setting_label(name: str) -> str:
    """The name a setting goes by in the window."""
    return LABELS.get(name) or name.replace("_", " ").capitalize()


# Fields whose free text has a known set of values.
_CHOICES: Final[dict[str, tuple[str, ...]]] = {"marketplace": MARKETPLACES}


@dataclass(frozen=True)
class SecretField:
    key: str
    label: str
    env: str
    tab: str
    after: str  # the settings field it is shown below


SECRETS: Final[tuple[SecretField, ...]] = (
    SecretField("ebay_client_secret", "Client secret (Cert ID)", "SNIPER_EBAY_CLIENT_SECRET", "eBay",
                "ebay_runame"),
    SecretField("smtp_password", "SMTP password", "SNIPER_SMTP_PASSWORD", "Email", "smtp_user"),
    SecretField("postmark_token", "Postmark server token", "SNIPER_POSTMARK_TOKEN", "Email", "postmark_url"),
    SecretField("ntfy_token", "ntfy access token (optional)", "SNIPER_NTFY_TOKEN", "Notifications", "ntfy_topic"),
    SecretField("webhook_secret", "Webhook signing secret", "SNIPER_WEBHOOK_SECRET", "Notifications", "webhook_url"),
)


def _literal_values(annotation: Any) -> tuple[str, ...] | None:
    if typing.get_origin(annotation) is typing.Literal:
        return tuple(str(v) for v in typing.get_args(annotation))
    return None


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    args = typing.get_args(annotation)
    if args and type(None) in args and len(args) == 2:
        return next(a for a in args if a is not type(None)), True
    return annotation, False


def _bounds(info: FieldInfo) -> tuple[float | None, float | None]:
    low = high = None
    for meta in info.metadata:
        low = getattr(meta, "ge", low)
        high = getattr(meta, "le", high)
    return low, high


class _Field:
    """One settings field: its widget, and how to read and show its value."""

    def __init__(self, name: str, widget: QtWidgets.QWidget, editor: QtWidgets.QWidget,
                 read: Callable[[], Any], error: QtWidgets.QLabel) -> None:
        self.name, self.widget, self.editor, self.read, self.error = name, widget, editor, read, error


class SettingsDialog(QtWidgets.QDialog):
    """Edit and save every setting; emits ``settingsSaved(Settings)`` with the settings now in force."""

    settingsSaved = QtCore.Signal(object)  # Settings

    def __init__(
        self,
        settings: Settings,
        runner: AsyncRunner,
        parent: QtWidgets.QWidget | None = None,
        *,
        secrets: SecretSink | None = None,
        test_email: TestEmail | None = None,
        settings_file: Path | None = None,
        environ: Mapping[str, str] | None = None,
        remote: DesktopLink | None = None,
        box: BoxSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self._remote = remote
        self._box = box
        self._box_fields: frozenset[str] = frozenset(box.engine_fields) if box is not None else frozenset()
        self._box_values: dict[str, Any] | None = None  # as the box has them; None until read
        self._grid_checks: dict[str, dict[str, QtWidgets.QCheckBox]] = {}
        self._box_overrides: list[tuple[str, str]] = []  # (field, the box's variable that overrides it)
        self._settings = settings
        self._runner = runner
        self._secrets = secrets
        self._test_email = test_email
        self._settings_file = settings_file
        self._environ = os.environ if environ is None else environ
        self._fields: dict[str, _Field] = {}
        self._secret_edits: dict[str, QtWidgets.QLineEdit] = {}
        self._tab_of: dict[str, int] = {}
        self._busy = False
        self.setObjectName("settingsDialog")
        self.setWindowTitle(self.tr("Settings"))
        self.setAccessibleName(self.tr("Settings"))
        self.resize(660, 560)
        self._build()
        if box is not None:
            self._read_box(box)
        # No page is narrower than it needs: nothing scrolls sideways, so a large font would cut its lines.
        for n in range(self.tabs.count()):
            area, page = self.tabs.widget(n), None
            if isinstance(area, QtWidgets.QScrollArea) and (page := area.widget()) is not None:
                area.setMinimumWidth(page.minimumSizeHint().width() + area.verticalScrollBar().sizeHint().width())

    # --- layout ------------------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QtWidgets.QVBoxLayout(self)
        if self._box is not None:
            self.box_note = message_label(self, "boxNote", NOTE_STYLE, visible=True)
            self.box_note.setText(self.tr("Reading the settings of the box at {0}…").format(self._box.box))
            layout.addWidget(self.box_note)
        self.tabs = QtWidgets.QTabWidget(self)
        self.tabs.setObjectName("settingsTabs")
        self.tabs.setAccessibleName(self.tr("Settings sections"))
        layout.addWidget(self.tabs)
        placed = {name for _, names in SECTIONS for name in names}
        rest = tuple(name for name in Settings.model_fields if name not in placed)
        forms: dict[str, QtWidgets.QFormLayout] = {}
        for title, names in SECTIONS:
            page = QtWidgets.QWidget()
            page.setObjectName(f"tab{title}")
            form = QtWidgets.QFormLayout(page)
            # Every field column spans the page, so a note below a short field wraps at the page's width.
            form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            forms[title] = form
            index = self.tabs.addTab(self._scroll(page), self.tr(title))
            all_names = names + rest if title == "Advanced" else names
            grid_names = [n for n in all_names if self._is_type_list(n)]
            for name in all_names:
                if name not in Settings.model_fields or name in grid_names:
                    continue
                self._add_field(form, name)
                self._tab_of[name] = index
                for secret in SECRETS:
                    if secret.after == name and secret.tab == title:
                        self._add_secret(form, secret)
            if grid_names:
                self._add_type_grid(form, grid_names, index)
            if title == "Email":
                self._add_test_email(form)
                self._follow_backend()
        if self._remote is not None:
            from sniper_app.ui.remote_settings import RemotePage

            self.remote_page = RemotePage(self._remote, self._runner, self)
            self.tabs.addTab(self._scroll(self.remote_page), self.tr("Remote"))

        self.form_error = message_label(self, "formError", ERROR_STYLE)
        self.form_error.setAccessibleName(self.tr("Problem"))
        layout.addWidget(self.form_error)
        self.status_label = message_label(self, "statusLabel", OK_STYLE)
        layout.addWidget(self.status_label)
        self.buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Save | QtWidgets.QDialogButtonBox.StandardButton.Cancel, self
        )
        self.save_button = self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("saveButton")
        self.save_button.setAccessibleName(self.tr("Save settings"))
        self.save_button.setToolTip(self.tr("Save (Ctrl+S)"))
        self.save_button.setDefault(True)
        cancel = self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName("cancelButton")
        cancel.setAccessibleName(self.tr("Close without saving"))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        shortcut = QtGui.QShortcut(QtGui.QKeySequence.StandardKey.Save, self)
        shortcut.activated.connect(self.save)

    def _scroll(self, page: QtWidgets.QWidget) -> QtWidgets.QScrollArea:
        area = QtWidgets.QScrollArea(self)
        area.setWidgetResizable(True)
        # Tab goes from field to field; the area scrolls to whichever has the focus.
        area.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        area.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        area.setWidget(page)
        return area

    @staticmethod
    def _is_type_list(name: str) -> bool:
        info = Settings.model_fields.get(name)
        return info is not None and typing.get_origin(info.annotation) is list

    def _env_locked(self, name: str) -> str | None:
        if name in self._box_fields:  # this computer's variables do not steer the box
            return None
        variable = env_name(name)
        return variable if variable in self._environ else None

    def _row_label(self, name: str, info: FieldInfo | None) -> QtWidgets.QLabel:
        label = QtWidgets.QLabel(self.tr(setting_label(name)) + ":", self)
        if info is not None and info.description:
            label.setToolTip(self.tr(info.description))
        return label

    def _add_field(self, form: QtWidgets.QFormLayout, name: str) -> None:
        info = Settings.model_fields[name]
        value = getattr(self._settings, name)
        editor, read, widget = self._editor(name, info, value)
        editor.setObjectName(f"field_{name}")
        label = self._row_label(name, info)
        label.setBuddy(editor)
        editor.setAccessibleName(label.text().rstrip(":"))
        if info.description:
            editor.setToolTip(self.tr(info.description))
            editor.setAccessibleDescription(self.tr(info.description))
        error = message_label(self, f"error_{name}", ERROR_STYLE)
        error.setAccessibleName(self.tr("Problem with {0}").format(label.text().rstrip(":")))
        column = QtWidgets.QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        # Text fields take the width; a choice, a number or a box keeps its own size at the left.
        grows = isinstance(widget, QtWidgets.QLineEdit) or widget is not editor
        column.addWidget(widget, 0, QtCore.Qt.AlignmentFlag(0) if grows else QtCore.Qt.AlignmentFlag.AlignLeft)
        locked = self._env_locked(name)
        if locked:
            self._lock(editor)
            note = message_label(self, f"envNote_{name}", NOTE_STYLE, visible=True)
            note.setText(self.tr("Set by the environment variable {0}; change it there.").format(locked))
            column.addWidget(note)
        elif name in self._box_fields:
            note = message_label(self, f"boxNote_{name}", NOTE_STYLE, visible=True)
            note.setText(self.tr("On the box: a change takes effect when the box restarts.") if needs_restart(name)
                         else self.tr("On the box."))
            column.addWidget(note)
            editor.setEnabled(False)  # until the box's value is read
        elif needs_restart(name):
            note = message_label(self, f"restartNote_{name}", NOTE_STYLE, visible=True)
            note.setText(self.tr("A change takes effect when Sniper restarts."))
            column.addWidget(note)
        column.addWidget(error)
        if isinstance(editor, QtWidgets.QCheckBox):
            # A box says its own sentence in the field column, as desktop forms do; a long sentence in the
            # label column would push every other field to the right.
            editor.setText(label.text().rstrip(":"))
            label.deleteLater()
            form.addRow("", column)
        else:
            form.addRow(label, column)
        self._fields[name] = _Field(name, widget, editor, read, error)

    @staticmethod
    def _lock(editor: QtWidgets.QWidget) -> None:
        if isinstance(editor, QtWidgets.QLineEdit):
            editor.setReadOnly(True)
        else:
            editor.setEnabled(False)

    def _editor(
        self, name: str, info: FieldInfo, value: Any
    ) -> tuple[QtWidgets.QWidget, Callable[[], Any], QtWidgets.QWidget]:
        """(the editor, how to read it, the widget placed in the form)."""
        annotation, optional = _unwrap_optional(info.annotation)
        choices = _literal_values(annotation) or _CHOICES.get(name)
        if annotation is bool:
            check = QtWidgets.QCheckBox(self)
            check.setChecked(bool(value))
            return check, check.isChecked, check
        if choices is not None:
            combo = QtWidgets.QComboBox(self)
            for choice in choices:
                combo.addItem(self.tr(CHOICE_LABELS.get(choice, choice)), choice)
            combo.setCurrentIndex(max(0, combo.findData(str(value))))
            return combo, combo.currentData, combo
        low, high = _bounds(info)
        if annotation is int:
            spin = QtWidgets.QSpinBox(self)
            spin.setRange(int(low if low is not None else -(2**31)), int(high if high is not None else 2**31 - 1))
            spin.setValue(int(value))
            return spin, spin.value, spin
        if annotation is float:
            dspin = QtWidgets.QDoubleSpinBox(self)
            dspin.setDecimals(1)
            dspin.setRange(float(low if low is not None else -1e9), float(high if high is not None else 1e9))
            dspin.setValue(float(value))
            return dspin, dspin.value, dspin
        edit = QtWidgets.QLineEdit(self)
        edit.setText("" if value is None else str(value))
        if name == "data_dir":
            edit.setPlaceholderText(self.tr("Default: {0}").format(self._settings.resolved_data_dir()))
        if optional or annotation is Path:

            def read_text() -> Any:
                text = edit.text().strip()
                return text or None
        else:

            def read_text() -> Any:
                return edit.text().strip()

        if annotation is Path:
            row = QtWidgets.QWidget(self)
            box = QtWidgets.QHBoxLayout(row)
            box.setContentsMargins(0, 0, 0, 0)
            box.addWidget(edit)
            browse = QtWidgets.QPushButton(self.tr("&Browse…"), row)
            browse.setObjectName(f"browse_{name}")
            browse.setAccessibleName(self.tr("Choose a folder"))
            browse.clicked.connect(lambda: self._browse(edit))
            browse.setEnabled(self._env_locked(name) is None)
            box.addWidget(browse)
            return edit, read_text, row
        return edit, read_text, edit

    def _browse(self, edit: QtWidgets.QLineEdit) -> None:
        # A QFileDialog object shown with open(): its static helpers would nest an event loop under qasync.
        chooser = QtWidgets.QFileDialog(self, self.tr("Choose the data folder"), edit.text() or str(Path.home()))
        chooser.setObjectName("dataDirChooser")
        chooser.setFileMode(QtWidgets.QFileDialog.FileMode.Directory)
        chooser.setOption(QtWidgets.QFileDialog.Option.ShowDirsOnly, True)
        chooser.fileSelected.connect(edit.setText)
        chooser.open()
        self.chooser = chooser

    def _add_type_grid(self, form: QtWidgets.QFormLayout, names: list[str], tab: int) -> None:
        """One row per event, one column per channel: which events go where."""
        box = QtWidgets.QGroupBox(self.tr("Tell me about"), self)
        box.setObjectName("notifyTypes")
        grid = QtWidgets.QGridLayout(box)
        kinds = _literal_values(typing.get_args(Settings.model_fields[names[0]].annotation)[0]) or ()
        for column, name in enumerate(names, start=1):
            header = self._row_label(name, Settings.model_fields[name])
            header.setText(header.text().rstrip(":"))
            grid.addWidget(header, 0, column, QtCore.Qt.AlignmentFlag.AlignHCenter)
        checks: dict[str, dict[str, QtWidgets.QCheckBox]] = {name: {} for name in names}
        for row, kind in enumerate(kinds, start=1):
            grid.addWidget(QtWidgets.QLabel(self.tr(CHOICE_LABELS.get(kind, kind)), box), row, 0)
            for column, name in enumerate(names, start=1):
                check = QtWidgets.QCheckBox(box)
                check.setObjectName(f"{name}_{kind}")
                channel = LABELS.get(name, name)
                check.setAccessibleName(self.tr("{0}: {1}").format(channel, CHOICE_LABELS.get(kind, kind)))
                check.setChecked(kind in getattr(self._settings, name))
                grid.addWidget(check, row, column, QtCore.Qt.AlignmentFlag.AlignHCenter)
                checks[name][kind] = check
        form.addRow(box)
        on_box = [name for name in names if name in self._box_fields]
        if on_box:
            note = message_label(self, "boxNote_types", NOTE_STYLE, visible=True)
            note.setText(self.tr("On the box: {0}. The others are this computer's.").format(
                ", ".join(self.tr(LABELS.get(name, name)) for name in on_box)))
            form.addRow(note)
            for name in on_box:
                for check in checks[name].values():
                    check.setEnabled(False)  # until the box's value is read
        self._grid_checks.update(checks)
        for name in names:
            error = message_label(self, f"error_{name}", ERROR_STYLE)
            form.addRow(error)
            locked = self._env_locked(name)
            if locked:
                for check in checks[name].values():
                    check.setEnabled(False)
                note = message_label(self, f"envNote_{name}", NOTE_STYLE, visible=True)
                note.setText(self.tr("{0} is set by the environment variable {1}; change it there.").format(
                    LABELS.get(name, name), locked))
                form.addRow(note)

            def read(boxes: dict[str, QtWidgets.QCheckBox] = checks[name]) -> list[str]:
                return [kind for kind, check in boxes.items() if check.isChecked()]

            first = next(iter(checks[name].values()))
            self._fields[name] = _Field(name, box, first, read, error)
            self._tab_of[name] = tab

    def _add_secret(self, form: QtWidgets.QFormLayout, secret: SecretField) -> None:
        edit = QtWidgets.QLineEdit(self)
        edit.setObjectName(f"secret_{secret.key}")
        edit.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        edit.setAccessibleName(self.tr(secret.label))
        edit.setToolTip(self.tr(
            "Kept in your system keyring (or, without one, the encrypted secrets file), never in the settings file."
        ))
        label = QtWidgets.QLabel(self.tr(secret.label) + ":", self)
        label.setBuddy(edit)
        column = QtWidgets.QVBoxLayout()
        column.setSpacing(2)
        column.addWidget(edit)
        if secret.env in self._environ:
            edit.setReadOnly(True)
            edit.setPlaceholderText(self.tr("Given by {0}").format(secret.env))
            note = message_label(self, f"envNote_{secret.key}", NOTE_STYLE, visible=True)
            note.setText(self.tr("Set by the environment variable {0}; change it there.").format(secret.env))
            column.addWidget(note)
        if self._secrets is None:
            edit.setEnabled(False)
        elif secret.env not in self._environ:
            # Whether one is kept is read off the loop (the keyring may block); only that yes or no reaches
            # the dialog, never the secret.
            edit.setPlaceholderText(self.tr("Checking the keyring…"))
            check = self._secret_is_kept(self._secrets, secret.key)

            def known(kept: bool, edit: QtWidgets.QLineEdit = edit) -> None:
                edit.setPlaceholderText(self.tr("Unchanged (kept safely); type to replace") if kept
                                        else self.tr("Not set; type one to keep it in the keyring"))

            def unknown(_exc: BaseException, edit: QtWidgets.QLineEdit = edit) -> None:
                edit.setPlaceholderText(self.tr("Type to set or replace"))

            try:
                self._runner.submit(check, on_done=known, on_error=unknown, what="reading the keyring")
            except RuntimeError:  # no event loop (a dialog built outside the app): say nothing untrue
                check.close()
                edit.setPlaceholderText(self.tr("Type to set or replace"))
        form.addRow(label, column)
        self._secret_edits[secret.key] = edit

    def _add_test_email(self, form: QtWidgets.QFormLayout) -> None:
        self.test_button = QtWidgets.QPushButton(self.tr("Send &test email"), self)
        self.test_button.setObjectName("testEmailButton")
        self.test_button.setAccessibleName(self.tr("Send a test email"))
        self.test_button.setToolTip(self.tr("Send one email with the values above, before saving them (Alt+T)"))
        self.test_button.setEnabled(self._test_email is not None)
        self.test_button.clicked.connect(self.send_test_email)
        self.test_result = message_label(self, "testEmailResult", OK_STYLE)
        self.test_result.setAccessibleName(self.tr("Test email result"))
        row = QtWidgets.QVBoxLayout()
        row.addWidget(self.test_button, 0, QtCore.Qt.AlignmentFlag.AlignLeft)
        row.addWidget(self.test_result)
        form.addRow(row)

    def _follow_backend(self) -> None:
        """Only the chosen backend's fields are editable: the others would have no effect."""
        combo = self._fields["email_backend"].editor
        assert isinstance(combo, QtWidgets.QComboBox)
        groups = {"smtp": ("smtp_host", "smtp_port", "smtp_security", "smtp_user"), "postmark": ("postmark_url",)}
        secrets = {"smtp": "smtp_password", "postmark": "postmark_token"}
        from_edit = self._fields["email_from"].editor
        if isinstance(from_edit, QtWidgets.QLineEdit):
            from_edit.setPlaceholderText(self.tr("Default: the Send to address"))

        def apply() -> None:
            backend = combo.currentData()
            for name, fields in groups.items():
                for field in fields:
                    if not self._env_locked(field):
                        self._fields[field].editor.setEnabled(backend == name)
                edit = self._secret_edits.get(secrets[name])
                if edit is not None and self._secrets is not None:
                    edit.setEnabled(backend == name)
            if self._test_email is not None:
                self.test_button.setEnabled(backend != "none")

        combo.currentIndexChanged.connect(lambda _: apply())
        apply()

    # --- the box's engine settings -------------------------------------------------------------------

    def _read_box(self, box: BoxSettings) -> None:
        def shown(values: dict[str, Any]) -> None:
            self._box_values = {name: values[name] for name in self._box_fields if name in values}
            for name, value in self._box_values.items():
                if name in self._fields:
                    self._write(name, value)
                    self._enable_box_field(name)
            set_tone(self.box_note, NOTE_STYLE)
            self.box_note.setText(self.tr(
                "These settings are on the box at {0}: those marked “On the box” show its values, and Save changes "
                "them there. The rest are this computer's (the box's own e-mail, ntfy and webhook addresses are "
                "set on the box).").format(box.box))

        def failed(exc: BaseException) -> None:
            message = str(exc) if isinstance(exc, SniperError) else type(exc).__name__
            set_tone(self.box_note, ERROR_STYLE)
            self.box_note.setText(self.tr(
                "The settings of the box at {0} could not be read, so they cannot be changed here now ({1}). "
                "This computer's settings can still be saved.").format(box.box, message.rstrip(".")))

        read = box.engine_settings()
        try:
            self._runner.submit(read, on_done=shown, on_error=failed, what="reading the box's settings")
        except RuntimeError:  # no event loop (a dialog built outside the app)
            read.close()
            failed(SniperError("no connection"))

    def _enable_box_field(self, name: str) -> None:
        checks = self._grid_checks.get(name)
        if checks is not None:
            for check in checks.values():
                check.setEnabled(True)
        else:
            self._fields[name].editor.setEnabled(True)

    def _write(self, name: str, value: Any) -> None:
        """Show ``value`` (as the settings file holds it) in the field's editor."""
        checks = self._grid_checks.get(name)
        if checks is not None:
            for kind, check in checks.items():
                check.setChecked(kind in (value or ()))
            return
        editor = self._fields[name].editor
        if isinstance(editor, QtWidgets.QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QtWidgets.QComboBox):
            editor.setCurrentIndex(max(0, editor.findData(str(value))))
        elif isinstance(editor, QtWidgets.QSpinBox):
            editor.setValue(int(value))
        elif isinstance(editor, QtWidgets.QDoubleSpinBox):
            editor.setValue(float(value))
        elif isinstance(editor, QtWidgets.QLineEdit):
            editor.setText("" if value is None else str(value))

    def box_changes(self) -> dict[str, Any]:
        """The box's settings the form changes (none until the box's values are read)."""
        if self._box_values is None:
            return {}
        return {name: value for name, value in self.values().items()
                if name in self._box_values and value != self._box_values[name]}

    # --- reading the form ----------------------------------------------------------------------------

    def values(self) -> dict[str, Any]:
        """What the form says, for every field not fixed by the environment."""
        return {name: field.read() for name, field in self._fields.items() if not self._env_locked(name)}

    def changes(self) -> dict[str, Any]:
        """This computer's settings the form changes (the box's are :meth:`box_changes`)."""
        current = json.loads(self._settings.model_dump_json())
        changed: dict[str, Any] = {}
        for name, value in self.values().items():
            if name in self._box_fields:
                continue
            shown = str(value) if isinstance(value, Path) else value
            if shown != current.get(name):
                changed[name] = value
        return changed

    def field_widget(self, name: str) -> QtWidgets.QWidget:
        return self._fields[name].editor

    def secret_edit(self, key: str) -> QtWidgets.QLineEdit:
        return self._secret_edits[key]

    def field_error(self, name: str) -> str:
        """The problem shown beside ``name`` ("" when there is none)."""
        return self._fields[name].error.text()

    # --- errors --------------------------------------------------------------------------------------

    def _clear_errors(self) -> None:
        for field in self._fields.values():
            field.error.clear()
            field.error.setVisible(False)
        self.form_error.clear()
        self.form_error.setVisible(False)

    def _show_error(self, message: str) -> None:
        match = re.search(r"[Ss]etting '(\w+)'", message)
        name = match.group(1) if match else None
        field = self._fields.get(name or "")
        if field is None:
            self.form_error.setText(message)
            self.form_error.setVisible(True)
            return
        field.error.setText(message)
        field.error.setVisible(True)
        self.tabs.setCurrentIndex(self._tab_of.get(field.name, 0))
        field.editor.setFocus()

    # --- save ----------------------------------------------------------------------------------------

    def save(self) -> None:
        if self._busy:
            return
        self._clear_errors()
        self.status_label.setVisible(False)
        changes = self.changes()
        try:
            written = save_settings(changes, self._settings_file)
        except SettingsError as exc:
            self._show_error(str(exc))
            return
        except OSError as exc:
            self._show_error(self.tr("The settings could not be written ({0}).").format(exc.strerror or exc))
            return
        # The run may hold settings the file does not (the demo's simulator): only what was edited changes.
        saved = self._settings.model_copy(update={name: getattr(written, name) for name in changes})
        self._settings = saved
        on_box = self.box_changes()
        if on_box and self._box is not None:
            self._set_busy(True)
            self._runner.submit(
                self._send_to_box(self._box, on_box),
                on_done=lambda _: self._after_box(saved),
                on_error=self._box_refused,
                what="changing the box's settings",
            )
            return
        self._after_box(saved)

    async def _send_to_box(self, box: BoxSettings, changes: dict[str, Any]) -> None:
        """One change at a time, each validated and saved by the box; those it took are not sent again."""
        for name, value in changes.items():
            sent = ",".join(value) if isinstance(value, list) else value
            done = await box.change_engine_setting(name, sent)
            if self._box_values is not None:
                self._box_values[name] = done.get("value", value)
            if done.get("overridden_by"):
                self._box_overrides.append((name, str(done["overridden_by"])))

    def _box_refused(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, SniperError):
            self._show_error(str(exc))
        else:
            log.error("changing the box's settings failed unexpectedly", exc_info=exc)
            self._show_error(self.tr("The box did not take the change ({0}).").format(type(exc).__name__))

    def _after_box(self, saved: Settings) -> None:
        typed = {key: edit.text() for key, edit in self._secret_edits.items()
                 if edit.text() and not edit.isReadOnly()}
        if not typed or self._secrets is None:
            self._saved(saved)
            return
        self._set_busy(True)
        self._runner.submit(
            self._store_secrets(self._secrets, typed),
            on_done=lambda _: self._saved(saved, secrets_saved=True),
            on_error=self._secrets_failed,
            what="saving secrets to the keyring",
        )

    @staticmethod
    async def _secret_is_kept(sink: SecretSink, key: str) -> bool:
        getter = {"ebay_client_secret": sink.aclient_secret, "smtp_password": sink.asmtp_password,
                  "postmark_token": sink.apostmark_token, "ntfy_token": sink.antfy_token,
                  "webhook_secret": sink.awebhook_secret}[key]
        return bool(await getter())

    @staticmethod
    async def _store_secrets(sink: SecretSink, typed: dict[str, str]) -> None:
        if "ebay_client_secret" in typed:
            await sink.aset_client_secret(typed["ebay_client_secret"])
        if "smtp_password" in typed:
            await sink.aset_smtp_password(typed["smtp_password"])
        if "postmark_token" in typed:
            await sink.aset_postmark_token(typed["postmark_token"])
        if "ntfy_token" in typed:
            await sink.aset_ntfy_token(typed["ntfy_token"])
        if "webhook_secret" in typed:
            await sink.aset_webhook_secret(typed["webhook_secret"])

    def _saved(self, saved: Settings, *, secrets_saved: bool = False) -> None:
        self._set_busy(False)
        if secrets_saved:
            for edit in self._secret_edits.values():
                if not edit.isReadOnly():
                    edit.clear()
        set_tone(self.status_label, OK_STYLE)
        self.status_label.setText(self.tr("Settings saved."))
        self.status_label.setVisible(True)
        self.settingsSaved.emit(saved)
        if self._box_overrides and self._box is not None:
            # Saved, yet not in force: the dialog stays open so the user reads why before the value misleads.
            names = ", ".join(f"{setting_label(name)} ({variable})" for name, variable in self._box_overrides)
            self._box_overrides.clear()
            set_tone(self.status_label, NOTE_STYLE)
            self.status_label.setText(self.tr(
                "Saved on the box, but its environment variables keep these as they are while set: {0}.").format(names))
            return
        self.accept()

    def _secrets_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        # The settings are saved; only the keyring refused. Keep the typed secrets for another try.
        message = str(exc) if isinstance(exc, SniperError) else self.tr(
            "The keyring refused to store the password ({0}).").format(type(exc).__name__)
        self.form_error.setText(self.tr("Settings saved, but not the passwords: {0}").format(message))
        self.form_error.setVisible(True)
        self.settingsSaved.emit(self._settings)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.save_button.setEnabled(not busy)

    # --- test email ----------------------------------------------------------------------------------

    def send_test_email(self) -> None:
        if self._test_email is None or not self.test_button.isEnabled():
            return
        self._clear_errors()
        try:
            candidate = Settings.model_validate(self._settings.model_dump() | self.values())
        except ValidationError as exc:
            first = exc.errors()[0]
            name = str(first["loc"][0]) if first["loc"] else "settings"
            message = str(first["msg"]).removeprefix("Value error, ")
            self._show_error(f"Setting '{name}': {message}.")
            return
        backend_secret = {"smtp": "smtp_password", "postmark": "postmark_token"}.get(candidate.email_backend)
        edit = self._secret_edits.get(backend_secret or "")
        secret = edit.text() if edit is not None and edit.text() and not edit.isReadOnly() else None
        self.test_button.setEnabled(False)
        set_tone(self.test_result, NOTE_STYLE)
        self.test_result.setText(self.tr("Sending…"))
        self.test_result.setVisible(True)
        self._runner.submit(
            self._test_email(candidate, secret),
            on_done=self._test_sent,
            on_error=self._test_failed,
            what="sending a test email",
        )

    def _test_sent(self, sentence: str) -> None:
        self.test_button.setEnabled(True)
        set_tone(self.test_result, OK_STYLE)
        self.test_result.setText(sentence)

    def _test_failed(self, exc: BaseException) -> None:
        self.test_button.setEnabled(True)
        set_tone(self.test_result, ERROR_STYLE)
        if isinstance(exc, SniperError):
            prefix = "" if isinstance(exc, InputError) else self.tr("The test email was not sent. ")
            self.test_result.setText(prefix + str(exc))
        else:
            log.error("Test email failed unexpectedly", exc_info=exc)
            self.test_result.setText(self.tr("The test email was not sent ({0}).").format(type(exc).__name__))
