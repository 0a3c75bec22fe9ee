"""The Link eBay account dialog against a live engine and the simulator's consent page and token endpoint."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import shiboken6

from sniper_app.simulator import SimulatorServer
from sniper_app.ui.bridge import AsyncRunner
from sniper_app.ui.link_dialog import LinkDialog
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets
from tests.gui.conftest import SCREENSHOT_DIR
from tests.support.live import Live, live_service
from tests.support.wait import wait_until_async

Qt = QtCore.Qt


class Browser(QtCore.QObject):
    """Stands in for the OS browser: records what the app asked to open."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @QtCore.Slot(QtCore.QUrl)
    def open(self, url: QtCore.QUrl) -> None:
        self.opened.append(url.toString(QtCore.QUrl.ComponentFormattingOption.FullyEncoded))


@pytest.fixture
def browser(qapp: Any) -> Iterator[Browser]:
    handler = Browser()
    for scheme in ("http", "https"):
        QtGui.QDesktopServices.setUrlHandler(scheme, handler, "open")
    try:
        yield handler
    finally:
        for scheme in ("http", "https"):
            QtGui.QDesktopServices.unsetUrlHandler(scheme)


@asynccontextmanager
async def link_dialog(live: Live, qtbot: Any, **kw: Any) -> AsyncIterator[LinkDialog]:
    runner = AsyncRunner()
    dialog = LinkDialog(live.service, runner, None, **kw)
    dialog.open()
    try:
        yield dialog
    finally:
        runner.cancel_all()
        # Deleted here, on the GUI thread, rather than by a garbage collection on some other thread.
        objects = [dialog, runner]
        for obj in objects:
            obj.deleteLater()
        await wait_until_async(lambda: not any(shiboken6.isValid(o) for o in objects), what="the dialog to be deleted")


def click(qtbot: Any, button: QtWidgets.QAbstractButton) -> None:
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


async def open_sign_in(qtbot: Any, dialog: LinkDialog, browser: Browser) -> str:
    """Press “Open eBay sign-in” and wait for the consent page (asked for in the background) to be opened."""
    before = len(browser.opened)
    click(qtbot, dialog.open_button)
    assert not dialog.open_button.isEnabled()  # busy while the address is asked for
    await wait_until_async(lambda: len(browser.opened) > before, what="the consent page in the browser")
    assert dialog.open_button.isEnabled()
    return browser.opened[-1]


async def landing_address(consent_url: str) -> str:
    """Where a browser lands after the simulator's auto-approving consent page."""
    async with httpx.AsyncClient(follow_redirects=False) as http:
        reply = await http.get(consent_url)
    assert reply.status_code == 302, reply.text
    return str(reply.headers["location"])


def test_a_redirect_from_another_link_attempt_is_refused_inline(
    sim: SimulatorServer, tmp_path: Path, qloop: Any, qtbot: Any, browser: Browser
) -> None:
    async def scenario() -> None:
        async with live_service(sim, tmp_path, linked=False) as live, link_dialog(live, qtbot) as dialog:
            await wait_until_async(lambda: dialog.status is not None, what="the account status")
            assert dialog.status_label.text() == "No eBay account is linked yet."
            assert not dialog.unlink_button.isEnabled()

            consent = await open_sign_in(qtbot, dialog, browser)
            assert browser.opened == [consent]
            assert "/oauth2/authorize?" in consent
            assert "state=" in consent
            landed = await landing_address(browser.opened[0])
            # The address of an older attempt: same shape, another state.
            stale = landed.replace("state=", "state=older", 1)
            dialog.redirect_edit.setText(stale)
            click(qtbot, dialog.link_button)
            await wait_until_async(lambda: dialog.error_text() != "", what="the refusal")
            assert dialog.error_text() == (
                "The pasted address belongs to a different link attempt (its state does not match); "
                "use the address from the most recent consent page, or start again."
            )
            assert dialog.redirect_edit.text() == stale  # kept, to be corrected
            assert live.service.linked_username() is None
            assert dialog.status_label.text() == "No eBay account is linked yet."

            # The right address still works: the refused one did not spend the attempt.
            dialog.redirect_edit.setText(landed)
            linked: list[str] = []
            dialog.linked.connect(linked.append)
            qtbot.keyClick(dialog.redirect_edit, Qt.Key.Key_Return)  # Enter links, and does not close
            await wait_until_async(lambda: linked == ["demo"], what="the link")
            assert dialog.isVisible()
            assert live.service.linked_username() == "demo"
            assert dialog.error_text() == ""
            await wait_until_async(
                lambda: dialog.status_label.text() == "Linked as demo (eBay simulator).", what="the status"
            )

    qloop(scenario())


