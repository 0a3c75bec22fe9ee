"""Pure pieces of the eBay client: endpoints, the pasted redirect, NTP arithmetic, keyring checks, errors."""

from __future__ import annotations

import asyncio
import json
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from sniper_app.domain.errors import InputError, SniperError
from sniper_app.domain.redact import redactor
from sniper_app.ebay import (
    AuctionEnded,
    AuthExpired,
    BidTooLow,
    EbayError,
    Endpoints,
    InsufficientScope,
    ItemNotFound,
    LinkError,
    NoBiddingActivity,
    NoKeyring,
    RateLimited,
    SecretStore,
    StoredToken,
    Transient,
    UserTokens,
)
from sniper_app.ebay.clock_offset import (
    ClockSample,
    _check_reply,
    cross_check,
    from_ntp,
    offset_from_date_header,
    parse_server,
    to_ntp,
)
from sniper_app.ebay.endpoints import site_id
from sniper_app.ebay.keystore import check_backend
from sniper_app.ebay.models import Timing
from sniper_app.ebay.oauth import parse_redirect
from sniper_app.ebay.transport import rest_error

CODE = "v^1.1#i^1#f^0#r^1#I^3#p^3#t^Ul41XzA6M0Y3+/Q0NDQ=="


def test_production_and_sandbox_hosts() -> None:
    prod = Endpoints.for_environment("production")
    assert prod.authorize_url == "https://auth.ebay.com/oauth2/authorize"
    assert prod.token_url == "https://api.ebay.com/identity/v1/oauth2/token"
    assert prod.trading_url == "https://api.ebay.com/ws/api.dll"
    assert prod.identity_url == "https://apiz.ebay.com"
    sandbox = Endpoints.for_environment("sandbox")
    assert sandbox.authorize_url == "https://auth.sandbox.ebay.com/oauth2/authorize"
    assert sandbox.api_url == "https://api.sandbox.ebay.com"


def test_simulator_needs_explicit_urls_and_names_the_missing_one() -> None:
    with pytest.raises(InputError, match="SNIPER_EBAY_TRADING_URL"):
        Endpoints.for_environment("simulator", api_url="http://127.0.0.1:1", auth_url="http://127.0.0.1:1")
    custom = Endpoints.for_environment(
        "custom", api_url="http://h:1/", auth_url="http://a:2", trading_url="http://h:1/ws/api.dll"
    )
    assert custom.identity_url == custom.api_url == "http://h:1"
    with pytest.raises(InputError, match="Unknown eBay environment"):
        Endpoints.for_environment("staging")


def test_site_ids() -> None:
    assert [site_id(m) for m in ("EBAY_US", "EBAY_GB", "EBAY_DE", "EBAY_AU", "EBAY_CA", "EBAY_FR", "EBAY_IT",
                                 "EBAY_ES")] == [0, 3, 77, 15, 2, 71, 101, 186]
    with pytest.raises(InputError, match=r"^Marketplace 'EBAY_XX' is not supported; use one of EBAY_US, "):
        site_id("EBAY_XX")


def test_redirect_code_is_decoded_exactly_once() -> None:
    url = f"https://signin.ebay.com/ws/accept?state=abc&code={quote(CODE, safe='')}&expires_in=299"
    assert parse_redirect(url, "abc").code == CODE
    # A code that itself contains an escape stays escaped after the one decoding.
    assert parse_redirect("https://x/accept?state=abc&code=a%2525b", "abc").code == "a%25b"


@pytest.mark.parametrize(
    ("pasted", "sentence"),
    [
        ("https://x/accept?state=other&code=abc", "different link attempt"),
        ("https://x/accept?code=abc", "no 'state'"),
        ("https://x/accept?state=abc&error=access_denied", "declined"),
        ("https://x/accept?state=abc", "no authorization code"),
        ("just some words", "does not look like the address"),
    ],
)
def test_redirect_problems_have_sentences(pasted: str, sentence: str) -> None:
    with pytest.raises(LinkError, match=sentence):
        parse_redirect(pasted, "abc")


