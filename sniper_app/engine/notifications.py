"""From engine events to notices: the one place where the bus, the store and the notifier meet.

The handlers run on the bus (the engine's loop thread) and only read one row and enqueue; sending happens
on the notifier's own tasks, so a slow or broken mail server never delays a bid.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from sniper_app.config import Settings
from sniper_app.domain.history import HistoryAction
from sniper_app.domain.money import Money, MoneyError, at_rate_of
from sniper_app.domain.status import SnipeStatus
from sniper_app.ebay.errors import NoKeyring
from sniper_app.ebay.keystore import SecretStore
from sniper_app.engine.bus import (
    AccountStateChanged,
    AuctionEndingSoon,
    EventBus,
    NotificationFailed,
    SnipeAtRisk,
    SnipeStatusChanged,
)
from sniper_app.notify import (
    Channel,
    EmailBackend,
    EmailChannel,
    EmailConfigError,
    Notice,
    NoticeKind,
    Notifier,
    NtfyChannel,
    PostmarkBackend,
    Routing,
    SmtpBackend,
    TrayChannel,
    WebhookChannel,
)
from sniper_app.notify.email import SecretProvider
from sniper_app.notify.notifier import DEFAULT_RETRY_DELAYS
from sniper_app.store import Store
from sniper_app.store.models import Snipe

log = logging.getLogger(__name__)

# What the daily summary lists, and how each line starts.
SUMMARY_ACTIONS: dict[HistoryAction, str] = {
    HistoryAction.WON: "Won",
    HistoryAction.LOST: "Lost",
    HistoryAction.FAIL: "Failed",
    HistoryAction.MISSED: "Missed",
    HistoryAction.SKIPPED: "Skipped",
}
SUMMARY_CHECK_S = 60.0  # wall-clock checks survive suspend, where one long sleep would not

STATUS_KINDS: dict[SnipeStatus, NoticeKind] = {
    SnipeStatus.PLACED: NoticeKind.BID_PLACED,
    SnipeStatus.WON: NoticeKind.BID_WON,
    SnipeStatus.LOST: NoticeKind.BID_LOST,
    SnipeStatus.FAILED: NoticeKind.BID_FAILED,
    SnipeStatus.MISSED: NoticeKind.BID_MISSED,
}


def routing_for(settings: Settings) -> Routing:
    tray = settings.notify_tray_types if settings.notify_tray else []
    email = settings.notify_email_types if settings.notify_email and settings.email_backend != "none" else []
    ntfy = settings.notify_ntfy_types if settings.notify_ntfy and settings.ntfy_topic else []
    webhook = settings.notify_webhook_types if settings.notify_webhook and settings.webhook_url else []
    return Routing.of(tray, email, ntfy, webhook)


def _provider(
    read: Callable[[], Any], override: str | None, *, what: str = "The email password",
    variables: str = "SNIPER_SMTP_PASSWORD or SNIPER_POSTMARK_TOKEN",
) -> SecretProvider:
    async def provide() -> str | None:
        if override:
            return override
        try:
            value: str | None = await read()
        except NoKeyring as exc:
            raise EmailConfigError(
                f"{what} could not be read: {exc} On a headless box set {variables} instead."
            ) from None
        return value

    return provide


def build_ntfy_channel(
    settings: Settings, secrets: SecretStore, *, secret: str | None = None, http_client: httpx.AsyncClient | None = None
) -> NtfyChannel:
    """The ntfy channel the settings describe; ``secret`` (a typed access token) beats the keyring."""
    if not settings.ntfy_topic:
        raise EmailConfigError("No ntfy topic: set the topic to publish to (ntfy_topic).")
    token = _provider(secrets.antfy_token, secret, what="The ntfy access token", variables="SNIPER_NTFY_TOKEN")
    return NtfyChannel(settings.ntfy_server, settings.ntfy_topic, token, client=http_client)


def build_webhook_channel(
    settings: Settings, secrets: SecretStore, *, secret: str | None = None, http_client: httpx.AsyncClient | None = None
) -> WebhookChannel:
    """The webhook channel the settings describe; ``secret`` (a typed signing secret) beats the keyring."""
    if not settings.webhook_url:
        raise EmailConfigError("No webhook URL: set the address to post notifications to (webhook_url).")
    signing = _provider(secrets.awebhook_secret, secret, what="The webhook secret", variables="SNIPER_WEBHOOK_SECRET")
    return WebhookChannel(settings.webhook_url, signing, client=http_client)


async def send_test_push(
    channel: str, settings: Settings, secrets: SecretStore, *, secret: str | None = None,
    http_client: httpx.AsyncClient | None = None,
) -> str:
    """Send one ntfy or webhook test now; a sentence for the user, or SendError/EmailConfigError."""
    built: NtfyChannel | WebhookChannel
    if channel == "ntfy":
        built = build_ntfy_channel(settings, secrets, secret=secret, http_client=http_client)
        where = f"the ntfy topic {built.topic} on {built.server}"
    else:
        built = build_webhook_channel(settings, secrets, secret=secret, http_client=http_client)
        where = f"the webhook {built.url.split('?', 1)[0]}"
    try:
        await built.send_test()
    finally:
        await built.aclose()
    log.info("Sent a test notification to %s", where)
    return f"A test notification was sent to {where}."


def build_email_channel(
    settings: Settings,
    secrets: SecretStore,
    *,
    secret: str | None = None,
    http_client: httpx.AsyncClient | None = None,
    tls_context: ssl.SSLContext | None = None,
) -> EmailChannel:
    """The email channel the settings describe; ``secret`` (typed but not yet saved) beats the keyring.

    Raises EmailConfigError with a sentence when the settings cannot send email.
    """
    if settings.email_backend == "none":
        raise EmailConfigError("Email is switched off: set the email backend to SMTP or Postmark first.")
    if not settings.email_to:
        raise EmailConfigError("No recipient: set the address notifications go to (email_to).")
    backend: EmailBackend
    if settings.email_backend == "postmark":
        backend = PostmarkBackend(settings.postmark_url, _provider(secrets.apostmark_token, secret), client=http_client)
    else:
        if not settings.smtp_host:
            raise EmailConfigError("No SMTP server: set the SMTP host (smtp_host).")
        backend = SmtpBackend(
            settings.smtp_host, settings.smtp_port, security=settings.smtp_security, user=settings.smtp_user,
            password=_provider(secrets.asmtp_password, secret), tls_context=tls_context,
        )
    return EmailChannel(backend, to=settings.email_to, sender=settings.email_from)


async def send_test_email(
    settings: Settings,
    secrets: SecretStore,
    *,
    secret: str | None = None,
    http_client: httpx.AsyncClient | None = None,
    tls_context: ssl.SSLContext | None = None,
) -> str:
    """Send one test email now; returns a sentence for the user, or raises SendError/EmailConfigError."""
    channel = build_email_channel(settings, secrets, secret=secret, http_client=http_client, tls_context=tls_context)
    try:
        await channel.send_test()
    finally:
        await channel.aclose()
    return f"A test email was sent to {channel.to} through {channel.backend.name}."


def email_test_sender(
    secrets: SecretStore, *, http_client: httpx.AsyncClient | None = None, tls_context: ssl.SSLContext | None = None
) -> Callable[[Settings, str | None], Coroutine[Any, Any, str]]:
    """``send(settings, typed_secret)`` for the Settings dialog's "Send test email" button."""

    def send(settings: Settings, secret: str | None) -> Coroutine[Any, Any, str]:
        return send_test_email(settings, secrets, secret=secret, http_client=http_client, tls_context=tls_context)

    return send


