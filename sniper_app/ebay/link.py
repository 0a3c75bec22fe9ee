"""Linking an eBay account: consent URL → the user approves → pasted address → tokens in the keyring."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sniper_app.ebay.client import EbayClient
from sniper_app.ebay.errors import LinkError
from sniper_app.ebay.models import EbayUser
from sniper_app.ebay.oauth import new_state, parse_redirect


class AccountLinker:
    """Keeps the ``state`` of one link attempt; the caller saves the returned username to the store."""

    def __init__(self, client: EbayClient, scopes: Sequence[str] | None = None) -> None:
        self.client = client
        self.scopes = tuple(scopes) if scopes else client.oauth.scopes
        self._state: str | None = None

    def start(self, extra_params: Mapping[str, str] | None = None) -> str:
        """The consent page address to open in the browser (a fresh ``state`` each time)."""
        self._state = new_state()
        return self.client.oauth.consent_url(self._state, self.scopes, dict(extra_params or {}))

    async def complete(self, pasted_url: str) -> EbayUser:
        if self._state is None:
            raise LinkError("Start the link first: open the consent page, approve, then paste the address.")
        redirect = parse_redirect(pasted_url, self._state)
        tokens = await self.client.oauth.exchange_code(redirect.code)
        # The code is spent whatever happens next; a new attempt needs a new state.
        self._state = None
        assert tokens.access is not None
        user = await self.client.get_user(tokens.access.token)
        await self.client.store_tokens(user.username, tokens)
        return user
