"""A running engine's watch on the settings file: another process's ``config set`` reaches it.

The engine's database poll asks :meth:`SettingsWatch.changed` on every round; a stat is all it costs until
the file's identity changes (``save_settings`` replaces it whole, so a new inode, size or mtime shows it).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from sniper_app.config import Settings, SettingsError

log = logging.getLogger(__name__)

Stamp = tuple[int, int, int] | None


def _stamp(path: Path) -> Stamp:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


class SettingsWatch:
    """The settings in force again, by ``load`` (the file, the environment and the run's own overrides),
    whenever ``path`` changed since the last look."""

    def __init__(self, path: Path, load: Callable[[], Settings]) -> None:
        self.path = path
        self.load = load
        self._seen = _stamp(path)

    def changed(self) -> Settings | None:
        stamp = _stamp(self.path)
        if stamp == self._seen:
            return None
        self._seen = stamp
        try:
            return self.load()
        except SettingsError as exc:
            # The command that wrote it validated it; a hand edit may not have been. Keep what runs.
            log.warning("the changed settings were not applied: %s", exc)
            return None
        except OSError as exc:
            log.warning("the changed settings were not applied: %s cannot be read (%s)",
                        self.path, exc.strerror or exc)
            return None
