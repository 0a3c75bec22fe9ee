"""ntfy and the signed webhook against a real HTTP server on loopback: delivered with the right headers, the
signature verifies, 5xx is retried with backoff and then delivered, 4xx is given up with a sentence, and the
token and the signing secret never reach a log."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from sniper_app.config import Settings
from sniper_app.ebay import SecretStore
from tests.support.cli import run_cli
from tests.support.hook_server import HookServer, hook_server
from tests.support.notify import add_snipe, finish, notify_rig
from tests.support.wait import wait_until_async

TOKEN = "tk_ntfy-7f3a9c2e51d04b8b"
SECRET = "whsec-0c1d2e3f4a5b6c7d8e9f"


def _settings(tmp_path: Path, server: HookServer, **fields: Any) -> Settings:
    base: dict[str, Any] = {
        "data_dir": tmp_path, "notify_tray": False,
        "notify_ntfy": True, "ntfy_server": server.url, "ntfy_topic": "my-snipes",
        "notify_ntfy_types": ["BID_WON"],
        "notify_webhook": True, "webhook_url": f"{server.url}/hook?key=abc",
        "notify_webhook_types": ["BID_LOST"],
    }
    return Settings.model_validate(base | fields)


def _secrets() -> SecretStore:
    secrets = SecretStore("simulator", environ={})
    secrets.set_ntfy_token(TOKEN)
    secrets.set_webhook_secret(SECRET)
    return secrets


@pytest.mark.usefixtures("isolated_dirs")
def test_ntfy_and_webhook_are_delivered_with_their_headers_and_a_signature_that_verifies(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with hook_server() as server:
        async def main() -> None:
            async with notify_rig(_settings(tmp_path, server), _secrets()) as rig:
                finish(rig, add_snipe(rig.store), "WON", final_price_minor=31_250)
                # The same item again: the first snipe on it has ended.
                finish(rig, add_snipe(rig.store, "Rolleiflex 2.8F"), "LOST", final_price_minor=45_000)
                await wait_until_async(lambda: rig.handle.notifier.sent == 2, 10, "the push and the webhook")
                assert rig.failures() == []

        asyncio.run(main())
    by_path = {r.path: r for r in server.requests()}
    assert set(by_path) == {"/my-snipes", "/hook?key=abc"}  # WON only to ntfy, LOST only to the webhook
    push = by_path["/my-snipes"]
    assert push.headers["Title"] == "You won: Leica M3 rangefinder"
    assert (push.headers["Priority"], push.headers["Tags"]) == ("4", "trophy")
    assert push.headers["Authorization"] == f"Bearer {TOKEN}"
    assert push.headers["Click"] == "https://www.ebay.com/itm/126001"
    # Under the title, the numbers (not the title again) and what to do next.
    assert push.body.decode().startswith(
        "Won at $312.50, saving $87.50 below your maximum of $400.00. Pay on eBay as usual.")

    hook = by_path["/hook?key=abc"]
    assert hook.headers["Content-Type"] == "application/json"
    expected = "sha256=" + hmac.new(SECRET.encode(), hook.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(hook.headers["X-Sniper-Signature"], expected)
    payload = json.loads(hook.body)
    assert (payload["kind"], payload["title"]) == ("BID_LOST", "Outbid: Rolleiflex 2.8F")
    assert payload["snipe"]["title"] == "Rolleiflex 2.8F"
    assert payload["snipe"]["max_bid"] == {"value": "400.00", "currency": "USD"}
    assert payload["snipe"]["final_price"] == {"value": "450.00", "currency": "USD"}
    assert payload["body"] == "Outbid: it went for $450.00; your maximum was $400.00."
    assert "Authorization" not in hook.headers
    assert TOKEN not in caplog.text
    assert SECRET not in caplog.text


@pytest.mark.usefixtures("isolated_dirs")
def test_5xx_is_retried_with_backoff_then_delivered(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with hook_server() as server:
        server.script = [503, 502]

        async def main() -> None:
            async with notify_rig(_settings(tmp_path, server, notify_ntfy=False), _secrets()) as rig:
                finish(rig, add_snipe(rig.store), "LOST", final_price_minor=45_000)
                await wait_until_async(lambda: rig.handle.notifier.sent == 1, 10, "the webhook after two 5xx answers")
                assert rig.failures() == []

        asyncio.run(main())
    bodies = [r.body for r in server.requests()]
    assert len(bodies) == 3
    assert bodies[0] == bodies[1] == bodies[2]  # the same notice each time, not a new event
    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 2
    assert "(HTTP 503)" in retries[0]
    assert SECRET not in caplog.text


@pytest.mark.usefixtures("isolated_dirs")
def test_4xx_is_given_up_at_once_with_a_sentence_in_the_history(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with hook_server() as server:
        server.script = [404, 401]

        async def main() -> None:
            settings = _settings(tmp_path, server, notify_ntfy_types=["BID_LOST"])
            async with notify_rig(settings, _secrets()) as rig:
                pk = add_snipe(rig.store)
                finish(rig, pk, "LOST", final_price_minor=45_000)
                await wait_until_async(lambda: len(rig.failures()) == 2, 10, "both channels to give up")
                reasons = {f.channel: f.reason for f in rig.failures()}
                assert set(reasons) == {"ntfy", "webhook"}
                notes = sorted(n.message for n in rig.history_notes())
                assert all(n.endswith(".") for n in notes)
                assert notes[0].startswith("The ntfy notification about 'Leica M3 rangefinder' (Outbid) was not sent:")
                assert notes[1].startswith("The webhook call about 'Leica M3 rangefinder' (Outbid) was not sent:")
                sentences = sorted(reasons.values())
                assert any("refused the notification (HTTP 404): topic is reserved." in s for s in sentences)
                assert any("did not accept the credentials (HTTP 401): topic is reserved." in s for s in sentences)
                assert "key=abc" not in reasons["webhook"]  # the address is named without its query

        asyncio.run(main())
    assert len(server.requests()) == 2  # one each: a 4xx is not retried
    assert TOKEN not in caplog.text
    assert SECRET not in caplog.text


def test_notify_test_reaches_ntfy_and_the_webhook_and_logs_no_secret(isolated_dirs: Path) -> None:
    with hook_server() as server:
        env = {"SNIPER_NTFY_TOPIC": "my-snipes", "SNIPER_NTFY_SERVER": server.url, "SNIPER_NTFY_TOKEN": TOKEN,
               "SNIPER_WEBHOOK_URL": f"{server.url}/hook", "SNIPER_WEBHOOK_SECRET": SECRET}
        ok = run_cli("--log-level", "DEBUG", "notify", "test", env=env)
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout.splitlines() == [
            f"A test notification was sent to the ntfy topic my-snipes on {server.url}.",
            f"A test notification was sent to the webhook {server.url}/hook.",
        ]
        server.script = [400]
        refused = run_cli("--log-level", "DEBUG", "notify", "test", "--channel", "webhook", "--json", env=env)
        assert refused.returncode == 1
        assert json.loads(refused.stderr.splitlines()[-1]) == {  # the log lines come first at DEBUG
            "error": f"The webhook test was not sent. The webhook {server.url}/hook refused the notification "
                     "(HTTP 400): topic is reserved.",
            "exit_code": 1,
        }
        no_secret = run_cli("notify", "test", "--channel", "webhook", env=env | {"SNIPER_WEBHOOK_SECRET": ""})
        assert no_secret.returncode == 2
        assert "No webhook secret" in no_secret.stderr
        requests = server.requests()
    assert [r.path for r in requests] == ["/my-snipes", "/hook", "/hook"]
    test_hook = json.loads(requests[1].body)
    assert test_hook["kind"] == "TEST"
    logs = "".join(p.read_text() for p in (isolated_dirs / "logs").glob("*.log*"))
    assert f"Sent a test notification to the webhook {server.url}/hook" in logs
    for output in (ok.stdout + ok.stderr, refused.stdout + refused.stderr, logs):
        assert TOKEN not in output
        assert SECRET not in output
