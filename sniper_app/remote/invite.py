"""The invite: one line the box prints and the desktop pastes, carrying all a client needs to pair.

Shape: ``sniper1:`` + base64url(JSON ``{"a": "host:port", "f": "<sha256 hex>", "s": "<secret>"}``) + ``.`` +
a checksum (the first 6 bytes of SHA-256 over the version tag and the payload, base64url). The checksum
catches a truncated or mistyped paste with a sentence rather than a confusing failure later; it does not
stop someone who can rewrite the invite on its way (they could recompute it), so the invite must travel over
a channel the user trusts, as a password would. The secret works once and expires on the box.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import re
import secrets
from dataclasses import dataclass, field

PREFIX = "sniper1:"
SECRET_BYTES = 32
_CHECK_BYTES = 6
_MAX_LENGTH = 2000
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$")  # noqa: E501
_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{22,128}$")


class InviteError(ValueError):
    """An invite or address that cannot be used; the message is one sentence for the user."""


@dataclass(frozen=True)
class Address:
    host: str  # an IP address (IPv6 without brackets) or a DNS name
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def url_host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host


def parse_address(text: str, *, default_port: int | None = None) -> Address:
    """``host:port``, ``[v6]:port``, or a bare host when ``default_port`` is given."""
    raw = text.strip()
    if raw.startswith("["):
        host, sep, rest = raw[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise InviteError(f"The address {text!r} is not HOST:PORT (an IPv6 address goes in brackets).")
        port_text = rest[1:] if rest else None
    elif raw.count(":") == 1:
        host, _, port_text = raw.partition(":")
    elif ":" in raw:
        raise InviteError(f"The address {text!r} is not HOST:PORT (an IPv6 address goes in brackets).")
    else:
        host, port_text = raw, None
    if port_text is None:
        if default_port is None:
            raise InviteError(f"The address {text!r} has no port; write it as HOST:PORT.")
        port = default_port
    else:
        if not port_text.isascii() or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise InviteError(f"The port in {text!r} must be a number from 1 to 65535.")
        port = int(port_text)
    try:
        host = str(ipaddress.ip_address(host))
    except ValueError:
        if not _HOSTNAME.match(host):
            raise InviteError(f"The host in {text!r} is neither an IP address nor a host name.") from None
        host = host.lower()
    return Address(host, port)


LOOPBACK = "127.0.0.1"


def parse_listen(text: str, *, default_port: int) -> Address:
    """Where the box listens: ``PORT`` alone (loopback only), ``HOST:PORT`` or ``HOST`` (``default_port``).

    Loopback unless a host is named: serving the engine to the network is a choice the user makes in words."""
    raw = text.strip()
    if raw.isascii() and raw.isdigit():
        return parse_address(f"{LOOPBACK}:{raw}")
    return parse_address(raw, default_port=default_port)


@dataclass(frozen=True)
class Invite:
    address: Address
    fingerprint: str  # lowercase hex SHA-256 of the box's certificate (DER)
    secret: str = field(repr=False)  # the one-time pairing secret

    def __post_init__(self) -> None:
        if not _FINGERPRINT.match(self.fingerprint):
            raise InviteError("The certificate fingerprint must be 64 lowercase hexadecimal digits.")
        if not _SECRET.match(self.secret):
            raise InviteError("The pairing secret must be 22 to 128 URL-safe characters.")


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _check(payload: str) -> str:
    return _b64(hashlib.sha256((PREFIX + payload).encode("ascii")).digest()[:_CHECK_BYTES])


def format_invite(invite: Invite) -> str:
    body = {"a": str(invite.address), "f": invite.fingerprint, "s": invite.secret}
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return f"{PREFIX}{payload}.{_check(payload)}"


_DAMAGED = "This invite is damaged or incomplete; copy the whole line 'sniper-app remote invite' printed on the box."


def parse_invite(text: str) -> Invite:
    """The invite in ``text`` (spaces and line breaks a paste may add are ignored), else InviteError."""
    raw = "".join(text.split())
    if not raw:
        raise InviteError("The invite is empty; paste the line 'sniper-app remote invite' printed on the box.")
    if len(raw) > _MAX_LENGTH:
        raise InviteError("This is too long to be an invite; paste only the line the box printed.")
    if not raw.startswith(PREFIX):
        if raw.startswith("sniper") and ":" in raw:
            raise InviteError("This invite was made by another version of Sniper; update both to the same version.")
        raise InviteError("This is not a Sniper invite; it should start with 'sniper1:'.")
    payload, sep, check = raw[len(PREFIX) :].rpartition(".")
    if not sep or not hmac.compare_digest(check.encode("ascii", "replace"), _check(payload).encode("ascii")):
        raise InviteError(_DAMAGED)
    try:
        body = json.loads(_unb64(payload).decode("utf-8"))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InviteError(_DAMAGED) from None
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in ("a", "f", "s")):
        raise InviteError(_DAMAGED)
    return Invite(parse_address(body["a"]), body["f"], body["s"])
