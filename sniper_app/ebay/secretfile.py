"""The encrypted secrets file, for machines without a usable OS keyring (servers, WSL, bare window managers).

One JSON document in the data dir: the scrypt parameters and salt, a key check, a nonce and the AES-GCM
ciphertext of ``{service: {entry: value}}``. Every write re-encrypts under a fresh nonce. The key comes
from ``SNIPER_SECRETS_KEY``, the file named by ``SNIPER_SECRETS_KEY_FILE``, systemd's credential
``$CREDENTIALS_DIRECTORY/sniper-secrets-key`` or, in the window, a passphrase typed once per start.

The key check (a second, independent half of the scrypt output) tells a wrong key from a damaged file: a
wrong key leaves the file as it is; a damaged one is moved aside, never overwritten. ``cryptography`` is
imported on first use: most commands never open the file.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sniper_app.domain.redact import redactor
from sniper_app.ebay.errors import NoKeyring
from sniper_app.paths import file_lock, write_private_json

log = logging.getLogger(__name__)

SECRETS_FILE = "secrets.enc"
KEY_ENV = "SNIPER_SECRETS_KEY"
KEY_FILE_ENV = "SNIPER_SECRETS_KEY_FILE"
CREDENTIAL_NAME = "sniper-secrets-key"
_FORMAT = "sniper-app secrets"
_VERSION = 1
# scrypt at 2**15 × 8 costs ~32 MB and a fraction of a second: once per process, and it makes guessing a
# typed passphrase expensive (a generated key needs no stretching, but one format serves both).
_SCRYPT_N = 2**15
_SCRYPT_R = 8
_SCRYPT_P = 1
_MAX_FILE = 1_000_000


class SecretsFileError(NoKeyring):
    """The encrypted secrets file cannot be used as it stands: no key, a wrong key, or a damaged file."""

    def __init__(self, message: str, *, kind: str = "unreadable") -> None:
        super().__init__(message)
        self.kind = kind  # "no_key" | "wrong_key" | "damaged" | "unreadable"


@dataclass(frozen=True)
class KeySource:
    material: str = field(repr=False)
    where: str


def new_key() -> str:
    """A strong random key, printable and safe in an environment file (256 bits)."""
    return secrets.token_urlsafe(32)


def _read_key_file(path: Path, what: str) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SecretsFileError(f"The secrets key file {path} ({what}) cannot be read: {exc.strerror}.") from None
    if not text:
        raise SecretsFileError(f"The secrets key file {path} ({what}) is empty.")
    return text


def key_from_environment(environ: Mapping[str, str]) -> KeySource | None:
    """The key in order: SNIPER_SECRETS_KEY, SNIPER_SECRETS_KEY_FILE, systemd's credential; None if none."""
    key: KeySource | None = None
    if environ.get(KEY_ENV, "").strip():
        key = KeySource(environ[KEY_ENV].strip(), KEY_ENV)
    elif environ.get(KEY_FILE_ENV, "").strip():
        path = Path(environ[KEY_FILE_ENV].strip()).expanduser()
        key = KeySource(_read_key_file(path, KEY_FILE_ENV), f"{KEY_FILE_ENV} ({path})")
    elif environ.get("CREDENTIALS_DIRECTORY", "").strip():
        path = Path(environ["CREDENTIALS_DIRECTORY"].strip()) / CREDENTIAL_NAME
        if path.exists():
            key = KeySource(_read_key_file(path, "systemd credential"), f"systemd credential {CREDENTIAL_NAME}")
    if key is not None:
        redactor.add_secret(key.material)
    return key


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any, size: int | None = None) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    data = base64.b64decode(text.encode("ascii"), validate=True)
    if size is not None and len(data) != size:
        raise ValueError("wrong length")
    return data


@dataclass(frozen=True)
class _Header:
    salt: bytes
    n: int
    r: int
    p: int
    check: bytes

    def aad(self) -> bytes:
        return f"{_FORMAT}/{_VERSION}/{self.n}/{self.r}/{self.p}/".encode() + self.salt


def _derive(material: str, header_salt: bytes, n: int, r: int, p: int) -> tuple[bytes, bytes]:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    raw = Scrypt(salt=header_salt, length=48, n=n, r=r, p=p).derive(material.encode("utf-8"))
    return raw[:32], raw[32:]


class _Damaged(Exception):
    pass


