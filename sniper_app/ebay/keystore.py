"""Tokens, the client secret and email credentials, kept in the vault :func:`choose_vault` picks: the OS
keyring, else the encrypted secrets file (see ``vaults.py``).

Each entry is a small JSON document under the service ``sniper-app/<environment>``. Vault calls may block
(D-Bus, an unlock prompt, scrypt), so the async methods run them in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sniper_app.domain.redact import redactor
from sniper_app.ebay.vaults import KeyringVault, Vault, check_backend

__all__ = ["SecretStore", "StoredToken", "UserTokens", "check_backend"]

log = logging.getLogger(__name__)

CLIENT_SECRET_ENV = "SNIPER_EBAY_CLIENT_SECRET"  # noqa: S105 - a variable name
_CLIENT_SECRET_ENTRY = "client_secret"  # noqa: S105 - a keyring entry name
SMTP_PASSWORD_ENV = "SNIPER_SMTP_PASSWORD"  # noqa: S105 - a variable name
POSTMARK_TOKEN_ENV = "SNIPER_POSTMARK_TOKEN"  # noqa: S105 - a variable name
# Email credentials belong to the user, not to one eBay environment: one service for all of them.
EMAIL_SERVICE = "sniper-app/email"
_SMTP_PASSWORD_ENTRY = "smtp_password"  # noqa: S105 - a keyring entry name
_POSTMARK_TOKEN_ENTRY = "postmark_token"  # noqa: S105 - a keyring entry name
NTFY_TOKEN_ENV = "SNIPER_NTFY_TOKEN"  # noqa: S105 - a variable name
WEBHOOK_SECRET_ENV = "SNIPER_WEBHOOK_SECRET"  # noqa: S105 - a variable name
# Kept beside the email credentials: they too are the user's, whatever eBay environment is in use.
_NTFY_TOKEN_ENTRY = "ntfy_token"  # noqa: S105 - a keyring entry name
_WEBHOOK_SECRET_ENTRY = "webhook_secret"  # noqa: S105 - a keyring entry name


@dataclass(frozen=True, slots=True)
class StoredToken:
    token: str = field(repr=False)
    expires_at: datetime
    scopes: tuple[str, ...] = ()

    def valid_for(self, seconds: float, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        return self.expires_at - now > timedelta(seconds=seconds)

    def to_json(self) -> str:
        return json.dumps(
            {"token": self.token, "expires_at": self.expires_at.isoformat(), "scopes": list(self.scopes)}
        )

    @classmethod
    def from_json(cls, text: str) -> StoredToken | None:
        try:
            data: Any = json.loads(text)
            expires = datetime.fromisoformat(data["expires_at"])
            token = data["token"]
            scopes = tuple(str(s) for s in data.get("scopes", ()))
        except (ValueError, KeyError, TypeError):
            return None
        if not isinstance(token, str) or not token or expires.tzinfo is None:
            return None
        redactor.add_secret(token)
        return cls(token, expires.astimezone(UTC), scopes)


@dataclass(frozen=True, slots=True)
class UserTokens:
    access: StoredToken | None
    refresh: StoredToken | None


class SecretStore:
    """Per-environment secrets: user tokens per account and the app's client secret."""

    def __init__(
        self,
        environment: str,
        *,
        environ: Mapping[str, str] | None = None,
        vault: Vault | None = None,
        choose: Callable[[], Vault] | None = None,
    ) -> None:
        """Secrets go to ``vault``, or to the one ``choose`` picks on first use (picking may touch D-Bus,
        which a command that never needs a secret should not pay for); the OS keyring by default."""
        self.environment = environment
        self.service = f"sniper-app/{environment}"
        self._environ = environ if environ is not None else os.environ
        self._vault = vault
        self._choose: Callable[[], Vault] = choose or KeyringVault
        self._vault_lock = threading.Lock()

    @property
    def vault(self) -> Vault:
        with self._vault_lock:
            if self._vault is None:
                self._vault = self._choose()
            return self._vault

    def use_vault(self, vault: Vault) -> None:
        """Switch to ``vault`` from now on (the window's passphrase unlocks the encrypted file)."""
        with self._vault_lock:
            self._vault = vault

    # --- raw entries (blocking) ---------------------------------------------------------------------

    def _get(self, entry: str, service: str | None = None) -> str | None:
        return self.vault.get(service or self.service, entry)

    def _set(self, entry: str, value: str, service: str | None = None) -> None:
        self.vault.set(service or self.service, entry, value)

    def _delete(self, entry: str, service: str | None = None) -> None:
        self.vault.delete(service or self.service, entry)

    # --- tokens -------------------------------------------------------------------------------------

    def load_tokens(self, account: str) -> UserTokens:
        access = self._get(f"{account}/access")
        refresh = self._get(f"{account}/refresh")
        return UserTokens(
            access=StoredToken.from_json(access) if access else None,
            refresh=StoredToken.from_json(refresh) if refresh else None,
        )

    def save_tokens(self, account: str, tokens: UserTokens) -> None:
        if tokens.access is not None:
            self._set(f"{account}/access", tokens.access.to_json())
        if tokens.refresh is not None:
            self._set(f"{account}/refresh", tokens.refresh.to_json())

    def delete_tokens(self, account: str) -> None:
        self._delete(f"{account}/access")
        self._delete(f"{account}/refresh")

    # --- client secret ------------------------------------------------------------------------------

    def client_secret(self) -> str | None:
        """The environment variable wins (a headless box); it is read, never written anywhere."""
        secret = self._environ.get(CLIENT_SECRET_ENV) or self._get(_CLIENT_SECRET_ENTRY)
        redactor.add_secret(secret)
        return secret

    def set_client_secret(self, secret: str) -> None:
        redactor.add_secret(secret)
        self._set(_CLIENT_SECRET_ENTRY, secret)

    # --- email credentials ---------------------------------------------------------------------------

    def _email_secret(self, env: str, entry: str) -> str | None:
        secret = self._environ.get(env) or self._get(entry, EMAIL_SERVICE)
        redactor.add_secret(secret)
        return secret

    def _set_email_secret(self, entry: str, secret: str | None) -> None:
        if secret:
            redactor.add_secret(secret)
            self._set(entry, secret, EMAIL_SERVICE)
        else:
            self._delete(entry, EMAIL_SERVICE)

    def smtp_password(self) -> str | None:
        """``SNIPER_SMTP_PASSWORD`` wins (a headless box); it is read, never written anywhere."""
        return self._email_secret(SMTP_PASSWORD_ENV, _SMTP_PASSWORD_ENTRY)

    def set_smtp_password(self, secret: str | None) -> None:
        """Store the SMTP password in the keyring; an empty one deletes it."""
        self._set_email_secret(_SMTP_PASSWORD_ENTRY, secret)

    def postmark_token(self) -> str | None:
        """``SNIPER_POSTMARK_TOKEN`` wins (a headless box); it is read, never written anywhere."""
        return self._email_secret(POSTMARK_TOKEN_ENV, _POSTMARK_TOKEN_ENTRY)

    def set_postmark_token(self, secret: str | None) -> None:
        """Store the Postmark server token in the keyring; an empty one deletes it."""
        self._set_email_secret(_POSTMARK_TOKEN_ENTRY, secret)

    def ntfy_token(self) -> str | None:
        """The ntfy access token; ``SNIPER_NTFY_TOKEN`` wins, read and never written anywhere."""
        return self._email_secret(NTFY_TOKEN_ENV, _NTFY_TOKEN_ENTRY)

    def set_ntfy_token(self, secret: str | None) -> None:
        self._set_email_secret(_NTFY_TOKEN_ENTRY, secret)

    def webhook_secret(self) -> str | None:
        """The webhook's signing secret; ``SNIPER_WEBHOOK_SECRET`` wins, read and never written anywhere."""
        return self._email_secret(WEBHOOK_SECRET_ENV, _WEBHOOK_SECRET_ENTRY)

    def set_webhook_secret(self, secret: str | None) -> None:
        self._set_email_secret(_WEBHOOK_SECRET_ENTRY, secret)

    # --- async wrappers (keyring may block on D-Bus) -----------------------------------------------

    async def antfy_token(self) -> str | None:
        return await asyncio.to_thread(self.ntfy_token)

    async def aset_ntfy_token(self, secret: str | None) -> None:
        await asyncio.to_thread(self.set_ntfy_token, secret)

    async def awebhook_secret(self) -> str | None:
        return await asyncio.to_thread(self.webhook_secret)

    async def aset_webhook_secret(self, secret: str | None) -> None:
        await asyncio.to_thread(self.set_webhook_secret, secret)

    async def asmtp_password(self) -> str | None:
        return await asyncio.to_thread(self.smtp_password)

    async def aset_smtp_password(self, secret: str | None) -> None:
        await asyncio.to_thread(self.set_smtp_password, secret)

    async def apostmark_token(self) -> str | None:
        return await asyncio.to_thread(self.postmark_token)

    async def aset_postmark_token(self, secret: str | None) -> None:
        await asyncio.to_thread(self.set_postmark_token, secret)

    async def aload_tokens(self, account: str) -> UserTokens:
        return await asyncio.to_thread(self.load_tokens, account)

    async def asave_tokens(self, account: str, tokens: UserTokens) -> None:
        await asyncio.to_thread(self.save_tokens, account, tokens)

    async def adelete_tokens(self, account: str) -> None:
        await asyncio.to_thread(self.delete_tokens, account)

    async def aclient_secret(self) -> str | None:
        return await asyncio.to_thread(self.client_secret)

    async def aset_client_secret(self, secret: str) -> None:
        await asyncio.to_thread(self.set_client_secret, secret)

    async def acheck(self) -> None:
        """Raise the sentence that says why no secret can be kept now (before something is spent on it)."""
        await asyncio.to_thread(lambda: self.vault.check())
