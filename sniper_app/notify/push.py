"""Two channels over plain HTTP: an ntfy push (ntfy.sh or a self-hosted server) and a signed JSON webhook.

Both raise :class:`SendError` like the email backends, with ``transient`` for what trying again may cure
(network trouble, HTTP 429 and 5xx), so the notifier retries and gives them up exactly as it does email.
Secrets (the ntfy access token, the webhook's signing secret) come from a provider called per send and are
registered with the redactor before any request is made; they never appear in a sentence or a log line.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime
from typing import Any

import httpx

from sniper_app.domain.redact import redactor
from sniper_app.notify.email import EmailConfigError, SecretProvider, SendError
from sniper_app.notify.notice import Notice, NoticeKind
from sniper_app.tls import ssl_context

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Sniper-Signature"
NTFY_SERVER = "https://ntfy.sh"

# ntfy's priorities run 1 (min) to 5 (urgent); an outcome that wants action is high, news is default or low.
_PRIORITY: dict[NoticeKind, int] = {
    NoticeKind.BID_PLACED: 2,
    NoticeKind.BID_WON: 4,
    NoticeKind.BID_LOST: 3,
    NoticeKind.BID_FAILED: 4,
    NoticeKind.BID_MISSED: 4,
    NoticeKind.AUCTION_ENDING: 3,
    NoticeKind.ACCOUNT_NEEDS_RELINK: 5,
    NoticeKind.DAILY_SUMMARY: 2,
    NoticeKind.SNIPE_AT_RISK: 4,
}
# ntfy shows a tag that names an emoji as that emoji: a glance tells won from failed.
_TAGS: dict[NoticeKind, str] = {
    NoticeKind.BID_PLACED: "hammer",
    NoticeKind.BID_WON: "trophy",
    NoticeKind.BID_LOST: "chart_with_downwards_trend",
    NoticeKind.BID_FAILED: "x",
    NoticeKind.BID_MISSED: "hourglass",
    NoticeKind.AUCTION_ENDING: "alarm_clock",
    NoticeKind.ACCOUNT_NEEDS_RELINK: "key",
    NoticeKind.DAILY_SUMMARY: "memo",
    NoticeKind.SNIPE_AT_RISK: "warning",
}


def notice_body(notice: Notice) -> str:
    """The notice in plain text under its title: the summary's lines, or the balloon's sentences and the
    fire's timing."""
    if notice.lines:
        return "\n".join(notice.lines)
    text = notice.body()
    return f"{text}\n{notice.timing}" if notice.timing else text


def _client(timeout_s: float) -> httpx.AsyncClient:
    # The machine's trust store, as for eBay and email: a self-hosted server's company root must be trusted.
    return httpx.AsyncClient(timeout=timeout_s, verify=ssl_context())


async def _post(client: httpx.AsyncClient, url: str, what: str, content: bytes, headers: dict[str, str]) -> str:
    """POST ``content``; the reply's id-ish text, or SendError that says what went wrong in one sentence.

    ``what`` names the receiver mid-sentence ("the webhook https://…")."""
    who = what[0].upper() + what[1:]
    try:
        reply = await client.post(url, content=content, headers=headers)
    except httpx.TimeoutException:
        raise SendError(f"{who} did not answer in time.", transient=True) from None
    except httpx.HTTPError as exc:
        raise SendError(f"Could not reach {what} ({type(exc).__name__}).", transient=True) from None
    status = reply.status_code
    if 200 <= status < 300:
        return _reply_id(reply)
    reason = _reason(reply)
    if status in (401, 403):
        raise SendError(f"{who} did not accept the credentials (HTTP {status}): {reason}.", transient=False)
    if status in (408, 429) or status >= 500:
        raise SendError(f"{who} is unavailable (HTTP {status}): {reason}.", transient=True)
    raise SendError(f"{who} refused the notification (HTTP {status}): {reason}.", transient=False)


def _reply_id(reply: httpx.Response) -> str:
    try:
        data = reply.json()
    except ValueError:
        return ""
    return str(data.get("id") or "") if isinstance(data, dict) else ""


def _reason(reply: httpx.Response) -> str:
    try:
        data = reply.json()
    except ValueError:
        data = None
    text = data.get("error") if isinstance(data, dict) else None
    if not isinstance(text, str) or not text.strip():
        text = reply.reason_phrase or "no reason given"
    # A server's own words, kept short: a whole HTML error page is no sentence.
    return " ".join(text.split())[:200].rstrip(".")