def test_an_empty_paste_is_explained(
    sim: SimulatorServer, tmp_path: Path, qloop: Any, qtbot: Any, browser: Browser
) -> None:
    async def scenario() -> None:
        async with live_service(sim, tmp_path, linked=False) as live, link_dialog(live, qtbot) as dialog:
            click(qtbot, dialog.link_button)
            assert dialog.error_text() == "Paste the address your browser shows after you agree on eBay's page."
            await open_sign_in(qtbot, dialog, browser)
            dialog.redirect_edit.setText("https://example.org/no-query")
            click(qtbot, dialog.link_button)
            await wait_until_async(
                lambda: dialog.error_text().startswith("That does not look like"), what="the refusal"
            )

    qloop(scenario())


def test_demo_links_in_two_clicks(
    sim: SimulatorServer, tmp_path: Path, qloop: Any, qtbot: Any, browser: Browser
) -> None:
    async def scenario() -> None:
        async with live_service(sim, tmp_path, linked=False) as live:
            live.service.demo = True
            async with link_dialog(live, qtbot) as dialog:
                await wait_until_async(lambda: dialog.status is not None, what="the account status")
                linked: list[str] = []
                dialog.linked.connect(linked.append)
                click(qtbot, dialog.open_button)  # click 1
                await wait_until_async(lambda: dialog.redirect_edit.text() != "", what="the demo's redirect")
                assert "code=" in dialog.redirect_edit.text()
                click(qtbot, dialog.link_button)  # click 2
                await wait_until_async(lambda: linked == ["demo"], what="the demo account")
                assert live.service.linked_username() == "demo"
                assert browser.opened == []  # no browser needed in the demo
                await wait_until_async(
                    lambda: dialog.status_label.text().startswith("Linked as demo"), what="the status"
                )
                assert live.store.get_user(live.user_id).ebay_username == "demo"
                assert dialog.unlink_button.isEnabled()
                SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
                assert dialog.grab().save(str(SCREENSHOT_DIR / "link.png"))

    qloop(scenario())


def test_needs_relink_is_shown_with_the_reason_and_unlink_asks_first(
    sim: SimulatorServer, tmp_path: Path, qloop: Any, qtbot: Any, browser: Browser
) -> None:
    async def scenario() -> None:
        async with live_service(sim, tmp_path) as live:
            live.store.update_user(live.user_id, needs_relink=True)
            async with link_dialog(live, qtbot, reason="eBay revoked the app's access.") as dialog:
                await wait_until_async(lambda: dialog.status is not None, what="the account status")
                assert dialog.status_label.text() == "demo needs to be linked again: eBay revoked the app's access."

                click(qtbot, dialog.unlink_button)
                box = dialog.findChild(QtWidgets.QMessageBox, "unlinkConfirm")
                assert box is not None
                assert box.isVisible()
                box.button(QtWidgets.QMessageBox.StandardButton.Cancel).click()
                await wait_until_async(lambda: not shiboken6.isValid(box), what="the question to go away")
                assert live.service.linked_username() == "demo"  # nothing without a yes

                click(qtbot, dialog.unlink_button)
                box = dialog.findChild(QtWidgets.QMessageBox, "unlinkConfirm")
                assert box is not None
                unlinked: list[bool] = []
                dialog.unlinked.connect(lambda: unlinked.append(True))
                box.button(QtWidgets.QMessageBox.StandardButton.Yes).click()
                await wait_until_async(lambda: unlinked == [True], what="the unlink")
                assert live.service.linked_username() is None
                await wait_until_async(
                    lambda: dialog.status_label.text() == "No eBay account is linked yet.", what="the new status"
                )

    qloop(scenario())


def _overlaps(dialog: LinkDialog) -> list[str]:
    """Which of the dialog's visible widgets the error label overlaps, and whether it is cut off."""
    error = dialog.error_label.geometry()
    problems = [
        widget.objectName() or type(widget).__name__
        for widget in (dialog.status_label, dialog.steps_label, dialog.open_button, dialog.redirect_edit,
                       dialog.link_button, dialog.passphrase_button, dialog.buttons)
        if widget.isVisible() and widget.geometry().intersects(error)
    ]
    for label in (dialog.error_label, dialog.steps_label):
        if label.height() < label.heightForWidth(label.width()):
            problems.append(f"{label.objectName()} cut off")
    return problems