def test_ntp_conversion_round_trip_and_era_1() -> None:
    for unix in (0.0, 1_700_000_000.123456, 2_085_978_496.5, 2_200_000_000.25):
        seconds, fraction = to_ntp(unix)
        assert abs(from_ntp(seconds, fraction) - unix) < 1e-6
    # 2036-02-07T06:28:16Z is NTP second 2**32: era 1 wraps to small numbers.
    assert to_ntp(2_085_978_496.0)[0] == 0


def _reply(sent: bytes, *, mode: int = 4, stratum: int = 2, refid: bytes = b"GPS\x00", leap: int = 0) -> bytes:
    flags = (leap << 6) | (4 << 3) | mode
    head = struct.pack("!BBbb", flags, stratum, 0, -20) + b"\x00" * 8 + refid
    s, f = to_ntp(1_700_000_000.0)
    stamp = struct.pack("!II", s, f)
    return head + stamp + sent[40:48] + stamp + stamp


def test_sntp_reply_validation() -> None:
    sent = b"\x23" + b"\x00" * 39 + struct.pack("!II", *to_ntp(1_700_000_000.0))
    stratum, t2, _t3 = _check_reply(_reply(sent), sent)
    assert stratum == 2
    assert abs(t2 - 1_700_000_000.0) < 1e-6
    from sniper_app.ebay import ClockUnavailable

    with pytest.raises(ClockUnavailable, match="kiss-o'-death RATE"):
        _check_reply(_reply(sent, stratum=0, refid=b"RATE"), sent)
    with pytest.raises(ClockUnavailable, match="not an SNTP server"):
        _check_reply(_reply(sent, mode=3), sent)
    with pytest.raises(ClockUnavailable, match="does not match"):
        _check_reply(_reply(b"\x00" * 48), sent)
    with pytest.raises(ClockUnavailable, match="not synchronised"):
        _check_reply(_reply(sent, leap=3), sent)
    with pytest.raises(ClockUnavailable, match="truncated"):
        _check_reply(b"\x24" * 20, sent)


def test_time_server_address() -> None:
    assert parse_server("pool.ntp.org") == ("pool.ntp.org", 123)
    assert parse_server("127.0.0.1:4123") == ("127.0.0.1", 4123)
    assert parse_server("[::1]:99") == ("::1", 99)
    with pytest.raises(InputError, match=r"^The time server 'host:notaport' is not host:port, e\.g\. "):
        parse_server("host:notaport")


def test_date_header_cross_check_uses_its_one_second_resolution() -> None:
    sent = datetime(2030, 1, 1, 12, 0, 0, 200_000, tzinfo=UTC)
    timing = Timing(sent, sent + timedelta(milliseconds=40), 100.0, 100.04)
    estimate = offset_from_date_header("Tue, 01 Jan 2030 12:00:02 GMT", timing)
    assert estimate is not None
    assert abs(estimate.offset_s - 2.28) < 1e-6
    assert abs(estimate.uncertainty_s - 0.52) < 1e-6
    assert cross_check(ClockSample(2.5, 0.01, sent), estimate).agrees
    assert not cross_check(ClockSample(0.0, 0.01, sent), estimate).agrees
    assert offset_from_date_header("garbage", timing) is None


def test_no_keyring_backend_gives_the_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        store = SecretStore("production", environ={})
        with pytest.raises(NoKeyring) as info:
            asyncio.run(store.aload_tokens("demo"))
        text = str(info.value)
        assert "GNOME Keyring" in text
        assert "KWallet" in text
        # The second way out is one the app ships, not a package it does not install.
        assert "sniper-app secrets init" in text
        assert "SNIPER_SECRETS_KEY" in text
        assert "keyrings.alt" not in text
        with pytest.raises(NoKeyring):
            store.set_client_secret("a-client-secret")
    finally:
        keyring.set_keyring(previous)


