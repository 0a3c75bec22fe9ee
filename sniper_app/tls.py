"""Certificates verified the way the machine trusts them, for every HTTPS call the app makes.

The operating system's trust store (``truststore``: Keychain, the Windows store, the distribution's CA
bundle, which honours ``SSL_CERT_FILE``/``SSL_CERT_DIR``) comes first, so a company's or an antivirus's
root certificate works; certifi's bundle is the fallback where truststore cannot be loaded.
"""

from __future__ import annotations

import os
import ssl


def ssl_context(*, alpn: list[str] | None = None) -> ssl.SSLContext:
    """A client context that verifies servers against the OS trust store (else certifi's bundle)."""
    ctx: ssl.SSLContext
    try:
        import truststore
    except ImportError:  # e.g. a frozen build that lost it: still verified, against certifi's bundle
        import certifi

        ctx = ssl.create_default_context(cafile=certifi.where())
        extra = os.environ.get("SSL_CERT_FILE")
        if extra and os.path.isfile(extra):
            ctx.load_verify_locations(cafile=extra)
    else:
        ctx = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


def is_certificate_failure(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a failed certificate check rather than a network problem."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def certificate_sentence(what: str) -> str:
    return (
        f"The server's certificate for {what} is not trusted by this machine, so nothing was sent. If a "
        "company proxy or an antivirus inspects HTTPS, add its root certificate to the system's trust store."
    )
