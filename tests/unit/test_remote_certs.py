"""The box's own key and self-signed certificate: made once, private, reused, pinned by SHA-256."""

from __future__ import annotations

import hashlib
import ipaddress
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from sniper_app.remote.certs import (
    CERT_FILE,
    KEY_FILE,
    CertificateError,
    display_fingerprint,
    ensure_identity,
)


def test_first_listen_makes_a_private_key_and_a_pinned_certificate(tmp_path: Path) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    identity = ensure_identity(tmp_path / "data", "192.168.1.20", now=now)
    assert stat.S_IMODE(identity.key_file.stat().st_mode) == 0o600
    assert identity.fingerprint == hashlib.sha256(identity.cert_der).hexdigest()
    cert = x509.load_der_x509_certificate(identity.cert_der)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    ips = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    assert {"192.168.1.20", "127.0.0.1"} <= ips
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert cert.not_valid_after_utc - now >= timedelta(days=3649)
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


def test_a_host_name_is_named_and_a_wildcard_is_not(tmp_path: Path) -> None:
    named = ensure_identity(tmp_path / "a", "Pi.Example.org")
    san = x509.load_der_x509_certificate(named.cert_der).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert "pi.example.org" in san.value.get_values_for_type(x509.DNSName)
    wild = ensure_identity(tmp_path / "b", "0.0.0.0")
    san = x509.load_der_x509_certificate(wild.cert_der).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert ipaddress.ip_address("0.0.0.0") not in san.value.get_values_for_type(x509.IPAddress)


def test_later_starts_reuse_the_same_identity_whatever_the_host(tmp_path: Path) -> None:
    first = ensure_identity(tmp_path, "127.0.0.1")
    again = ensure_identity(tmp_path, "10.1.2.3")
    assert again.fingerprint == first.fingerprint


def test_a_key_left_readable_by_others_is_made_private(tmp_path: Path) -> None:
    identity = ensure_identity(tmp_path)
    identity.key_file.chmod(0o644)
    ensure_identity(tmp_path)
    assert stat.S_IMODE(identity.key_file.stat().st_mode) == 0o600


def test_half_an_identity_is_a_sentence_not_a_new_pin(tmp_path: Path) -> None:
    ensure_identity(tmp_path)
    (tmp_path / KEY_FILE).unlink()
    with pytest.raises(CertificateError, match="but not"):
        ensure_identity(tmp_path)
    assert (tmp_path / CERT_FILE).exists(), "the certificate is left for the user to move aside"


def test_a_key_of_another_certificate_is_refused(tmp_path: Path) -> None:
    ensure_identity(tmp_path / "a")
    ensure_identity(tmp_path / "b")
    (tmp_path / "a" / KEY_FILE).write_bytes((tmp_path / "b" / KEY_FILE).read_bytes())
    with pytest.raises(CertificateError, match="does not belong"):
        ensure_identity(tmp_path / "a")


def test_a_damaged_certificate_is_a_sentence(tmp_path: Path) -> None:
    ensure_identity(tmp_path)
    (tmp_path / CERT_FILE).write_text("garbage")
    with pytest.raises(CertificateError, match="cannot be read"):
        ensure_identity(tmp_path)


def test_the_fingerprint_reads_like_openssls() -> None:
    assert display_fingerprint("ab01" + "0" * 60).startswith("AB:01:00:")
    assert len(display_fingerprint("f" * 64)) == 64 + 31
