"""What the fire path carries: the request handed over, the attempts and result it gives back, and the
Firer's own record of one fire and of one raw connection."""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

from sniper_app.engine.rawhttp import Origin, ReplyReader

log = logging.getLogger(__name__)

RETRY_STATUSES: frozenset[int] = frozenset({500, 502, 503, 504, 429})
Outcome = Literal["replied", "cancelled", "failed"]


@dataclass(frozen=True, slots=True)
class FireRequest:
    """One bid to send at ``send_at`` (local ``time.time()`` epoch seconds).

    ``url`` names the origin (``https://api.ebay.com``); ``path`` is already percent-encoded. No attempt,
    first or retry, is ever sent after ``retry_until`` when it is set; with ``retry_until=None`` the first
    attempt goes whenever it can and there are no retries.
    """

    fire_id: str
    send_at: float
    url: str
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)  # holds the bearer token
    body: bytes = field(default=b"", repr=False)
    retry_until: float | None = None
    retry_statuses: frozenset[int] = RETRY_STATUSES
    timeout_s: float = 10.0
    # Called once on the claim thread ``claim_before_s`` ahead: the body to send (None: drop the fire, it
    # resolves as cancelled). An exception also drops it, as "failed" with the error in its one attempt.
    claim: Callable[[], bytes | None] | None = field(default=None, repr=False, compare=False)
    claim_before_s: float = 0.8


@dataclass(slots=True)
class FireAttempt:
    planned_at: float
    sent_at: float | None = None  # the instant the send began (None: it could not be sent)
    reply_at: float | None = None  # first byte of the reply
    status: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class FireResult:
    fire_id: str
    attempts: tuple[FireAttempt, ...]
    outcome: Outcome
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = field(default=b"", repr=False)

    @property
    def sent(self) -> bool:
        """Whether any attempt left (so a bid may have been placed even when the outcome is "failed")."""
        return any(a.sent_at is not None for a in self.attempts)

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)


class _State(Enum):
    PENDING = "pending"
    CLAIMED = "claimed"  # the first attempt is being or has been sent: cancel can no longer stop it
    CANCELLED = "cancelled"
    DONE = "done"


class _Conn:
    __slots__ = ("idle_since", "opened_at", "origin", "sock")

    def __init__(self, origin: Origin, sock: socket.socket) -> None:
        self.origin = origin
        self.sock = sock
        self.opened_at = self.idle_since = time.time()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class _Fire:
    __slots__ = (
        "attempts",
        "claiming",
        "conn",
        "deadline",
        "future",
        "head_hdrs",
        "last_reply",
        "late",
        "origin",
        "reader",
        "ready",
        "req",
        "state",
        "wire",
    )

    def __init__(self, req: FireRequest, origin: Origin, wire: bytes, head_hdrs: list[tuple[str, str]]) -> None:
        self.req = req
        self.origin = origin
        self.wire = wire
        self.head_hdrs = head_hdrs
        self.future: Future[FireResult] = Future()
        self.future.set_running_or_notify_cancel()  # only cancel() may stop a bid, not Future.cancel()
        self.state = _State.PENDING
        self.attempts: list[FireAttempt] = []
        self.conn: _Conn | None = None  # reserved for the first attempt during the approach
        self.reader: ReplyReader | None = None
        self.deadline = 0.0
        self.late = False  # handed to the I/O thread to connect and send: no longer the fire thread's
        self.last_reply: tuple[int, list[tuple[str, str]], bytes] | None = None
        self.ready = req.claim is None  # claimed (or nothing to claim): the fire thread may send it
        self.claiming = False  # the claim started (and, once ready, succeeded): cancel answers False

    def __lt__(self, other: _Fire) -> bool:
        return self.req.send_at < other.req.send_at
