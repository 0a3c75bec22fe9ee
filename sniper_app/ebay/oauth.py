"""eBay OAuth: consent URL, the pasted redirect, code exchange, refresh and the application token."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote, urlencode

import httpx

from sniper_app.domain.redact import redactor
from sniper_app.ebay import parsing as p
from sniper_app.ebay.endpoints import APP_SCOPES, USER_SCOPES, Endpoints
from sniper_app.ebay.errors import (
    AuthInvalid,
    BadResponse,
    EbayError,
    InsufficientScope,
    LinkError,
    NeedsRelink,
    RateLimited,
    Transient,
)
from sniper_app.ebay.keystore import SecretStore, StoredToken, UserTokens
from sniper_app.ebay.transport import Retry, Transport, retry_after_seconds

# Refresh this long before expiry so no call starts with a token that dies in flight.
APP_TOKEN_MARGIN_S = 300.0
# Refresh tokens live about 18 months; ten years marks a reply as broken.
MAX_TOKEN_LIFETIME_S = 10 * 366 * 86400


@dataclass(frozen=True, slots=True)
class Redirect:
    code: str
    state: str


def parse_redirect(pasted: str, expected_state: str) -> Redirect:
    """Read ``code`` and ``state`` from the address the browser landed on after eBay's consent page."""
    text = (pasted or "").strip().strip("'\"<>")
    if "?" not in text:
        raise LinkError(
            "That does not look like the address eBay sent you to; copy the whole address from the "
            "browser's address bar after approving, and paste it."
        )
    query = text.split("?", 1)[1]
    params: dict[str, str] = {}
    # Split by hand instead of parse_qs: '+' in a code is a literal plus, and a '#' the browser shows
    # decoded must stay part of the code, not become a fragment.
    for part in query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        params.setdefault(unquote(key), unquote(value))
    error = params.get("error")
    if error:
        if error == "access_denied":
            raise LinkError(
                "You declined the request on eBay's page, so the account is not linked; start again and "
                "choose 'Agree' to link it."
            )
        raise LinkError(f"eBay reported an error instead of approving the link ({error[:60]}); start again.")
    state = params.get("state")
    if not state:
        raise LinkError(
            "The pasted address has no 'state'; paste the full address of the page eBay opened after you agreed."
        )
    if not secrets.compare_digest(state.encode(), expected_state.encode()):
        raise LinkError(
            "The pasted address belongs to a different link attempt (its state does not match); "
            "use the address from the most recent consent page, or start again."
        )
    code = params.get("code")
    if not code:
        raise LinkError("The pasted address has no authorization code; approve on eBay's page and paste again.")
    redactor.add_secret(code)
    return Redirect(code=code, state=state)


def _expiry(seconds: Any, key: str, now: datetime) -> datetime:
    value = p.as_int(seconds, key, "the token request", maximum=MAX_TOKEN_LIFETIME_S)
    return now + timedelta(seconds=value)


