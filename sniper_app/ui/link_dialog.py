"""The Link eBay account dialog: open eBay's consent page, take back the address it lands on, show who is linked.

eBay hands the authorization code to a desktop app through the address the browser lands on after the
user agrees; pasting that address always works, so it is the way this dialog takes. In the demo the consent
page is the bundled simulator's, which approves at once: the dialog reads the redirect itself, so linking
is two clicks (open, link) and no browser is needed.

The consent page's address is asked for in the background ("Asking eBay…"): over a box it is the box that
makes it, and only the address crosses the wire; the box's eBay tokens stay on the box.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import httpx

from sniper_app.domain.errors import SniperError
from sniper_app.engine.demo_link import demo_consent_redirect, is_loopback
from sniper_app.engine.secrets import passphrase_helps
from sniper_app.engine.service import SniperService
from sniper_app.ui.bridge import AsyncRunner
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets
from sniper_app.ui.widgets import message_label

if TYPE_CHECKING:
    from sniper_app.ebay import EbayUser
    from sniper_app.engine.accounts import AccountStatus, UnlinkResult

log = logging.getLogger(__name__)

class LinkDialog(QtWidgets.QDialog):
    """Link (or link again, or unlink) the eBay account the app bids for."""

    linked = QtCore.Signal(str)  # the eBay username now linked
    unlinked = QtCore.Signal()

    def __init__(
        self,
        service: SniperService,
        runner: AsyncRunner,
        parent: QtWidgets.QWidget | None = None,
        *,
        reason: str | None = None,
        consent_page: Callable[[], Coroutine[Any, Any, str]] | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        # Where the consent page's address comes from: the local engine, or the box this desktop drives.
        self._consent_page = consent_page or self._local_consent_page
        self._local = consent_page is None  # a box keeps the sign-in in its own store: no passphrase here helps
        self._runner = runner
        self._reason = reason
        self._status: AccountStatus | None = None
        self._busy = False
        self._confirm: QtWidgets.QMessageBox | None = None
        self.setObjectName("linkDialog")
        self.setWindowTitle(self.tr("Link eBay account"))
        self._build()
        self.refresh_status()

    # --- layout -----------------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QtWidgets.QVBoxLayout(self)

        self.status_label = QtWidgets.QLabel(self.tr("Checking the linked account…"), self)
        self.status_label.setObjectName("statusLabel")
        self.status_label.setAccessibleName(self.tr("Linked account"))
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.status_label.font()
        font.setBold(True)
        self.status_label.setFont(font)
        layout.addWidget(self.status_label)

        if self._service.demo:
            steps = self.tr(
                "This is the demo: its eBay is simulated and approves at once.\n"
                "1. Press “Open eBay sign-in”.\n2. Press “Link”."
            )
        else:
            steps = self.tr(
                "1. Press “Open eBay sign-in”: eBay's page opens in your browser. Sign in and choose “Agree”.\n"
                "2. Copy the whole address of the page eBay then shows, and paste it below.\n"
                "3. Press “Link”."
            )
        self._steps = steps
        self.steps_label = QtWidgets.QLabel(steps, self)
        self.steps_label.setObjectName("stepsLabel")
        self.steps_label.setWordWrap(True)
        layout.addWidget(self.steps_label)

        self.open_button = QtWidgets.QPushButton(self.tr("&Open eBay sign-in"), self)
        self.open_button.setObjectName("openButton")
        self.open_button.setAccessibleName(self.tr("Open eBay sign-in"))
        self.open_button.clicked.connect(self._open_sign_in)
        open_row = QtWidgets.QHBoxLayout()
        open_row.addWidget(self.open_button)
        open_row.addStretch(1)
        layout.addLayout(open_row)

        # Shown once a consent page was made, for a machine where no browser opens by itself.
        self.consent_edit = QtWidgets.QLineEdit(self)
        self.consent_edit.setObjectName("consentEdit")
        self.consent_edit.setReadOnly(True)
        self.consent_edit.setAccessibleName(self.tr("Address of eBay's sign-in page"))
        self.consent_edit.setToolTip(self.tr("If no browser opened, copy this address into one."))
        self.consent_edit.setVisible(False)
        layout.addWidget(self.consent_edit)

        redirect_label = QtWidgets.QLabel(self.tr("&Address the browser landed on:"), self)
        layout.addWidget(redirect_label)
        self.redirect_edit = QtWidgets.QLineEdit(self)
        self.redirect_edit.setObjectName("redirectEdit")
        self.redirect_edit.setAccessibleName(self.tr("Address the browser landed on after agreeing"))
        self.redirect_edit.setPlaceholderText(self.tr("Paste the address here (it contains “code=”)"))
        self.redirect_edit.setClearButtonEnabled(True)
        redirect_label.setBuddy(self.redirect_edit)
        self.link_button = QtWidgets.QPushButton(self.tr("&Link"), self)
        self.link_button.setObjectName("linkButton")
        self.link_button.setAccessibleName(self.tr("Link"))
        self.link_button.clicked.connect(self._link)
        # Enter in the pasted address links; it must never close the dialog or reopen the sign-in page.
        self.link_button.setDefault(True)
        self.open_button.setAutoDefault(False)
        redirect_row = QtWidgets.QHBoxLayout()
        redirect_row.addWidget(self.redirect_edit, 1)
        redirect_row.addWidget(self.link_button)
        layout.addLayout(redirect_row)

        self.error_label = message_label(self, "errorLabel")
        self.error_label.setAccessibleName(self.tr("Problem"))
        layout.addWidget(self.error_label)

        # Shown where the sign-in cannot be kept for want of a keyring: the way out, one click away.
        self.passphrase_button = QtWidgets.QPushButton(self.tr("Use a &passphrase…"), self)
        self.passphrase_button.setObjectName("passphraseButton")
        self.passphrase_button.setAccessibleName(self.tr("Keep the sign-in in a file locked by a passphrase"))
        self.passphrase_button.setAutoDefault(False)
        self.passphrase_button.setVisible(False)
        self.passphrase_button.clicked.connect(self._use_passphrase)
        passphrase_row = QtWidgets.QHBoxLayout()
        passphrase_row.addWidget(self.passphrase_button)
        passphrase_row.addStretch(1)
        layout.addLayout(passphrase_row)

        self.info_label = QtWidgets.QLabel(self)
        self.info_label.setObjectName("infoLabel")
        self.info_label.setWordWrap(True)
        self.info_label.setVisible(False)
        layout.addWidget(self.info_label)

        self.buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close, self)
        self.unlink_button = self.buttons.addButton(
            self.tr("&Unlink…"), QtWidgets.QDialogButtonBox.ButtonRole.DestructiveRole
        )
        self.unlink_button.setObjectName("unlinkButton")
        self.unlink_button.setAccessibleName(self.tr("Unlink the eBay account"))
        self.unlink_button.setEnabled(False)
        self.unlink_button.clicked.connect(self._confirm_unlink)
        self.buttons.rejected.connect(self.reject)
        for button in self.buttons.buttons():
            if isinstance(button, QtWidgets.QPushButton):
                button.setAutoDefault(False)
        layout.addStretch(1)  # a tall dialog keeps its lines together and the room goes above the buttons
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)

    # --- state ------------------------------------------------------------------------------------

    @property
    def status(self) -> AccountStatus | None:
        return self._status

    def error_text(self) -> str:
        return self.error_label.text() if not self.error_label.isHidden() else ""

    def _set_error(self, text: str | None) -> None:
        self.error_label.setText(text or "")
        self.error_label.setVisible(bool(text))
        if not text:
            self.passphrase_button.setVisible(False)
        self._fit_height()

    def _set_info(self, text: str | None) -> None:
        self.info_label.setText(text or "")
        self.info_label.setVisible(bool(text))
        self._fit_height()

    def _show_steps(self, *, done: bool) -> None:
        """The numbered steps while there is something to do; once linked, how to link again instead."""
        self.steps_label.setText(
            self.tr("To link another account, or this one again, press “Open eBay sign-in”.") if done
            else self._steps
        )
        self._fit_height()

    def _fit_height(self) -> None:
        """Grow to show every line of the wrapped labels at the current width. A window's layout applies
        height-for-width only to its first size, so a long message set later (or a narrower window) would
        otherwise squeeze the labels into each other."""
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        needed = (
            layout.totalHeightForWidth(self.width())
            if layout.hasHeightForWidth()
            else layout.totalMinimumSize().height()
        )
        self.setMinimumHeight(needed)
        if self.height() < needed:
            self.resize(self.width(), needed)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_height()

    def _set_busy(self, busy: bool, text: str | None = None) -> None:
        self._busy = busy
        for widget in (self.open_button, self.link_button):
            widget.setEnabled(not busy)
        self.redirect_edit.setReadOnly(busy)
        self.unlink_button.setEnabled(not busy and bool(self._status and self._status.username))
        if busy:
            self._set_info(text)

    def refresh_status(self) -> None:
        self._runner.submit(
            self._service.account_status(),
            on_done=self._show_status,
            on_error=self._on_status_error,
            what="account status",
        )

    def _show_status(self, status: AccountStatus) -> None:
        self._status = status
        where = self.tr(" (eBay {environment})").format(environment=status.environment)
        if status.environment == "production":
            where = ""
        if not status.linked or not status.username:
            text = self.tr("No eBay account is linked yet.")
        elif status.needs_relink:
            reason = self._reason or self.tr(
                "eBay no longer accepts the app's sign-in for it (it expired or was revoked)"
            )
            text = self.tr("{name} needs to be linked again: {reason}.").format(
                name=status.username, reason=reason.rstrip(".")
            )
        else:
            text = self.tr("Linked as {name}{where}.").format(name=status.username, where=where)
        self.status_label.setText(text)
        self._show_steps(done=bool(status.linked and status.username and not status.needs_relink))
        self.unlink_button.setEnabled(not self._busy and bool(status.username))
        self._fit_height()

    def _on_status_error(self, exc: BaseException) -> None:
        if not isinstance(exc, SniperError):
            log.warning("Reading the account status failed", exc_info=exc)
        # The username is in the database even when the keyring cannot be read.
        name = self._service.linked_username()
        self.status_label.setText(
            self.tr("Linked as {name}.").format(name=name) if name else self.tr("No eBay account is linked yet.")
        )
        self.unlink_button.setEnabled(not self._busy and bool(name))
        if isinstance(exc, SniperError):
            self._set_error(str(exc))

    # --- open the consent page --------------------------------------------------------------------

    @QtCore.Slot()
    def _open_sign_in(self) -> None:
        if self._busy:
            return
        self._set_error(None)
        self._set_busy(True, self.tr("Asking eBay…"))
        self._runner.submit(self._consent_page(), on_done=self._on_consent_page, on_error=self._on_consent_error,
                            what="the consent page")

    async def _local_consent_page(self) -> str:
        return self._service.start_link()  # one small file written: no wait worth a thread

    def _on_consent_error(self, exc: BaseException) -> None:
        self._set_busy(False)
        self._set_info(None)
        if isinstance(exc, SniperError):
            self._set_error(str(exc))
        elif isinstance(exc, OSError):  # the data dir cannot hold the pending link
            log.warning("Could not start the account link", exc_info=exc)
            self._set_error(self.tr("The app could not save the link attempt in its data folder; check its space "
                                    "and permissions, then try again."))
        else:
            log.error("Starting the account link failed unexpectedly", exc_info=exc)
            self._set_error(self.tr("eBay's sign-in page could not be prepared ({0}).").format(type(exc).__name__))

    def _on_consent_page(self, url: str) -> None:
        self._set_busy(False)
        self._set_info(None)
        self.consent_edit.setText(url)
        self.consent_edit.setVisible(True)
        if self._service.demo and is_loopback(url):
            self._set_busy(True, self.tr("Asking the demo's eBay…"))
            self._runner.submit(
                demo_consent_redirect(url),
                on_done=lambda landed: self._on_demo_redirect(url, landed),
                on_error=lambda exc: self._on_demo_error(url, exc),
                what="demo consent",
            )
            return
        self._open_in_browser(url)

    def _open_in_browser(self, url: str) -> None:
        if QtGui.QDesktopServices.openUrl(QtCore.QUrl(url)):
            self._set_info(self.tr("eBay's page is open in your browser. After you agree, paste the address "
                                   "it shows below."))
        else:
            self._set_info(self.tr("No browser could be opened; copy the address above into one, agree, "
                                   "then paste the address it shows below."))
        self.redirect_edit.setFocus()

    def _on_demo_redirect(self, url: str, landed: str | None) -> None:
        self._set_busy(False)
        if landed is None:  # a demo eBay that wants a click: let the user give it in the browser
            self._open_in_browser(url)
            return
        self.redirect_edit.setText(landed)
        self._set_info(self.tr("The demo's eBay approved; press “Link” to finish."))
        self.link_button.setDefault(True)
        self.link_button.setFocus()

    def _on_demo_error(self, url: str, exc: BaseException) -> None:
        self._set_busy(False)
        log.warning("The demo consent page could not be read", exc_info=exc)
        self._open_in_browser(url)

    # --- link -------------------------------------------------------------------------------------

    @QtCore.Slot()
    def _link(self) -> None:
        if self._busy:
            return
        text = self.redirect_edit.text().strip()
        if not text:
            self._set_error(self.tr("Paste the address your browser shows after you agree on eBay's page."))
            self.redirect_edit.setFocus()
            return
        self._set_error(None)
        self._set_busy(True, self.tr("Linking…"))
        self._runner.submit(
            self._service.complete_link(text), on_done=self._on_linked, on_error=self._on_link_error, what="link"
        )

    @QtCore.Slot()
    def _use_passphrase(self) -> None:
        from sniper_app.ui.passphrase_dialog import PassphraseDialog

        dialog = PassphraseDialog(self._service.data_dir, self._service.client.secrets, self._runner, self)
        dialog.unlocked.connect(self._passphrase_set)
        dialog.open()

    def _passphrase_set(self) -> None:
        self._set_error(None)
        self._set_info(self.tr("Your sign-in will be kept in the encrypted file. Press “Link” again."))
        self.link_button.setFocus()

    def _on_linked(self, user: EbayUser) -> None:
        self._set_busy(False)
        self._reason = None
        self.redirect_edit.clear()
        self.consent_edit.setVisible(False)
        self._set_info(None)
        self.status_label.setText(self.tr("Linked as {name}.").format(name=user.username))
        self._show_steps(done=True)
        self.unlink_button.setEnabled(True)
        self.refresh_status()
        self.linked.emit(user.username)

    def _on_link_error(self, exc: BaseException) -> None:
        self._set_busy(False)
        self._set_info(None)
        if self._local and not self._service.demo and passphrase_helps(exc):
            self.passphrase_button.setVisible(True)  # before the text, so the dialog grows to fit both
            self._set_error(self.tr(
                "This desktop has no keyring to keep your eBay sign-in. Press “Use a passphrase…” to keep it in "
                "an encrypted file instead; the address you pasted stays valid."
            ))
        elif isinstance(exc, SniperError):
            self._set_error(str(exc))
        elif isinstance(exc, (httpx.HTTPError, OSError)):
            log.warning("Linking the account failed: %s", type(exc).__name__)
            self._set_error(self.tr("eBay could not be reached to finish the link; check the connection, then "
                                    "press “Open eBay sign-in” to start again."))
        else:  # a bug or a broken install (e.g. the keyring): say so rather than blame the network
            log.error("Linking the account failed", exc_info=exc)
            self._set_error(self.tr("Linking failed unexpectedly ({kind}); the log file has the details.").format(
                kind=type(exc).__name__))
        self.redirect_edit.setFocus()

    # --- unlink -----------------------------------------------------------------------------------

    @QtCore.Slot()
    def _confirm_unlink(self) -> None:
        if self._busy:
            return
        name = (self._status.username if self._status else None) or self._service.linked_username() or ""
        box = QtWidgets.QMessageBox(
            QtWidgets.QMessageBox.Icon.Question,
            self.tr("Unlink eBay account"),
            self.tr("Unlink {name}? The app forgets its sign-in; your snipes are kept but none can be placed "
                    "until an account is linked again.").format(name=name),
            QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("unlinkConfirm")
        box.setDefaultButton(QtWidgets.QMessageBox.StandardButton.Cancel)
        box.button(QtWidgets.QMessageBox.StandardButton.Yes).setText(self.tr("&Unlink"))
        box.finished.connect(self._on_confirm_finished)
        self._confirm = box
        box.open()  # never exec(): it would nest an event loop under the asyncio one

    @QtCore.Slot(int)
    def _on_confirm_finished(self, result: int) -> None:
        box, self._confirm = self._confirm, None
        if box is None:
            return
        box.deleteLater()
        if box.standardButton(box.clickedButton()) != QtWidgets.QMessageBox.StandardButton.Yes:
            return
        self._set_busy(True, self.tr("Unlinking…"))
        self._runner.submit(
            self._service.unlink(), on_done=self._on_unlinked, on_error=self._on_unlink_error, what="unlink"
        )

    def _on_unlinked(self, result: UnlinkResult) -> None:
        self._status = None
        self._set_busy(False)
        self._set_info(" ".join(result.warnings) or None)
        self.refresh_status()
        self.unlinked.emit()

    def _on_unlink_error(self, exc: BaseException) -> None:
        self._set_busy(False)
        self._set_info(None)
        if isinstance(exc, SniperError):
            self._set_error(str(exc))
        else:
            log.error("Unlinking the account failed", exc_info=exc)
            self._set_error(self.tr("The account could not be unlinked because of an unexpected problem; try again."))
