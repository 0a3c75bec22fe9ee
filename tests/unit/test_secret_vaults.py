"""Where secrets are kept: the choice between keyring and encrypted file, and the file's bad cases."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import keyring
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from keyring.backends import fail

from sniper_app.ebay.errors import NoKeyring
from sniper_app.ebay.secretfile import SECRETS_FILE, EncryptedFileVault, KeySource, SecretsFileError
from sniper_app.ebay.vaults import DEMO_SECRETS_FILE, UnavailableVault, choose_vault

TOKEN = "v^1.1#i^1#r^1#p^3#t^Ul4xMF8zOkJBOTk3RTFBRTdCQjBFMkQ5RjQyNzE3QjUxQjMwN0E3XzBfMSNFXjI2MA=="


@pytest.fixture
def no_keyring() -> object:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def _vault(path: Path, key: str = "k" * 43) -> EncryptedFileVault:
    return EncryptedFileVault(path / SECRETS_FILE, KeySource(key, "SNIPER_SECRETS_KEY"))


def test_file_round_trips_and_holds_nothing_in_clear(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    vault.set("sniper-app/production", "demo/access", json.dumps({"token": TOKEN}))
    vault.set("sniper-app/email", "smtp_password", "hunter2-smtp-password")
    raw = (tmp_path / SECRETS_FILE).read_bytes()
    assert b"hunter2" not in raw
    assert b"Ul4xMF8z" not in raw
    assert b"demo/access" not in raw
    assert stat.S_IMODE((tmp_path / SECRETS_FILE).stat().st_mode) == 0o600
    # A second process (a fresh vault with the same key) reads what the first wrote.
    again = _vault(tmp_path)
    assert json.loads(again.get("sniper-app/production", "demo/access") or "{}")["token"] == TOKEN
    assert again.get("sniper-app/email", "smtp_password") == "hunter2-smtp-password"
    again.delete("sniper-app/email", "smtp_password")
    assert _vault(tmp_path).get("sniper-app/email", "smtp_password") is None
    assert list(tmp_path.glob("*.damaged-*")) == []


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(min_size=1, max_size=200), entry=st.text(min_size=1, max_size=40))
def test_any_text_survives_the_file(tmp_path: Path, value: str, entry: str) -> None:
    vault = _vault(tmp_path)
    vault.set("svc", entry, value)
    assert _vault(tmp_path).get("svc", entry) == value


def test_wrong_key_says_so_and_leaves_the_file_as_it_is(tmp_path: Path) -> None:
    _vault(tmp_path, "right-key-right-key").set("svc", "entry", "the-secret-value")
    before = (tmp_path / SECRETS_FILE).read_bytes()
    wrong = _vault(tmp_path, "wrong-key-wrong-key")
    for action in (lambda: wrong.get("svc", "entry"), lambda: wrong.set("svc", "other", "x"), wrong.check):
        with pytest.raises(SecretsFileError) as info:
            action()
        assert "does not open the encrypted secrets file" in str(info.value)
        assert "SNIPER_SECRETS_KEY" in str(info.value)
    assert (tmp_path / SECRETS_FILE).read_bytes() == before
    assert _vault(tmp_path, "right-key-right-key").get("svc", "entry") == "the-secret-value"


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[: len(raw) // 2],  # cut short
        lambda raw: b"not json at all",
        lambda raw: raw.replace(b'"data": "', b'"data": "AAAA', 1),  # ciphertext tampered, key still right
    ],
)
def test_damaged_file_is_kept_aside_never_overwritten(tmp_path: Path, damage: object) -> None:
    _vault(tmp_path).set("svc", "entry", "the-secret-value")
    damaged = damage((tmp_path / SECRETS_FILE).read_bytes())  # type: ignore[operator]
    (tmp_path / SECRETS_FILE).write_bytes(damaged)
    with pytest.raises(SecretsFileError) as info:
        _vault(tmp_path).get("svc", "entry")
    aside = list(tmp_path.glob(f"{SECRETS_FILE}.damaged-*"))
    assert len(aside) == 1
    assert aside[0].read_bytes() == damaged
    assert str(aside[0]) in str(info.value)
    assert "link your eBay account again" in str(info.value)
    # A fresh file starts beside it; the damaged one is never written over.
    _vault(tmp_path).set("svc", "entry", "new-value")
    assert aside[0].read_bytes() == damaged
    assert _vault(tmp_path).get("svc", "entry") == "new-value"


def test_order_keyring_first_then_file_with_a_key_then_a_sentence(tmp_path: Path, no_keyring: object) -> None:
    nothing = choose_vault(tmp_path, {})
    assert nothing.store == "none"
    assert isinstance(nothing.vault, UnavailableVault)
    with pytest.raises(NoKeyring) as info:
        nothing.vault.get("svc", "entry")
    assert "sniper-app secrets init" in str(info.value)
    assert "keyrings.alt" not in str(info.value)
    with_key = choose_vault(tmp_path, {"SNIPER_SECRETS_KEY": "a-key-a-key-a-key"})
    assert with_key.store == "file"
    assert with_key.key_source == "SNIPER_SECRETS_KEY"
    assert "no OS keyring is usable" in with_key.reason


def test_keyring_wins_until_a_file_exists(tmp_path: Path) -> None:
    # The test session's keyring (a real backend) is usable.
    assert choose_vault(tmp_path, {"SNIPER_SECRETS_KEY": "a-key-a-key"}).store == "keyring"


def test_keyring_appearing_later_keeps_the_file_in_use(tmp_path: Path, no_keyring: object) -> None:
    env = {"SNIPER_SECRETS_KEY": "a-key-a-key-a-key"}
    choose_vault(tmp_path, env).vault.set("svc", "entry", "kept-in-the-file")
    keyring.set_keyring(keyring.core.load_keyring("tests.support.keyring_backend.FileKeyring"))
    later = choose_vault(tmp_path, env)
    assert later.store == "file"
    assert "stays in use so nothing in it is lost" in later.reason
    assert later.vault.get("svc", "entry") == "kept-in-the-file"
    # Without the key the file's secrets are not silently swapped for an empty keyring.
    locked = choose_vault(tmp_path, {})
    assert locked.store == "none"
    with pytest.raises(SecretsFileError) as info:
        locked.vault.get("svc", "entry")
    assert "no key was given" in str(info.value)


def test_key_sources_in_order(tmp_path: Path, no_keyring: object) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("from-a-file-key\n")
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "sniper-secrets-key").write_text("from-systemd-key")
    both = {"SNIPER_SECRETS_KEY_FILE": str(key_file), "CREDENTIALS_DIRECTORY": str(creds)}
    assert choose_vault(tmp_path, {"SNIPER_SECRETS_KEY": "env-key-env-key", **both}).key_source == "SNIPER_SECRETS_KEY"
    assert choose_vault(tmp_path, both).key_source == f"SNIPER_SECRETS_KEY_FILE ({key_file})"
    assert choose_vault(tmp_path, {"CREDENTIALS_DIRECTORY": str(creds)}).key_source == (
        "systemd credential sniper-secrets-key"
    )
    missing = choose_vault(tmp_path, {"SNIPER_SECRETS_KEY_FILE": str(tmp_path / "nope")})
    assert missing.store == "none"
    assert "cannot be read" in missing.reason


def test_demo_keeps_its_sign_in_in_its_own_folder(tmp_path: Path, no_keyring: object) -> None:
    choice = choose_vault(tmp_path, {}, demo=True)
    assert choice.store == "demo"
    choice.vault.set("sniper-app/simulator", "demo/access", "simulated-token")
    assert stat.S_IMODE((tmp_path / DEMO_SECRETS_FILE).stat().st_mode) == 0o600
    assert choose_vault(tmp_path, {}, demo=True).vault.get("sniper-app/simulator", "demo/access") == "simulated-token"