class OAuthClient:
    """Talks to eBay's token endpoint with the app's credentials (Basic auth)."""

    def __init__(
        self,
        transport: Transport,
        endpoints: Endpoints,
        client_id: str,
        runame: str,
        secrets_store: SecretStore,
        *,
        client_secret: str | None = None,
        scopes: Sequence[str] = USER_SCOPES,
    ) -> None:
        self.transport = transport
        self.endpoints = endpoints
        self.client_id = client_id
        self.runame = runame
        self.secrets = secrets_store
        self.scopes = tuple(scopes)
        self._client_secret = client_secret
        redactor.add_secret(client_secret)
        self._app_token: StoredToken | None = None

    def consent_url(self, state: str, scopes: Sequence[str] | None = None, extra: dict[str, str] | None = None) -> str:
        params = {
            "client_id": self.client_id,
            "redirect_uri": self.runame,
            "response_type": "code",
            "scope": " ".join(scopes or self.scopes),
            "state": state,
            **(extra or {}),
        }
        return f"{self.endpoints.authorize_url}?{urlencode(params, quote_via=quote)}"

    async def _basic(self) -> str:
        secret = self._client_secret
        if secret is None:
            secret = await self.secrets.aclient_secret()
        if not secret:
            raise AuthInvalid(
                "No eBay client secret is set; store it with the app's settings or set SNIPER_EBAY_CLIENT_SECRET."
            )
        raw = f"{self.client_id}:{secret}".encode()
        basic = base64.b64encode(raw).decode()
        redactor.add_secret(basic)
        return f"Basic {basic}"

    async def _token_call(self, form: dict[str, str], grant: str, retry: Retry) -> tuple[dict[str, Any], datetime]:
        auth = await self._basic()

        def build() -> httpx.Request:
            return self.transport.http.build_request(
                "POST",
                self.endpoints.token_url,
                data=form,
                headers={"Authorization": auth, "Accept": "application/json"},
            )

        def handle(response: httpx.Response, _timing: object) -> tuple[dict[str, Any], datetime]:
            now = datetime.now(UTC)
            if response.status_code == 200:
                return p.load_json(response.content, "the token request"), now
            raise self._token_error(response, grant)

        return await self.transport.call(build, f"token ({grant})", retry, handle)

    def _token_error(self, response: httpx.Response, grant: str) -> EbayError:
        status = response.status_code
        if status == 429:
            return RateLimited(retry_after=retry_after_seconds(response), status=status)
        if status >= 500:
            return Transient(f"eBay's sign-in service had a temporary problem (HTTP {status}).", status=status)
        error = description = None
        try:
            body = p.load_json(response.content, "the token request")
            error = body.get("error") if isinstance(body.get("error"), str) else None
            description = body.get("error_description")
            description = description[:300] if isinstance(description, str) else None
        except BadResponse:
            pass
        if error == "invalid_client" or status == 401:
            return AuthInvalid(
                "eBay rejected the app's client id or secret; check them in the settings.",
                ebay_message=description, status=status,
            )
        if error == "invalid_scope":
            return InsufficientScope(
                "eBay refused the permissions the app asks for (invalid scope).", ebay_message=description,
                status=status,
            )
        if error == "invalid_grant":
            if grant == "authorization_code":
                return LinkError(
                    "eBay refused the sign-in code: it has expired (codes last about 5 minutes) or was already "
                    "used; start linking again.", ebay_message=description, status=status,
                )
            if grant == "refresh_token":
                return NeedsRelink(ebay_message=description, status=status)
        return EbayError(
            f"eBay's sign-in service refused the request ({error or 'HTTP ' + str(status)}).",
            ebay_message=description, status=status,
        )

    async def exchange_code(self, code: str) -> UserTokens:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.runame}
        # A code is single use: repeat only if it certainly never reached eBay.
        data, now = await self._token_call(form, "authorization_code", Retry.UNSENT)
        access = p.as_str(p.req(data, "access_token", "the token request"), "access_token", "the token request")
        refresh = p.as_str(p.req(data, "refresh_token", "the token request"), "refresh_token", "the token request")
        redactor.add_secrets((access, refresh))
        return UserTokens(
            access=StoredToken(access, _expiry(p.req(data, "expires_in", "the token request"), "expires_in", now),
                               self.scopes),
            refresh=StoredToken(
                refresh,
                _expiry(data.get("refresh_token_expires_in", 47_304_000), "refresh_token_expires_in", now),
                self.scopes,
            ),
        )

    async def refresh(self, refresh: StoredToken) -> StoredToken:
        """A new access token; the refresh token itself stays as it was."""
        if not refresh.valid_for(0):
            raise NeedsRelink()
        scopes = refresh.scopes or self.scopes
        form = {"grant_type": "refresh_token", "refresh_token": refresh.token, "scope": " ".join(scopes)}
        data, now = await self._token_call(form, "refresh_token", Retry.READ)
        access = p.as_str(p.req(data, "access_token", "the token request"), "access_token", "the token request")
        redactor.add_secret(access)
        return StoredToken(access, _expiry(p.req(data, "expires_in", "the token request"), "expires_in", now), scopes)

    async def app_token(self, *, force: bool = False) -> str:
        """The application (client credentials) token for Browse, cached in memory until near expiry."""
        cached = self._app_token
        if cached is not None and not force and cached.valid_for(APP_TOKEN_MARGIN_S):
            return cached.token
        form = {"grant_type": "client_credentials", "scope": " ".join(APP_SCOPES)}
        data, now = await self._token_call(form, "client_credentials", Retry.READ)
        token = p.as_str(p.req(data, "access_token", "the token request"), "access_token", "the token request")
        redactor.add_secret(token)
        self._app_token = StoredToken(token, _expiry(p.req(data, "expires_in", "the token request"), "expires_in", now))
        return token


def new_state() -> str:
    return secrets.token_urlsafe(24)
