from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from sniper_app.config import (
    APPLIES,
    FIELDS,
    Settings,
    SettingsError,
    changed_fields,
    env_name,
    load_settings,
    needs_restart,
    save_settings,
)


def test_defaults_without_file_or_environment(tmp_path: Path) -> None:
    settings = load_settings(environ={}, path=tmp_path / "settings.json")
    assert settings == Settings()
    assert settings.ebay_env == "production"
    assert settings.default_lead_seconds == 5.0
    assert settings.marketplace == "EBAY_US"
    assert settings.time_server_address == ("pool.ntp.org", 123)


def test_every_field_is_overridable_by_its_environment_variable(tmp_path: Path) -> None:
    values = {
        "data_dir": str(tmp_path / "elsewhere"),
        "ebay_env": "custom",
        "ebay_api_url": "https://api.example.test",
        "ebay_auth_url": "https://auth.example.test",
        "ebay_trading_url": "https://api.example.test/ws/api.dll",
        "ebay_client_id": "my-client",
        "ebay_runame": "my-runame",
        "marketplace": "EBAY_GB",
        "default_lead_seconds": "7.5",
        "auto_lead": "true",
        "min_seconds_before_end": "90",
        "time_server": "127.0.0.1:1123",
        "watchlist_sync_minutes": "3",
        "history_retention_days": "30",
        "notify_tray": "false",
        "notify_email": "true",
        "notify_ending_minutes": "15",
        "start_minimized": "true",
        "autostart": "false",
        "notify_tray_types": "BID_WON, bid_lost",
        "notify_email_types": '["BID_FAILED", "DAILY_SUMMARY"]',
        "notify_summary_hour": "7",
        "email_backend": "smtp",
        "email_to": "me@example.com",
        "email_from": "sniper@example.com",
        "smtp_host": "mail.example.com",
        "smtp_port": "465",
        "smtp_security": "ssl",
        "smtp_user": "bob",
        "postmark_url": "http://127.0.0.1:8080/",
        "notify_ntfy": "true",
        "ntfy_server": "https://ntfy.example.com/",
        "ntfy_topic": "my-snipes_7",
        "notify_ntfy_types": "BID_WON",
        "notify_webhook": "true",
        "webhook_url": "https://hooks.example.com/sniper?x=1",
        "notify_webhook_types": "BID_LOST,BID_FAILED",
        "spending_cap": "300 usd, 250.00 GBP",
        "spending_period_days": "14",
        "listen": "8731",
    }
    assert set(values) == set(FIELDS), "a new setting needs a line here"
    settings = load_settings(environ={env_name(k): v for k, v in values.items()}, path=tmp_path / "s.json")
    dumped = settings.model_dump(mode="json")
    assert dumped["data_dir"] == values["data_dir"]
    assert dumped["marketplace"] == "EBAY_GB"
    assert settings.default_lead_seconds == 7.5
    assert settings.auto_lead is True
    assert settings.notify_tray is False
    assert settings.notify_email is True
    assert settings.start_minimized is True
    assert settings.time_server_address == ("127.0.0.1", 1123)
    assert settings.notify_tray_types == ["BID_WON", "BID_LOST"]
    assert (settings.ntfy_server, settings.ntfy_topic) == ("https://ntfy.example.com", "my-snipes_7")
    assert settings.notify_webhook_types == ["BID_LOST", "BID_FAILED"]
    assert settings.notify_email_types == ["BID_FAILED", "DAILY_SUMMARY"]
    assert settings.smtp_port == 465
    assert settings.postmark_url == "http://127.0.0.1:8080"
    assert settings.listen == "127.0.0.1:8731"  # a port alone serves this machine only
    assert env_name("ebay_api_url") == "SNIPER_EBAY_API_URL"


