"""Settings: a pydantic model saved as JSON in the config dir, each field overridable by SNIPER_<FIELD>.

The file holds what the user chose; the environment wins over the file but is never written back, so a
headless box can be configured without touching the user's saved choices.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sniper_app import paths
from sniper_app.domain.errors import InputError
from sniper_app.domain.spending import (
    DEFAULT_PERIOD_DAYS,
    SpendingCapError,
    format_spending_cap,
    parse_spending_cap,
    validate_period_days,
)

SETTINGS_FILE = "settings.json"
ENV_PREFIX = "SNIPER_"

EbayEnvironment = Literal["production", "sandbox", "simulator", "custom"]
EmailBackend = Literal["none", "smtp", "postmark"]
SmtpSecurity = Literal["none", "starttls", "ssl"]
# What the app can tell the user about; the same names as sniper_app.notify.NoticeKind.
NotifyType = Literal[
    "BID_PLACED", "BID_WON", "BID_LOST", "BID_FAILED", "BID_MISSED", "AUCTION_ENDING", "ACCOUNT_NEEDS_RELINK",
    "DAILY_SUMMARY", "SNIPE_AT_RISK",
]
DEFAULT_TRAY_TYPES: tuple[NotifyType, ...] = (
    "BID_PLACED", "BID_WON", "BID_LOST", "BID_FAILED", "BID_MISSED", "AUCTION_ENDING", "ACCOUNT_NEEDS_RELINK",
    "SNIPE_AT_RISK",
)
DEFAULT_EMAIL_TYPES: tuple[NotifyType, ...] = (
    "BID_WON", "BID_LOST", "BID_FAILED", "BID_MISSED", "ACCOUNT_NEEDS_RELINK", "SNIPE_AT_RISK",
)
POSTMARK_API_URL = "https://api.postmarkapp.com"
NTFY_SERVER = "https://ntfy.sh"
DEFAULT_LISTEN_PORT = 8731  # the remote engine's port when only a host is given

# Marketplaces the Buy Offer API accepts (EBAY.md); the increments of each live in domain/.
MARKETPLACES = ("EBAY_US", "EBAY_GB", "EBAY_DE", "EBAY_AU", "EBAY_CA", "EBAY_FR", "EBAY_IT", "EBAY_ES")

# The whole value must be a URL: "http://x y" is not one, though it starts like one.
_URL = re.compile(r"https?://[^/\s]+(?:/\S*)?")
_HOST_PORT = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(?P<port>\d{1,5}))?$")


class SettingsError(InputError):
    """A setting has a value the app cannot use; the message names the field and where it came from."""


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)

    data_dir: Path | None = Field(default=None, description="Where the database lives (default: platform data dir).")
    ebay_env: EbayEnvironment = Field(default="production", description="Which eBay to talk to.")
    ebay_api_url: str | None = Field(default=None, description="REST base URL (custom/simulator).")
    ebay_auth_url: str | None = Field(default=None, description="OAuth consent base URL (custom/simulator).")
    ebay_trading_url: str | None = Field(default=None, description="Trading API URL (custom/simulator).")
    ebay_client_id: str | None = Field(default=None, description="eBay application (client) id.")
    ebay_runame: str | None = Field(default=None, description="eBay RuName (redirect URL name).")
    marketplace: str = Field(default="EBAY_US", description="eBay site the bids go to.")
    # allow_inf_nan=False: "nan" is refused as not a number instead of failing the bound with a puzzling message.
    default_lead_seconds: float = Field(
        default=5.0, ge=1, le=120, allow_inf_nan=False, description="Seconds before the end to bid."
    )
    auto_lead: bool = Field(
        default=False, description="New snipes choose their own lead from the measured latency (--lead auto)."
    )
    min_seconds_before_end: float = Field(
        default=60.0, ge=10, le=3600, allow_inf_nan=False,
        description="Refuse snipes on auctions ending sooner than this.",
    )
    time_server: str = Field(default="pool.ntp.org:123", description="SNTP server as host:port.")
    watchlist_sync_minutes: int = Field(default=10, ge=1, le=1440, description="Watch list sync period.")
    history_retention_days: int = Field(default=365, ge=1, le=36500, description="History kept this long.")
    notify_tray: bool = Field(default=True, description="Show tray notifications.")
    notify_email: bool = Field(default=False, description="Send email notifications.")
    notify_ending_minutes: int = Field(default=10, ge=1, le=1440, description="Warn this long before an end.")
    notify_tray_types: list[NotifyType] = Field(
        default_factory=lambda: list(DEFAULT_TRAY_TYPES),
        description="Which events show in the tray (comma-separated names).",
    )
    notify_email_types: list[NotifyType] = Field(
        default_factory=lambda: list(DEFAULT_EMAIL_TYPES),
        description="Which events are emailed (comma-separated names).",
    )
    notify_summary_hour: int = Field(
        default=20, ge=0, le=23, description="Local hour at which the daily summary goes out (if switched on)."
    )
    email_backend: EmailBackend = Field(default="none", description="How email is sent: none, smtp or postmark.")
    email_to: str | None = Field(default=None, description="Address the notifications go to.")
    email_from: str | None = Field(default=None, description="Sender address (default: the recipient).")
    smtp_host: str | None = Field(default=None, description="SMTP server host name.")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP server port (587 STARTTLS, 465 SSL).")
    smtp_security: SmtpSecurity = Field(default="starttls", description="SMTP encryption: none, starttls or ssl.")
    smtp_user: str | None = Field(default=None, description="SMTP user name (the password is kept in the keyring).")
    postmark_url: str = Field(default=POSTMARK_API_URL, description="Postmark API base URL.")
    notify_ntfy: bool = Field(default=False, description="Push notifications through ntfy (ntfy.sh or your own).")
    ntfy_server: str = Field(default=NTFY_SERVER, description="ntfy server URL (ntfy.sh or a self-hosted one).")
    ntfy_topic: str | None = Field(
        default=None, description="ntfy topic to publish to (the access token, if any, is kept in the keyring)."
    )
    notify_ntfy_types: list[NotifyType] = Field(
        default_factory=lambda: list(DEFAULT_EMAIL_TYPES),
        description="Which events are pushed through ntfy (comma-separated names).",
    )
    notify_webhook: bool = Field(default=False, description="POST each notification as signed JSON to a webhook.")
    webhook_url: str | None = Field(
        default=None, description="Webhook URL (the signing secret is kept in the keyring)."
    )
    notify_webhook_types: list[NotifyType] = Field(
        default_factory=lambda: list(DEFAULT_EMAIL_TYPES),
        description="Which events are posted to the webhook (comma-separated names).",
    )
    start_minimized: bool = Field(default=False, description="Start in the tray without showing the window.")
    autostart: bool = Field(default=False, description="Start Sniper when you log in to this computer.")
    spending_cap: str = Field(
        default="", description="The most to spend per period, per currency, e.g. '300.00 USD, 250.00 GBP' "
        "(empty: no cap).",
    )
    spending_period_days: int = Field(
        default=DEFAULT_PERIOD_DAYS, description="The days the spending cap counts wins over (1–366).",
    )
    listen: str | None = Field(
        default=None,
        description="Serve the engine to paired desktops at [HOST:]PORT with --headless (off; 127.0.0.1 unless a "
        "host is given).",
    )

    @field_validator("marketplace")
    @classmethod
    def _known_marketplace(cls, value: str) -> str:
        value = value.strip().upper()
        if value not in MARKETPLACES:
            raise ValueError(f"must be one of {', '.join(MARKETPLACES)}")
        return value

    @field_validator("ebay_api_url", "ebay_auth_url", "ebay_trading_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not _URL.fullmatch(value):
            raise ValueError("must be an http:// or https:// URL without spaces")
        return value

    @field_validator("ntfy_server")
    @classmethod
    def _ntfy_server(cls, value: str) -> str:
        value = value.strip().rstrip("/") or NTFY_SERVER
        if not _URL.fullmatch(value):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("ntfy_topic")
    @classmethod
    def _ntfy_topic(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        # ntfy's own rule for topic names; anything else would land on another path of the server.
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
            raise ValueError("must be 1 to 64 letters, digits, '-' or '_'")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not _URL.fullmatch(value):
            raise ValueError("must be an http:// or https:// URL without spaces")
        return value

    @field_validator("notify_tray_types", "notify_email_types", "notify_ntfy_types", "notify_webhook_types",
                     mode="before")
    @classmethod
    def _type_list(cls, value: Any) -> Any:
        # SNIPER_NOTIFY_EMAIL_TYPES=BID_WON,BID_LOST and 'config set' hand a plain string.
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    return json.loads(text)
                except json.JSONDecodeError:
                    raise ValueError("must be a list of event names") from None
            return [part.strip().upper() for part in text.split(",") if part.strip()]
        return value

    @field_validator("notify_tray_types", "notify_email_types", "notify_ntfy_types", "notify_webhook_types")
    @classmethod
    def _unique_types(cls, value: list[NotifyType]) -> list[NotifyType]:
        return list(dict.fromkeys(value))

    @field_validator("email_to", "email_from", "smtp_host", "smtp_user")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return value.strip()

    @field_validator("email_to", "email_from")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+", value):
            raise ValueError("must be an email address such as you@example.com")
        return value

    @field_validator("postmark_url")
    @classmethod
    def _postmark_url(cls, value: str) -> str:
        value = value.strip().rstrip("/") or POSTMARK_API_URL
        if not _URL.fullmatch(value):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("time_server")
    @classmethod
    def _host_port(cls, value: str) -> str:
        value = value.strip()
        match = _HOST_PORT.match(value)
        if not match or (match["port"] and not 0 < int(match["port"]) < 65536):
            raise ValueError("must be host:port, e.g. pool.ntp.org:123")
        return value if match["port"] else f"{value}:123"

    @field_validator("spending_cap", mode="before")
    @classmethod
    def _spending_cap(cls, value: Any) -> str:
        try:
            return format_spending_cap(parse_spending_cap("" if value is None else value))
        except SpendingCapError as exc:
            # The sentence is the domain's; the settings error adds its own full stop.
            raise ValueError(str(exc).rstrip(".")) from None

    @field_validator("spending_period_days", mode="before")
    @classmethod
    def _spending_period(cls, value: Any) -> int:
        try:
            return validate_period_days(value)
        except SpendingCapError as exc:
            raise ValueError(str(exc).rstrip(".")) from None
    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str | None) -> str | None:
        # Read here rather than by the remote package, which sits above the settings: the same rule,
        # loopback unless a host is named (the remote server binds what this says).
        if value is None or not value.strip():
            return None
        value = value.strip()
        if value.isascii() and value.isdigit():
            value = f"127.0.0.1:{value}"
        match = _HOST_PORT.match(value)
        if not match:
            raise ValueError("must be [HOST:]PORT, e.g. 8731 or 0.0.0.0:8731")
        port = int(match["port"]) if match["port"] else DEFAULT_LISTEN_PORT
        if not 0 < port < 65536:
            raise ValueError("must have a port from 1 to 65535")
        return f"{match['host'].lower()}:{port}"

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @property
    def time_server_address(self) -> tuple[str, int]:
        host, _, port = self.time_server.rpartition(":")
        return host.strip("[]"), int(port)

    def resolved_data_dir(self) -> Path:
        return self.data_dir or paths.default_data_dir()


FIELDS: tuple[str, ...] = tuple(Settings.model_fields)

# When a changed setting takes effect in a running app: "live" at once, "restart" at the next start. The
# data folder holds the open database and the engine lock; the eBay environment, its URLs and the
# application keys define the tokens and connections every part shares; the start-up switches only mean
# something at start. Everything else is read where it is used, so a running engine applies it at once.
APPLIES: dict[str, Literal["live", "restart"]] = {
    "data_dir": "restart",
    "ebay_env": "restart",
    "ebay_api_url": "restart",
    "ebay_auth_url": "restart",
    "ebay_trading_url": "restart",
    "ebay_client_id": "restart",
    "ebay_runame": "restart",
    "start_minimized": "restart",
    "listen": "restart",
    "autostart": "live",
    "marketplace": "live",
    "default_lead_seconds": "live",
    "auto_lead": "live",
    "min_seconds_before_end": "live",
    "time_server": "live",
    "watchlist_sync_minutes": "live",
    "history_retention_days": "live",
    "notify_tray": "live",
    "notify_email": "live",
    "notify_ending_minutes": "live",
    "notify_tray_types": "live",
    "notify_email_types": "live",
    "notify_summary_hour": "live",
    "email_backend": "live",
    "email_to": "live",
    "email_from": "live",
    "smtp_host": "live",
    "smtp_port": "live",
    "smtp_security": "live",
    "smtp_user": "live",
    "postmark_url": "live",
    "notify_ntfy": "live",
    "ntfy_server": "live",
    "ntfy_topic": "live",
    "notify_ntfy_types": "live",
    "notify_webhook": "live",
    "webhook_url": "live",
    "notify_webhook_types": "live",
    # Read at every add, edit and fire.
    "spending_cap": "live",
    "spending_period_days": "live",
}


def needs_restart(field: str) -> bool:
    return APPLIES[field] == "restart"


def changed_fields(old: Settings, new: Settings) -> list[str]:
    """The settings whose values differ, in the model's order."""
    return [name for name in FIELDS if getattr(old, name) != getattr(new, name)]


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def settings_path() -> Path:
    return paths.config_dir() / SETTINGS_FILE


