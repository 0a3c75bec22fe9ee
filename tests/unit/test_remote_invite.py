"""The invite string: what the box prints round-trips, and a damaged paste is refused with a sentence."""

from __future__ import annotations

import ipaddress
import string

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sniper_app.remote.invite import (
    PREFIX,
    Address,
    Invite,
    InviteError,
    format_invite,
    new_secret,
    parse_address,
    parse_invite,
)

_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
hosts = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda ip: str(ipaddress.ip_address(ip))),
    st.lists(_LABEL, min_size=1, max_size=4).map(".".join),
)
addresses = st.builds(Address, hosts, st.integers(1, 65535))
fingerprints = st.text("0123456789abcdef", min_size=64, max_size=64)
secrets_ = st.text(string.ascii_letters + string.digits + "-_", min_size=22, max_size=128)
invites = st.builds(Invite, addresses, fingerprints, secrets_)


@given(invites)
def test_an_invite_survives_formatting_and_parsing(invite: Invite) -> None:
    text = format_invite(invite)
    assert text.startswith(PREFIX)
    assert text.isascii()
    assert not any(c.isspace() for c in text)
    assert parse_invite(text) == invite
    assert parse_invite(text).secret == invite.secret


@given(invites, st.data())
def test_a_paste_broken_across_lines_still_reads(invite: Invite, data: st.DataObject) -> None:
    text = format_invite(invite)
    cut = data.draw(st.integers(1, len(text) - 1))
    assert parse_invite(f"  {text[:cut]}\n {text[cut:]}\n") == invite


@given(invites, st.data())
def test_any_changed_character_is_refused(invite: Invite, data: st.DataObject) -> None:
    text = format_invite(invite)
    at = data.draw(st.integers(len(PREFIX), len(text) - 1))
    new = data.draw(st.sampled_from(string.ascii_letters + string.digits + "-_.="))
    assume(new != text[at])
    with pytest.raises(InviteError) as refused:
        parse_invite(text[:at] + new + text[at + 1 :])
    assert str(refused.value).endswith(".")


@given(invites, st.data())
def test_a_truncated_invite_is_refused(invite: Invite, data: st.DataObject) -> None:
    text = format_invite(invite)
    cut = data.draw(st.integers(0, len(text) - 1))
    with pytest.raises(InviteError):
        parse_invite(text[:cut])


@given(st.text(max_size=300))
def test_arbitrary_text_is_an_invite_or_a_sentence(text: str) -> None:
    try:
        parse_invite(text)
    except InviteError as exc:
        refusal = str(exc)
    else:
        return
    assert refusal[0].isupper()
    assert refusal.endswith(".")


@given(st.binary(max_size=200))
def test_arbitrary_payload_behind_a_valid_checksum_is_a_sentence(payload: bytes) -> None:
    import base64
    import hashlib

    body = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    check = base64.urlsafe_b64encode(hashlib.sha256((PREFIX + body).encode()).digest()[:6]).rstrip(b"=").decode()
    with pytest.raises(InviteError):
        parse_invite(f"{PREFIX}{body}.{check}")


def test_the_sentences_say_what_is_wrong() -> None:
    good = format_invite(Invite(Address("10.0.0.2", 8731), "a" * 64, new_secret()))
    with pytest.raises(InviteError, match="empty"):
        parse_invite("   ")
    with pytest.raises(InviteError, match="start with 'sniper1:'"):
        parse_invite("https://example.org")
    with pytest.raises(InviteError, match="another version"):
        parse_invite("sniper9:" + good[len(PREFIX) :])
    with pytest.raises(InviteError, match="damaged or incomplete"):
        parse_invite(good[:-3])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.168.1.5:8731", Address("192.168.1.5", 8731)),
        ("[::1]:443", Address("::1", 443)),
        ("[FE80::1]:9", Address("fe80::1", 9)),
        ("Pi.Local:8731", Address("pi.local", 8731)),
    ],
)
def test_addresses(text: str, expected: Address) -> None:
    assert parse_address(text) == expected
    assert parse_address(str(expected)) == expected


@pytest.mark.parametrize("text", ["", "host", "host:0", "host:65536", "host:x", "::1:80", "[::1", "a b:1", "-x:1"])
def test_bad_addresses_are_refused_with_a_sentence(text: str) -> None:
    with pytest.raises(InviteError) as refused:
        parse_address(text)
    assert str(refused.value).endswith(".")


def test_a_bare_host_takes_the_default_port() -> None:
    assert parse_address("box", default_port=8731) == Address("box", 8731)


@given(addresses)
def test_address_text_round_trips(address: Address) -> None:
    assert parse_address(str(address)) == address


def test_the_secret_never_shows_in_repr() -> None:
    invite = Invite(Address("box", 1), "0" * 64, new_secret())
    assert invite.secret not in repr(invite)
