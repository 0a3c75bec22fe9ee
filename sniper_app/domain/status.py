"""The snipe state machine: the statuses and the only transitions allowed between them."""

from __future__ import annotations

from enum import StrEnum

from sniper_app.domain.errors import IllegalTransition


class SnipeStatus(StrEnum):
    PENDING = "PENDING"  # accepted, not yet armed by the scheduler
    SCHEDULED = "SCHEDULED"  # armed: a fire instant is set
    PLACING = "PLACING"  # the bid is being sent (possibly retried)
    PLACED = "PLACED"  # eBay accepted the proxy bid; waiting for the auction to end
    WON = "WON"
    LOST = "LOST"
    FAILED = "FAILED"  # could not bid (eBay refused, item gone, account dead, ...)
    CANCELLED = "CANCELLED"  # by the user, or by a group that reached its target
    MISSED = "MISSED"  # the fire instant passed while the app could not act
    SKIPPED = "SKIPPED"  # not worth firing: the price already passed the maximum

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES

    @property
    def is_active(self) -> bool:
        return self in ACTIVE_STATUSES


FINAL_STATUSES = frozenset(
    {
        SnipeStatus.WON,
        SnipeStatus.LOST,
        SnipeStatus.FAILED,
        SnipeStatus.CANCELLED,
        SnipeStatus.MISSED,
        SnipeStatus.SKIPPED,
    }
)

# A PLACED snipe is still "active" for the one-snipe-per-item rule: a second one would bid against it.
ACTIVE_STATUSES = frozenset(
    {SnipeStatus.PENDING, SnipeStatus.SCHEDULED, SnipeStatus.PLACING, SnipeStatus.PLACED}
)

# Statuses whose snipe has not fired yet and may still be cancelled or edited by the user.
NOT_FIRED_STATUSES = frozenset({SnipeStatus.PENDING, SnipeStatus.SCHEDULED})

_S = SnipeStatus
ALLOWED_TRANSITIONS: dict[SnipeStatus, frozenset[SnipeStatus]] = {
    # SCHEDULED -> PENDING un-arms a snipe (pause, edit, account needing re-link) without losing it.
    _S.PENDING: frozenset({_S.SCHEDULED, _S.CANCELLED, _S.FAILED, _S.SKIPPED, _S.MISSED}),
    _S.SCHEDULED: frozenset(
        {_S.PENDING, _S.PLACING, _S.CANCELLED, _S.FAILED, _S.SKIPPED, _S.MISSED}
    ),
    # Once a bid may be on the wire it can no longer be cancelled: only its outcome is recorded.
    # PLACING -> MISSED covers a crash mid-send where eBay never saw the bid and the auction ended.
    _S.PLACING: frozenset({_S.PLACED, _S.FAILED, _S.MISSED}),
    _S.PLACED: frozenset({_S.WON, _S.LOST}),
    **{final: frozenset() for final in FINAL_STATUSES},
}


def can_transition(current: SnipeStatus, new: SnipeStatus) -> bool:
    return new in ALLOWED_TRANSITIONS[current]


def check_transition(current: SnipeStatus, new: SnipeStatus) -> None:
    """Raise :class:`IllegalTransition` unless ``current -> new`` is allowed."""
    if not can_transition(current, new):
        if current.is_final:
            raise IllegalTransition(f"This snipe already ended as {current.value}; it cannot become {new.value}.")
        raise IllegalTransition(f"A snipe cannot go from {current.value} to {new.value}.")
