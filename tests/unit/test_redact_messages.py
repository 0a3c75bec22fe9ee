"""Redaction masks secrets, never the words of the app's own sentences about codes, tokens and passwords."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sniper_app.domain.redact import MASK, Redactor

APP = Path(__file__).resolve().parents[2] / "sniper_app"
_WORDS = re.compile(r"(?i)\b(code|codes|token|tokens|secret|secrets|password|passwords)\b")
# What an f-string's hole may hold when the user reads the sentence: a plain word, as the app fills them.
_HOLE = "it"


def _texts(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) and isinstance(part.value, str) else _HOLE
            for part in node.values
        )
    return None


def _sentences() -> list[tuple[str, str]]:
    """Every string in the app (not the simulator) that reads like a sentence and names a secret's kind."""
    found: list[tuple[str, str]] = []
    for path in sorted(APP.rglob("*.py")):
        if "simulator" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # Adjacent literals ("a " "b") are one Constant already; a sentence split over + stays in pieces.
        for node in ast.walk(tree):
            text = _texts(node)
            if text and " " in text.strip() and _WORDS.search(text):
                found.append((f"{path.relative_to(APP)}:{getattr(node, 'lineno', 0)}", text))
    return found


SENTENCES = _sentences()


def test_the_scan_finds_the_messages_users_read() -> None:
    joined = "\n".join(text for _where, text in SENTENCES)
    assert "eBay refused the sign-in code: it has expired" in joined
    assert "No SMTP password: enter it in Settings" in joined
    assert len(SENTENCES) > 20


@pytest.mark.parametrize(("where", "text"), SENTENCES, ids=[w for w, _ in SENTENCES])
def test_no_word_of_an_app_sentence_is_masked(where: str, text: str) -> None:
    assert Redactor()(text) == text, where


@pytest.mark.parametrize(
    ("text", "kept", "secret"),
    [
        ("eBay said: code: v^1.1#i^1#f^0#r^1#I^3#p^3#t^Ul41XzQ6MEE= is invalid", "eBay said: code: ", "Ul41XzQ6"),
        ("refresh failed, token: AbC123xyz_-Q9 rejected", "refresh failed, token: ", "AbC123xyz"),
        ("grant_type=refresh_token&refresh_token=short1&scope=x", "grant_type=refresh_token&refresh_token=", "short1"),
        ('{"client_secret": "abc"}', '{"client_secret": "', "abc"),
        ("{'password': 'hunter22'}", "{'password': '", "hunter22"),
        ("password=letmein", "password=", "letmein"),
    ],
)
def test_secret_values_and_token_shaped_strings_are_still_masked(text: str, kept: str, secret: str) -> None:
    masked = Redactor()(text)
    assert secret not in masked
    assert masked.startswith(kept + MASK)


def test_a_known_secret_is_masked_wherever_it_appears() -> None:
    redactor = Redactor()
    redactor.add_secret("plain words secret")
    assert redactor("the password is plain words secret, see") == f"the password is {MASK}, see"


@given(
    key=st.sampled_from(["code", "token", "secret", "password", "Code", "refresh token"]),
    words=st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12), min_size=1, max_size=6),
)
def test_plain_words_after_a_key_and_colon_are_never_masked(key: str, words: list[str]) -> None:
    sentence = f"eBay refused the {key}: {' '.join(words)}."
    assert Redactor()(sentence) == sentence


@given(token=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789^#=_-", min_size=8,
                     max_size=40).filter(lambda t: any(c in t for c in "0123456789^#=_")))
def test_a_token_shaped_value_after_a_key_and_colon_is_masked(token: str) -> None:
    assert token not in Redactor()(f"the refresh failed, token: {token} was refused")
