"""Who may drive the box: pairings, pending invites, token checks, and the backoff on repeated failures.

Pairing: ``remote invite`` stores the SHA-256 of a fresh one-time secret (never the secret itself) with an
expiry; a client that presents the secret once gets its own random token, of which the box keeps only the
SHA-256, and the invite is gone. Tokens and secrets carry 256 random bits, so a plain SHA-256 is enough to
keep them useless to whoever reads the file (a slow KDF only matters for guessable secrets such as
passwords). Every check hashes what was presented and compares it with every stored hash through
:func:`hmac.compare_digest`, so neither the answer's timing nor an early exit says how close a guess came.

The file (``remote-pairings.json`` in the data folder, readable by the user alone) is replaced atomically
under a lock, because the running box and a ``remote invite`` command in another process both write it; the
box re-reads it when it changes, so a revocation takes effect on the next request.

Backoff: each client address may fail a few times freely; after that every further failure locks that
address out for a doubling time, capped at a minute, and an address that stops failing is forgotten. The cap
and the per-address key are what keep this from being turned against a legitimate client: nobody can lock
out an address they do not send from, and nobody can lock anyone out for more than a minute after they stop.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sniper_app.domain.redact import redactor
from sniper_app.paths import file_lock, write_private_json

log = logging.getLogger(__name__)

PAIRINGS_FILE = "remote-pairings.json"
INVITE_TTL = timedelta(hours=24)
TOKEN_BYTES = 32
_MAX_INVITES = 20
_MAX_CLIENTS = 100

UNAUTHORIZED = (
    "This desktop is not paired with the box (its token is missing or no longer valid); pair it again with a "
    "new invite."
)
INVITE_REFUSED = (
    "This invite is not valid on the box: it was already used, has expired, or was revoked; make a new one "
    "with 'sniper-app remote invite'."
)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _matches(presented: str, hashes: list[str]) -> int | None:
    """Index of the stored hash ``presented`` hashes to, comparing against every one in constant time."""
    digest = _hash(presented).encode("ascii")
    found: int | None = None
    for i, stored in enumerate(hashes):
        if hmac.compare_digest(digest, stored.encode("ascii")) and found is None:
            found = i
    return found


@dataclass(frozen=True)
class Client:
    id: str
    name: str
    paired_at: datetime


class Pairings:
    """The box's pairings and pending invites, kept hashed in ``data_dir``."""

    def __init__(self, data_dir: Path, *, now: Callable[[], datetime] | None = None) -> None:
        self.path = data_dir / PAIRINGS_FILE
        self._now = now or (lambda: datetime.now(UTC))
        self._cache: tuple[tuple[int, int] | None, dict[str, Any]] | None = None

    # --- the file -----------------------------------------------------------------------------------

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"clients": [], "invites": []}
        except (OSError, ValueError):
            # Refusing everyone is the safe reading of a damaged file; a new invite rewrites it whole.
            log.warning("the pairings file %s is unreadable; no client is paired until a new invite", self.path)
            return {"clients": [], "invites": []}
        if not isinstance(data, dict):
            return {"clients": [], "invites": []}
        clients = [c for c in data.get("clients", []) if isinstance(c, dict) and isinstance(c.get("token"), str)]
        invites = [i for i in data.get("invites", []) if isinstance(i, dict) and isinstance(i.get("secret"), str)]
        return {"clients": clients, "invites": invites}

    def _current(self) -> dict[str, Any]:
        # One read of the attribute: pairing runs in a worker thread and may drop the cache meanwhile.
        stamp, cache = self._stamp(), self._cache
        if cache is None or cache[0] != stamp:
            cache = self._cache = (stamp, self._read())
        return cache[1]

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private_json(self.path, data)
        self._cache = None

    def _live_invites(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        now = self._now()
        live = []
        for invite in data["invites"]:
            try:
                expires = datetime.fromisoformat(invite["expires_at"])
            except (KeyError, TypeError, ValueError):
                continue
            if expires.tzinfo is not None and expires > now:
                live.append(invite)
        return live

    # --- the box's side -------------------------------------------------------------------------------

    def new_invite(self, ttl: timedelta = INVITE_TTL) -> str:
        """A fresh one-time pairing secret, valid for ``ttl``; only its hash is kept."""
        from sniper_app.remote.invite import new_secret

        secret = new_secret()
        with file_lock(self.path):
            data = self._read()
            invites = self._live_invites(data)[-(_MAX_INVITES - 1) :]
            invites.append({"secret": _hash(secret), "expires_at": (self._now() + ttl).isoformat()})
            data["invites"] = invites
            self._write(data)
        return secret

    def pair(self, secret: str, name: str = "") -> str | None:
        """Exchange a pending invite's secret for a new client token (the invite is used up); None when the
        secret matches no pending invite."""
        with file_lock(self.path):
            data = self._read()
            invites = self._live_invites(data)
            found = _matches(secret, [i["secret"] for i in invites])
            if found is None:
                return None
            token = secrets.token_urlsafe(TOKEN_BYTES)
            client_id = secrets.token_hex(4)
            del invites[found]
            clients = data["clients"][-(_MAX_CLIENTS - 1) :]
            clients.append({
                "id": client_id,
                "name": name.strip()[:80],
                "token": _hash(token),
                "paired_at": self._now().isoformat(),
            })
            self._write({"clients": clients, "invites": invites})
        redactor.add_secret(token)
        log.info("a client was paired (id %s)", client_id)
        return token

    def verify(self, token: str | None) -> Client | None:
        """The paired client ``token`` belongs to, or None; the comparison is constant-time per entry."""
        if not token:
            return None
        clients = self._current()["clients"]
        found = _matches(token, [c["token"] for c in clients])
        if found is None:
            return None
        entry = clients[found]
        try:
            paired_at = datetime.fromisoformat(entry.get("paired_at", ""))
        except (TypeError, ValueError):
            paired_at = datetime.fromtimestamp(0, UTC)
        return Client(str(entry.get("id", "")), str(entry.get("name", "")), paired_at)

    def clients(self) -> list[Client]:
        return [
            Client(str(c.get("id", "")), str(c.get("name", "")), datetime.fromisoformat(c["paired_at"]))
            for c in self._current()["clients"]
            if isinstance(c.get("paired_at"), str)
        ]

    def pending_invites(self) -> int:
        return len(self._live_invites(self._current()))

    def revoke_all(self) -> int:
        """End every pairing and every pending invite; the number of pairings ended."""
        with file_lock(self.path):
            ended = len(self._read()["clients"])
            self._write({"clients": [], "invites": []})
        log.info("all remote pairings and invites were revoked (%d pairings)", ended)
        return ended


@dataclass
class _Strikes:
    failures: int = 0
    last_failure: float = 0.0
    locked_until: float = 0.0


class Backoff:
    """Slows repeated failures per client address: ``free`` failures pass, then each further one locks the
    address for ``base`` seconds, doubling up to ``cap``; ``forget`` quiet seconds clear the record."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        free: int = 5,
        base: float = 1.0,
        cap: float = 60.0,
        forget: float = 900.0,
        max_tracked: int = 10_000,
    ) -> None:
        self.clock = clock
        self.free, self.base, self.cap, self.forget = free, base, cap, forget
        self.max_tracked = max_tracked
        self._strikes: dict[str, _Strikes] = {}

    def retry_after(self, address: str) -> float | None:
        """Seconds ``address`` must wait before it is heard again, or None when it may try now."""
        strikes = self._strikes.get(address)
        if strikes is None:
            return None
        now = self.clock()
        if now - strikes.last_failure >= self.forget:
            del self._strikes[address]
            return None
        # Clamped: (now + cap) - now can come back a hair over the cap in floating point.
        wait = min(strikes.locked_until - now, self.cap)
        return wait if wait > 0 else None

    def failed(self, address: str) -> None:
        now = self.clock()
        strikes = self._strikes.get(address)
        if strikes is None or now - strikes.last_failure >= self.forget:
            if len(self._strikes) >= self.max_tracked:
                self._prune(now)
            strikes = self._strikes[address] = _Strikes()
        strikes.failures += 1
        strikes.last_failure = now
        over = strikes.failures - self.free
        if over > 0:
            strikes.locked_until = now + min(self.cap, self.base * 2 ** min(over - 1, 30))
            log.warning("repeated failed sign-ins from %s; it waits %.0f s", address, strikes.locked_until - now)

    def succeeded(self, address: str) -> None:
        self._strikes.pop(address, None)

    def _prune(self, now: float) -> None:
        stale = [a for a, s in self._strikes.items() if now - s.last_failure >= self.forget]
        for address in stale:
            del self._strikes[address]
        if len(self._strikes) >= self.max_tracked:
            # Under a flood from many addresses, forget the oldest rather than grow without bound.
            oldest = sorted(self._strikes, key=lambda a: self._strikes[a].last_failure)
            for address in oldest[: len(oldest) // 2]:
                del self._strikes[address]


def slowed_sentence(wait: float) -> str:
    seconds = max(1, int(wait + 0.999))
    return f"Too many failed attempts from this address; try again in {seconds} s."
