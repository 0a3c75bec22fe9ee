"""Unlock the encrypted secrets file with a passphrase, on a desktop that has no keyring (i3, sway, WSL).

Asked once per start, instead of a dead end at the first sign-in. The passphrase only derives the file's
key and stays in memory; the engine keeps sniping while the dialog waits, with whatever it can do
without the sign-in.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sniper_app.engine.secrets import (
    SecretsFileError,
    needs_passphrase,
    secrets_file_exists,
    unlock_with_passphrase,
)
from sniper_app.ui.bridge import AsyncRunner
from sniper_app.ui.qt import QtCore, QtWidgets
from sniper_app.ui.widgets import message_label

if TYPE_CHECKING:
    from sniper_app.ebay import SecretStore

log = logging.getLogger(__name__)

MIN_PASSPHRASE = 8


class PassphraseDialog(QtWidgets.QDialog):
    """Create (first time) or type (later) the passphrase of the encrypted secrets file."""

    unlocked = QtCore.Signal()

    def __init__(
        self, data_dir: Path, secrets: SecretStore, runner: AsyncRunner, parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._data_dir = data_dir
        self._secrets = secrets
        self._runner = runner
        self.creating = not secrets_file_exists(data_dir)
        self.setObjectName("passphraseDialog")
        self.setWindowTitle(self.tr("Keep your eBay sign-in"))
        layout = QtWidgets.QVBoxLayout(self)
        if self.creating:
            text = self.tr(
                "This desktop has no keyring to keep your eBay sign-in safely. Sniper can keep it in an "
                "encrypted file in its data folder instead, locked by a passphrase you choose now and type "
                "once each time Sniper starts."
            )
        else:
            text = self.tr(
                "Your eBay sign-in is kept in an encrypted file, because this desktop has no keyring. Type its "
                "passphrase to unlock it for this session."
            )
        self.intro_label = QtWidgets.QLabel(text, self)
        self.intro_label.setObjectName("introLabel")
        self.intro_label.setWordWrap(True)
        layout.addWidget(self.intro_label)

        form = QtWidgets.QFormLayout()
        self.passphrase_edit = QtWidgets.QLineEdit(self)
        self.passphrase_edit.setObjectName("passphraseEdit")
        self.passphrase_edit.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        self.passphrase_edit.setAccessibleName(self.tr("Passphrase"))
        form.addRow(self.tr("&Passphrase:"), self.passphrase_edit)
        self.confirm_edit = QtWidgets.QLineEdit(self)
        self.confirm_edit.setObjectName("confirmEdit")
        self.confirm_edit.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        self.confirm_edit.setAccessibleName(self.tr("Passphrase again"))
        if self.creating:
            form.addRow(self.tr("&Again:"), self.confirm_edit)
        else:
            self.confirm_edit.hide()
        layout.addLayout(form)

        self.error_label = message_label(self, "errorLabel")
        self.error_label.setAccessibleName(self.tr("Problem"))
        layout.addWidget(self.error_label)

        self.buttons = QtWidgets.QDialogButtonBox(self)
        self.ok_button = self.buttons.addButton(
            self.tr("&Create") if self.creating else self.tr("&Unlock"),
            QtWidgets.QDialogButtonBox.ButtonRole.AcceptRole,
        )
        self.ok_button.setObjectName("okButton")
        self.later_button = self.buttons.addButton(
            self.tr("&Not now"), QtWidgets.QDialogButtonBox.ButtonRole.RejectRole
        )
        self.later_button.setObjectName("laterButton")
        self.ok_button.clicked.connect(self._submit)
        self.later_button.clicked.connect(self.reject)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(460)

    def error_text(self) -> str:
        return self.error_label.text() if not self.error_label.isHidden() else ""

    def _set_error(self, text: str | None) -> None:
        self.error_label.setText(text or "")
        self.error_label.setVisible(bool(text))
        self.adjustSize()

    def _submit(self) -> None:
        passphrase = self.passphrase_edit.text()
        if not passphrase:
            self._set_error(self.tr("Type the passphrase."))
            return
        if self.creating:
            if len(passphrase) < MIN_PASSPHRASE:
                self._set_error(self.tr("Choose a passphrase of at least {n} characters.").format(n=MIN_PASSPHRASE))
                return
            if passphrase != self.confirm_edit.text():
                self._set_error(self.tr("The two passphrases differ; type the same one twice."))
                return
        self._set_error(None)
        self.ok_button.setEnabled(False)
        self._runner.submit(
            unlock_with_passphrase(self._secrets, self._data_dir, passphrase),
            on_done=self._unlocked,
            on_error=self._refused,
            what="unlocking the secrets file",
        )

    def _unlocked(self, _result: None) -> None:
        log.info("secrets: the encrypted file, unlocked by the passphrase typed at start")
        self.passphrase_edit.clear()
        self.confirm_edit.clear()
        self.unlocked.emit()
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.ok_button.setEnabled(True)
        if isinstance(exc, SecretsFileError) and exc.kind == "wrong_key":
            self._set_error(self.tr("That passphrase does not open your saved sign-in; check it and try again."))
        elif isinstance(exc, SecretsFileError):
            self._set_error(str(exc))
            self.creating = True  # a damaged file was kept aside: the next passphrase starts a new one
        else:
            log.error("unlocking the secrets file failed", exc_info=exc)
            self._set_error(self.tr("The secrets file could not be unlocked ({kind}); the log has the details.")
                            .format(kind=type(exc).__name__))


async def offer_passphrase(
    data_dir: Path, secrets: SecretStore, runner: AsyncRunner, parent: QtWidgets.QWidget | None, *, demo: bool
) -> PassphraseDialog | None:
    """Open the passphrase dialog (without waiting on it) when this desktop has no usable keyring and no key
    was given; None when the secrets have a home already."""
    if not await needs_passphrase(data_dir, demo=demo):
        return None
    dialog = PassphraseDialog(data_dir, secrets, runner, parent)
    dialog.open()
    return dialog
