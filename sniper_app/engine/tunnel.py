"""The bid's own connection through an HTTP proxy (``HTTPS_PROXY``/``HTTP_PROXY``), by CONNECT.

httpx reads the same variables for every other eBay call; this module makes the fire thread's raw socket
follow them too, so a network that only lets a proxy out still gets its bids placed. Only ``http://``
proxies can carry a tunnel here: :func:`proxy_warnings` says so at start when another kind is set.
"""

from __future__ import annotations

import base64
import socket
import urllib.request
from urllib.parse import unquote, urlsplit

_MAX_REPLY_HEAD = 16 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}


class ProxyError(ConnectionError):
    """The proxy could not be reached or refused the tunnel."""


def _proxy_url(scheme: str, host: str, port: int | None = None) -> str | None:
    proxies = urllib.request.getproxies_environment()
    url = proxies.get(scheme) or proxies.get("all")
    if not url or urllib.request.proxy_bypass_environment(host, proxies):  # type: ignore[attr-defined]
        return None
    # httpx also honours a NO_PROXY entry naming a port the address gives (``api.ebay.com:8443``), but not
    # the scheme's own port, which its addresses leave out; the bid's connection decides the same way.
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    if port not in (None, _DEFAULT_PORTS.get(scheme)) and ":" not in host and bypass(f"{host}:{port}", proxies):
        return None
    return url if "://" in url else f"http://{url}"


def proxy_for(scheme: str, host: str, port: int | None = None) -> str | None:
    """The ``http://`` proxy the environment names for ``scheme://host:port``, or None to connect directly."""
    url = _proxy_url(scheme, host, port)
    return url if url is not None and urlsplit(url).scheme == "http" else None


def proxy_warnings(urls: list[str]) -> list[str]:
    """One sentence per eBay address whose bids cannot follow the proxy the environment names."""
    warnings = []
    for url in dict.fromkeys(urls):
        parts = urlsplit(url)
        proxy = _proxy_url(parts.scheme, parts.hostname or "", parts.port or _DEFAULT_PORTS.get(parts.scheme))
        if proxy is not None and urlsplit(proxy).scheme != "http":
            warnings.append(
                f"The proxy for {parts.scheme}://{parts.netloc} is a {urlsplit(proxy).scheme}:// proxy, which the "
                "bid's own connection cannot use; bids go to eBay directly. Use an http:// proxy (it carries "
                "HTTPS by CONNECT) so they go through it too."
            )
    return warnings


def open_tunnel(proxy_url: str, host: str, port: int, timeout: float) -> socket.socket:
    """A socket to ``host:port`` through the proxy's CONNECT tunnel, ready for TLS (or plain HTTP)."""
    proxy = urlsplit(proxy_url)
    if proxy.hostname is None:
        # Never the netloc: it may carry the proxy's user name and password.
        raise ProxyError("the proxy address in HTTPS_PROXY/HTTP_PROXY has no host")
    sock = socket.create_connection((proxy.hostname, proxy.port or 80), timeout=timeout)
    try:
        target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        head = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n"
        if proxy.username is not None:
            user_pass = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}".encode()
            head += f"Proxy-Authorization: Basic {base64.b64encode(user_pass).decode('ascii')}\r\n"
        sock.sendall((head + "\r\n").encode("latin-1"))
        reply = b""
        # Byte by byte up to the blank line: the origin speaks only after we do, so nothing of the tunnel
        # itself can be swallowed here.
        while not reply.endswith(b"\r\n\r\n"):
            byte = sock.recv(1)
            if not byte:
                raise ProxyError("the proxy closed the connection instead of opening a tunnel")
            reply += byte
            if len(reply) > _MAX_REPLY_HEAD:
                raise ProxyError("the proxy's reply to CONNECT is far too long")
        status_line = reply.split(b"\r\n", 1)[0].decode("latin-1")
        version, _, rest = status_line.partition(" ")
        code = rest[:3]
        if code == "407":
            raise ProxyError(
                f"the proxy asks for a user name and password for the tunnel to {target}; give them in the proxy "
                "address (http://USER:PASSWORD@HOST:PORT)" if proxy.username is None else
                f"the proxy refused the user name and password in its address for the tunnel to {target}"
            )
        if not version.startswith("HTTP/1.") or not (code.isascii() and code.isdigit()) or not 200 <= int(code) < 300:
            raise ProxyError(f"the proxy refused the tunnel to {target} ({status_line[:80]})")
    except BaseException:
        sock.close()
        raise
    return sock
