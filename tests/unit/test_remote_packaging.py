"""The box's systemd unit stays in step with the code: the credential name the secrets file reads, the
headless engine with a listener, and a stop that lets a bid in flight finish."""

from __future__ import annotations

import configparser
from pathlib import Path

from sniper_app.ebay.secretfile import CREDENTIAL_NAME
from sniper_app.remote.invite import parse_address
from sniper_app.remote.server import DEFAULT_PORT

UNIT = Path(__file__).resolve().parents[2] / "resources" / "packaging" / "linux" / "sniper-box.service"


def test_the_unit_runs_the_headless_engine_with_the_secrets_key_as_a_credential() -> None:
    unit = configparser.ConfigParser(interpolation=None, strict=True)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(UNIT.read_text(encoding="utf-8"))
    service = unit["Service"]
    command = service["ExecStart"].split()
    assert "--headless" in command
    listen = parse_address(command[command.index("--listen") + 1])
    assert listen.port == DEFAULT_PORT
    name, _, source = service["LoadCredential"].partition(":")
    assert name == CREDENTIAL_NAME
    assert source.startswith("%h/")
    assert service["KillSignal"] == "SIGTERM"
    assert unit["Install"]["WantedBy"] == "default.target", "a user unit, started with the user's manager"
