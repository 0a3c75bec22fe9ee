"""What a history event records: the kind of action that happened to a snipe, the account or the watch list."""

from __future__ import annotations

from enum import StrEnum


class HistoryAction(StrEnum):
    CREATE = "CREATE"  # a snipe was accepted
    UPDATE = "UPDATE"  # the user edited a snipe (maximum, lead time, group)
    CANCEL = "CANCEL"  # by the user, or by a group that reached its target
    SCHEDULE = "SCHEDULE"  # armed (or re-armed) with a fire instant
    UNSCHEDULE = "UNSCHEDULE"  # put back to PENDING without losing it
    PLACE = "PLACE"  # the bid is being sent (PLACING), or eBay accepted it (PLACED)
    RETRY = "RETRY"  # a transient failure at fire, sent again
    FAIL = "FAIL"
    WON = "WON"
    LOST = "LOST"
    MISSED = "MISSED"
    SKIPPED = "SKIPPED"
    SYNC = "SYNC"  # watch list or item refresh from eBay
    ACCOUNT = "ACCOUNT"  # account linked, unlinked, needing re-link
    NOTE = "NOTE"  # anything else worth keeping (warnings, diagnostics)
