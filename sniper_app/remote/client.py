"""The desktop's side: HTTPS and WebSocket to the box, pinned to the certificate the invite names.

Pinning: a new client first opens one bare TLS connection with no certificate checks, reads the box's
certificate and compares its SHA-256 with the pin; nothing but the TLS handshake is sent on it, so a wrong
box learns no token and no request. When the pin matches, every later connection (httpx's and the
WebSocket's) uses a TLS context whose only trust anchor is that very certificate, with host names not
checked: OpenSSL then refuses, during each handshake and before any HTTP byte, every certificate but the
pinned one. That is the pin checked on every connection without a hook inside httpx or websockets.

Proxy variables are ignored: the box is on the user's own network, and an inspecting proxy would break the
pin anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import random
import ssl
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

import httpx

from sniper_app import __version__
from sniper_app.remote.certs import display_fingerprint, fingerprint_of
from sniper_app.remote.invite import Address, Invite, parse_invite

log = logging.getLogger(__name__)

_USER_AGENT = f"sniper-app/{__version__}"


class RemoteError(Exception):
    """The box could not be reached or refused; ``message`` is one sentence, ``kind`` says which case."""

    def __init__(self, message: str, *, kind: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.message, self.kind, self.status, self.retry_after = message, kind, status, retry_after


def _fingerprint_refused(address: Address, expected: str, seen: str) -> RemoteError:
    return RemoteError(
        f"The box at {address} shows a certificate ({display_fingerprint(seen)[:23]}…) other than the one "
        f"this desktop was invited to trust ({display_fingerprint(expected)[:23]}…), so nothing was sent; if "
        "the box was set up afresh, make a new invite there, otherwise something is in between.",
        kind="fingerprint",
    )


def _unreachable(address: Address, exc: BaseException) -> RemoteError:
    why = type(exc).__name__ if not str(exc) else str(exc)
    return RemoteError(
        f"The box at {address} cannot be reached ({why}); check that it runs with --listen and that its port "
        "is open.",
        kind="unreachable",
    )


def _probe_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the pin, not a CA, decides; checked right after the handshake
    return ctx


def pinned_context(cert_der: bytes) -> ssl.SSLContext:
    """A client context that trusts ``cert_der`` and nothing else, whatever name the box is reached by."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cadata=cert_der)
    return ctx


async def fetch_pinned_certificate(address: Address, fingerprint: str, *, timeout: float = 10.0) -> bytes:
    """The box's certificate (DER) when its SHA-256 is ``fingerprint``; RemoteError before anything is sent
    otherwise."""
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(address.host, address.port, ssl=_probe_context())
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        raise _unreachable(address, exc) from None
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    if not der:
        raise RemoteError(f"The box at {address} showed no certificate, so nothing was sent.", kind="fingerprint")
    seen = fingerprint_of(der)
    if not hmac.compare_digest(seen, fingerprint):
        raise _fingerprint_refused(address, fingerprint, seen)
    return bytes(der)


def _is_pin_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


@dataclass(frozen=True)
class Connected:
    """The event stream is (again) live: what was shown before may have changed meanwhile."""

    hello: dict[str, Any]


@dataclass(frozen=True)
class Disconnected:
    """The event stream was lost; the reader tries again after ``retry_in`` seconds."""

    reason: str
    retry_in: float


@dataclass(frozen=True)
class Paired:
    address: Address
    fingerprint: str
    token: str = field(repr=False)


