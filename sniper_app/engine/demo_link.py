"""The demo's consent step, taken by the app itself: the bundled simulator's consent page approves at once,
so the window and the CLI read where it sends the browser instead of asking for a browser the machine may
not have (a server, a Raspberry Pi). Only a consent page on this machine is read this way: eBay's real
page needs the user to sign in and agree in their own browser."""

from __future__ import annotations

import ipaddress
from typing import Final
from urllib.parse import urljoin, urlsplit

import httpx

DEMO_CONSENT_TIMEOUT_S: Final = 10.0


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def demo_consent_redirect(consent_url: str, *, timeout_s: float = DEMO_CONSENT_TIMEOUT_S) -> str | None:
    """Where the demo's auto-approving consent page sends the browser, or None if it asks for a click."""
    if not is_loopback(consent_url):
        return None
    async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=False, trust_env=False) as http:
        reply = await http.get(consent_url)
    location: str | None = reply.headers.get("location")
    if not reply.is_redirect or not location:
        return None
    return urljoin(consent_url, location)
