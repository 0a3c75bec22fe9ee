"""Where the app keeps its files: the one place that asks platformdirs, honouring SNIPER_* overrides."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import platformdirs

APP_NAME = "sniper-app"


def _override(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


DEMO_CONFIG_SUBDIR = "demo"
_demo_config = False


def user_config_dir() -> Path:
    """The user's own settings folder, whatever this process runs (the demo keeps its own inside it)."""
    return _override("SNIPER_CONFIG_DIR") or platformdirs.user_config_path(APP_NAME, appauthor=False)


def demo_config_dir() -> Path:
    return user_config_dir() / DEMO_CONFIG_SUBDIR


def use_demo_config(on: bool = True) -> None:
    """From now on this process reads and saves the demo's settings, never the user's real ones."""
    global _demo_config  # one switch for the whole process, set once at start
    _demo_config = on


def config_dir() -> Path:
    """Settings live here; only the environment can move it (the settings file cannot name its own home).

    In the demo (and a ``--demo`` command) it is the demo's own folder inside it.
    """
    return demo_config_dir() if _demo_config else user_config_dir()


def default_data_dir() -> Path:
    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def log_dir() -> Path:
    return _override("SNIPER_LOG_DIR") or platformdirs.user_log_path(APP_NAME, appauthor=False)


def cache_dir() -> Path:
    return _override("SNIPER_CACHE_DIR") or platformdirs.user_cache_path(APP_NAME, appauthor=False)


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` readable by the user alone: it holds the database, logs and settings."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    # A directory the user chose may sit on a filesystem without POSIX modes. Only others' access is
    # taken away: a folder the user made read-only on purpose stays read-only.
    with contextlib.suppress(OSError):
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            path.chmod(mode & 0o700)
    return path


def write_private_json(path: Path, data: Any) -> None:
    """Replace ``path`` atomically with ``data`` as JSON, readable by the user alone from the first byte."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock beside ``path``, so the engine and a CLI command never lose each
    other's writes (where the platform has no ``fcntl``, atomic replacement still keeps the file whole)."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    lock = path.with_name(path.name + ".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
