from __future__ import annotations

import io
import logging
import logging.handlers
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from sniper_app.domain.redact import redactor
from sniper_app.logging_setup import setup_logging

SECRETS = {
    "Authorization: Bearer v^1.1#i^1#p^3#r^1#I^3#f^0#t^Ul4xMF8xOkRGMTlCQ0Y=": "Ul4xMF8xOkRGMTlCQ0Y",
    "grant_type=refresh_token&refresh_token=v^1.1#i^1#f^0#t^H4sIAAAA&scope=x": "H4sIAAAA",
    '{"access_token": "eyJhbGciOiJub25lIn0.payload", "expires_in": 7200}': "eyJhbGciOiJub25lIn0",
    "headers {'Authorization': 'Basic c2ltLWNsaWVudDpzaW0tc2VjcmV0'}": "c2ltLWNsaWVudDpzaW0tc2VjcmV0",
    "<RequesterCredentials>AgAAAA**token**</RequesterCredentials>": "AgAAAA",
}


@pytest.fixture
def logged(tmp_path: Path) -> Iterator[tuple[Path, io.StringIO]]:
    stderr = io.StringIO()
    path = setup_logging("DEBUG", tmp_path / "logs", stderr=stderr)
    yield path, stderr
    setup_logging("WARNING", tmp_path / "logs2", stderr=io.StringIO())


@pytest.mark.parametrize(("line", "secret"), SECRETS.items())
def test_secrets_never_reach_the_log_file_or_stderr(
    logged: tuple[Path, io.StringIO], line: str, secret: str
) -> None:
    path, stderr = logged
    logging.getLogger("sniper_app.test").info("sending %s", line)
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text()
    assert "sending" in text
    assert secret not in text
    assert secret not in stderr.getvalue()
    assert "***" in text


def test_registered_secret_is_masked_even_inside_tracebacks(logged: tuple[Path, io.StringIO]) -> None:
    path, _ = logged
    redactor.add_secret("plain-client-secret-42")
    try:
        raise RuntimeError("login failed with plain-client-secret-42")
    except RuntimeError:
        logging.getLogger("sniper_app.test").exception("boom")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text()
    assert "RuntimeError: login failed with ***" in text
    assert "plain-client-secret-42" not in text


def test_log_file_is_private_and_levels_are_checked(logged: tuple[Path, io.StringIO], tmp_path: Path) -> None:
    path, _ = logged
    logging.getLogger("sniper_app.test").warning("hello")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    (rotating,) = [h for h in logging.getLogger().handlers if isinstance(h, logging.handlers.RotatingFileHandler)]
    rotating.doRollover()
    logging.getLogger("sniper_app.test").warning("after the rollover")
    rotating.flush()
    for file in (path, path.with_name(path.name + ".1")):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    with pytest.raises(ValueError, match="Log level must be one of"):
        setup_logging("LOUD", tmp_path / "x")
