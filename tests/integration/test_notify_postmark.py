"""Email through Postmark's HTTP API, spoken to the simulator's Postmark-compatible ``POST /email``: the
message arrives, 5xx is retried, a refusal is given up with a history entry and an event, and the server
token never reaches a log."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest

from sniper_app.ebay import SecretStore
from sniper_app.engine.notifications import send_test_email
from sniper_app.notify import SendError
from sniper_app.simulator import SimulatorServer
from tests.support.notify import add_snipe, email_settings, finish, notify_rig
from tests.support.wait import wait_until_async

TOKEN = "POSTMARK_API_TEST"


def postmark(sim: SimulatorServer, tmp_path: Path) -> dict[str, object]:
    return {"email_backend": "postmark", "postmark_url": sim.base_url}


def test_won_snipe_is_emailed_through_postmark(
    sim: SimulatorServer, tmp_path: Path, isolated_dirs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = SecretStore("simulator", environ={})
    secrets.set_postmark_token(TOKEN)
    settings = email_settings(tmp_path, **postmark(sim, tmp_path))

    async def main() -> None:
        async with notify_rig(settings, secrets) as rig:
            finish(rig, add_snipe(rig.store, "Fender <Stratocaster> & amp"), "WON", 31_250)
            await wait_until_async(lambda: len(sim.emails()) == 1, 10, "the email at Postmark")

    asyncio.run(main())
    mail = sim.emails()[0]
    assert mail["From"] == "sniper@example.com"
    assert mail["To"] == "me@example.com"
    assert mail["Subject"] == "You won: Fender <Stratocaster> & amp for $312.50"
    assert "Fender &lt;Stratocaster&gt; &amp; amp" in mail["HtmlBody"]
    assert "Fender <Stratocaster> & amp" in mail["TextBody"]
    assert TOKEN not in caplog.text


def test_the_endpoint_speaks_postmark(sim: SimulatorServer) -> None:
    body = {"From": "a@example.com", "To": "b@example.com", "Subject": "Hi", "TextBody": "Hello"}
    ok = httpx.post(sim.base_url + "/email", json=body, headers={"X-Postmark-Server-Token": TOKEN})
    assert ok.status_code == 200
    assert ok.json()["ErrorCode"] == 0
    assert ok.json()["Message"] == "OK"
    assert ok.json()["To"] == "b@example.com"
    assert ok.json()["MessageID"]
    assert ok.json()["SubmittedAt"]
    bad = httpx.post(sim.base_url + "/email", json=body, headers={"X-Postmark-Server-Token": "nope"})
    assert bad.status_code == 401
    assert bad.json()["ErrorCode"] == 10
    invalid = httpx.post(sim.base_url + "/email", json=body | {"To": ""}, headers={"X-Postmark-Server-Token": TOKEN})
    assert invalid.status_code == 422
    assert invalid.json()["ErrorCode"] == 300
    listed = httpx.get(sim.base_url + "/_sim/email").json()
    assert [m["Subject"] for m in listed["emails"]] == ["Hi"]
    httpx.post(sim.base_url + "/_sim/email", json={"reject": 1, "error_code": 406})
    rejected = httpx.post(sim.base_url + "/email", json=body, headers={"X-Postmark-Server-Token": TOKEN})
    assert rejected.status_code == 422
    assert rejected.json()["ErrorCode"] == 406
    assert httpx.delete(sim.base_url + "/_sim/email").json() == {"emails": []}


def test_server_errors_are_retried_then_delivered(
    sim: SimulatorServer, tmp_path: Path, isolated_dirs: Path
) -> None:
    sim.add_fault(r"^/email$", count=2, status=503)
    settings = email_settings(tmp_path, **postmark(sim, tmp_path))
    secrets = SecretStore("simulator", environ={"SNIPER_POSTMARK_TOKEN": TOKEN})

    async def main() -> None:
        async with notify_rig(settings, secrets) as rig:
            finish(rig, add_snipe(rig.store), "LOST", 50_000)
            await wait_until_async(lambda: len(sim.emails()) == 1, 10, "the email after two 503s")
            assert rig.failures() == []

    asyncio.run(main())
    attempts = [r for r in sim.requests() if r["path"] == "/email"]
    assert [r["status"] for r in attempts] == [503, 503, 200]


def test_persistent_server_errors_are_given_up_and_recorded(
    sim: SimulatorServer, tmp_path: Path, isolated_dirs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sim.add_fault(r"^/email$", count=10, status=500)
    settings = email_settings(tmp_path, **postmark(sim, tmp_path))
    secrets = SecretStore("simulator", environ={"SNIPER_POSTMARK_TOKEN": TOKEN})

    async def main() -> None:
        async with notify_rig(settings, secrets) as rig:
            pk = add_snipe(rig.store)
            finish(rig, pk, "WON")
            await wait_until_async(lambda: len(rig.failures()) == 1, 10, "the email to be given up")
            failed = rig.failures()[0]
            assert failed.snipe_id == pk
            assert failed.reason == (
                "Postmark is unavailable (HTTP 500): Internal server error. (gave up after 3 attempts)"
            )
            notes = rig.history_notes()
            assert len(notes) == 1
            assert "was not sent: Postmark is unavailable" in notes[0].message

    asyncio.run(main())
    assert len([r for r in sim.requests() if r["path"] == "/email"]) == 3
    assert sim.emails() == []
    assert TOKEN not in caplog.text


def test_a_refused_token_or_recipient_is_not_retried(
    sim: SimulatorServer, tmp_path: Path, isolated_dirs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-server-token-7781"
    settings = email_settings(tmp_path, **postmark(sim, tmp_path))
    refused = r"^Postmark did not accept the server token \(Request does not contain a valid Server token\)\.$"
    with pytest.raises(SendError, match=refused):
        asyncio.run(send_test_email(settings, SecretStore("simulator", environ={"SNIPER_POSTMARK_TOKEN": wrong})))
    assert wrong not in caplog.text

    sim.reject_emails(1, 406, "You tried to send to a recipient that has been marked as inactive.")

    async def main() -> None:
        async with notify_rig(settings, SecretStore("simulator", environ={"SNIPER_POSTMARK_TOKEN": TOKEN})) as rig:
            finish(rig, add_snipe(rig.store), "WON")
            await wait_until_async(lambda: len(rig.failures()) == 1, 10, "the email to be given up")
            assert rig.failures()[0].reason == (
                "Postmark refused the message (error 406): "
                "You tried to send to a recipient that has been marked as inactive."
            )

    asyncio.run(main())
    assert len([r for r in sim.requests() if r["path"] == "/email"]) == 2