def test_environment_wins_over_file_and_is_never_saved(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    save_settings({"default_lead_seconds": 8}, path=path)
    env = {"SNIPER_DEFAULT_LEAD_SECONDS": "3"}
    assert load_settings(environ=env, path=path).default_lead_seconds == 3
    assert json.loads(path.read_text()) == {"default_lead_seconds": 8.0}


def test_saved_file_is_private_and_keeps_earlier_choices(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "settings.json"
    save_settings({"marketplace": "ebay_de"}, path=path)
    save_settings({"start_minimized": True}, path=path)
    assert json.loads(path.read_text()) == {"marketplace": "EBAY_DE", "start_minimized": True}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("SNIPER_DEFAULT_LEAD_SECONDS", "0", "'default_lead_seconds' (from SNIPER_DEFAULT_LEAD_SECONDS)"),
        ("SNIPER_DEFAULT_LEAD_SECONDS", "soon", "'default_lead_seconds'"),
        ("SNIPER_EBAY_ENV", "staging", "'ebay_env'"),
        ("SNIPER_MARKETPLACE", "EBAY_XX", "must be one of EBAY_US"),
        ("SNIPER_TIME_SERVER", "ntp server:99999", "must be host:port"),
        ("SNIPER_EBAY_API_URL", "ftp://x", "must be an http:// or https:// URL"),
        ("SNIPER_NOTIFY_TRAY", "perhaps", "'notify_tray'"),
    ],
)
def test_invalid_values_name_the_field_and_source(
    tmp_path: Path, variable: str, value: str, fragment: str
) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(environ={variable: value}, path=tmp_path / "s.json")
    assert fragment in str(info.value)


def test_broken_or_unknown_file_content_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    with pytest.raises(SettingsError, match="not valid JSON"):
        load_settings(environ={}, path=path)
    path.write_text('{"lead": 5}')
    with pytest.raises(SettingsError, match="Unknown setting 'lead'"):
        load_settings(environ={}, path=path)
    path.write_text("[1, 2]")
    with pytest.raises(SettingsError, match="JSON object"):
        load_settings(environ={}, path=path)


def test_a_rejected_change_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    save_settings({"default_lead_seconds": 9}, path=path)
    with pytest.raises(SettingsError, match="from your change"):
        save_settings({"default_lead_seconds": 500}, path=path)
    assert json.loads(path.read_text()) == {"default_lead_seconds": 9.0}


def test_time_server_without_port_gets_the_ntp_port(tmp_path: Path) -> None:
    settings = load_settings(environ={"SNIPER_TIME_SERVER": "time.example.org"}, path=tmp_path / "s.json")
    assert settings.time_server == "time.example.org:123"


def test_every_setting_says_when_a_change_takes_effect() -> None:
    assert set(APPLIES) == set(FIELDS)
    assert {name for name in FIELDS if needs_restart(name)} == {
        "data_dir", "ebay_env", "ebay_api_url", "ebay_auth_url", "ebay_trading_url", "ebay_client_id",
        "ebay_runame", "start_minimized", "listen",
    }


def test_changed_fields_are_named_in_the_models_order() -> None:
    old = Settings()
    new = Settings(watchlist_sync_minutes=1, marketplace="ebay_gb", data_dir=Path("/elsewhere"))
    assert changed_fields(old, new) == ["data_dir", "marketplace", "watchlist_sync_minutes"]
    assert changed_fields(new, new.model_copy()) == []


@pytest.mark.parametrize(("field", "value"), [
    ("ntfy_topic", "a/b"), ("ntfy_topic", "x" * 65), ("ntfy_server", "ntfy.sh"), ("webhook_url", "http://a b"),
])
def test_push_settings_refuse_what_cannot_be_posted_to(tmp_path: Path, field: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"Setting '{field}'"):
        load_settings(environ={env_name(field): value}, path=tmp_path / "s.json")


@pytest.mark.parametrize(
    ("given", "kept"),
    [("8731", "127.0.0.1:8731"), ("0.0.0.0:9000", "0.0.0.0:9000"), ("pi.local", "pi.local:8731"),
     ("[::]:8731", "[::]:8731"), ("", None)],
)
def test_listen_is_loopback_unless_a_host_is_named(tmp_path: Path, given: str, kept: str | None) -> None:
    settings = load_settings(environ={"SNIPER_LISTEN": given}, path=tmp_path / "s.json")
    assert settings.listen == kept


@pytest.mark.parametrize("given", ["70000", "host:port", "a b:1", "0.0.0.0:0"])
def test_a_listen_address_that_cannot_be_served_is_one_sentence(tmp_path: Path, given: str) -> None:
    with pytest.raises(SettingsError, match=r"^Setting 'listen' \(from SNIPER_LISTEN\): .*\.$"):
        load_settings(environ={"SNIPER_LISTEN": given}, path=tmp_path / "s.json")
