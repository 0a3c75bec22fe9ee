"""Pairings kept hashed on the box, one-time invites, and the backoff that slows repeated failures."""

from __future__ import annotations

import hashlib
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sniper_app.remote.auth import PAIRINGS_FILE, Backoff, Pairings, slowed_sentence


class Clock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


class WallClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_an_invite_pairs_once_and_its_token_verifies(tmp_path: Path) -> None:
    pairings = Pairings(tmp_path)
    secret = pairings.new_invite()
    assert pairings.pending_invites() == 1
    token = pairings.pair(secret, "desk")
    assert token is not None
    client = pairings.verify(token)
    assert client is not None
    assert client.name == "desk"
    assert pairings.pending_invites() == 0
    assert pairings.pair(secret, "again") is None, "an invite's secret works once"
    assert pairings.verify(token + "x") is None
    assert pairings.verify("") is None
    assert pairings.verify(None) is None


def test_the_file_holds_hashes_only_and_is_private(tmp_path: Path) -> None:
    pairings = Pairings(tmp_path)
    pending = pairings.new_invite()
    secret = pairings.new_invite()
    token = pairings.pair(secret)
    assert token is not None
    path = tmp_path / PAIRINGS_FILE
    text = path.read_text()
    for raw in (pending, secret, token):
        assert raw not in text
    assert hashlib.sha256(token.encode()).hexdigest() in text
    assert hashlib.sha256(pending.encode()).hexdigest() in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_expired_invite_is_refused(tmp_path: Path) -> None:
    wall = WallClock()
    pairings = Pairings(tmp_path, now=wall)
    secret = pairings.new_invite(ttl=timedelta(minutes=10))
    wall.now += timedelta(minutes=10, seconds=1)
    assert pairings.pair(secret) is None


def test_revoking_ends_every_pairing_and_invite_even_from_another_process(tmp_path: Path) -> None:
    box = Pairings(tmp_path)
    tokens = [box.pair(box.new_invite()) for _ in range(3)]
    pending = box.new_invite()
    assert all(box.verify(t) for t in tokens)
    # The ``remote invite --revoke`` command works on its own Pairings over the same folder.
    assert Pairings(tmp_path).revoke_all() == 3
    assert not any(box.verify(t) for t in tokens)
    assert box.pair(pending) is None


def test_an_invite_made_by_another_process_pairs_on_the_running_box(tmp_path: Path) -> None:
    box = Pairings(tmp_path)
    assert box.verify("nothing yet") is None  # the box has read (and cached) the empty state
    secret = Pairings(tmp_path).new_invite()
    token = box.pair(secret)
    assert token is not None
    assert Pairings(tmp_path).verify(token) is not None


def test_a_damaged_file_refuses_everyone_and_a_new_invite_mends_it(tmp_path: Path) -> None:
    (tmp_path / PAIRINGS_FILE).write_text("{not json")
    pairings = Pairings(tmp_path)
    assert pairings.verify("anything") is None
    token = pairings.pair(pairings.new_invite())
    assert token is not None
    assert pairings.verify(token) is not None


@given(st.text(max_size=100))
def test_no_presented_text_verifies_without_a_pairing(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    folder = tmp_path_factory.mktemp("pairings", numbered=True)
    pairings = Pairings(folder)
    pairings.pair(pairings.new_invite())
    assert pairings.verify(text) is None
    assert pairings.pair(text) is None


def test_failures_pass_freely_then_wait_doubling_up_to_the_cap() -> None:
    clock = Clock()
    backoff = Backoff(clock=clock, free=3, base=1.0, cap=8.0)
    waits = []
    for _ in range(8):
        assert backoff.retry_after("10.0.0.9") is None
        backoff.failed("10.0.0.9")
        waits.append(backoff.retry_after("10.0.0.9"))
        clock.now += waits[-1] or 0.0
    assert waits == [None, None, None, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert backoff.retry_after("10.0.0.10") is None, "another address is not slowed"


def test_a_success_and_a_quiet_spell_each_clear_the_record() -> None:
    clock = Clock()
    backoff = Backoff(clock=clock, free=1, base=5.0, cap=60.0, forget=600.0)
    for _ in range(3):
        backoff.failed("a")
        backoff.failed("b")
    assert backoff.retry_after("a") == 10.0
    backoff.succeeded("a")
    assert backoff.retry_after("a") is None
    clock.now += 600.0
    assert backoff.retry_after("b") is None
    backoff.failed("b")
    assert backoff.retry_after("b") is None, "after a quiet spell the free failures are back"


@given(st.lists(st.tuples(st.booleans(), st.floats(0, 100)), max_size=60))
def test_nobody_is_locked_out_longer_than_the_cap_after_the_last_failure(steps: list[tuple[bool, float]]) -> None:
    clock = Clock()
    backoff = Backoff(clock=clock, free=2, base=0.5, cap=30.0)
    for fail, pause in steps:
        if fail:
            backoff.failed("x")
        wait = backoff.retry_after("x")
        assert wait is None or 0 < wait <= 30.0
        clock.now += pause
    clock.now += 30.0
    assert backoff.retry_after("x") is None


def test_memory_stays_bounded_under_a_flood_of_addresses() -> None:
    clock = Clock()
    backoff = Backoff(clock=clock, max_tracked=100)
    for i in range(1000):
        backoff.failed(f"10.0.{i // 256}.{i % 256}")
        clock.now += 0.01
    assert len(backoff._strikes) <= 100


def test_the_slowed_sentence_rounds_up() -> None:
    assert slowed_sentence(0.2) == "Too many failed attempts from this address; try again in 1 s."
    assert "in 3 s" in slowed_sentence(2.01)