class RemoteClient:
    """One box, reached at ``address`` and pinned to ``fingerprint``; ``token`` once paired."""

    def __init__(self, address: Address, fingerprint: str, token: str | None = None, *, timeout: float = 10.0) -> None:
        self.address, self.fingerprint, self.token, self.timeout = address, fingerprint, token, timeout
        self._cert: bytes | None = None
        self._http: httpx.AsyncClient | None = None

    @property
    def base_url(self) -> str:
        return f"https://{self.address.url_host}:{self.address.port}"

    async def _context(self) -> ssl.SSLContext:
        if self._cert is None:
            self._cert = await fetch_pinned_certificate(self.address, self.fingerprint, timeout=self.timeout)
        return pinned_context(self._cert)

    async def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            context = await self._context()
            if self._http is None:  # calls made together all wait for the pin: only the first makes the client
                self._http = httpx.AsyncClient(
                    base_url=self.base_url,
                    verify=context,
                    trust_env=False,
                    timeout=self.timeout,
                    headers={"User-Agent": _USER_AGENT},
                )
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def __aenter__(self) -> RemoteClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _auth(self) -> dict[str, str]:
        if not self.token:
            raise RemoteError("This desktop is not paired with the box yet; connect it with an invite.",
                              kind="unauthorized")
        return {"Authorization": f"Bearer {self.token}"}

    async def _request(self, method: str, path: str, body: dict[str, Any] | None = None, *, auth: bool = True) -> Any:
        headers = self._auth() if auth else {}
        client = await self._client()
        try:
            response = await client.request(method, path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            if _is_pin_failure(exc):
                raise RemoteError(
                    f"The box at {self.address} no longer shows the certificate this desktop paired with, so "
                    "nothing was sent; if the box was set up afresh, make a new invite there.",
                    kind="fingerprint",
                ) from None
            raise _unreachable(self.address, exc) from None
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.is_success:
            return data
        sentence = data.get("error") if isinstance(data, dict) else None
        kind = data.get("code") if isinstance(data, dict) else None
        retry = response.headers.get("Retry-After")
        raise RemoteError(
            sentence if isinstance(sentence, str) else f"The box answered HTTP {response.status_code}.",
            kind=kind if isinstance(kind, str) else "refused",
            status=response.status_code,
            retry_after=float(retry) if retry and retry.isascii() and retry.isdigit() else None,
        )

    async def pair(self, secret: str, name: str = "") -> str:
        """Exchange an invite's one-time secret for this desktop's own token (kept on this client too)."""
        data = await self._request("POST", "/v1/pair", {"secret": secret, "name": name}, auth=False)
        token = data.get("token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise RemoteError("The box's answer to pairing carried no token.", kind="bad_reply")
        self.token = token
        return token

    async def status(self) -> dict[str, Any]:
        data = await self._request("GET", "/v1/status")
        if not isinstance(data, dict):
            raise RemoteError("The box's status was not understood.", kind="bad_reply")
        return data

    async def call(self, name: str, args: dict[str, Any] | None = None) -> Any:
        data = await self._request("POST", f"/v1/call/{name}", {"args": args or {}})
        if not isinstance(data, dict) or "result" not in data:
            raise RemoteError(f"The box's answer to {name} was not understood.", kind="bad_reply")
        return data["result"]

    async def events(
        self, *, first_delay: float = 0.5, max_delay: float = 30.0
    ) -> AsyncGenerator[Connected | Disconnected | dict[str, Any], None]:
        """The box's events, for as long as the caller iterates: :class:`Connected` each time the stream is
        live, :class:`Disconnected` each time it is lost (then a wait that doubles up to ``max_delay`` and a
        new attempt), and each event as a dict. A refused token or a changed certificate ends it with
        RemoteError, since retrying cannot mend either."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

        url = f"wss://{self.address.url_host}:{self.address.port}/v1/events"
        delay = first_delay
        while True:
            headers = {**self._auth(), "User-Agent": _USER_AGENT}
            reason = ""
            try:
                context = await self._context()
                async with connect(url, ssl=context, additional_headers=headers, proxy=None,
                                   open_timeout=self.timeout, user_agent_header=None) as ws:
                    hello = json.loads(await ws.recv())
                    delay = first_delay
                    yield Connected(hello if isinstance(hello, dict) else {})
                    async for raw in ws:
                        message = json.loads(raw)
                        if isinstance(message, dict):
                            yield message
                    reason = "the box closed the connection"
            except InvalidStatus as exc:
                status = exc.response.status_code
                try:
                    body = json.loads(exc.response.body or b"{}")
                except ValueError:
                    body = {}
                sentence = body.get("error") if isinstance(body, dict) else None
                if status != 429:
                    raise RemoteError(sentence or f"The box refused the event stream (HTTP {status}).",
                                      kind="unauthorized" if status == 401 else "refused", status=status) from None
                reason = sentence or "the box asked to wait"
                retry = exc.response.headers.get("Retry-After", "")
                delay = max(delay, float(retry) if retry.isascii() and retry.isdigit() else delay)
            except RemoteError as exc:
                if exc.kind == "fingerprint":
                    raise
                reason = exc.message
            except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake, ValueError) as exc:
                if _is_pin_failure(exc):
                    raise RemoteError(
                        f"The box at {self.address} no longer shows the certificate this desktop paired with, so "
                        "nothing was sent; if the box was set up afresh, make a new invite there.",
                        kind="fingerprint",
                    ) from None
                reason = str(exc) or type(exc).__name__
            wait = delay * random.uniform(0.8, 1.2)  # clients that lost the same box do not return in step
            log.info("the box's event stream was lost (%s); trying again in %.1f s", reason, wait)
            yield Disconnected(reason, wait)
            await asyncio.sleep(wait)
            delay = min(max_delay, delay * 2)


async def pair(invite: Invite | str, name: str = "", *, timeout: float = 10.0) -> Paired:
    """Pair with the box an invite names: pin its certificate, spend the secret, return the token."""
    parsed = parse_invite(invite) if isinstance(invite, str) else invite
    async with RemoteClient(parsed.address, parsed.fingerprint, timeout=timeout) as client:
        token = await client.pair(parsed.secret, name)
    return Paired(parsed.address, parsed.fingerprint, token)
