"""The bid's raw connection through an HTTP proxy: which proxy applies, the CONNECT tunnel, a refusal."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from sniper_app.engine.rawhttp import open_connection, parse_origin
from sniper_app.engine.tunnel import ProxyError, open_tunnel, proxy_for, proxy_warnings
from tests.support.connect_proxy import connect_proxy


@pytest.fixture
def clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


@pytest.fixture
def echo_server() -> Iterator[tuple[str, int]]:
    """Answers each connection's first line with 'echo: <line>'."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                line = conn.recv(1024)
                conn.sendall(b"echo: " + line)

    threading.Thread(target=serve, daemon=True).start()
    yield "127.0.0.1", listener.getsockname()[1]
    listener.close()


def test_which_proxy_applies(clean_proxy_env: pytest.MonkeyPatch) -> None:
    assert proxy_for("https", "api.ebay.com") is None
    clean_proxy_env.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert proxy_for("https", "api.ebay.com") == "http://proxy.example:3128"
    assert proxy_for("http", "api.ebay.com") is None  # HTTPS_PROXY is for https only, as in httpx
    clean_proxy_env.setenv("NO_PROXY", "ebay.com")
    assert proxy_for("https", "api.ebay.com") is None
    # NO_PROXY read as httpx reads it for every other eBay call (checked against httpx 0.28): a port named
    # there counts only where the address gives it, a mere suffix of the name does not count.
    for no_proxy, port, direct in [
        ("other.example, api.ebay.com:8443", 8443, True), ("api.ebay.com:8443", 443, False),
        ("api.ebay.com:443", 443, False), (".ebay.com", 443, True), ("bay.com", 443, False),
    ]:
        clean_proxy_env.setenv("NO_PROXY", no_proxy)
        assert (proxy_for("https", "api.ebay.com", port) is None) is direct, (no_proxy, port)
    clean_proxy_env.delenv("NO_PROXY")
    assert proxy_warnings(["https://api.ebay.com"]) == []
    clean_proxy_env.setenv("HTTPS_PROXY", "socks5://proxy.example:1080")
    assert proxy_for("https", "api.ebay.com") is None
    (warning,) = proxy_warnings(["https://api.ebay.com", "https://api.ebay.com"])
    assert "socks5:// proxy" in warning
    assert "bids go to eBay directly" in warning


def test_tunnel_reaches_the_origin_through_the_proxy(
    clean_proxy_env: pytest.MonkeyPatch, echo_server: tuple[str, int]
) -> None:
    host, port = echo_server
    with connect_proxy({"origin.invalid": host}) as proxy:
        clean_proxy_env.setenv("HTTP_PROXY", proxy.url)
        sock = open_connection(parse_origin(f"http://origin.invalid:{port}"), None, 5.0)
        with sock:
            sock.sendall(b"hello\n")
            assert sock.recv(1024) == b"echo: hello\n"
        assert proxy.tunnels == [f"origin.invalid:{port}"]


def test_a_refused_tunnel_is_a_connection_error_naming_the_reply() -> None:
    with connect_proxy() as proxy:
        # The proxy cannot resolve this name: 502, and no socket is left open.
        with pytest.raises(ProxyError, match="502 Bad Gateway") as info:
            open_tunnel(proxy.url, "nowhere.invalid", 443, 5.0)
        assert isinstance(info.value, ConnectionError)


def test_a_proxy_sign_in_goes_with_the_connect_and_never_into_a_message(echo_server: tuple[str, int]) -> None:
    host, port = echo_server
    with connect_proxy({"origin.invalid": host}, ("corp\\ann", "p@ss:SECRET")) as proxy:
        signed = proxy.url.replace("://", "://corp%5Cann:p%40ss%3ASECRET@")
        with open_tunnel(signed, "origin.invalid", port, 5.0) as sock:
            sock.sendall(b"hello\n")
            assert sock.recv(1024) == b"echo: hello\n"
        assert proxy.tunnels == [f"origin.invalid:{port}"]
        with pytest.raises(ProxyError, match="asks for a user name and password"):
            open_tunnel(proxy.url, "origin.invalid", port, 5.0)
        with pytest.raises(ProxyError, match="refused the user name and password") as wrong:
            open_tunnel(signed.replace("SECRET", "WRONG"), "origin.invalid", port, 5.0)
        assert "WRONG" not in str(wrong.value)
    with pytest.raises(ProxyError) as hostless:
        open_tunnel("http://ann:SECRET@:3128", "origin.invalid", port, 5.0)
    assert "SECRET" not in str(hostless.value)