class EncryptedFileVault:
    """``(service, entry) → value`` kept in one authenticated-encrypted file."""

    def __init__(self, path: Path, key: KeySource) -> None:
        self.path = path
        self.key = key
        self._lock = threading.Lock()
        # (salt, n, r, p) → (encryption key, check): scrypt runs once per file, not per access.
        self._derived: dict[tuple[bytes, int, int, int], tuple[bytes, bytes]] = {}

    # --- crypto ----------------------------------------------------------------------------------------

    def _keys(self, salt: bytes, n: int, r: int, p: int) -> tuple[bytes, bytes]:
        cache_key = (salt, n, r, p)
        if cache_key not in self._derived:
            self._derived[cache_key] = _derive(self.key.material, salt, n, r, p)
        return self._derived[cache_key]

    def _parse(self, raw: bytes) -> tuple[_Header, bytes, bytes]:
        try:
            doc = json.loads(raw)
            if not isinstance(doc, dict) or doc.get("format") != _FORMAT or doc.get("version") != _VERSION:
                raise ValueError("not this format")
            kdf = doc["kdf"]
            n, r, p = int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
            if not (2**10 <= n <= 2**20 and 1 <= r <= 32 and 1 <= p <= 16) or n & (n - 1):
                raise ValueError("unreasonable scrypt parameters")
            header = _Header(_unb64(kdf["salt"], 16), n, r, p, _unb64(doc["check"], 16))
            return header, _unb64(doc["nonce"], 12), _unb64(doc["data"])
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise _Damaged(str(exc)) from None

    def _wrong_key(self) -> SecretsFileError:
        return SecretsFileError(
            f"The key from {self.key.where} does not open the encrypted secrets file {self.path}; give the "
            "key that was used when it was made (the file is left as it is).",
            kind="wrong_key",
        )

    def _set_aside(self, why: str) -> SecretsFileError:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        try:
            self.path.rename(aside)
        except OSError as exc:
            log.error("could not move the damaged secrets file aside: %s", exc)
            return SecretsFileError(
                f"The encrypted secrets file {self.path} is damaged and cannot be read, and it could not be "
                "moved aside; move it away yourself, then link your eBay account again."
            )
        log.error("the encrypted secrets file was damaged (%s); kept aside as %s", why, aside)
        return SecretsFileError(
            f"The encrypted secrets file was damaged and could not be read; it is kept aside as {aside} and "
            "a new one will be started, so link your eBay account again ('sniper-app account link').",
            kind="damaged",
        )

    def _read(self) -> tuple[dict[str, dict[str, str]], _Header | None]:
        """The decrypted document and its header (None when there is no file yet)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}, None
        except OSError as exc:
            raise SecretsFileError(f"The encrypted secrets file {self.path} cannot be read: {exc.strerror}.") from None
        if len(raw) > _MAX_FILE:
            raise self._set_aside("far too large")
        try:
            header, nonce, data = self._parse(raw)
        except _Damaged as exc:
            raise self._set_aside(str(exc)) from None
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        enc_key, check = self._keys(header.salt, header.n, header.r, header.p)
        if not secrets.compare_digest(check, header.check):
            raise self._wrong_key()
        try:
            plain = AESGCM(enc_key).decrypt(nonce, data, header.aad())
            doc = json.loads(plain)
            if not isinstance(doc, dict) or not all(
                isinstance(v, dict) and all(isinstance(x, str) for x in v.values()) for v in doc.values()
            ):
                raise ValueError("unexpected shape")
        except (InvalidTag, ValueError):
            raise self._set_aside("authentication failed") from None
        for entries in doc.values():
            redactor.add_secrets(entries.values())
        return doc, header

    def _write(self, doc: dict[str, dict[str, str]], header: _Header | None) -> None:
        if header is None:
            salt = os.urandom(16)
            _, check = self._keys(salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
            header = _Header(salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P, check)
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        enc_key, _ = self._keys(header.salt, header.n, header.r, header.p)
        nonce = os.urandom(12)
        data = AESGCM(enc_key).encrypt(nonce, json.dumps(doc).encode("utf-8"), header.aad())
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private_json(
            self.path,
            {
                "format": _FORMAT,
                "version": _VERSION,
                "kdf": {"name": "scrypt", "salt": _b64(header.salt), "n": header.n, "r": header.r, "p": header.p},
                "check": _b64(header.check),
                "nonce": _b64(nonce),
                "data": _b64(data),
            },
        )

    def _update(self, change: Any) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._lock, file_lock(self.path):
            doc, header = self._read()
            if change(doc):
                self._write(doc, header)

    # --- the vault -------------------------------------------------------------------------------------

    def check(self) -> None:
        """Raise SecretsFileError now if the key does not open the file (nothing when there is no file)."""
        with self._lock:
            self._read()

    def get(self, service: str, entry: str) -> str | None:
        with self._lock:
            doc, _ = self._read()
        return doc.get(service, {}).get(entry)

    def set(self, service: str, entry: str, value: str) -> None:
        def change(doc: dict[str, dict[str, str]]) -> bool:
            doc.setdefault(service, {})[entry] = value
            return True

        self._update(change)

    def delete(self, service: str, entry: str) -> None:
        self._update(lambda doc: doc.get(service, {}).pop(entry, None) is not None)

    def entries(self) -> dict[str, dict[str, str]]:
        with self._lock:
            doc, _ = self._read()
        return doc
