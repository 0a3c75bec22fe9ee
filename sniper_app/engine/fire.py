"""The fire path: sends a pre-built bid request so it leaves at an exact local instant, even while the GUI
thread of the same process hogs the GIL.

Why it looks like this (measured, see tests/bench/fire_micro.py):
- Loop timers (asyncio, and worse, the Qt loop bridge's timers) are tens to hundreds of ms off, so a dedicated
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

This module holds the public API and the fire and claim threads; ``fire_request`` the request and result
types, ``fire_pool`` the shared state, the warm connections and their warmer thread, ``fire_replies`` the
I/O thread that reads replies and sends retries and late first attempts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import logging
import socket
import threading
import time
from concurrent.futures import Future

import h11

from sniper_app.engine.fire_pool import FirerBase
from sniper_app.engine.fire_replies import FireReplies
from sniper_app.engine.fire_request import FireAttempt, FireRequest, FireResult, _Conn, _Fire, _State
from sniper_app.engine.rawhttp import ReplyReader, build_request, is_alive, open_connection, parse_origin

log = logging.getLogger(__name__)


class Firer(FireReplies, FirerBase):
    """Owns the fire, I/O and warmer threads and the warm connections. Thread-safe; Qt- and asyncio-free."""

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


# The claim thread stays quiet from this long before another fire's send until this long after it.
_CLAIM_QUIET_BEFORE_S = 0.03
_CLAIM_QUIET_AFTER_S = 0.005


__all__ = ["FireAttempt", "FireRequest", "FireResult", "Firer"]
