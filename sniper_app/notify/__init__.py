"""Notifications: tray and email, routed per event kind. Imports only domain/ and its own libraries."""

from sniper_app.notify.email import (
    EmailBackend,
    EmailConfigError,
    Envelope,
    PostmarkBackend,
    SendError,
    SmtpBackend,
)
from sniper_app.notify.notice import Notice, NoticeKind
from sniper_app.notify.notifier import EmailChannel, Notifier, Routing, TrayChannel
from sniper_app.notify.render import EmailRenderer, RenderedEmail, resources_dir

__all__ = [
    "EmailBackend",
    "EmailChannel",
    "EmailConfigError",
    "EmailRenderer",
    "Envelope",
    "Notice",
    "NoticeKind",
    "Notifier",
    "PostmarkBackend",
    "RenderedEmail",
    "Routing",
    "SendError",
    "SmtpBackend",
    "TrayChannel",
    "resources_dir",
]