def _read_file(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SettingsError(
            f"The settings file {path} is not valid JSON (line {exc.lineno}); fix or delete it."
        ) from None
    if not isinstance(data, dict):
        raise SettingsError(f"The settings file {path} must hold a JSON object; fix or delete it.")
    return data


def _env_values(environ: Mapping[str, str]) -> dict[str, str]:
    values = {}
    for field in FIELDS:
        raw = environ.get(env_name(field))
        if raw is not None:
            values[field] = raw
    return values


def _validate(values: dict[str, Any], sources: Mapping[str, str]) -> Settings:
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        where = sources.get(field, "the settings file")
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            raise SettingsError(f"Unknown setting '{field}' in {where}.") from None
        raise SettingsError(f"Setting '{field}' (from {where}): {message}.") from None


def load_settings(environ: Mapping[str, str] | None = None, path: Path | None = None) -> Settings:
    """The settings in force: defaults, then the file, then SNIPER_<FIELD> variables."""
    environ = os.environ if environ is None else environ
    path = path or settings_path()
    file_values = _read_file(path)
    env_values = _env_values(environ)
    sources = {field: str(path) for field in file_values} | {f: env_name(f) for f in env_values}
    return _validate(file_values | env_values, sources)


def save_settings(changes: Mapping[str, Any], path: Path | None = None) -> Settings:
    """Validate ``changes`` on top of the saved file and write it; returns the settings in force."""
    path = path or settings_path()
    merged = _read_file(path) | dict(changes)
    validated = _validate(merged, {field: "your change" for field in changes})
    to_write = validated.model_dump(mode="json", include=set(merged))
    paths.ensure_private_dir(path.parent)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(to_write, handle, indent=2, sort_keys=True)
        handle.write("\n")
    tmp.replace(path)
    return load_settings(path=path)
