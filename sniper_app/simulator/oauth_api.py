"""OAuth: the consent page, its landing page, and the token endpoint's three grants."""

from __future__ import annotations

import base64
import html
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from .api_base import ApiRoom, arrival_of, note_user, oauth_error
from .world import APP_SCOPES, CLIENT_ID, CLIENT_SECRET, RUNAME, USER_SCOPES


class OAuthApi(ApiRoom):

    def _consent_check(self, params: dict[str, str]) -> tuple[Response | None, frozenset[str]]:
        if params.get("client_id") != CLIENT_ID:
            return oauth_error(400, "invalid_client", "client authentication failed"), frozenset()
        if params.get("redirect_uri") != RUNAME:
            return oauth_error(
                400, "invalid_request", "Input redirect URI is not matching with the redirect URI registered"
            ), frozenset()
        if params.get("response_type") != "code":
            return oauth_error(
                400, "unsupported_response_type", "response type in request is not supported"
            ), frozenset()
        scopes = frozenset(params.get("scope", "").split())
        if not scopes or not scopes <= USER_SCOPES:
            return oauth_error(
                400, "invalid_scope",
                "The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client",
            ), frozenset()
        return None, scopes

    def _redirect_with_code(self, params: dict[str, str], scopes: frozenset[str]) -> Response:
        world = self.world
        with world.lock:
            user = world.ensure_user(params.get("sim_user") or "demo").username
            code = world.new_code(user, scopes)
            ttl = int(world.code_ttl_s)
        query = ""
        if "state" in params:
            query += "state=" + quote(params["state"], safe="") + "&"
        query += "code=" + quote(code, safe="") + f"&expires_in={ttl}"
        return RedirectResponse(f"{world.base_url}/_sim/accept?{query}", status_code=302)

    async def authorize(self, request: Request) -> Response:
        params = dict(request.query_params)
        error, scopes = self._consent_check(params)
        if error is not None:
            return error
        if self.auto_approve:
            return self._redirect_with_code(params, scopes)
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params.items()
        )
        user = html.escape(params.get("sim_user") or "demo")
        page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Grant application access</title>
<style>body{{font-family:sans-serif;max-width:34em;margin:4em auto;color:#222}}
button{{font-size:1.1em;padding:.5em 2em;background:#3665f3;color:#fff;border:0;border-radius:2em}}</style>
</head><body><h1>Grant application access: Sniper</h1>
<p>Signed in as <b>{user}</b> (eBay simulator).</p>
<p>By selecting <b>Agree</b>, you allow <b>Sniper</b> to view your watch list and place bids on your behalf.</p>
<form method="post" action="/oauth2/authorize">{hidden}<button type="submit">Agree</button></form>
</body></html>"""
        return HTMLResponse(page)

    async def authorize_approve(self, request: Request) -> Response:
        body = (await request.body()).decode("utf-8", "replace")
        params = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        error, scopes = self._consent_check(params)
        if error is not None:
            return error
        response = self._redirect_with_code(params, scopes)
        response.status_code = 303
        return response

    async def accept_page(self, request: Request) -> Response:
        page = """<!doctype html><html><head><meta charset="utf-8"><title>Authorization successfully completed</title>
<style>body{font-family:sans-serif;max-width:34em;margin:4em auto;color:#222}</style></head><body>
<h1>Authorization successfully completed</h1>
<p>Thank you. You may close this window now.</p>
<p>Copy the full address of this page from your browser's address bar and paste it into Sniper to finish
linking your account.</p></body></html>"""
        return HTMLResponse(page)

    async def token(self, request: Request) -> Response:
        arrival = arrival_of(request)
        if not _client_ok(request.headers.get("authorization", "")):
            return oauth_error(401, "invalid_client", "client authentication failed")
        body = (await request.body()).decode("utf-8", "replace")
        form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        grant = form.get("grant_type")
        world = self.world
        with world.lock:
            if grant == "authorization_code":
                return self._grant_code(request, form, arrival)
            if grant == "refresh_token":
                return self._grant_refresh(request, form, arrival)
            if grant == "client_credentials":
                scopes = frozenset(form.get("scope", "").split())
                if not scopes or not scopes <= APP_SCOPES:
                    return oauth_error(
                        400, "invalid_scope",
                        "The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the "
                        "client",
                    )
                token = world.new_access_token(None, scopes)
                return _token_json({
                    "access_token": token,
                    "expires_in": int(world.access_token_ttl_s),
                    "token_type": "Application Access Token",
                })
        if not grant:
            return oauth_error(400, "invalid_request", "request is missing a required parameter or malformed.")
        return oauth_error(
            400, "unsupported_grant_type", "grant type in request is not supported by the authorization server"
        )

    def _grant_code(self, request: Request, form: dict[str, str], arrival: float) -> Response:
        world = self.world
        if "code" not in form or "redirect_uri" not in form:
            return oauth_error(400, "invalid_request", "request is missing a required parameter or malformed.")
        code = world.codes.get(form["code"])
        if code is None or code.used or code.expires <= arrival or form["redirect_uri"] != RUNAME:
            return oauth_error(
                400, "invalid_grant", "the provided authorization grant code is invalid or was issued to another client"
            )
        code.used = True
        note_user(request, code.user)
        return _token_json({
            "access_token": world.new_access_token(code.user, code.scopes),
            "expires_in": int(world.access_token_ttl_s),
            "refresh_token": world.new_refresh_token(code.user, code.scopes),
            "refresh_token_expires_in": int(world.refresh_token_ttl_s),
            "token_type": "User Access Token",
        })

    def _grant_refresh(self, request: Request, form: dict[str, str], arrival: float) -> Response:
        world = self.world
        if "refresh_token" not in form:
            return oauth_error(400, "invalid_request", "request is missing a required parameter or malformed.")
        refresh = world.refresh_tokens.get(form["refresh_token"])
        if refresh is None or refresh.revoked or refresh.expires <= arrival:
            return oauth_error(
                400, "invalid_grant",
                "the provided authorization refresh token is invalid or was issued to another client",
            )
        note_user(request, refresh.user)
        scopes = refresh.scopes
        if form.get("scope"):
            asked = frozenset(form["scope"].split())
            if not asked <= refresh.scopes:
                return oauth_error(
                    400, "invalid_scope",
                    "The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client",
                )
            scopes = asked
        return _token_json({
            "access_token": world.new_access_token(refresh.user, scopes),
            "expires_in": int(world.access_token_ttl_s),
            "token_type": "User Access Token",
        })


def _client_ok(header: str) -> bool:
    if not header.startswith("Basic "):
        return False
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    client, _, secret = decoded.partition(":")
    return client == CLIENT_ID and secret == CLIENT_SECRET


def _token_json(payload: dict[str, Any]) -> JSONResponse:
    return JSONResponse(payload, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def authorize_url(base_url: str, scopes: list[str], state: str, user: str | None = None) -> str:
    """The consent URL as the app would build it (a convenience for tests and the demo)."""
    params = {"client_id": CLIENT_ID, "redirect_uri": RUNAME, "response_type": "code",
              "scope": " ".join(scopes), "state": state}
    if user:
        params["sim_user"] = user
    return f"{base_url}/oauth2/authorize?{urlencode(params, quote_via=quote)}"
