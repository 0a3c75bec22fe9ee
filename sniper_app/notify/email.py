"""Email backends: Postmark's HTTP API (httpx) and SMTP (aiosmtplib).

A backend sends one message or raises :class:`SendError`, whose ``transient`` says whether trying again
later may help (network trouble, 4xx SMTP replies, HTTP 429/5xx) or not (a refused token, a bad address).
Credentials come from a provider called per send, so a password changed in the keyring takes effect at
once, and they are registered with the redactor before any request is made.
"""

from __future__ import annotations

import email.utils
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Literal, Protocol

import httpx

from sniper_app.domain.errors import InputError, SniperError
from sniper_app.domain.redact import redact, redactor
from sniper_app.notify.render import RenderedEmail
from sniper_app.tls import ssl_context

log = logging.getLogger(__name__)

SecretProvider = Callable[[], Awaitable[str | None]]
SmtpSecurity = Literal["none", "starttls", "ssl"]


class SendError(SniperError):
    """An email was not sent; ``str()`` is the reason in one sentence (never a secret)."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(redact(message))
        self.transient = transient


class EmailConfigError(SendError, InputError):
    """Email is not set up well enough to send (no backend, no address, no password)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=False)


@dataclass(frozen=True, slots=True)
class Envelope:
    sender: str
    to: str
    content: RenderedEmail


class EmailBackend(Protocol):
    name: str

    async def send(self, envelope: Envelope) -> str:
        """Send one message; returns the server's message id (or "" when it gives none)."""
        ...

    async def aclose(self) -> None: ...


# --- Postmark ------------------------------------------------------------------------------------------


class PostmarkBackend:
    """``POST {url}/email`` with the server token in ``X-Postmark-Server-Token``."""

    name = "postmark"

    def __init__(
        self, url: str, token: SecretProvider, *, client: httpx.AsyncClient | None = None, timeout_s: float = 20.0
    ) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self._own_client = client is None
        # The machine's trust store, as for eBay: a company's root certificate must not stop the notification.
        self._client = client or httpx.AsyncClient(timeout=timeout_s, verify=ssl_context())

    async def send(self, envelope: Envelope) -> str:
        token = await self._token()
        if not token:
            raise EmailConfigError(
                "No Postmark server token: enter it in Settings › Email, or set SNIPER_POSTMARK_TOKEN."
            )
        redactor.add_secret(token)
        body = {
            "From": envelope.sender,
            "To": envelope.to,
            "Subject": envelope.content.subject,
            "TextBody": envelope.content.text,
            "HtmlBody": envelope.content.html,
            "MessageStream": "outbound",
        }
        headers = {"Accept": "application/json", "X-Postmark-Server-Token": token}
        try:
            reply = await self._client.post(f"{self.url}/email", json=body, headers=headers)
        except httpx.TimeoutException:
            raise SendError("Postmark did not answer in time.", transient=True) from None
        except httpx.HTTPError as exc:
            raise SendError(f"Could not reach Postmark at {self.url} ({type(exc).__name__}).", transient=True) from None
        data = _json(reply)
        code = data.get("ErrorCode")
        message = str(data.get("Message") or reply.reason_phrase or "no reason given").strip().rstrip(".")
        if reply.status_code == 200 and code in (0, None):
            return str(data.get("MessageID") or "")
        if reply.status_code == 401 or code == 10:
            # Not "token: ..." — the redactor would take the words after it for the token itself.
            raise SendError(f"Postmark did not accept the server token ({message}).", transient=False)
        if reply.status_code == 429 or reply.status_code >= 500:
            raise SendError(f"Postmark is unavailable (HTTP {reply.status_code}): {message}.", transient=True)
        suffix = f" (error {code})" if code is not None else f" (HTTP {reply.status_code})"
        raise SendError(f"Postmark refused the message{suffix}: {message}.", transient=False)

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()


def _json(reply: httpx.Response) -> dict[str, Any]:
    try:
        data = reply.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# --- SMTP ----------------------------------------------------------------------------------------------


class SmtpBackend:
    """One connection per message: notices are rare, and a long-lived session would time out anyway."""

    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: SmtpSecurity = "starttls",
        user: str | None = None,
        password: SecretProvider | None = None,
        timeout_s: float = 20.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port, self.security, self.user = host, port, security, user
        self._password = password
        self._timeout_s = timeout_s
        self._tls_context = tls_context

    async def send(self, envelope: Envelope) -> str:
        password: str | None = None
        if self.user:
            password = await self._password() if self._password is not None else None
            if not password:
                raise EmailConfigError(
                    "No SMTP password: enter it in Settings › Email, or set SNIPER_SMTP_PASSWORD."
                )
            redactor.add_secret(password)
        message = build_message(envelope)
        options: dict[str, Any] = {
            "hostname": self.host,
            "port": self.port,
            "timeout": self._timeout_s,
            "use_tls": self.security == "ssl",
            "start_tls": self.security == "starttls",
            "username": self.user or None,
            "password": password,
        }
        if self._tls_context is not None or self.security in ("ssl", "starttls"):
            options["tls_context"] = self._tls_context or ssl_context()
        where = f"{self.host}:{self.port}"
        # Imported at the first mail rather than with the app: it costs start-up time most people never use.
        import aiosmtplib

        try:
            await aiosmtplib.send(message, **options)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            detail = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            raise SendError(f"The mail server {where} refused the recipient: {detail}.", transient=False) from None
        except aiosmtplib.SMTPResponseException as exc:
            text = f"The mail server {where} answered {exc.code}: {exc.message.strip().rstrip('.')}."
            raise SendError(text, transient=400 <= exc.code < 500) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            detail = str(exc).strip().rstrip(".") or type(exc).__name__
            raise SendError(f"Could not talk to the mail server {where}: {detail}.", transient=True) from None
        return str(message["Message-ID"])

    async def aclose(self) -> None:
        return None


def build_message(envelope: Envelope) -> EmailMessage:
    message = EmailMessage()
    message["From"] = envelope.sender
    message["To"] = envelope.to
    message["Subject"] = envelope.content.subject
    message["Date"] = email.utils.formatdate(localtime=True)
    domain = envelope.sender.rpartition("@")[2] or "sniper.invalid"
    message["Message-ID"] = email.utils.make_msgid("sniper", domain=domain)
    message.set_content(envelope.content.text)
    message.add_alternative(envelope.content.html, subtype="html")
    return message
