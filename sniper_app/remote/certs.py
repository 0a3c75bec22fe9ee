"""The box's own TLS identity: a private key and a self-signed certificate made on first listen.

No certificate authority vouches for a box on a home network, so clients pin the certificate instead: the
SHA-256 of its DER encoding travels in the invite, and a client trusts exactly that certificate and nothing
else. Because trust comes from the pin and not from a CA, the certificate is long-lived (ten years): renewing
it would break every pairing, and there is no CA whose policy asks for short lives.

The key and certificate stay in the data folder (``remote-key.pem`` readable by the user alone, and
``remote-cert.pem``). They are reused on every start, even when the listen address changes, so a restarted
or moved box keeps its pin; deleting both files makes a new identity, and every client must be invited again.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

KEY_FILE = "remote-key.pem"
CERT_FILE = "remote-cert.pem"
VALIDITY = timedelta(days=3650)
# Hosts a listener binds to without naming itself: they say nothing about how clients reach the box.
_WILDCARDS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - names, not a bind


class CertificateError(Exception):
    """The box's key or certificate cannot be made or read; the message is a sentence for the user."""


@dataclass(frozen=True)
class Identity:
    """Where the box's key and certificate are, and the pin clients hold for it."""

    cert_file: Path
    key_file: Path
    cert_der: bytes
    fingerprint: str  # lowercase hex SHA-256 of cert_der

    @property
    def display_fingerprint(self) -> str:
        return display_fingerprint(self.fingerprint)


def fingerprint_of(cert_der: bytes) -> str:
    """The pin of a certificate: the lowercase hex SHA-256 of its DER encoding."""
    return hashlib.sha256(cert_der).hexdigest()


def display_fingerprint(fingerprint: str) -> str:
    """``AB:CD:…``, the way browsers and ``openssl x509 -fingerprint`` show it, for comparing by eye."""
    upper = fingerprint.upper()
    return ":".join(upper[i : i + 2] for i in range(0, len(upper), 2))


def subject_names(listen_host: str) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) the certificate names: the listen host, this machine's name, and loopback.

    Clients check the pin rather than the name, so these only help tools that look at the certificate."""
    dns = ["localhost"]
    ips = ["127.0.0.1", "::1"]
    host = listen_host.strip().strip("[]")
    hostname = socket.gethostname()
    candidates = [host] if host not in _WILDCARDS else []
    if hostname:
        candidates.append(hostname)
    for name in candidates:
        try:
            ip = str(ipaddress.ip_address(name))
        except ValueError:
            if name.lower() not in dns:
                dns.append(name.lower())
        else:
            if ip not in ips:
                ips.append(ip)
    return dns, ips


def _make(listen_host: str, now: datetime) -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    dns, ips = subject_names(listen_host)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Sniper box {dns[-1]}"[:64])])
    san = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))  # a client whose clock is a little behind still accepts it
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        # Not a CA: the pinned certificate is the client's only trust anchor, and must vouch for nothing else.
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def _write_private(path: Path, data: bytes, mode: int) -> None:
    """Replace ``path`` atomically, with ``mode`` from the first byte (a key is never readable by others)."""
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def _load(cert_file: Path, key_file: Path) -> Identity:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise CertificateError(
            f"The box's certificate {cert_file} or key {key_file} cannot be read ({type(exc).__name__}); move "
            "both aside to make a new one, then invite every client again."
        ) from None
    if cert.public_key().public_numbers() != key.public_key().public_numbers():  # type: ignore[union-attr]
        raise CertificateError(
            f"The box's key {key_file} does not belong to its certificate {cert_file}; move both aside to make "
            "a new pair, then invite every client again."
        )
    der = cert.public_bytes(serialization.Encoding.DER)
    return Identity(cert_file, key_file, der, fingerprint_of(der))


def ensure_identity(data_dir: Path, listen_host: str = "127.0.0.1", *, now: datetime | None = None) -> Identity:
    """The box's key and certificate in ``data_dir``: the ones already there, else a new pair made now."""
    cert_file, key_file = data_dir / CERT_FILE, data_dir / KEY_FILE
    if not cert_file.exists() and not key_file.exists():
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        key_pem, cert_pem = _make(listen_host, now or datetime.now(UTC))
        try:
            # The key first: a certificate without its key would be a pin nobody can serve.
            _write_private(key_file, key_pem, 0o600)
            _write_private(cert_file, cert_pem, 0o644)
        except OSError as exc:
            raise CertificateError(
                f"The box's certificate cannot be written to {data_dir}: {exc.strerror or exc}."
            ) from None
    elif not cert_file.exists() or not key_file.exists():
        there, missing = (cert_file, key_file) if cert_file.exists() else (key_file, cert_file)
        raise CertificateError(
            f"The box has {there} but not {missing}; move {there} aside to make a new pair, then invite every "
            "client again."
        )
    with contextlib.suppress(OSError):
        if key_file.stat().st_mode & 0o077:
            key_file.chmod(0o600)
    return _load(cert_file, key_file)