def timing_text(snipe: Snipe) -> str | None:
    """The fire's timing record in one line: when the bid left and arrived relative to the end."""
    if snipe.sent_at is None:
        return None
    end = snipe.end_time
    parts = [f"sent {(end - snipe.sent_at).total_seconds():.2f} s before the end"]
    if snipe.reply_at is not None:
        parts.append(f"eBay replied {(snipe.reply_at - snipe.sent_at).total_seconds() * 1000:.0f} ms later")
    if snipe.latency_ms is not None:
        parts.append(f"measured latency {snipe.latency_ms:.0f} ms")
    if snipe.clock_offset_ms is not None:
        parts.append(f"clock offset {snipe.clock_offset_ms:+.0f} ms")
    if snipe.attempts and snipe.attempts > 1:
        parts.append(f"{snipe.attempts} attempts")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def _at_ebays_rate(amount: Money | None, snipe: Snipe) -> Money | None:
    """``amount`` at the rate eBay last converted this listing's price for the user, for an "≈" only."""
    current, converted = snipe.current_price_minor, snipe.converted_price_minor
    if current is None or converted is None or not snipe.converted_currency:
        return None
    try:
        own = Money(int(current), str(snipe.currency))
        return at_rate_of(amount, own, Money(int(converted), str(snipe.converted_currency)))
    except MoneyError:
        return None


