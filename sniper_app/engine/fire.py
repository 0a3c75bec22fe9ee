"""The fire path: sends a pre-built bid request so it leaves at an exact local instant, even while the GUI
thread of the same process hogs the GIL.

Why it looks like this (measured, see tests/bench/fire_micro.py):
- Loop timers (asyncio, and worse, qasync's Qt timers) are tens to hundreds of ms off, so a dedicated
  thread waits: a coarse timed wait, then a short spin on ``time.time()`` for the last ``spin_s``.
- Each time a thread gets the GIL back after a blocking call it may wait up to ``sys.getswitchinterval()``
  while another thread runs Python; the interval is lowered for the approach (process-wide, restored
  after) and nothing that releases the GIL sits between the end of the spin and ``sendall``: the request
  bytes, the connection and its liveness check are all ready before.
- Connections are opened ahead (one per fire near in time, plus a spare) by a warmer thread, replies are
  read by an I/O thread, so the fire thread never blocks on a handshake or a slow server.
- ``cancel`` and the send decide under one lock: True means no byte of the request was or will be sent.
- A request is handed over early (tens of seconds ahead) with a ``claim`` callback, which a claim thread
  calls ``claim_before_s`` before the send: it makes the request final (the owner records that the bid is
  being sent, and may swap in a new body, e.g. an edited maximum) or drops it. Nothing between the hand-over
  and the wire then needs the caller's event loop, however busy the GUI thread is. From the moment the
  claim starts, ``cancel`` answers False.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import heapq
import itertools
import logging
import selectors
import socket
import ssl
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

import h11

from sniper_app.engine.decisions import may_retry, may_send
from sniper_app.engine.rawhttp import (
    Origin,
    ReplyReader,
    build_request,
    default_ssl_context,
    is_alive,
    open_connection,
    parse_origin,
    quiet,
)

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


class Firer:
    """Owns the fire, I/O and warmer threads and the warm connections. Thread-safe; Qt- and asyncio-free."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        connect_timeout_s: float = 10.0,
        warm_ahead_s: float = 30.0,
        approach_s: float = 0.3,
        guard_s: float = 0.02,
        spin_s: float = 0.002,
        switch_interval_s: float = 0.0005,
        max_idle_s: float = 50.0,
        spares: int = 1,
        overlap_s: float = 3.0,
    ) -> None:
        self._ssl = ssl_context
        self._connect_timeout = connect_timeout_s
        self._warm_ahead = warm_ahead_s
        self._approach = approach_s
        self._guard = guard_s
        self._spin = spin_s
        self._switch_low = switch_interval_s
        self._max_idle = max_idle_s
        self._spares = spares
        self._overlap = overlap_s  # a connection is busy about this long per fire (send, reply, back to pool)

        self._lock = threading.Lock()
        self._fires: dict[str, _Fire] = {}
        self._heap: list[_Fire] = []
        self._pool: dict[Origin, list[_Conn]] = {}
        self._floors: dict[Origin, tuple[int, float]] = {}
        self._server_idle: dict[Origin, float] = {}  # shortest idle age at which the server dropped us
        self._stopping = False
        self._started = False
        self._switch_saved: float | None = None
        self._gc_paused = False

        self._fire_wake = threading.Event()
        self._warm_wake = threading.Event()
        self._claim_wake = threading.Event()
        self._io_jobs: deque[tuple[float, _Fire, bool]] = deque()  # (not before, fire, needs claim)
        self._io_in, self._io_out = socket.socketpair()
        self._io_in.setblocking(False)
        self._threads: list[threading.Thread] = []

    # -- public API ------------------------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        for name, target in (("fire", self._fire_loop), ("fire-io", self._io_loop), ("fire-warm", self._warm_loop),
                             ("fire-claim", self._claim_loop)):
            thread = threading.Thread(target=target, name=f"sniper-{name}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stops the threads: pending fires resolve as cancelled, ones awaiting a reply as failed."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            pending = [f for f in self._fires.values() if f.state is _State.PENDING]
            for f in pending:
                f.state = _State.CANCELLED
        for f in pending:
            self._finish(f, "cancelled")
        self._fire_wake.set()
        self._warm_wake.set()
        self._claim_wake.set()
        self._poke_io()
        for thread in self._threads:
            thread.join(timeout_s)
        with self._lock:
            rest = [f for f in self._fires.values() if f.state is _State.CLAIMED]
            pooled = [c for conns in self._pool.values() for c in conns]
            self._pool.clear()
            holders = {id(f): f for f in [*self._fires.values(), *self._heap]}
            reserved = [f.conn for f in holders.values() if f.conn is not None]
        for f in rest:
            if f.attempts and f.attempts[-1].error is None and f.attempts[-1].status is None:
                f.attempts[-1].error = "stopped before a reply"
            self._finish(f, "failed")
        for conn in pooled + reserved:
            conn.close()
        self._restore_switch()
        self._io_in.close()
        self._io_out.close()

    def warm(self, url: str, count: int = 1, hold_s: float = 60.0) -> None:
        """Open ``count`` connections to the origin of ``url`` now and keep them open for ``hold_s``."""
        origin = parse_origin(url)
        with self._lock:
            self._floors[origin] = (max(count, 0), time.time() + hold_s)
        self._warm_wake.set()

    def probe(self, url: str, count: int = 5, timeout_s: float = 5.0) -> list[float]:
        """Round trips (send to first reply byte) of ``count`` small HEAD requests to the origin of ``url``,
        sent and timed on the calling thread over a raw connection like a bid's: unlike the event loop's,
        they stay true while the GUI thread is frozen. Raises OSError when the origin cannot be reached."""
        origin = parse_origin(url)
        wire, head_hdrs = build_request(origin, "HEAD", "/", {}, b"")
        rtts: list[float] = []
        sock: socket.socket | None = None
        try:
            for _ in range(count):
                if sock is None:
                    sock = open_connection(origin, self._context(origin), timeout_s)
                    sock.settimeout(timeout_s)
                reader = ReplyReader("HEAD", head_hdrs, 0)
                sent_at = time.time()
                sock.sendall(wire)
                while (reply := reader.feed(sock.recv(65536))) is None:
                    pass
                assert reader.first_byte_at is not None
                rtts.append(reader.first_byte_at - sent_at)
                if not reply.reusable:
                    sock.close()
                    sock = None
        except h11.ProtocolError as exc:
            raise ConnectionError(f"unreadable reply: {exc}") from None
        finally:
            if sock is not None:
                sock.close()
        return rtts

    def idle_connections(self, url: str) -> int:
        """How many warm idle connections the pool holds for the origin of ``url`` (for diagnostics)."""
        with self._lock:
            return len(self._pool.get(parse_origin(url), ()))

    def schedule(self, req: FireRequest) -> Future[FireResult]:
        origin = parse_origin(req.url)
        wire, head_hdrs = build_request(origin, req.method, req.path, dict(req.headers), req.body)
        fire = _Fire(req, origin, wire, head_hdrs)
        with self._lock:
            if not self._started or self._stopping:
                raise RuntimeError("the firer is not running")
            if req.fire_id in self._fires:
                raise ValueError(f"fire {req.fire_id!r} is already scheduled")
            self._fires[req.fire_id] = fire
            heapq.heappush(self._heap, fire)
        self._fire_wake.set()
        self._warm_wake.set()
        self._claim_wake.set()
        return fire.future

    def cancel(self, fire_id: str) -> bool:
        """True: the request was not sent and never will be. False: unknown, finished, being claimed, or
        possibly sent."""
        with self._lock:
            fire = self._fires.get(fire_id)
            if fire is None or fire.state is not _State.PENDING or fire.claiming:
                return False
            fire.state = _State.CANCELLED
        self._finish(fire, "cancelled")
        self._fire_wake.set()  # lets the fire thread hand a reserved connection back to the pool
        return True

    async def fire(self, req: FireRequest) -> FireResult:
        """Schedules ``req`` and awaits its result without blocking the loop.

        Cancelling the awaiting task does not cancel the bid: only ``cancel(fire_id)`` can.
        """
        return await asyncio.wrap_future(self.schedule(req))

    # -- bookkeeping -----------------------------------------------------------------------------------

    def _finish(self, fire: _Fire, outcome: Outcome) -> None:
        with self._lock:
            if fire.state is not _State.CANCELLED:
                fire.state = _State.DONE
            if self._fires.get(fire.req.fire_id) is fire:
                del self._fires[fire.req.fire_id]
        status, headers, body = fire.last_reply if fire.last_reply and outcome == "replied" else (None, [], b"")
        result = FireResult(fire.req.fire_id, tuple(fire.attempts), outcome, status, tuple(headers), body)
        if not fire.future.done():
            fire.future.set_result(result)

    def _lower_switch(self) -> None:
        if self._switch_saved is None:
            self._switch_saved = sys.getswitchinterval()
            sys.setswitchinterval(min(self._switch_low, self._switch_saved))
            # A full collection in any thread stops every thread for tens of milliseconds in a process
            # holding a few hundred snipes: none may start while a bid is about to leave.
            self._gc_paused = gc.isenabled()
            gc.disable()

    def _restore_switch(self) -> None:
        saved, self._switch_saved = self._switch_saved, None
        if saved is not None and self._gc_paused:
            self._gc_paused = False
            gc.enable()
        # Someone else changed it meanwhile: theirs wins.
        if saved is not None and abs(sys.getswitchinterval() - min(self._switch_low, saved)) < 1e-9:
            sys.setswitchinterval(saved)

    def _take_conn(self, origin: Origin) -> _Conn | None:
        """A live idle connection, youngest first (least likely to hit the server's idle timeout soon)."""
        while True:
            with self._lock:
                conns = self._pool.get(origin)
                if not conns:
                    return None
                conn = max(conns, key=lambda c: c.idle_since)
                conns.remove(conn)
            if is_alive(conn.sock):
                self._warm_wake.set()
                return conn
            self._note_dead(conn)

    def _note_dead(self, conn: _Conn) -> None:
        age = time.time() - conn.idle_since
        with self._lock:
            known = self._server_idle.get(conn.origin)
            if known is None or age < known:
                self._server_idle[conn.origin] = age
        conn.close()

    def _give_back(self, conn: _Conn) -> None:
        conn.idle_since = time.time()
        with self._lock:
            if not self._stopping:
                self._pool.setdefault(conn.origin, []).append(conn)
                return
        conn.close()

    def _poke_io(self) -> None:
        with contextlib.suppress(OSError):
            self._io_out.send(b"\0")

    # -- fire thread -----------------------------------------------------------------------------------

    def _fire_loop(self) -> None:
        try:
            while True:
                self._fire_wake.clear()
                with self._lock:
                    if self._stopping:
                        return
                    freed = []
                    while self._heap and (self._heap[0].state is not _State.PENDING or self._heap[0].late):
                        gone = heapq.heappop(self._heap)
                        if gone.state is _State.CANCELLED and gone.conn is not None:
                            freed.append(gone.conn)
                            gone.conn = None
                    head = self._heap[0] if self._heap else None
                for conn in freed:
                    self._give_back(conn)
                remaining = head.req.send_at - time.time() if head else None
                if head is None or remaining is None or remaining > self._approach:
                    self._restore_switch()
                    wait = 1.0 if remaining is None else min(remaining - self._approach, 1.0)
                    self._fire_wake.wait(wait)
                    continue
                self._lower_switch()
                if remaining > self._guard:
                    self._reserve(head.req.send_at + self._approach)
                    self._fire_wake.wait(remaining - self._guard)
                    continue
                self._final(head)
        except Exception:  # a bug here must not pass silently: every pending bid would hang
            log.exception("fire thread crashed")
            raise

    def _reserve(self, horizon: float) -> None:
        with self._lock:
            due = [f for f in self._heap if f.state is _State.PENDING and not f.late and f.req.send_at <= horizon]
        for f in due:
            if f.conn is not None and not is_alive(f.conn.sock):
                self._note_dead(f.conn)
                f.conn = None
            if f.conn is None:
                f.conn = self._take_conn(f.origin)

    def _final(self, head: _Fire) -> None:
        # Fires due within a spin of the head go out back to back: only sendall between them.
        with self._lock:
            group = sorted(
                f
                for f in self._heap
                if f.state is _State.PENDING and not f.late and f.req.send_at <= head.req.send_at + self._spin
            )
        ready: list[tuple[_Fire, _Conn]] = []
        for fire in group:
            with self._lock:
                unclaimed = not fire.ready
                if unclaimed:  # the claim thread sends it the moment the claim completes (late, recorded)
                    fire.late = True
            if unclaimed:
                log.warning("fire %s: its claim has not completed at the send instant", fire.req.fire_id)
                if fire.conn is not None:  # the I/O thread takes one from the pool when it sends
                    self._give_back(fire.conn)
                    fire.conn = None
                continue
            conn, fire.conn = fire.conn, None
            if conn is not None and not is_alive(conn.sock):
                self._note_dead(conn)
                conn = None
            if conn is None:
                conn = self._take_conn(fire.origin)
            if conn is None:
                # No warm connection: the I/O thread connects and sends as soon as it can (late, recorded).
                log.warning("fire %s: no warm connection to %s, connecting late", fire.req.fire_id, fire.origin)
                fire.late = True
                self._io_jobs.append((0.0, fire, True))
            else:
                ready.append((fire, conn))
        lead = head.req.send_at - time.time()
        if lead > self._spin:
            time.sleep(lead - self._spin)
        for fire, conn in ready:
            self._send_first(fire, conn)
        self._poke_io()

    def _send_first(self, fire: _Fire, conn: _Conn) -> None:
        send_at = fire.req.send_at
        sock, wire = conn.sock, fire.wire
        # From here to sendall nothing may release the GIL: each release can cost a switch interval.
        now = time.time()
        while now < send_at:
            now = time.time()
        with self._lock:
            claimed = fire.state is _State.PENDING
            if claimed:
                fire.state = _State.CLAIMED
        if not claimed:
            self._give_back(conn)
            return
        error: str | None = None
        try:
            sock.sendall(wire)
        except OSError as exc:
            error = f"send failed: {type(exc).__name__}: {exc}"
        fire.attempts.append(FireAttempt(planned_at=send_at, sent_at=now, error=error))
        if error is None:
            fire.conn = conn
            fire.reader = ReplyReader(fire.req.method, fire.head_hdrs, len(fire.req.body))
            fire.deadline = now + fire.req.timeout_s
            self._io_jobs.append((-1.0, fire, False))  # -1: already sent, just read the reply
        else:
            conn.close()
            self._io_jobs.append((0.0, fire, False))  # retry if time allows

    # -- I/O thread: replies, retries, late first attempts ---------------------------------------------

    def _io_loop(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self._io_in, selectors.EVENT_READ)
        inflight: dict[socket.socket, _Fire] = {}
        waiting: list[tuple[float, int, _Fire, bool]] = []
        seq = itertools.count()
        try:
            while True:
                while self._io_jobs:
                    not_before, fire, claim = self._io_jobs.popleft()
                    if not_before < 0:
                        assert fire.conn is not None
                        fire.conn.sock.setblocking(False)
                        inflight[fire.conn.sock] = fire
                        sel.register(fire.conn.sock, selectors.EVENT_READ)
                    else:
                        heapq.heappush(waiting, (not_before, next(seq), fire, claim))
                if self._stopping:
                    return
                now = time.time()
                while waiting and waiting[0][0] <= now:
                    _, _, fire, claim = heapq.heappop(waiting)
                    self._send_now(fire, claim, sel, inflight)
                    now = time.time()
                deadlines = [f.deadline for f in inflight.values()] + [w[0] for w in waiting]
                timeout = max(0.0, min(deadlines) - now) if deadlines else 1.0
                for key, _ in sel.select(min(timeout, 1.0)):
                    if key.fileobj is self._io_in:
                        with contextlib.suppress(OSError):
                            while self._io_in.recv(4096):
                                pass
                        continue
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    fire = inflight[sock]
                    if self._on_readable(fire):
                        sel.unregister(sock)
                        del inflight[sock]
                now = time.time()
                for sock, fire in list(inflight.items()):
                    if now >= fire.deadline:
                        sel.unregister(sock)
                        del inflight[sock]
                        self._attempt_failed(fire, f"no reply within {fire.req.timeout_s:g} s")
        except Exception:
            log.exception("fire I/O thread crashed")
            raise
        finally:
            for sock in list(inflight):
                sel.unregister(sock)
            sel.close()

    def _send_now(
        self, fire: _Fire, claim: bool, sel: selectors.BaseSelector, inflight: dict[socket.socket, _Fire]
    ) -> None:
        planned = time.time()
        until = fire.req.retry_until
        conn = self._take_conn(fire.origin)
        if conn is None:
            try:
                sock = open_connection(fire.origin, self._context(fire.origin), self._connect_timeout)
                conn = _Conn(fire.origin, sock)
            except (OSError, ssl.SSLError) as exc:
                fire.attempts.append(FireAttempt(planned_at=planned, error=f"connect failed: {type(exc).__name__}"))
                self._retry_or_finish(fire, claim=claim, pause=0.05)
                return
        if not may_send(time.time(), until):
            self._give_back(conn)
            if claim:  # the first attempt never left and never will: same as a cancel for the caller
                with self._lock:
                    if fire.state is _State.PENDING:
                        fire.state = _State.CLAIMED
                fire.attempts.append(FireAttempt(planned_at=planned, error="too late to send"))
            self._finish(fire, "replied" if fire.last_reply else "failed")
            return
        if claim:
            with self._lock:
                ok = fire.state is _State.PENDING
                if ok:
                    fire.state = _State.CLAIMED
            if not ok:
                self._give_back(conn)
                return
        sent_at = time.time()
        try:
            conn.sock.sendall(fire.wire)
        except OSError as exc:
            conn.close()
            fire.attempts.append(FireAttempt(planned, sent_at, error=f"send failed: {type(exc).__name__}: {exc}"))
            self._retry_or_finish(fire, claim=False, pause=0.0)
            return
        fire.attempts.append(FireAttempt(planned, sent_at))
        fire.conn = conn
        fire.reader = ReplyReader(fire.req.method, fire.head_hdrs, len(fire.req.body))
        fire.deadline = sent_at + fire.req.timeout_s
        conn.sock.setblocking(False)
        inflight[conn.sock] = fire
        sel.register(conn.sock, selectors.EVENT_READ)

    def _on_readable(self, fire: _Fire) -> bool:
        """Reads what is there; True when this attempt is over (reply, error), False to keep waiting."""
        conn, reader = fire.conn, fire.reader
        assert conn is not None
        assert reader is not None
        try:
            while True:
                data = conn.sock.recv(65536)
                reply = reader.feed(data)
                if reply is not None:
                    break
        except (BlockingIOError, ssl.SSLWantReadError):
            return False
        except (OSError, ConnectionError, h11.ProtocolError) as exc:
            fire.conn = None
            conn.close()
            attempt = fire.attempts[-1]
            attempt.reply_at = reader.first_byte_at
            self._attempt_failed(fire, f"{type(exc).__name__}: {exc}", closed=True)
            return True
        attempt = fire.attempts[-1]
        attempt.reply_at = reader.first_byte_at
        attempt.status = reply.status
        fire.last_reply = (reply.status, reply.headers, reply.body)
        fire.conn = None
        if reply.reusable:
            conn.sock.setblocking(True)
            self._give_back(conn)
        else:
            conn.close()
        if reply.status in fire.req.retry_statuses:
            self._retry_or_finish(fire, claim=False, pause=0.0)
        else:
            self._finish(fire, "replied")
        return True

    def _attempt_failed(self, fire: _Fire, error: str, closed: bool = False) -> None:
        if not closed and fire.conn is not None:
            fire.conn.close()
        fire.conn = None
        fire.attempts[-1].error = error
        fire.last_reply = None
        self._retry_or_finish(fire, claim=False, pause=0.0)

    def _retry_or_finish(self, fire: _Fire, *, claim: bool, pause: float) -> None:
        if not may_retry(time.time(), pause_s=pause, retry_until=fire.req.retry_until, stopping=self._stopping):
            if claim:
                with self._lock:
                    if fire.state is _State.PENDING:
                        fire.state = _State.CLAIMED
            self._finish(fire, "replied" if fire.last_reply else "failed")
            return
        self._io_jobs.append((time.time() + pause, fire, claim))

    # -- claim thread ----------------------------------------------------------------------------------

    def _claim_loop(self) -> None:
        try:
            while True:
                self._claim_wake.clear()
                with self._lock:
                    if self._stopping:
                        return
                    now = time.time()
                    # A claim is Python work competing for the interpreter: it keeps off the last moments
                    # before another fire's send, unless its own send is getting close.
                    sending = [f.req.send_at for f in self._fires.values() if f.state is _State.PENDING and f.ready
                               and -_CLAIM_QUIET_AFTER_S < f.req.send_at - now <= _CLAIM_QUIET_BEFORE_S]
                    quiet_at = max(sending) + _CLAIM_QUIET_AFTER_S if sending else now
                    waiting = [f for f in self._fires.values()
                               if f.state is _State.PENDING and not f.ready and not f.claiming]
                    due = sorted(f for f in waiting if f.req.send_at - f.req.claim_before_s <= now
                                 and (quiet_at <= now or f.req.send_at - now <= f.req.claim_before_s / 2))[:1]
                    for f in due:
                        f.claiming = True
                    nxt = min((max(f.req.send_at - f.req.claim_before_s, quiet_at) for f in waiting if f not in due),
                              default=None)
                for f in due:
                    self._claim(f)
                if not due:
                    self._claim_wake.wait(1.0 if nxt is None else min(max(nxt - time.time(), 0.0), 1.0))
        except Exception:
            log.exception("fire claim thread crashed")
            raise

    def _claim(self, fire: _Fire) -> None:
        claim = fire.req.claim
        assert claim is not None
        error: str | None = None
        try:
            body = claim()
        except Exception as exc:
            log.exception("fire %s: the claim failed", fire.req.fire_id)
            body, error = None, f"could not claim the bid before sending: {type(exc).__name__}: {exc}"
        if body is not None and body != fire.req.body:
            fire.wire, fire.head_hdrs = build_request(
                fire.origin, fire.req.method, fire.req.path, dict(fire.req.headers), body
            )
            fire.req = dataclasses.replace(fire.req, body=body)
        with self._lock:
            fire.claiming = body is not None  # stays set once claimed: from then on cancel answers False
            dropped = body is None and fire.state is _State.PENDING
            if dropped:
                fire.state = _State.CANCELLED
            fire.ready = body is not None
            late = fire.ready and fire.late and fire.state is _State.PENDING
        if dropped:
            if error is not None:
                fire.attempts.append(FireAttempt(planned_at=fire.req.send_at, error=error))
            self._finish(fire, "failed" if error is not None else "cancelled")
            self._fire_wake.set()
        elif late:
            self._io_jobs.append((0.0, fire, True))
            self._poke_io()

    # -- warmer thread ---------------------------------------------------------------------------------

    def _context(self, origin: Origin) -> ssl.SSLContext | None:
        if origin.scheme != "https":
            return None
        if self._ssl is None:
            self._ssl = default_ssl_context()
        return self._ssl

    def _warm_loop(self) -> None:
        backoff: dict[Origin, float] = {}
        try:
            while not self._stopping:
                self._warm_wake.clear()
                now = time.time()
                want: dict[Origin, int] = {}
                floor: dict[Origin, int] = {}
                imminent: set[Origin] = set()
                upcoming: dict[Origin, list[float]] = {}
                with self._lock:
                    for f in self._fires.values():
                        if f.state is _State.PENDING and f.conn is None and f.req.send_at - self._warm_ahead <= now:
                            upcoming.setdefault(f.origin, []).append(f.req.send_at)
                        if f.state is _State.PENDING and f.req.send_at - now < self._approach + 1.0:
                            imminent.add(f.origin)
                    for origin, times in upcoming.items():
                        want[origin] = _peak(times, self._overlap)
                    for origin, (count, until) in list(self._floors.items()):
                        if until <= now:
                            del self._floors[origin]
                        elif count:
                            floor[origin] = count
                    origins = set(self._pool) | set(want) | set(floor)
                    idle = {o: list(self._pool.get(o, ())) for o in origins}
                    server_idle = dict(self._server_idle)
                for origin in origins:
                    fires = want.get(origin, 0)
                    target = max(fires + self._spares if fires else 0, floor.get(origin, 0))
                    limit = min(self._max_idle, 0.6 * server_idle.get(origin, float("inf")))
                    alive = 0
                    for conn in idle[origin]:
                        stale = now - conn.idle_since > limit and origin not in imminent
                        if not stale and quiet(conn.sock):
                            alive += 1
                            continue
                        with self._lock:  # take it out first: only the owner of a connection may read it
                            pool = self._pool.get(origin, [])
                            if conn not in pool:
                                continue  # taken meanwhile
                            pool.remove(conn)
                        if stale:
                            conn.close()
                        elif is_alive(conn.sock):
                            with self._lock:
                                self._pool.setdefault(origin, []).append(conn)
                            alive += 1
                        else:
                            self._note_dead(conn)
                    while alive < target and not self._stopping and backoff.get(origin, 0.0) <= time.time():
                        try:
                            sock = open_connection(origin, self._context(origin), self._connect_timeout)
                        except (OSError, ssl.SSLError) as exc:
                            log.warning("cannot warm a connection to %s: %s", origin, type(exc).__name__)
                            backoff[origin] = time.time() + 1.0
                            break
                        self._give_back(_Conn(origin, sock))
                        alive += 1
                self._warm_wake.wait(0.25)
        except Exception:
            log.exception("fire warmer thread crashed")
            raise


# The claim thread stays quiet from this long before another fire's send until this long after it.
_CLAIM_QUIET_BEFORE_S = 0.03
_CLAIM_QUIET_AFTER_S = 0.005


def _peak(times: list[float], window: float) -> int:
    """The most instants of ``times`` that fall within any span of ``window`` seconds: how many fires may
    need their own connection at once (connections come back to the pool after each reply)."""
    times = sorted(times)
    best = start = 0
    for end, t in enumerate(times):
        while t - times[start] > window:
            start += 1
        best = max(best, end - start + 1)
    return best
