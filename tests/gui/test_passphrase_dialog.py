"""On a desktop without a keyring the window offers the encrypted secrets file, unlocked by a passphrase."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
import shiboken6
from keyring.backends import fail

from sniper_app.ebay import SecretStore
from sniper_app.ebay.secretfile import SECRETS_FILE
from sniper_app.ebay.vaults import UnavailableVault, choose_vault
from sniper_app.ui.bridge import AsyncRunner
from sniper_app.ui.passphrase_dialog import PassphraseDialog, offer_passphrase
from sniper_app.ui.qt import QtCore
from tests.support.wait import wait_until_async

Qt = QtCore.Qt
PASSPHRASE = "correct horse battery"


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def _store(data_dir: Path) -> SecretStore:
    # As the app builds it: the vault is chosen on first use, here with no keyring and no key.
    return SecretStore("production", environ={}, choose=lambda: choose_vault(data_dir, {}).vault)


async def _close(*objects: Any) -> None:
    for obj in objects:
        obj.deleteLater()
    await wait_until_async(lambda: not any(shiboken6.isValid(o) for o in objects), what="the dialog to be deleted")


def test_first_start_creates_the_file_and_a_later_start_unlocks_it(
    tmp_path: Path, qloop: Any, qtbot: Any, no_keyring: None
) -> None:
    async def scenario() -> None:
        runner = AsyncRunner()
        secrets = _store(tmp_path)
        dialog = await offer_passphrase(tmp_path, secrets, runner, None, demo=False)
        assert isinstance(dialog, PassphraseDialog)
        assert dialog.creating
        assert dialog.isVisible()
        dialog.passphrase_edit.setText(PASSPHRASE)
        dialog.confirm_edit.setText(PASSPHRASE + "x")
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
        assert dialog.error_text() == "The two passphrases differ; type the same one twice."
        assert dialog.confirm_edit.text() == PASSPHRASE + "x"  # kept, to be corrected
        dialog.confirm_edit.setText(PASSPHRASE)
        unlocked: list[bool] = []
        dialog.unlocked.connect(lambda: unlocked.append(True))
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
        await wait_until_async(lambda: unlocked == [True], what="the file to be unlocked")
        assert not dialog.isVisible()
        secrets.set_client_secret("a-client-secret-kept-safe")
        raw = (tmp_path / SECRETS_FILE).read_bytes()
        assert b"a-client-secret-kept-safe" not in raw
        assert PASSPHRASE.encode() not in raw
        await _close(dialog, runner)

        # The next start: no keyring still, the file exists; a wrong passphrase is refused inline.
        runner = AsyncRunner()
        later = _store(tmp_path)
        dialog = await offer_passphrase(tmp_path, later, runner, None, demo=False)
        assert dialog is not None
        assert not dialog.creating
        assert dialog.confirm_edit.isHidden()
        dialog.passphrase_edit.setText("not the passphrase")
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
        await wait_until_async(lambda: dialog.error_text() != "", what="the refusal")
        assert dialog.error_text() == "That passphrase does not open your saved sign-in; check it and try again."
        assert (tmp_path / SECRETS_FILE).read_bytes() == raw
        assert isinstance(later.vault, UnavailableVault)  # still locked
        dialog.passphrase_edit.setText(PASSPHRASE)
        unlocked.clear()
        dialog.unlocked.connect(lambda: unlocked.append(True))
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
        await wait_until_async(lambda: unlocked == [True], what="the file to be unlocked again")
        assert later.client_secret() == "a-client-secret-kept-safe"
        await _close(dialog, runner)

    qloop(scenario())


def test_no_prompt_where_a_keyring_or_a_key_serves(tmp_path: Path, qloop: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        runner = AsyncRunner()
        # The test session's keyring is usable: nothing to ask.
        assert await offer_passphrase(tmp_path, _store(tmp_path), runner, None, demo=False) is None
        previous = keyring.get_keyring()
        keyring.set_keyring(fail.Keyring())
        try:
            assert await offer_passphrase(tmp_path, _store(tmp_path), runner, None, demo=True) is None
            monkeypatch.setenv("SNIPER_SECRETS_KEY", "a-key-given-by-the-service")
            assert await offer_passphrase(tmp_path, _store(tmp_path), runner, None, demo=False) is None
        finally:
            keyring.set_keyring(previous)
        await _close(runner)

    qloop(scenario())