def test_plaintext_file_backend_only_when_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    class PlaintextKeyring(KeyringBackend):  # stands in for keyrings.alt's unencrypted file store
        priority = 0.5  # type: ignore[assignment]

        def get_password(self, service: str, username: str) -> str | None:
            return None

        def set_password(self, service: str, username: str, password: str) -> None:
            raise AssertionError("must not be used")

        def delete_password(self, service: str, username: str) -> None:
            pass

    PlaintextKeyring.__module__ = "keyrings.alt.file"
    plaintext = PlaintextKeyring()
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    monkeypatch.setattr(keyring.core, "load_config", lambda: None)
    with pytest.raises(NoKeyring):
        check_backend(plaintext)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    assert check_backend(plaintext) is plaintext


def test_tokens_round_trip_through_the_keyring_only(isolated_dirs: Path) -> None:
    store = SecretStore("sandbox", environ={})
    expires = datetime(2030, 1, 1, tzinfo=UTC)
    tokens = UserTokens(StoredToken("v^1.1#access-one", expires, ("s1",)), StoredToken("v^1.1#refresh-one", expires))
    asyncio.run(store.asave_tokens("alice", tokens))
    assert asyncio.run(store.aload_tokens("alice")) == tokens
    raw = json.loads((isolated_dirs / "keyring.json").read_text())
    assert set(raw["sniper-app/sandbox"]) == {"alice/access", "alice/refresh"}
    for folder in ("data", "config", "logs"):
        for path in (isolated_dirs / folder).rglob("*"):
            assert b"access-one" not in path.read_bytes()
    asyncio.run(store.adelete_tokens("alice"))
    assert asyncio.run(store.aload_tokens("alice")) == UserTokens(None, None)


def test_client_secret_from_environment_is_never_written(isolated_dirs: Path) -> None:
    store = SecretStore("production", environ={"SNIPER_EBAY_CLIENT_SECRET": "env-secret-123"})
    assert store.client_secret() == "env-secret-123"
    keyring_file = isolated_dirs / "keyring.json"
    assert not keyring_file.exists() or "env-secret-123" not in keyring_file.read_text()
    assert "env-secret-123" not in str(EbayError("failed with env-secret-123"))


def _resp(
    status: int, error_id: int | None = None, message: str = "eBay's reason.", headers: dict[str, str] | None = None
) -> httpx.Response:
    body = {"errors": [{"errorId": error_id, "message": message}]} if error_id is not None else {}
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    ("status", "error_id", "what", "kind"),
    [
        (401, 1001, "getBidding", AuthExpired),
        (403, 1100, "getBidding", InsufficientScope),
        (404, 120033, "getBidding", NoBiddingActivity),
        (404, 11001, "getItem", ItemNotFound),
        (409, 120012, "placeProxyBid", AuctionEnded),
        (409, 120002, "placeProxyBid", AuctionEnded),
        (409, 120008, "placeProxyBid", BidTooLow),
        (500, 120000, "placeProxyBid", Transient),
        (503, None, "getItem", Transient),
    ],
)
def test_rest_error_mapping(status: int, error_id: int | None, what: str, kind: type[EbayError]) -> None:
    err = rest_error(_resp(status, error_id), what)
    assert type(err) is kind
    assert isinstance(err, SniperError)
    assert str(err).endswith(".")


def test_retry_after_is_read() -> None:
    err = rest_error(_resp(429, 2001, headers={"Retry-After": "7"}), "getItem")
    assert isinstance(err, RateLimited)
    assert err.retry_after == 7


def test_registered_secret_is_masked_in_error_text() -> None:
    redactor.add_secret("zz-opaque-secret-42")
    err = EbayError("the server said zz-opaque-secret-42", ebay_message="echo zz-opaque-secret-42")
    assert "zz-opaque" not in str(err)
    assert "zz-opaque" not in repr(err)
    assert "zz-opaque" not in str(err.ebay_message)
    assert "v^1.1#" not in str(EbayError("bad v^1.1#i^1#abcdefgh token"))
