"""``sniper-app notify test``: one test email with the settings in force; exit 1 with the server's reason
when it is refused, exit 2 when email is not set up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sniper_app.simulator import SimulatorServer
from tests.support.cli import run_cli
from tests.support.smtp import smtp_server


def postmark_env(sim: SimulatorServer, token: str = "POSTMARK_API_TEST") -> dict[str, str]:  # noqa: S107
    return {"SNIPER_EMAIL_BACKEND": "postmark", "SNIPER_POSTMARK_URL": sim.base_url,
            "SNIPER_POSTMARK_TOKEN": token, "SNIPER_EMAIL_TO": "me@example.com"}


@pytest.mark.usefixtures("isolated_dirs")
def test_notify_test_sends_through_postmark(sim: SimulatorServer) -> None:
    result = run_cli("notify", "test", env=postmark_env(sim))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "A test email was sent to me@example.com through postmark."
    assert [m["Subject"] for m in sim.emails()] == ["Sniper test email"]
    assert sim.emails()[0]["To"] == "me@example.com"


@pytest.mark.usefixtures("isolated_dirs")
def test_a_refused_token_exits_1_with_postmarks_reason(sim: SimulatorServer) -> None:
    token = "wrong-token-5150-abc"
    result = run_cli("notify", "test", "--json", env=postmark_env(sim, token))
    assert result.returncode == 1
    error = json.loads(result.stderr)
    assert error == {
        "error": "The test email was not sent. Postmark did not accept the server token "
                 "(Request does not contain a valid Server token).",
        "exit_code": 1,
    }
    assert token not in result.stderr + result.stdout
    assert sim.emails() == []


@pytest.mark.usefixtures("isolated_dirs")
def test_a_refusing_smtp_server_exits_1_with_its_reason(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as server:
        server.handler.refuse = ["550 5.7.1 Relaying denied"]
        env = {"SNIPER_EMAIL_BACKEND": "smtp", "SNIPER_SMTP_HOST": server.host, "SNIPER_SMTP_PORT": str(server.port),
               "SNIPER_SMTP_SECURITY": "none", "SNIPER_EMAIL_TO": "me@example.com"}
        result = run_cli("notify", "test", env=env)
        assert result.returncode == 1
        assert result.stderr.strip() == (
            f"sniper-app: The test email was not sent. The mail server {server.host}:{server.port} answered 550: "
            "5.7.1 Relaying denied."
        )
        ok = run_cli("notify", "test", "--to", "other@example.com", env=env)
        assert ok.returncode == 0, ok.stderr
        assert server.messages[0].recipients == ["other@example.com"]


@pytest.mark.usefixtures("isolated_dirs")
def test_email_not_set_up_exits_2_with_a_sentence() -> None:
    off = run_cli("notify", "test")
    assert off.returncode == 2
    assert off.stderr.strip() == (
        "sniper-app: Email is switched off: set the email backend to SMTP or Postmark first."
    )
    no_to = run_cli("notify", "test", env={"SNIPER_EMAIL_BACKEND": "smtp", "SNIPER_SMTP_HOST": "127.0.0.1"})
    assert no_to.returncode == 2
    assert "No recipient" in no_to.stderr
    bad_to = run_cli("notify", "test", "--to", "not-an-address",
                     env={"SNIPER_EMAIL_BACKEND": "smtp", "SNIPER_SMTP_HOST": "127.0.0.1"})
    assert bad_to.returncode == 2
    assert "'not-an-address' is not an email address" in bad_to.stderr
