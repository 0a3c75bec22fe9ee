"""One logging set-up for the whole app: a rotating file, stderr, and secrets masked in every record."""

from __future__ import annotations

import contextlib
import faulthandler
import io
import logging
import logging.handlers
import os
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO

from sniper_app import paths
from sniper_app.domain.redact import redact

LOG_FILE = "sniper.log"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_FORMAT = "%(asctime)s.%(msecs)03dZ %(levelname)-7s %(name)s: %(message)s"
_DATEFMT = "%Y-%m-%dT%H:%M:%S"


class RedactingFormatter(logging.Formatter):
    """Masks secrets in the fully formatted record, tracebacks and ``extra`` text included."""

    def __init__(self) -> None:
        super().__init__(_FORMAT, _DATEFMT)
        self.converter = time.gmtime

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class RedactingFilter(logging.Filter):
    """Masks the message itself, so handlers added by libraries or tests never see a raw secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = str(record.msg)
        redacted = redact(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        return True


def _open_private(path: Path | str, mode: str) -> io.TextIOWrapper:
    """Open a log file readable by the user alone, whatever the umask; one left by an older version is
    made private too (logs name items, amounts and the account)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)
    handle = os.fdopen(fd, mode, encoding="utf-8")
    assert isinstance(handle, io.TextIOWrapper)
    return handle


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose every file, the ones made by a rollover included, is 0600 from the start."""

    def _open(self) -> io.TextIOWrapper:
        return _open_private(self.baseFilename, self.mode)


_installed: list[logging.Handler] = []
_filter = RedactingFilter()


def setup_logging(level: str = "INFO", log_dir: Path | None = None, *, stderr: IO[str] | None = None) -> Path:
    """Install the app's handlers on the root logger (idempotent); returns the log file path."""
    level = level.upper()
    if level not in LEVELS:
        raise ValueError(f"Log level must be one of {', '.join(LEVELS)}.")
    directory = paths.ensure_private_dir(log_dir or paths.log_dir())
    log_path = directory / LOG_FILE

    root = logging.getLogger()
    for handler in _installed:
        root.removeHandler(handler)
        handler.close()
    _installed.clear()

    formatter = RedactingFormatter()
    file_handler = PrivateRotatingFileHandler(
        log_path, maxBytes=2_000_000, backupCount=5, encoding="utf-8", delay=True
    )
    console = logging.StreamHandler(stderr or sys.stderr)
    for handler in (file_handler, console):
        handler.setFormatter(formatter)
        handler.addFilter(_filter)
        root.addHandler(handler)
        _installed.append(handler)
    # stderr is for the user: keep library chatter out of it unless they asked for more.
    console.setLevel(level if level != "INFO" else "WARNING")
    file_handler.setLevel(level)
    root.setLevel(min(logging.getLevelName(level), logging.INFO))
    for noisy in ("httpx", "httpcore", "apscheduler", "asyncio", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.getLevelName(level), logging.WARNING))
    return log_path


def install_crash_handler(log_dir: Path | None = None) -> None:
    """Write uncaught exceptions (redacted) to a crash file and the log; dump native crashes too."""
    directory = paths.ensure_private_dir(log_dir or paths.log_dir())
    fault_file = _open_private(directory / "faulthandler.log", "a")
    faulthandler.enable(fault_file)

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        text = redact("".join(traceback.format_exception(kind, value, tb)))
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        crash = directory / f"crash-{stamp}.txt"
        try:
            crash.write_text(text, encoding="utf-8")
            crash.chmod(0o600)
        except OSError:
            pass
        logging.getLogger("sniper_app.crash").critical("Unexpected error (report saved to %s)\n%s", crash, text)

    sys.excepthook = hook
