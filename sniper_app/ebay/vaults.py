"""Where the app's secrets are kept: the OS keyring, an encrypted file in the data dir, or (for the demo's
simulated sign-in, which unlocks nothing real) a private plain file in the demo's own data dir.

:func:`choose_vault` makes the choice once per run and says why, so ``sniper-app secrets status`` and the
error a user meets tell the same story.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import keyring
import keyring.errors

from sniper_app.domain.redact import redactor
from sniper_app.ebay.errors import NoKeyring
from sniper_app.ebay.secretfile import (
    SECRETS_FILE,
    EncryptedFileVault,
    KeySource,
    SecretsFileError,
    key_from_environment,
)
from sniper_app.paths import file_lock, write_private_json

log = logging.getLogger(__name__)

DEMO_SECRETS_FILE = "demo-secrets.json"


class Vault(Protocol):
    """A flat store of ``(service, entry) → value`` strings."""

    def get(self, service: str, entry: str) -> str | None: ...

    def set(self, service: str, entry: str, value: str) -> None: ...

    def delete(self, service: str, entry: str) -> None: ...

    def check(self) -> None:
        """Raise the sentence that says why this store cannot keep a secret now; nothing if it can."""


def _explicit_backend_choice() -> bool:
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        return True
    load_config = getattr(keyring.core, "load_config", None)
    try:
        return bool(load_config and load_config() is not None)
    except Exception:  # a broken keyringrc must not hide the real problem
        return False


def check_backend(backend: keyring.backend.KeyringBackend | None = None) -> keyring.backend.KeyringBackend:
    """The active keyring backend, or NoKeyring when there is none worth trusting with secrets."""
    from keyring.backends import chainer, fail, null

    kr = backend or keyring.get_keyring()
    if isinstance(kr, fail.Keyring | null.Keyring):
        raise NoKeyring()
    if isinstance(kr, chainer.ChainerBackend) and not kr.backends:
        raise NoKeyring()
    # keyrings.alt's file stores are acceptable only when the user picked them on purpose.
    if type(kr).__module__.startswith("keyrings.alt") and not _explicit_backend_choice():
        raise NoKeyring()
    return kr


def _keyring_error(exc: Exception) -> NoKeyring:
    if isinstance(exc, keyring.errors.KeyringLocked):
        return NoKeyring(
            "The keyring is locked; unlock it (e.g. log in to GNOME Keyring or KWallet) and try again."
        )
    if isinstance(exc, keyring.errors.NoKeyringError):
        return NoKeyring()
    return NoKeyring(
        f"The keyring refused to read or store the eBay sign-in ({type(exc).__name__}); "
        "check that the password store is running and unlocked."
    )


class KeyringVault:
    """The OS keyring (Keychain, Credential Locker, Secret Service, KWallet)."""

    def check(self) -> None:
        check_backend()

    def get(self, service: str, entry: str) -> str | None:
        check_backend()
        try:
            return keyring.get_password(service, entry)
        except keyring.errors.KeyringError as exc:
            raise _keyring_error(exc) from None

    def set(self, service: str, entry: str, value: str) -> None:
        check_backend()
        try:
            keyring.set_password(service, entry, value)
        except keyring.errors.KeyringError as exc:
            raise _keyring_error(exc) from None

    def delete(self, service: str, entry: str) -> None:
        check_backend()
        try:
            keyring.delete_password(service, entry)
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError as exc:
            raise _keyring_error(exc) from None


class DemoVault:
    """The demo's simulated sign-in: not a secret (it unlocks only the bundled simulator), so a private
    plain file in the demo's own data dir rather than the user's keyring, which a bare machine lacks."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def check(self) -> None:
        pass

    def _load(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:
            log.warning("the demo's sign-in file %s was unreadable; starting it afresh", self.path)
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, service: str, entry: str) -> str | None:
        value = self._load().get(service, {}).get(entry)
        return value if isinstance(value, str) else None

    def set(self, service: str, entry: str, value: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with file_lock(self.path):
            data = self._load()
            data.setdefault(service, {})[entry] = value
            write_private_json(self.path, data)

    def delete(self, service: str, entry: str) -> None:
        with file_lock(self.path):
            data = self._load()
            if data.get(service, {}).pop(entry, None) is not None:
                write_private_json(self.path, data)


class UnavailableVault:
    """No store can be used: every access raises the sentence that says why and what to do."""

    def __init__(self, error: NoKeyring) -> None:
        self.error = error

    def get(self, service: str, entry: str) -> str | None:
        raise self.error.with_traceback(None)  # one instance, raised often: no growing traceback

    def set(self, service: str, entry: str, value: str) -> None:
        raise self.error.with_traceback(None)  # one instance, raised often: no growing traceback

    def delete(self, service: str, entry: str) -> None:
        raise self.error.with_traceback(None)  # one instance, raised often: no growing traceback

    def check(self) -> None:
        raise self.error.with_traceback(None)


@dataclass(frozen=True)
class VaultChoice:
    """The store in use, a short name for it, and the sentence that says why."""

    vault: Vault
    store: str  # "keyring" | "file" | "demo" | "none"
    reason: str
    path: Path | None = None
    key_source: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "reason": self.reason,
            "file": str(self.path) if self.path is not None else None,
            "file_exists": self.path.exists() if self.path is not None else False,
            "key_source": self.key_source,
        }