def notice_for_snipe(snipe: Snipe, kind: NoticeKind, reason: str | None = None) -> Notice:
    currency = str(snipe.currency)
    final = Money(int(snipe.final_price_minor), currency) if snipe.final_price_minor is not None else None
    max_bid = Money(int(snipe.max_bid_minor), currency)
    shown_final = final if kind in (NoticeKind.BID_WON, NoticeKind.BID_LOST) else None
    return Notice(
        max_bid_converted=_at_ebays_rate(max_bid, snipe),
        final_price_converted=_at_ebays_rate(shown_final, snipe),
        kind=kind,
        title=str(snipe.title or snipe.legacy_item_id),
        snipe_id=int(snipe.id),
        item_url=snipe.item_url or None,
        image_url=snipe.image_url or None,
        max_bid=max_bid,
        final_price=shown_final,
        timing=timing_text(snipe) if kind is not NoticeKind.AUCTION_ENDING else None,
        reason=reason or snipe.status_reason or None,
        ends_at=snipe.end_time,
        outcome_code=snipe.outcome_code if snipe.snipe_status.is_final else None,
        outcome=snipe.outcome_text if snipe.snipe_status.is_final else None,
    )


class NotifierHandle:
    """The notifier wired to one app: bus in, tray and email out, failures to history and the bus."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        bus: EventBus,
        secrets: SecretStore,
        *,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        http_client: httpx.AsyncClient | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.bus = bus
        self.secrets = secrets
        self._http_client = http_client
        self._tls_context = tls_context
        self.tray = TrayChannel()
        self.notifier = Notifier(
            tray=self.tray, email=self._channel(settings), ntfy=self._ntfy(settings), webhook=self._webhook(settings),
            routing=routing_for(settings), on_failure=self._failed, retry_delays=retry_delays,
        )
        self._unsubscribe: list[Callable[[], None]] = []
        self._relink_told = False
        self._summary_task: asyncio.Task[None] | None = None
        # A summary is due at most once a day; a start after the hour does not send one at once.
        self._summary_day: date | None = self._summary_due_day(datetime.now(UTC))

    def _channel(self, settings: Settings) -> EmailChannel | None:
        if not settings.notify_email or settings.email_backend == "none":
            return None
        try:
            return build_email_channel(
                settings, self.secrets, http_client=self._http_client, tls_context=self._tls_context
            )
        except EmailConfigError as exc:
            log.warning("Email notifications are on but cannot be sent: %s", exc)
            return None

    def _ntfy(self, settings: Settings) -> Channel | None:
        if not settings.notify_ntfy or not settings.ntfy_topic:
            return None
        return build_ntfy_channel(settings, self.secrets, http_client=self._http_client)

    def _webhook(self, settings: Settings) -> Channel | None:
        if not settings.notify_webhook or not settings.webhook_url:
            return None
        return build_webhook_channel(settings, self.secrets, http_client=self._http_client)

    # --- lifecycle ------------------------------------------------------------------------------------

    async def start(self) -> None:
        if not self._unsubscribe:
            self._unsubscribe = [
                self.bus.subscribe(SnipeStatusChanged, self._on_status),
                self.bus.subscribe(AuctionEndingSoon, self._on_ending),
                self.bus.subscribe(AccountStateChanged, self._on_account),
                self.bus.subscribe(SnipeAtRisk, self._on_at_risk),
            ]
        await self.notifier.start()
        if self._summary_task is None:
            self._summary_task = asyncio.get_running_loop().create_task(self._summary_loop(), name="daily-summary")

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        task, self._summary_task = self._summary_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.notifier.stop()

    def reconfigure(self, settings: Settings) -> None:
        """Apply saved settings (the window calls this after the Settings dialog saved)."""
        self.settings = settings
        self.notifier.reconfigure(email=self._channel(settings), ntfy=self._ntfy(settings),
                                  webhook=self._webhook(settings), routing=routing_for(settings))

    async def send_test(self, settings: Settings | None = None, secret: str | None = None) -> str:
        return await send_test_email(
            settings or self.settings, self.secrets, secret=secret, http_client=self._http_client,
            tls_context=self._tls_context,
        )

    # --- daily summary ---------------------------------------------------------------------------------

    def _summary_due_day(self, now: datetime) -> date | None:
        """Today's local date once the summary hour has passed, else None."""
        local = now.astimezone()
        return local.date() if local.hour >= self.settings.notify_summary_hour else None

    def summary(self, now: datetime, *, hours: float = 24.0) -> Notice | None:
        """The day's outcomes as one notice, or None when nothing ended."""
        rows = self.store.history_page(
            actions=list(SUMMARY_ACTIONS), since=now - timedelta(hours=hours), until=now, limit=200
        ).rows
        lines: list[str] = []
        for row in reversed(rows):  # oldest first reads like a diary
            word = SUMMARY_ACTIONS[HistoryAction(row.action)]
            line = f"{word}: {row.title or row.legacy_item_id}"
            if row.final_price_minor is not None and row.currency:
                line += f" at {Money(int(row.final_price_minor), str(row.currency))}"
            lines.append(line)
        if not lines:
            return None
        return Notice(kind=NoticeKind.DAILY_SUMMARY, lines=tuple(lines), when=now)

    def send_summary_if_due(self, now: datetime) -> bool:
        routing = self.notifier.routing
        if NoticeKind.DAILY_SUMMARY not in routing.anywhere:
            return False
        day = self._summary_due_day(now)
        if day is None or day == self._summary_day:
            return False
        self._summary_day = day
        notice = self.summary(now)
        if notice is None:
            return False
        self.notifier.notify(notice)
        return True

    async def _summary_loop(self) -> None:
        while True:
            await asyncio.sleep(SUMMARY_CHECK_S)
            try:
                self.send_summary_if_due(datetime.now(UTC))
            except Exception:
                log.exception("The daily summary could not be prepared")

    # --- bus handlers ---------------------------------------------------------------------------------

    def _on_status(self, event: SnipeStatusChanged) -> None:
        kind = STATUS_KINDS.get(event.new)
        if kind is None:
            return
        snipe = self.store.get_snipe(event.snipe_id)
        self.notifier.notify(notice_for_snipe(snipe, kind, event.reason))

    def _on_ending(self, event: AuctionEndingSoon) -> None:
        snipe = self.store.get_snipe(event.snipe_id)
        self.notifier.notify(notice_for_snipe(snipe, NoticeKind.AUCTION_ENDING))

    def _on_at_risk(self, event: SnipeAtRisk) -> None:
        if event.snipe_id is not None:
            self.notifier.notify(notice_for_snipe(self.store.get_snipe(event.snipe_id), NoticeKind.SNIPE_AT_RISK,
                                                  event.message))

    def _on_account(self, event: AccountStateChanged) -> None:
        if event.state != "needs_relink":
            self._relink_told = False
            return
        if self._relink_told:  # the sync loop reports it on every attempt; once is enough
            return
        self._relink_told = True
        self.notifier.notify(Notice(kind=NoticeKind.ACCOUNT_NEEDS_RELINK, account=event.username,
                                    reason=event.message))

    def _failed(self, notice: Notice, reason: str, channel: str = "email") -> None:
        what = f"'{notice.title}'" if notice.title else "your account"
        noun = {"email": "email", "ntfy": "ntfy notification", "webhook": "webhook call"}.get(channel, channel)
        message = f"The {noun} about {what} ({notice.headline}) was not sent: {reason}"
        try:
            self.store.add_event(
                HistoryAction.NOTE, snipe_id=notice.snipe_id, message=message,
                details={"notify": "failed", "channel": channel, "kind": notice.kind.value, "reason": reason},
            )
        except Exception:
            log.exception("Could not record a failed notification in the history")
        self.bus.publish(NotificationFailed(
            kind=notice.kind.value, channel=channel, snipe_id=notice.snipe_id, title=notice.title, reason=reason,
        ))
