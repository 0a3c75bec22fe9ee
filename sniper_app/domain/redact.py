"""Masking of secrets in any text bound for a log line, an exception shown to a user, or a crash report."""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"

_KEYS = (
    "access_token|refresh_token|client_secret|password|code|token|secret|api_key|server_token|postmark_token|"
    "smtp_password"
)

_PATTERNS: tuple[re.Pattern[str], ...] = (
    # Authorization headers, however they are spelled or quoted.
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:bearer|basic)?\s*)[^\s'\",;]+"),
    re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/^#=|:%-]{8,}"),
    re.compile(r"(?i)(x-ebay-api-iaf-token['\"]?\s*[:=]\s*['\"]?)[^\s'\",<]+"),
    re.compile(r"(?i)(<(?:eBayAuthToken|RequesterCredentials)>)[^<]+"),
    # OAuth fields in form bodies, query strings and JSON (a quoted key): the value is a secret whatever it
    # looks like.
    re.compile(rf"(?i)(\b(?:{_KEYS})\s*=\s*['\"]?)(?=[^\s'\"&,;}}]*[A-Za-z0-9])[^\s'\"&,;}}“”‘’]+"),
    re.compile(rf"(?i)(['\"](?:{_KEYS})['\"]\s*:\s*['\"]?)[^\s'\"&,;}}]+"),
    # "key: value" in prose or a log line: masked only when the value is token-shaped (long, with a digit or
    # a token's punctuation), so the app's own sentences ("the sign-in code: it has expired") stay whole.
    re.compile(rf"(?i)(\b(?:{_KEYS})\s*:\s*)(?=[^\s'\"&,;}}]*[0-9^#=%/+_|~])[^\s'\"&,;}}]{{8,}}"),
    # eBay's token format (v^1.1#i^1#...), which may appear bare.
    re.compile(r"v\^1\.1#[^\s'\"&,;<]+"),
)


class Redactor:
    """Masks built-in secret patterns plus any literal secrets registered at run time."""

    def __init__(self) -> None:
        self._literals: set[str] = set()

    def add_secret(self, secret: str | None) -> None:
        # Very short strings would mask innocent text everywhere; real secrets are long.
        if secret and len(secret) >= 6:
            self._literals.add(secret)

    def add_secrets(self, secrets: Iterable[str | None]) -> None:
        for secret in secrets:
            self.add_secret(secret)

    def __call__(self, text: str) -> str:
        for literal in sorted(self._literals, key=len, reverse=True):
            if literal in text:
                text = text.replace(literal, MASK)
        for pattern in _PATTERNS:
            text = pattern.sub(_mask_match, text)
        return text


def _mask_match(match: re.Match[str]) -> str:
    if match.lastindex:
        return "".join(match.group(i) or "" for i in range(1, match.lastindex + 1)) + MASK
    return MASK


# The process-wide redactor: the eBay client registers every token and secret it handles here, and the
# logging filter and the crash handler run every text through it.
redactor = Redactor()


def redact(text: str) -> str:
    return redactor(text)
