"""The simulator's consent page and token endpoint behave like eBay's (codes, expiry, refresh, errors)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import httpx

from sniper_app.simulator import SimulatorServer
from tests.support.simulator import (
    ALL_USER_SCOPES,
    API_SCOPE,
    SIM_RUNAME,
    basic_auth,
    consent_code,
    user_tokens,
)

TOKEN = "/identity/v1/oauth2/token"


def exchange(srv: SimulatorServer, code: str, auth: str | None = None) -> httpx.Response:
    return httpx.post(srv.base_url + TOKEN, headers={"Authorization": auth or basic_auth()},
                      data={"grant_type": "authorization_code", "code": code, "redirect_uri": SIM_RUNAME})


def refresh(srv: SimulatorServer, token: str, scope: str | None = None) -> httpx.Response:
    data = {"grant_type": "refresh_token", "refresh_token": token}
    if scope:
        data["scope"] = scope
    return httpx.post(srv.base_url + TOKEN, headers={"Authorization": basic_auth()}, data=data)


def identity(srv: SimulatorServer, token: str) -> httpx.Response:
    return httpx.get(srv.base_url + "/commerce/identity/v1/user/", headers={"Authorization": f"Bearer {token}"})


def test_consent_redirect_carries_state_and_encoded_code(sim: SimulatorServer) -> None:
    r = httpx.get(sim.authorize_url(list(ALL_USER_SCOPES), state="abc 123"), follow_redirects=False)
    assert r.status_code == 302
    location = r.headers["location"]
    assert location.startswith(sim.base_url + "/_sim/accept?")
    q = parse_qs(urlparse(location).query)
    assert q["state"] == ["abc 123"]
    assert q["expires_in"] == ["299"]
    code = q["code"][0]
    assert code.startswith("v^1.1#")
    assert "#" not in urlparse(location).query
    page = httpx.get(location)
    assert page.status_code == 200
    assert "close this window" in page.text


def test_consent_validates_client_redirect_and_scope(sim: SimulatorServer) -> None:
    base = sim.base_url + "/oauth2/authorize"
    good = {"client_id": "sim-client", "redirect_uri": SIM_RUNAME, "response_type": "code",
            "scope": API_SCOPE, "state": "s"}
    assert httpx.get(base, params={**good, "client_id": "other"}).json()["error"] == "invalid_client"
    assert httpx.get(base, params={**good, "redirect_uri": "https://evil"}).json()["error"] == "invalid_request"
    assert httpx.get(base, params={**good, "scope": "https://x/y"}).json()["error"] == "invalid_scope"


def test_manual_consent_page_has_an_agree_button() -> None:
    with SimulatorServer(auto_approve=False, sntp_port=None) as manual:
        url = manual.authorize_url([API_SCOPE], state="s1")
        page = httpx.get(url)
        assert page.status_code == 200
        assert "Agree" in page.text
        form = dict(parse_qs(urlparse(url).query))
        r = httpx.post(manual.base_url + "/oauth2/authorize", data={k: v[0] for k, v in form.items()},
                       follow_redirects=False)
        assert r.status_code == 303
        code = parse_qs(urlparse(r.headers["location"]).query)["code"][0]
        assert exchange(manual, code).status_code == 200


def test_code_exchange_reply_and_single_use(sim: SimulatorServer) -> None:
    code = consent_code(sim)
    r = exchange(sim, code)
    assert r.status_code == 200
    body = r.json()
    assert body["expires_in"] == 7200
    assert body["refresh_token_expires_in"] == 47304000
    assert body["token_type"] == "User Access Token"
    assert body["access_token"].startswith("v^1.1#")
    again = exchange(sim, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert identity(sim, body["access_token"]).json()["username"] == "demo"


def test_code_expires_on_the_sim_clock(sim: SimulatorServer) -> None:
    code = consent_code(sim)
    sim.set_clock_offset(300)
    r = exchange(sim, code)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"


def test_bad_client_is_401_invalid_client(sim: SimulatorServer) -> None:
    code = consent_code(sim)
    r = exchange(sim, code, auth=basic_auth("sim-client", "wrong"))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"
    r = httpx.post(sim.base_url + TOKEN, data={"grant_type": "client_credentials", "scope": API_SCOPE})
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"
    assert exchange(sim, code).status_code == 200  # the failed attempt did not burn the code


def test_access_token_expires_and_refresh_gives_a_new_one(sim: SimulatorServer) -> None:
    httpx.post(sim.base_url + "/_sim/config", json={"access_token_ttl_s": 60})
    tokens = user_tokens(sim)
    access, refresh_token = str(tokens["access_token"]), str(tokens["refresh_token"])
    assert tokens["expires_in"] == 60
    assert identity(sim, access).status_code == 200
    sim.set_clock_offset(61)
    expired = identity(sim, access)
    assert expired.status_code == 401
    assert expired.json()["errors"][0]["errorId"] == 1001
    r = refresh(sim, refresh_token, scope=" ".join(ALL_USER_SCOPES))
    assert r.status_code == 200
    assert set(r.json()) == {"access_token", "expires_in", "token_type"}
    assert identity(sim, r.json()["access_token"]).status_code == 200
    wider = refresh(sim, refresh_token, scope=API_SCOPE + " https://api.ebay.com/oauth/api_scope/sell.inventory")
    assert wider.status_code == 400
    assert wider.json()["error"] == "invalid_scope"


def test_expire_control_and_revoked_refresh(sim: SimulatorServer) -> None:
    tokens = user_tokens(sim)
    httpx.post(sim.base_url + "/_sim/tokens/expire", json={"user": "demo"})
    assert identity(sim, str(tokens["access_token"])).status_code == 401
    httpx.post(sim.base_url + "/_sim/tokens/revoke", json={"user": "demo"})
    r = refresh(sim, str(tokens["refresh_token"]))
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"


def test_client_credentials_and_unsupported_grant(sim: SimulatorServer) -> None:
    r = httpx.post(sim.base_url + TOKEN, headers={"Authorization": basic_auth()},
                   data={"grant_type": "client_credentials", "scope": API_SCOPE})
    assert r.status_code == 200
    assert r.json()["token_type"] == "Application Access Token"
    assert "refresh_token" not in r.json()
    # an application token is not a user: identity refuses it
    assert identity(sim, r.json()["access_token"]).status_code == 403
    r = httpx.post(sim.base_url + TOKEN, headers={"Authorization": basic_auth()}, data={"grant_type": "password"})
    assert r.status_code == 400
    assert r.json()["error"] == "unsupported_grant_type"
