"""A real SMTP server on loopback (aiosmtpd in its own thread) for the email tests, with STARTTLS or
implicit TLS on a certificate from a throw-away CA, optional AUTH, and scripted refusals."""

from __future__ import annotations

import email
import email.policy
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.support.cli import free_port
from tests.support.tls import throwaway_ca


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    tls: bool
    login: str | None

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        content: str = body.get_content()  # type: ignore[attr-defined]
        return content


@dataclass
class Handler:
    messages: list[Received] = field(default_factory=list)
    refuse: list[str] = field(default_factory=list)  # replies for the next DATA commands, e.g. "451 4.3.0 busy"
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            if self.refuse:
                return self.refuse.pop(0)
            raw = envelope.original_content or envelope.content
            assert isinstance(raw, bytes)
            message = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
            self.messages.append(Received(
                str(envelope.mail_from), [str(r) for r in envelope.rcpt_tos], message,
                session.ssl is not None, login,
            ))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: Handler
    cert: Path | None

    @property
    def messages(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.messages)

    def client_tls_context(self) -> ssl.SSLContext:
        """What a client needs to trust this server's certificate (and nothing else)."""
        assert self.cert is not None
        return ssl.create_default_context(cafile=str(self.cert))



@contextmanager
def smtp_server(
    tmp_path: Path, *, security: str = "none", user: str | None = None, password: str | None = None
) -> Iterator[SmtpServer]:
    """``security``: "none", "starttls" (STARTTLS required) or "ssl" (TLS from the first byte)."""
    handler = Handler()
    kwargs: dict[str, Any] = {}
    cert: Path | None = None
    if security != "none":
        certs = throwaway_ca(tmp_path)
        cert = certs.ca_file  # what a client must trust, and nothing else
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(certs.cert_file), str(certs.key_file))
        if security == "starttls":
            kwargs |= {"tls_context": context, "require_starttls": True}
        else:
            kwargs |= {"ssl_context": context}
    if user is not None:

        def authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and data.login.decode() == user and data.password.decode() == password
            return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

        # aiosmtpd allows AUTH only after STARTTLS (it does not count implicit TLS), so AUTH goes with it.
        assert security == "starttls", "AUTH needs security='starttls'"
        kwargs |= {"authenticator": authenticate, "auth_required": True}
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", controller.port, handler, cert)
    finally:
        controller.stop()
