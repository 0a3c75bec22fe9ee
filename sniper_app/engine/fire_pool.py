"""The Firer's shared state and its warm connections: the pool each fire takes a connection from, and the
warmer thread that opens them ahead of the fires and drops the stale ones."""

from __future__ import annotations

import contextlib
import gc
import logging
import socket
import ssl
import sys
import threading
import time
from collections import deque

from sniper_app.engine.fire_request import FireResult, Outcome, _Conn, _Fire, _State
from sniper_app.engine.rawhttp import Origin, default_ssl_context, is_alive, open_connection, quiet

log = logging.getLogger(__name__)


class FirerBase:
    """The Firer's shared state, the bookkeeping its threads share, and the warm connections."""

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