@pytest.mark.parametrize("width", [520, 1000])
def test_a_long_error_shows_whole_and_never_overlaps_the_steps(
    width: int, sim: SimulatorServer, tmp_path: Path, qloop: Any, qtbot: Any, browser: Browser
) -> None:
    import keyring
    from keyring.backends import fail

    async def scenario() -> None:
        async with live_service(sim, tmp_path, linked=False) as live, link_dialog(live, qtbot) as dialog:
            dialog.resize(width, dialog.sizeHint().height())
            dialog.redirect_edit.setText(await landing_address(await open_sign_in(qtbot, dialog, browser)))
            previous = keyring.get_keyring()
            keyring.set_keyring(fail.Keyring())  # a machine without a keyring: the long sentence it meets
            try:
                click(qtbot, dialog.link_button)
                await wait_until_async(lambda: dialog.error_text() != "", what="the refusal")
            finally:
                keyring.set_keyring(previous)
            assert dialog.error_text().startswith("This desktop has no keyring to keep your eBay sign-in.")
            assert dialog.passphrase_button.isVisible()
            await wait_until_async(lambda: not _overlaps(dialog), what=f"the layout to settle: {_overlaps(dialog)}")
            assert dialog.width() >= width
            # Narrowed by the user, it grows in height rather than hiding or overlapping a line.
            dialog.resize(dialog.minimumWidth(), dialog.height())
            await wait_until_async(
                lambda: not _overlaps(dialog), what=f"the narrow layout to settle: {_overlaps(dialog)}"
            )
            # Made large, the steps, the address and the error stay together rather than spread apart.
            dialog.resize(1400, 900)
            await wait_until_async(lambda: dialog.height() >= 900, what="the large size")
            order = [dialog.status_label, dialog.steps_label, dialog.open_button, dialog.consent_edit,
                     dialog.redirect_edit, dialog.error_label]
            gaps = [b.geometry().top() - a.geometry().bottom() for a, b in itertools.pairwise(order)]
            assert max(gaps) < 40, gaps

    qloop(scenario())


def test_without_a_keyring_a_passphrase_keeps_the_sign_in_and_the_pasted_address_still_links(
    sim: SimulatorServer, tmp_path: Path, qloop: Any, qtbot: Any, browser: Browser
) -> None:
    import keyring
    from keyring.backends import fail

    from sniper_app.ebay.secretfile import SECRETS_FILE
    from sniper_app.ui.passphrase_dialog import PassphraseDialog

    async def scenario() -> None:
        async with live_service(sim, tmp_path, linked=False) as live, link_dialog(live, qtbot) as dialog:
            landed = await landing_address(await open_sign_in(qtbot, dialog, browser))
            dialog.redirect_edit.setText(landed)
            previous = keyring.get_keyring()
            keyring.set_keyring(fail.Keyring())
            try:
                click(qtbot, dialog.link_button)
                await wait_until_async(lambda: dialog.passphrase_button.isVisible(), what="the way out")
                click(qtbot, dialog.passphrase_button)
                passphrase = dialog.findChild(PassphraseDialog)
                assert isinstance(passphrase, PassphraseDialog)
                assert passphrase.creating
                passphrase.passphrase_edit.setText("a long enough passphrase")
                passphrase.confirm_edit.setText("a long enough passphrase")
                click(qtbot, passphrase.ok_button)
                await wait_until_async(lambda: not dialog.passphrase_button.isVisible(), what="the file to be unlocked")
                assert dialog.error_text() == ""
                assert dialog.redirect_edit.text() == landed  # kept: the attempt was not spent
                linked: list[str] = []
                dialog.linked.connect(linked.append)
                click(qtbot, dialog.link_button)
                await wait_until_async(lambda: linked == ["demo"], what="the link")
            finally:
                keyring.set_keyring(previous)
            assert b"refresh" not in (tmp_path / SECRETS_FILE).read_bytes()
            tokens = await live.service.client.secrets.aload_tokens("demo")
            assert tokens.refresh is not None

    qloop(scenario())


def test_once_linked_the_steps_are_gone_and_a_relink_reason_fits_at_the_smallest_size_and_largest_font(
    sim: SimulatorServer, tmp_path: Path, qloop: Any, qtbot: Any, browser: Browser
) -> None:
    from tests.gui.test_layout import _at_smallest, _fit_problems

    app = QtWidgets.QApplication.instance()
    assert isinstance(app, QtWidgets.QApplication)
    before = app.font()
    large = QtGui.QFont(before)
    large.setPointSizeF(before.pointSizeF() * 1.5)

    async def scenario() -> None:
        async with live_service(sim, tmp_path, linked=False) as live:
            live.service.demo = True
            async with link_dialog(live, qtbot) as dialog:
                await wait_until_async(lambda: dialog.status is not None, what="the account status")
                assert "1. Press" in dialog.steps_label.text()
                click(qtbot, dialog.open_button)
                await wait_until_async(lambda: dialog.redirect_edit.text() != "", what="the demo's redirect")
                click(qtbot, dialog.link_button)
                await wait_until_async(lambda: dialog.status_label.text().startswith("Linked as demo"), what="the link")
                assert "Press" not in dialog.steps_label.text().split("press")[0]
                assert "1." not in dialog.steps_label.text()
            live.store.update_user(live.user_id, needs_relink=True)
            app.setFont(large)
            try:
                reason = ("eBay no longer accepts the app's sign-in for this account: it expired, was revoked on "
                          "eBay's site, or the password was changed since it was given.")
                async with link_dialog(live, qtbot, reason=reason) as dialog:
                    await wait_until_async(lambda: dialog.status is not None, what="the account status")
                    assert "1. Press" in dialog.steps_label.text()  # linking again has steps to follow
                    _at_smallest(dialog, qtbot)
                    await wait_until_async(
                        lambda: not _fit_problems(dialog), what=f"a layout that fits: {_fit_problems(dialog)}")
            finally:
                app.setFont(before)

    qloop(scenario())
