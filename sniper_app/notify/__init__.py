"""Notifications: tray, email, ntfy and a signed webhook, routed per event kind (imports only domain/ and libraries)."""

from sniper_app.notify.email import (
    EmailBackend,
    EmailConfigError,
    Envelope,
    PostmarkBackend,
    SendError,
    SmtpBackend,
)
from sniper_app.notify.notice import Notice, NoticeKind
from sniper_app.notify.notifier import Channel, EmailChannel, Notifier, Routing, TrayChannel
from sniper_app.notify.push import NtfyChannel, WebhookChannel
from sniper_app.notify.render import EmailRenderer, RenderedEmail, resources_dir

__all__ = [
    "Channel",
    "EmailBackend",
    "EmailChannel",
    "EmailConfigError",
    "EmailRenderer",
    "Envelope",
    "Notice",
    "NoticeKind",
    "Notifier",
    "NtfyChannel",
    "PostmarkBackend",
    "RenderedEmail",
    "Routing",
    "SendError",
    "SmtpBackend",
    "TrayChannel",
    "WebhookChannel",
    "resources_dir",
]
