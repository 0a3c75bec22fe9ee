"""Ask the OS not to sleep while a snipe is due soon (wakepy), or log that it cannot.

Held only around due snipes: a machine that never sleeps costs the user battery for nothing.
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any

log = logging.getLogger(__name__)


class KeepAwake:
    """``hold(True)`` asks for keep-awake, ``hold(False)`` releases it. Blocking (D-Bus): call off the loop."""

    def __init__(self) -> None:
        self._mode: Any = None
        self.active = False
        self.supported: bool | None = None  # None: not tried yet
        self._warned = False
        # wakepy keeps its mode in a context variable: enter and exit must run in the same context.
        self._context = contextvars.Context()

    @property
    def held(self) -> bool:
        return self._mode is not None

    def hold(self, wanted: bool) -> None:
        if wanted and self._mode is None:
            self._context.run(self._enter)
        elif not wanted and self._mode is not None:
            self._context.run(self._exit)

    def _enter(self) -> None:
        try:
            from wakepy import keep
        except ImportError:
            self._unavailable("wakepy is not installed")
            self._mode = False  # remembered as held so the no-op is logged once per hold
            return
        try:
            mode = keep.running(on_fail="pass")
            mode.__enter__()
        except Exception as exc:  # a broken power manager must never cost a bid
            self._unavailable(f"{type(exc).__name__}: {exc}")
            self._mode = False
            return
        self._mode = mode
        self.active = bool(getattr(mode, "active", False))
        self.supported = self.active
        if self.active:
            log.info("keep-awake on: a snipe is due soon")
        else:
            self._unavailable("no keep-awake method works on this system")

    def _exit(self) -> None:
        mode, self._mode = self._mode, None
        self.active = False
        if mode is False or mode is None:
            return
        try:
            mode.__exit__(None, None, None)
        except Exception as exc:
            log.warning("releasing keep-awake failed: %s", exc)
        else:
            log.info("keep-awake off")

    def _unavailable(self, why: str) -> None:
        self.supported = False
        if not self._warned:
            self._warned = True
            log.warning("cannot keep the computer awake for due snipes (%s); a sleeping machine cannot snipe", why)