def _keyring_name() -> str | None:
    try:
        backend = check_backend()
    except NoKeyring:
        return None
    except Exception:  # a backend that fails to load is no usable keyring
        log.warning("the keyring backend could not be loaded", exc_info=True)
        return None
    return type(backend).__name__


def choose_vault(data_dir: Path, environ: Mapping[str, str] | None = None, *, demo: bool = False) -> VaultChoice:
    """A usable OS keyring first; else the encrypted file when a key is given; else a store that refuses
    with a sentence naming both ways out. An encrypted file that already exists stays in use (even once a
    keyring appears), so no sign-in is ever stranded in it."""
    environ = os.environ if environ is None else environ
    if demo:
        path = data_dir / DEMO_SECRETS_FILE
        return VaultChoice(
            DemoVault(path), "demo",
            "the demo's simulated sign-in unlocks nothing real, so it stays in the demo's own data folder",
            path,
        )
    path = data_dir / SECRETS_FILE
    try:
        key = key_from_environment(environ)
    except SecretsFileError as exc:
        return VaultChoice(UnavailableVault(exc), "none", str(exc), path)
    keyring_name = _keyring_name()
    if path.exists():
        if key is None:
            error = SecretsFileError(
                f"Your secrets are in the encrypted file {path}, but no key was given to open it: set "
                "SNIPER_SECRETS_KEY (or SNIPER_SECRETS_KEY_FILE) to the key 'sniper-app secrets init' printed, or "
                "to the passphrase typed in the window.",
                kind="no_key",
            )
            return VaultChoice(UnavailableVault(error), "none", str(error), path)
        reason = f"the encrypted file already holds your secrets (key from {key.where})"
        if keyring_name:
            reason += (
                f"; an OS keyring ({keyring_name}) is available too, but the file stays in use so nothing in "
                "it is lost"
            )
        return VaultChoice(EncryptedFileVault(path, key), "file", reason, path, key.where)
    if keyring_name:
        return VaultChoice(KeyringVault(), "keyring", f"the OS keyring ({keyring_name}) is usable", None)
    if key is not None:
        return VaultChoice(
            EncryptedFileVault(path, key), "file",
            f"no OS keyring is usable here, and a key is given in {key.where}", path, key.where,
        )
    missing = NoKeyring()
    return VaultChoice(UnavailableVault(missing), "none", str(missing), path)


def passphrase_helps(error: BaseException) -> bool:
    """Whether a passphrase typed in the window is the way out of ``error``: no keyring and no key, or a
    file that exists with no key given (not a wrong key or an unreadable key file: the user mends those)."""
    if isinstance(error, SecretsFileError):
        return error.kind == "no_key"
    # The default sentence is the one for no keyring at all; a locked or refusing one is for the user to open.
    return isinstance(error, NoKeyring) and error.message == NoKeyring.default_message


def wants_passphrase(choice: VaultChoice) -> bool:
    """Whether the store chosen at start needs the window to ask for a passphrase."""
    return isinstance(choice.vault, UnavailableVault) and passphrase_helps(choice.vault.error)


def passphrase_vault(data_dir: Path, passphrase: str) -> VaultChoice:
    """The encrypted file of ``data_dir`` unlocked by a passphrase typed in the window; raises
    SecretsFileError at once when it does not open an existing file."""
    path = data_dir / SECRETS_FILE
    redactor.add_secret(passphrase)
    vault = EncryptedFileVault(path, KeySource(passphrase, "the passphrase"))
    vault.check()
    return VaultChoice(vault, "file", "no OS keyring is usable here; the file is unlocked by your passphrase", path,
                       "passphrase")
