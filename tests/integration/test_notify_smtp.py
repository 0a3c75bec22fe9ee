"""Email over SMTP to a real server on loopback (aiosmtpd): plain, STARTTLS with AUTH, implicit TLS; refusals
retried then given up with a history entry and a NotificationFailed event; the password never logged."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from sniper_app.ebay import SecretStore
from sniper_app.engine.notifications import send_test_email
from sniper_app.notify import SendError
from tests.support.notify import add_snipe, email_settings, finish, notify_rig
from tests.support.smtp import smtp_server
from tests.support.wait import wait_until_async

HOSTILE = '<b onmouseover="alert(1)">Leica</b> & Co'
PASSWORD = "smtp-Pa55word-9f3b7c"


def test_won_snipe_is_emailed_over_plain_smtp(tmp_path: Path) -> None:
    with smtp_server(tmp_path, security="none") as server:
        settings = email_settings(tmp_path, email_backend="smtp", smtp_host=server.host, smtp_port=server.port,
                                  smtp_security="none")

        async def main() -> None:
            async with notify_rig(settings) as rig:
                finish(rig, add_snipe(rig.store, HOSTILE), "WON", 31_250)
                # The server stores the message before the client has had its reply and said QUIT: wait for both.
                await wait_until_async(
                    lambda: len(server.messages) == 1 and rig.handle.notifier.sent == 1, 10, "the email"
                )
            assert rig.failures() == []

        asyncio.run(main())
        got = server.messages[0]
        assert got.recipients == ["me@example.com"]
        assert got.sender == "sniper@example.com"
        assert got.message["Subject"] == f"You won: {HOSTILE} for $312.50"
        html, text = got.part("html"), got.part("plain")
        assert "<b onmouseover" not in html
        assert "&lt;b onmouseover=&#34;alert(1)&#34;&gt;Leica&lt;/b&gt; &amp; Co" in html
        assert HOSTILE in text
        assert "$400.00" in text
        assert "$87.50" in text
        assert 'href="https://www.ebay.com/itm/126001"' in html


def test_starttls_with_auth_takes_the_password_from_the_keyring_and_never_logs_it(
    tmp_path: Path, isolated_dirs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = SecretStore("simulator", environ={})
    secrets.set_smtp_password(PASSWORD)
    with smtp_server(tmp_path, security="starttls", user="bob", password=PASSWORD) as server:
        settings = email_settings(tmp_path, email_backend="smtp", smtp_host="localhost", smtp_port=server.port,
                                  smtp_security="starttls", smtp_user="bob")

        async def main() -> None:
            async with notify_rig(settings, secrets, tls_context=server.client_tls_context()) as rig:
                finish(rig, add_snipe(rig.store), "LOST", 45_000)
                await wait_until_async(
                    lambda: len(server.messages) == 1 and rig.handle.notifier.sent == 1, 10, "the email"
                )

        asyncio.run(main())
        got = server.messages[0]
        assert got.tls
        assert got.login == "bob"
        assert got.message["Subject"] == "Outbid: Leica M3 rangefinder"
    assert PASSWORD not in caplog.text
    assert all(PASSWORD not in str(r.args) for r in caplog.records)


def test_implicit_tls_and_a_password_from_the_environment(tmp_path: Path, isolated_dirs: Path) -> None:
    with smtp_server(tmp_path, security="ssl") as server:
        settings = email_settings(tmp_path, email_backend="smtp", smtp_host="127.0.0.1", smtp_port=server.port,
                                  smtp_security="ssl")
        secrets = SecretStore("simulator", environ={"SNIPER_SMTP_PASSWORD": PASSWORD})
        assert secrets.smtp_password() == PASSWORD
        sentence = asyncio.run(send_test_email(settings, secrets, tls_context=server.client_tls_context()))
        assert sentence == "A test email was sent to me@example.com through smtp."
        assert server.messages[0].message["Subject"] == "Sniper test email"
        # The same server with the system's trust store: a self-signed certificate is refused.
        with pytest.raises(SendError, match="Could not talk to the mail server"):
            asyncio.run(send_test_email(settings, secrets))


def test_temporary_refusals_are_retried_then_delivered(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as server:
        server.handler.refuse = ["451 4.3.0 Mailbox busy, try again"] * 2
        settings = email_settings(tmp_path, email_backend="smtp", smtp_host=server.host, smtp_port=server.port,
                                  smtp_security="none")

        async def main() -> None:
            async with notify_rig(settings) as rig:
                finish(rig, add_snipe(rig.store), "FAILED")
                await wait_until_async(lambda: len(server.messages) == 1 and rig.handle.notifier.sent == 1, 10,
                               "the email after two refusals")
                assert rig.failures() == []
                assert rig.handle.notifier.sent == 1

        asyncio.run(main())
        assert server.handler.refuse == []
        assert server.messages[0].message["Subject"] == "Bid failed: Leica M3 rangefinder"


def test_failures_are_given_up_recorded_in_history_and_published(
    tmp_path: Path, isolated_dirs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with smtp_server(tmp_path) as server:
        server.handler.refuse = ["451 4.3.0 Mailbox busy, try again"] * 10
        settings = email_settings(tmp_path, email_backend="smtp", smtp_host=server.host, smtp_port=server.port,
                                  smtp_security="none")

        async def main() -> None:
            async with notify_rig(settings) as rig:
                pk = add_snipe(rig.store)
                finish(rig, pk, "WON")
                await wait_until_async(lambda: len(rig.failures()) == 1, 10, "the email to be given up")
                failed = rig.failures()[0]
                assert failed.kind == "BID_WON"
                assert failed.snipe_id == pk
                assert failed.channel == "email"
                assert failed.reason == (
                    f"The mail server {server.host}:{server.port} answered 451: 4.3.0 Mailbox busy, try again. "
                    "(gave up after 3 attempts)"
                )
                notes = rig.history_notes()
                assert len(notes) == 1
                assert notes[0].snipe.id == pk
                assert notes[0].message.startswith("The email about 'Leica M3 rangefinder' (You won) was not sent:")
                assert notes[0].details["kind"] == "BID_WON"

        asyncio.run(main())
        assert server.messages == []
        assert len(server.handler.refuse) == 7


def test_a_wrong_password_is_given_up_at_once_and_never_shown(
    tmp_path: Path, isolated_dirs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "not-the-Password-0042"
    secrets = SecretStore("simulator", environ={"SNIPER_SMTP_PASSWORD": wrong})
    with smtp_server(tmp_path, security="starttls", user="bob", password=PASSWORD) as server:
        settings = email_settings(tmp_path, email_backend="smtp", smtp_host="localhost", smtp_port=server.port,
                                  smtp_security="starttls", smtp_user="bob")

        async def main() -> None:
            async with notify_rig(settings, secrets, tls_context=server.client_tls_context()) as rig:
                finish(rig, add_snipe(rig.store), "WON")
                await wait_until_async(lambda: len(rig.failures()) == 1, 10, "the email to be given up")
                reason = rig.failures()[0].reason
                assert reason.startswith(f"The mail server localhost:{server.port} answered 535")
                assert "gave up" not in reason  # not retried: a wrong password stays wrong
                assert wrong not in rig.history_notes()[0].message

        asyncio.run(main())
    assert wrong not in caplog.text
    assert PASSWORD not in caplog.text


def test_no_server_is_a_transient_failure(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as server:
        port = server.port
    settings = email_settings(tmp_path, email_backend="smtp", smtp_host="127.0.0.1", smtp_port=port,
                              smtp_security="none")
    with pytest.raises(SendError, match=f"Could not talk to the mail server 127.0.0.1:{port}") as caught:
        asyncio.run(send_test_email(settings, SecretStore("simulator")))
    assert caught.value.transient
