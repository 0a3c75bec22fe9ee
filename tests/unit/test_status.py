"""The snipe state machine: exactly the allowed transitions pass, everything else is refused."""

from __future__ import annotations

import itertools

import pytest

from sniper_app.domain.errors import IllegalTransition, SniperError
from sniper_app.domain.status import (
    ACTIVE_STATUSES,
    ALLOWED_TRANSITIONS,
    FINAL_STATUSES,
    NOT_FIRED_STATUSES,
    SnipeStatus,
    can_transition,
    check_transition,
)

S = SnipeStatus

# The design's machine written out independently, so a change to status.py has to be made twice.
EXPECTED: set[tuple[SnipeStatus, SnipeStatus]] = {
    (S.PENDING, S.SCHEDULED),
    (S.PENDING, S.CANCELLED),
    (S.PENDING, S.FAILED),
    (S.PENDING, S.SKIPPED),
    (S.PENDING, S.MISSED),
    (S.SCHEDULED, S.PENDING),
    (S.SCHEDULED, S.PLACING),
    (S.SCHEDULED, S.CANCELLED),
    (S.SCHEDULED, S.FAILED),
    (S.SCHEDULED, S.SKIPPED),
    (S.SCHEDULED, S.MISSED),
    (S.PLACING, S.PLACED),
    (S.PLACING, S.FAILED),
    (S.PLACING, S.MISSED),
    (S.PLACED, S.WON),
    (S.PLACED, S.LOST),
}
ALL_PAIRS = list(itertools.product(SnipeStatus, SnipeStatus))


@pytest.mark.parametrize(("current", "new"), sorted(EXPECTED))
def test_allowed_transitions_pass(current: SnipeStatus, new: SnipeStatus) -> None:
    assert can_transition(current, new)
    check_transition(current, new)  # does not raise


@pytest.mark.parametrize(("current", "new"), [p for p in ALL_PAIRS if p not in EXPECTED])
def test_every_other_pair_is_refused(current: SnipeStatus, new: SnipeStatus) -> None:
    assert not can_transition(current, new)
    with pytest.raises(IllegalTransition) as info:
        check_transition(current, new)
    message = str(info.value)
    assert current.value in message
    assert new.value in message
    if current in FINAL_STATUSES:
        assert message == f"This snipe already ended as {current.value}; it cannot become {new.value}."
    else:
        assert message == f"A snipe cannot go from {current.value} to {new.value}."


def test_table_matches_the_design_exactly() -> None:
    table = {(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets}
    assert table == EXPECTED
    assert set(ALLOWED_TRANSITIONS) == set(SnipeStatus)


@pytest.mark.parametrize("final", sorted(FINAL_STATUSES))
def test_finals_have_no_exits(final: SnipeStatus) -> None:
    assert ALLOWED_TRANSITIONS[final] == frozenset()
    assert final.is_final
    assert not final.is_active
    for new in SnipeStatus:
        assert not can_transition(final, new)


def test_status_groups() -> None:
    assert {S.WON, S.LOST, S.FAILED, S.CANCELLED, S.MISSED, S.SKIPPED} == FINAL_STATUSES
    assert {S.PENDING, S.SCHEDULED, S.PLACING, S.PLACED} == ACTIVE_STATUSES
    assert {S.PENDING, S.SCHEDULED} == NOT_FIRED_STATUSES
    assert set(SnipeStatus) == ACTIVE_STATUSES | FINAL_STATUSES
    assert not ACTIVE_STATUSES & FINAL_STATUSES
    assert NOT_FIRED_STATUSES <= ACTIVE_STATUSES


def test_a_cancelled_snipe_can_never_fire() -> None:
    for new in (S.SCHEDULED, S.PLACING, S.PLACED, S.PENDING):
        with pytest.raises(IllegalTransition):
            check_transition(S.CANCELLED, new)


def test_once_on_the_wire_a_snipe_cannot_be_cancelled() -> None:
    assert not can_transition(S.PLACING, S.CANCELLED)
    assert not can_transition(S.PLACED, S.CANCELLED)


def test_illegal_transition_is_a_sniper_error() -> None:
    assert issubclass(IllegalTransition, SniperError)
    assert S("PLACED") is S.PLACED
    assert str(S.WON) == "WON"
