"""The eBay account of the local profile: link (in two halves if need be), status, unlink.

The link's ``state`` is kept in a small private file of the data dir between the two halves, so the
consent URL can be printed by one process and the redirect pasted into another. It holds the state and
its expiry only: the authorization code and the tokens never touch the disk (tokens go to the keyring).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sniper_app.domain.errors import InputError, SniperError
from sniper_app.domain.history import HistoryAction
from sniper_app.ebay import EbayClient, EbayUser, LinkError
from sniper_app.ebay.oauth import new_state, parse_redirect
from sniper_app.engine.bus import AccountStateChanged, EventBus
from sniper_app.store import Store

PENDING_LINK_FILE = "pending-link.json"
# eBay's authorization code lives five minutes; the consent page may take the user a while to reach.
PENDING_LINK_TTL = timedelta(minutes=15)


class LinkInputError(InputError):
    """The pasted address or the link attempt it belongs to is not usable (wrong, stale, missing)."""


@dataclass(frozen=True)
class AccountStatus:
    linked: bool
    username: str | None
    ebay_user_id: str | None
    needs_relink: bool
    environment: str
    access_token_expires_at: datetime | None
    refresh_token_expires_at: datetime | None
    active_snipes: int

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("access_token_expires_at", "refresh_token_expires_at"):
            value = data[key]
            data[key] = value.isoformat() if value is not None else None
        return data


@dataclass(frozen=True)
class UnlinkResult:
    username: str | None
    active_snipes: int
    warnings: list[str]


class Accounts:
    """Link, inspect and unlink the eBay account of profile ``user_id``."""

    def __init__(
        self,
        store: Store,
        client: EbayClient,
        *,
        user_id: int,
        data_dir: Path,
        bus: EventBus | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.user_id = user_id
        self.pending_path = Path(data_dir) / PENDING_LINK_FILE
        self.bus = bus

    # --- link -------------------------------------------------------------------------------------

    def start_link(self, extra_params: dict[str, str] | None = None) -> str:
        """The consent page address; remembers its fresh ``state`` for :meth:`complete_link`."""
        state = new_state()
        expires = datetime.now(UTC) + PENDING_LINK_TTL
        self._write_pending(
            {"state": state, "expires_at": expires.isoformat(), "environment": self.client.endpoints.environment}
        )
        return self.client.oauth.consent_url(state, self.client.oauth.scopes, dict(extra_params or {}))

    async def complete_link(self, pasted_url: str) -> EbayUser:
        """Exchange the pasted redirect's code, keep the tokens in the keyring, remember the username."""
        state = self._read_pending()
        try:
            redirect = parse_redirect(pasted_url, state)
        except LinkError as exc:
            raise LinkInputError(str(exc)) from None
        # Before the code is spent: where the sign-in cannot be kept, the same pasted address works again
        # once the user has given the app a store (a key, a passphrase, an unlocked keyring).
        await self.client.secrets.acheck()
        # The code is spent whatever happens next: a new attempt needs a new consent page.
        self.pending_path.unlink(missing_ok=True)
        tokens = await self.client.oauth.exchange_code(redirect.code)
        if tokens.access is None:
            raise LinkError("eBay did not hand over a sign-in; start the link again.")
        user = await self.client.get_user(tokens.access.token)
        previous = self.store.get_user(self.user_id).ebay_username
        if previous and previous != user.username:
            await self.client.secrets.adelete_tokens(previous)
        await self.client.store_tokens(user.username, tokens)
        self.store.link_ebay_account(self.user_id, ebay_username=user.username, ebay_user_id=user.user_id)
        if self.bus is not None:
            self.bus.publish(AccountStateChanged(username=user.username, state="linked"))
        return user

    def _write_pending(self, data: dict[str, str]) -> None:
        self.pending_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.pending_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        tmp.replace(self.pending_path)

    def _read_pending(self) -> str:
        again = "run 'sniper-app account link' (or 'account link --print-url') again"
        try:
            data = json.loads(self.pending_path.read_text(encoding="utf-8"))
            state = str(data["state"])
            expires = datetime.fromisoformat(data["expires_at"])
            environment = data.get("environment")
        except FileNotFoundError:
            raise LinkInputError(f"No account link is in progress; {again}.") from None
        except (ValueError, KeyError, TypeError):
            self.pending_path.unlink(missing_ok=True)
            raise LinkInputError(f"The pending account link could not be read; {again}.") from None
        if expires.tzinfo is None or expires <= datetime.now(UTC):
            self.pending_path.unlink(missing_ok=True)
            raise LinkInputError(f"The account link started too long ago and has expired; {again}.")
        if environment != self.client.endpoints.environment:
            raise LinkInputError(
                f"The pending account link was started for eBay '{environment}', not "
                f"'{self.client.endpoints.environment}'; {again}."
            )
        return state

    # --- status -----------------------------------------------------------------------------------

    async def sign_in_problem(self) -> str | None:
        """Why the linked account's sign-in cannot be read here, in one sentence (None: it can, or no account
        is linked). A box started without its secrets key still knows whom it bids for, but cannot bid."""
        username = self.store.get_user(self.user_id).ebay_username
        if not username:
            return None
        try:
            tokens = await self.client.secrets.aload_tokens(username)
        except SniperError as exc:
            return str(exc)
        if tokens.access is None and tokens.refresh is None:
            return f"No eBay sign-in for {username} is kept here; link the account again."
        return None

    async def status(self) -> AccountStatus:
        user = self.store.get_user(self.user_id)
        access_exp = refresh_exp = None
        if user.ebay_username:
            tokens = await self.client.secrets.aload_tokens(user.ebay_username)
            access_exp = tokens.access.expires_at if tokens.access else None
            refresh_exp = tokens.refresh.expires_at if tokens.refresh else None
        return AccountStatus(
            linked=bool(user.ebay_username),
            username=user.ebay_username,
            ebay_user_id=user.ebay_user_id,
            needs_relink=bool(user.needs_relink),
            environment=self.client.endpoints.environment,
            access_token_expires_at=access_exp,
            refresh_token_expires_at=refresh_exp,
            active_snipes=len(self.store.active_snipes(self.user_id)),
        )

    # --- unlink -----------------------------------------------------------------------------------

    async def unlink(self) -> UnlinkResult:
        """Delete the tokens from the keyring and forget the account; active snipes are kept."""
        user = self.store.get_user(self.user_id)
        username = user.ebay_username
        if username:
            await self.client.secrets.adelete_tokens(username)
        self.client.set_account(None)
        self.pending_path.unlink(missing_ok=True)
        self.store.update_user(self.user_id, ebay_username=None, ebay_user_id=None, needs_relink=False)
        active = len(self.store.active_snipes(self.user_id))
        warnings: list[str] = []
        if active:
            warnings.append(
                f"{active} active snipe{'s are' if active != 1 else ' is'} kept, but none can be placed until "
                "you link an eBay account again (account link)."
            )
        if username:
            self.store.add_event(
                HistoryAction.ACCOUNT,
                message=f"eBay account {username} unlinked."
                + (f" {warnings[0]}" if warnings else ""),
            )
        if self.bus is not None:
            self.bus.publish(
                AccountStateChanged(username=username, state="unlinked", message=warnings[0] if warnings else None)
            )
        return UnlinkResult(username=username, active_snipes=active, warnings=warnings)