class NtfyChannel:
    """``POST {server}/{topic}`` with the Title, Priority, Tags (and Click) headers and the text as body."""

    name = "ntfy"
    noun = "ntfy notification"

    def __init__(
        self, server: str, topic: str, token: SecretProvider | None = None, *,
        client: httpx.AsyncClient | None = None, timeout_s: float = 20.0,
    ) -> None:
        self.server = server.rstrip("/")
        self.topic = topic
        self._token = token
        self._own_client = client is None
        self._client = client or _client(timeout_s)

    @property
    def url(self) -> str:
        return f"{self.server}/{self.topic}"

    async def _headers(self, title: str, priority: int, tags: str, click: str | None) -> dict[str, str]:
        if not title.isascii():
            # An item's title may hold any letter; HTTP headers carry ASCII, and ntfy reads RFC 2047 words.
            title = "=?UTF-8?B?" + base64.b64encode(title.encode()).decode() + "?="
        headers = {"Title": title, "Priority": str(priority), "Tags": tags}
        if click and click.isascii():
            headers["Click"] = click
        token = await self._token() if self._token is not None else None
        if token:
            redactor.add_secret(token)
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def send(self, notice: Notice) -> str:
        headers = await self._headers(notice.tray_title, _PRIORITY[notice.kind], _TAGS[notice.kind], notice.item_url)
        return await _post(self._client, self.url, f"the ntfy server {self.server}", notice_body(notice).encode(),
                           headers)

    async def send_test(self) -> str:
        headers = await self._headers("Sniper test", 3, "white_check_mark", None)
        body = "This is a test from Sniper. If you can read it, ntfy notifications work."
        return await _post(self._client, self.url, f"the ntfy server {self.server}", body.encode(), headers)

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()


def _money(value: Any) -> dict[str, str] | None:
    return None if value is None else {"value": value.to_ebay_value(), "currency": value.currency}


def webhook_payload(notice: Notice, *, test: bool = False) -> dict[str, Any]:
    """The JSON a webhook receives: the event, its headline and text, and the snipe's facts (no secret)."""
    snipe = None
    if notice.snipe_id is not None:
        snipe = {
            "id": notice.snipe_id,
            "title": notice.title,
            "item_url": notice.item_url,
            "max_bid": _money(notice.max_bid),
            "final_price": _money(notice.final_price),
            "ends_at": notice.ends_at.astimezone(UTC).isoformat() if notice.ends_at is not None else None,
            "reason": notice.reason,
            "timing": notice.timing,
        }
    return {
        "kind": "TEST" if test else notice.kind.value,
        "title": notice.tray_title if not test else "Sniper test",
        "body": notice_body(notice),
        "snipe": snipe,
        "account": notice.account,
        "lines": list(notice.lines),
        "at": notice.when.astimezone(UTC).isoformat(),
    }


def signature(secret: str, body: bytes) -> str:
    """The ``X-Sniper-Signature`` value: ``sha256=`` and the hex HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookChannel:
    """``POST {url}`` with the notice as JSON, signed with the secret in ``X-Sniper-Signature``."""

    name = "webhook"
    noun = "webhook call"

    def __init__(
        self, url: str, secret: SecretProvider, *, client: httpx.AsyncClient | None = None, timeout_s: float = 20.0,
    ) -> None:
        self.url = url
        self._secret = secret
        self._own_client = client is None
        self._client = client or _client(timeout_s)

    async def _send(self, payload: dict[str, Any]) -> str:
        secret = await self._secret()
        if not secret:
            raise EmailConfigError(
                "No webhook secret: enter one in Settings › Notifications, or set SNIPER_WEBHOOK_SECRET."
            )
        redactor.add_secret(secret)
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(secret, body)}
        return await _post(self._client, self.url, f"the webhook {_where(self.url)}", body, headers)

    async def send(self, notice: Notice) -> str:
        return await self._send(webhook_payload(notice))

    async def send_test(self) -> str:
        notice = Notice(kind=NoticeKind.BID_PLACED, reason="If this arrived, webhook notifications work.",
                        when=datetime.now(UTC))
        return await self._send(webhook_payload(notice, test=True))

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()


def _where(url: str) -> str:
    """The webhook's address without its query, which may carry a key of the receiving service."""
    return url.split("?", 1)[0]
