"""The fire path's I/O thread: each reply read and judged (done, retry, failed), retries and late first
attempts sent, and an attempt given up when no reply comes in time."""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import selectors
import socket
import ssl
import time

import h11

from sniper_app.engine.decisions import may_retry, may_send
from sniper_app.engine.fire_pool import FirerBase
from sniper_app.engine.fire_request import FireAttempt, _Conn, _Fire, _State
from sniper_app.engine.rawhttp import ReplyReader, open_connection

log = logging.getLogger(__name__)


class FireReplies(FirerBase):
    """The I/O thread: reads each reply, sends the retries and the late first attempts."""

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
