"""One engine per data folder, whoever starts it (the window, ``--headless``, ``--demo``).

Two engines on one database would both bid: the second would take the first's PLACING snipes for a crash
and send them again. An OS lock on a file in the data folder settles it; the OS drops the lock when its
process ends, however it ends, so a lock that can be taken means no engine is alive. The pid beside it
names the holder for the sentence the second one prints, and, when still there after the lock was free,
tells that the previous engine died rather than stopped.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sys
from pathlib import Path

from sniper_app.domain.errors import SniperError
from sniper_app.store.errors import read_only

log = logging.getLogger(__name__)

LOCK_NAME = "engine.lock"
PID_NAME = "engine.pid"


class EngineRunning(SniperError):
    """Another live engine holds this data folder."""

    def __init__(self, data_dir: Path, pid: int | None) -> None:
        self.pid = pid
        who = f"pid {pid}" if pid is not None else "its pid is unknown"
        super().__init__(
            f"Another Sniper engine is already running on {data_dir} ({who}); it keeps sniping. Stop it "
            "before starting a new one — the command-line commands work beside it."
        )


class EngineLock:
    """Held by the running engine for as long as it runs; :meth:`release` when it stops."""

    def __init__(self, data_dir: Path, fd: int | None, previous_pid: int | None) -> None:
        self.data_dir = data_dir
        self._fd: int | None = fd
        # An engine that ended without releasing (killed, crashed, power cut): its unfinished bids are
        # asked of eBay by this one, never simply sent again.
        self.previous_pid = previous_pid

    @classmethod
    def acquire(cls, data_dir: Path) -> EngineLock:
        """Take the data folder's engine lock, or raise :class:`EngineRunning` naming the holder."""
        try:
            data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                # The same sentence the store gives: an engine there could not record a bid it placed.
                raise read_only(data_dir) from None
            raise SniperError(f"The data folder {data_dir} cannot be used ({exc.strerror or exc}).") from None
        try:
            _lock(fd)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in _HELD:
                # A file system without locks (some network shares): run, as before there was a lock.
                log.warning("cannot lock %s (%s); make sure no other engine uses this data folder",
                            data_dir / LOCK_NAME, exc.strerror or exc)
                return cls(data_dir, None, None)
            raise EngineRunning(data_dir, read_pid(data_dir)) from None
        previous = read_pid(data_dir)
        _write_pid(data_dir, str(os.getpid()))
        return cls(data_dir, fd, previous if previous != os.getpid() else None)

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            _write_pid(self.data_dir, "")  # emptied: a clean stop, not a death
        os.close(fd)  # closing the descriptor drops the lock


# What the OS answers when another process holds the lock (flock: EWOULDBLOCK; msvcrt: EACCES/EDEADLOCK).
_HELD = frozenset({errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES, getattr(errno, "EDEADLOCK", errno.EDEADLK)})


def read_pid(data_dir: Path) -> int | None:
    try:
        text = (data_dir / PID_NAME).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isascii() and text.isdigit() else None


def _write_pid(data_dir: Path, text: str) -> None:
    fd = os.open(data_dir / PID_NAME, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(text)


def _lock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
