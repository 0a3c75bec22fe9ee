"""The store's snipes: creation, edits, cancels, status transitions (compare-and-set) and fire timing."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime
from typing import Any, Final

from peewee import SQL, IntegrityError, fn

from sniper_app.domain.endings import EndedRow, outcome_of
from sniper_app.domain.errors import IllegalTransition, InputError, RuleViolation
from sniper_app.domain.history import HistoryAction
from sniper_app.domain.outcomes import OutcomeCode
from sniper_app.domain.status import (
    ACTIVE_STATUSES,
    FINAL_STATUSES,
    NOT_FIRED_STATUSES,
    SnipeStatus,
    check_transition,
)
from sniper_app.domain.text import MAX_GROUP_SIZE, clip_title
from sniper_app.store.base import StoreBase, check_aware, status_values
from sniper_app.store.db import to_epoch_us
from sniper_app.store.errors import NotFound, StoreError
from sniper_app.store.models import Snipe

_STATUS_ACTION: Final = {
    SnipeStatus.PENDING: HistoryAction.UNSCHEDULE,
    SnipeStatus.SCHEDULED: HistoryAction.SCHEDULE,
    SnipeStatus.PLACING: HistoryAction.PLACE,
    SnipeStatus.PLACED: HistoryAction.PLACE,
    SnipeStatus.WON: HistoryAction.WON,
    SnipeStatus.LOST: HistoryAction.LOST,
    SnipeStatus.FAILED: HistoryAction.FAIL,
    SnipeStatus.CANCELLED: HistoryAction.CANCEL,
    SnipeStatus.MISSED: HistoryAction.MISSED,
    SnipeStatus.SKIPPED: HistoryAction.SKIPPED,
}

# Columns the engine may set on a snipe (besides status); user-owned ones go through update_snipe.
ENGINE_FIELDS: Final = frozenset(
    {
        "rest_item_id",
        "title",
        "image_url",
        "item_url",
        "end_time",
        "current_price_minor",
        "converted_currency",
        "converted_price_minor",
        "bid_count",
        "job_id",
        "final_price_minor",
        "planned_at",
        "sent_at",
        "reply_at",
        "clock_offset_ms",
        "latency_ms",
        "attempts",
        "ebay_message",
        "proxy_bid_id",
        "outcome_code",
        "outcome_text",
        "shipping_minor",
        "shipping_currency",
        "import_charges_minor",
        "import_charges_currency",
    }
)

_UNSET: Any = object()
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


class SnipeStore(StoreBase):
    """Snipes: create, read, edit, cancel, and every status change with its event."""

    def create_snipe(
        self,
        user_id: int,
        *,
        legacy_item_id: str,
        currency: str,
        max_bid_minor: int,
        end_time: datetime,
        lead_seconds: float,
        title: str = "",
        rest_item_id: str | None = None,
        image_url: str | None = None,
        item_url: str | None = None,
        marketplace: str = "EBAY_US",
        current_price_minor: int | None = None,
        bid_count: int = 0,
        group_id: int | None = None,
        message: str | None = None,
        details: dict[str, Any] | None = None,
        converted_currency: str | None = None,
        converted_price_minor: int | None = None,
        includes_shipping: bool = False,
        shipping_minor: int | None = None,
        shipping_currency: str | None = None,
        import_charges_minor: int | None = None,
        import_charges_currency: str | None = None,
    ) -> Snipe:
        """Insert a PENDING snipe and its CREATE event; refuse a second active snipe on one item."""
        if isinstance(max_bid_minor, bool) or not isinstance(max_bid_minor, int) or max_bid_minor <= 0:
            raise InputError("The maximum bid must be a positive whole number of minor units.")
        if not _CURRENCY_RE.match(currency):
            raise InputError(f"“{currency}” is not an ISO currency code.")
        if lead_seconds < 0:
            raise InputError("The lead time cannot be negative.")
        end_time = check_aware(end_time, "end_time")
        title = clip_title(title)
        with self._write():
            self.get_user(user_id)
            if group_id is not None:
                self._group_of_user(group_id, user_id)
                if Snipe.select().where(Snipe.group == group_id).count() >= MAX_GROUP_SIZE:
                    raise RuleViolation(f"A group holds at most {MAX_GROUP_SIZE} snipes, and this one is full.")
            existing = (
                Snipe.select()
                .where(
                    (Snipe.user == user_id)
                    & (Snipe.legacy_item_id == legacy_item_id)
                    & Snipe.status.in_(status_values(ACTIVE_STATUSES))
                )
                .first()
            )
            if existing is not None:
                raise self._duplicate(existing)
            now = self.now()
            try:
                snipe = Snipe.create(
                    user=user_id,
                    legacy_item_id=legacy_item_id,
                    rest_item_id=rest_item_id,
                    title=title,
                    image_url=image_url,
                    item_url=item_url,
                    marketplace=marketplace,
                    currency=currency,
                    max_bid_minor=max_bid_minor,
                    lead_seconds=float(lead_seconds),
                    end_time=end_time,
                    current_price_minor=current_price_minor,
                    converted_currency=converted_currency,
                    converted_price_minor=converted_price_minor,
                    includes_shipping=includes_shipping,
                    shipping_minor=shipping_minor,
                    shipping_currency=shipping_currency,
                    import_charges_minor=import_charges_minor,
                    import_charges_currency=import_charges_currency,
                    bid_count=bid_count,
                    status=SnipeStatus.PENDING.value,
                    group=group_id,
                    created_at=now,
                    updated_at=now,
                )
            except IntegrityError as exc:
                # The partial unique index caught a race the check above could not see.
                raise RuleViolation(f"Item {legacy_item_id} already has an active snipe.") from exc
            self._event(
                HistoryAction.CREATE,
                snipe=snipe,
                amount_minor=max_bid_minor,
                message=message or f"Snipe created for {title or legacy_item_id}.",
                details=details,
            )
            return snipe

    @staticmethod
    def _duplicate(existing: Snipe) -> RuleViolation:
        return RuleViolation(
            f"Item {existing.legacy_item_id} already has an active snipe "
            f"(#{existing.id}, {existing.status.lower()}); edit or cancel that one instead."
        )

    def get_snipe(self, snipe_id: int) -> Snipe:
        snipe = Snipe.get_or_none(Snipe.id == snipe_id)
        if snipe is None:
            raise NotFound(f"There is no snipe #{snipe_id}.")
        return snipe

    def get_user_snipe(self, user_id: int, snipe_id: int) -> Snipe:
        """Snipe ``snipe_id`` if profile ``user_id`` owns it: another profile's snipe is as unknown as none."""
        snipe = self.get_snipe(snipe_id)
        if snipe.user_id != user_id:
            raise NotFound(f"There is no snipe #{snipe_id}.")
        return snipe

    def find_active_snipe(self, user_id: int, legacy_item_id: str) -> Snipe | None:
        found: Snipe | None = (
            Snipe.select()
            .where(
                (Snipe.user == user_id)
                & (Snipe.legacy_item_id == legacy_item_id)
                & Snipe.status.in_(status_values(ACTIVE_STATUSES))
            )
            .first()
        )
        return found

    def list_snipes(
        self,
        *,
        status: SnipeStatus | str | Collection[SnipeStatus | str] | None = None,
        user_id: int | None = None,
        group_id: int | None = None,
    ) -> list[Snipe]:
        """Snipes by auction end (soonest first), optionally only those in ``status``."""
        query = Snipe.select()
        if status is not None:
            query = query.where(Snipe.status.in_(status_values(status)))
        if user_id is not None:
            query = query.where(Snipe.user == user_id)
        if group_id is not None:
            query = query.where(Snipe.group == group_id)
        return list(query.order_by(Snipe.end_time, Snipe.id))

    def active_snipes(self, user_id: int | None = None) -> list[Snipe]:
        """Every snipe the scheduler must know about after a start (PENDING ... PLACED)."""
        return self.list_snipes(status=ACTIVE_STATUSES, user_id=user_id)

    def active_ends(self, user_id: int | None = None) -> list[tuple[int, datetime, float]]:
        """(id, end, lead) of every active snipe: what the engine looks at every second, read without whole
        rows (three hundred rows would make half a megabyte of short-lived objects a second)."""
        query = Snipe.select(Snipe.id, Snipe.end_time, Snipe.lead_seconds).where(
            Snipe.status.in_(status_values(ACTIVE_STATUSES)))
        if user_id is not None:
            query = query.where(Snipe.user == user_id)
        rows: list[tuple[int, datetime, float]] = list(query.tuples())  # type: ignore[arg-type]
        return [(int(pk), end, float(lead)) for pk, end, lead in rows]

    def snipes_due(self, until: datetime) -> list[Snipe]:
        """Not-yet-fired snipes whose fire instant (end − lead) is at or before ``until``."""
        until_us = to_epoch_us(check_aware(until, "until"))
        fire_us = Snipe.end_time - fn.CAST(SQL("lead_seconds * 1000000 AS INTEGER"))
        return list(
            Snipe.select()
            .where(Snipe.status.in_(status_values(NOT_FIRED_STATUSES)) & (fire_us <= until_us))
            .order_by(Snipe.end_time, Snipe.id)
        )

    def set_status(
        self,
        snipe_id: int,
        new_status: SnipeStatus,
        *,
        reason: str | None = None,
        action: HistoryAction | None = None,
        details: dict[str, Any] | None = None,
        expected: SnipeStatus | Collection[SnipeStatus] | None = None,
        amount_minor: int | None = None,
        **fields: Any,
    ) -> bool:
        """Move a snipe to ``new_status`` and record the event, in one transaction.

        With ``expected``, this is a compare-and-set: nothing is written and False is returned unless
        the snipe is still in (one of) ``expected``. An illegal transition raises
        :class:`IllegalTransition` and writes nothing. ``fields`` sets engine columns in the same
        write (job_id, final_price_minor, the timing record, ...).
        """
        new_status = SnipeStatus(new_status)
        self._check_engine_fields(fields)
        with self._write():
            snipe = self.get_snipe(snipe_id)
            current = SnipeStatus(snipe.status)
            if expected is not None:
                allowed = {expected} if isinstance(expected, str) else set(expected)
                if current not in {SnipeStatus(s) for s in allowed}:
                    return False
            check_transition(current, new_status)
            self._apply_status(snipe, current, new_status, reason, action, details, amount_minor, fields)
            return True

    def _apply_status(
        self,
        snipe: Snipe,
        current: SnipeStatus,
        new_status: SnipeStatus,
        reason: str | None,
        action: HistoryAction | None,
        details: dict[str, Any] | None,
        amount_minor: int | None,
        fields: dict[str, Any],
    ) -> None:
        now = self.now()
        values: dict[str, Any] = {
            "status": new_status.value,
            "status_reason": reason,
            "updated_at": now,
            **fields,
        }
        values |= _outcome_fields(snipe, new_status, values)
        changed = Snipe.update(values).where((Snipe.id == snipe.id) & (Snipe.status == current.value)).execute()
        if changed != 1:  # cannot happen under IMMEDIATE; a loud failure beats a silent double fire
            raise StoreError(f"Snipe #{snipe.id} changed while it was being updated; try again.")
        for name, value in values.items():
            setattr(snipe, name, value)
        self._event(
            action or _STATUS_ACTION[new_status],
            snipe=snipe,
            status=new_status,
            amount_minor=amount_minor,
            final_price_minor=fields.get("final_price_minor"),
            message=reason or f"{current.value} → {new_status.value}",
            details=details,
        )

    def hand_over_despite_cancel(self, snipe_id: int, *, amount_minor: int, reason: str) -> bool:
        """Record PLACING over a CANCELLED that landed after the bid had left but before the hand-over was
        saved (a full disk held that write back): the bid was sent, so the cancel cannot stand. The only
        way out of a final status, and only from CANCELLED; False (nothing written) otherwise."""
        with self._write():
            snipe = self.get_snipe(snipe_id)
            current = SnipeStatus(snipe.status)
            if current is not SnipeStatus.CANCELLED:
                return False
            self._apply_status(snipe, current, SnipeStatus.PLACING, reason, HistoryAction.PLACE, None, amount_minor,
                               {"job_id": None})
            return True

    def cancel(self, snipe_id: int, *, reason: str = "Cancelled by the user.") -> Snipe:
        """Cancel a snipe that has not fired yet; explain why not otherwise."""
        with self._write():
            snipe = self.get_snipe(snipe_id)
            current = SnipeStatus(snipe.status)
            name = snipe.title or f"item {snipe.legacy_item_id}"
            if current in FINAL_STATUSES:
                raise IllegalTransition(
                    f"The snipe on {name} already ended as {current.value.lower()}; there is nothing to cancel."
                )
            if current not in NOT_FIRED_STATUSES:
                raise IllegalTransition(
                    f"The bid on {name} has already been sent to eBay; it can no longer be cancelled."
                )
            self._apply_status(
                snipe, current, SnipeStatus.CANCELLED, reason, HistoryAction.CANCEL, None, None, {"job_id": None}
            )
            return snipe

    def update_snipe(
        self,
        snipe_id: int,
        *,
        max_bid_minor: int | None = None,
        lead_seconds: float | None = None,
        group_id: int | None = _UNSET,
        message: str | None = None,
    ) -> Snipe:
        """The user's edit of a snipe not yet fired; records an UPDATE event with old and new values."""
        if max_bid_minor is not None and (
            isinstance(max_bid_minor, bool) or not isinstance(max_bid_minor, int) or max_bid_minor <= 0
        ):
            raise InputError("The maximum bid must be a positive whole number of minor units.")
        if lead_seconds is not None and lead_seconds < 0:
            raise InputError("The lead time cannot be negative.")
        with self._write():
            snipe = self.get_snipe(snipe_id)
            current = SnipeStatus(snipe.status)
            if current not in NOT_FIRED_STATUSES:
                raise IllegalTransition(
                    f"The snipe on {snipe.title or snipe.legacy_item_id} is {current.value.lower()}; "
                    "it can no longer be edited."
                )
            changes: dict[str, list[Any]] = {}
            values: dict[str, Any] = {}
            if max_bid_minor is not None and max_bid_minor != snipe.max_bid_minor:
                changes["max_bid_minor"] = [snipe.max_bid_minor, max_bid_minor]
                values["max_bid_minor"] = max_bid_minor
            if lead_seconds is not None and float(lead_seconds) != snipe.lead_seconds:
                changes["lead_seconds"] = [snipe.lead_seconds, float(lead_seconds)]
                values["lead_seconds"] = float(lead_seconds)
            old_group = snipe.group_id
            if group_id is not _UNSET and group_id != old_group:
                if group_id is not None:
                    self._group_of_user(group_id, snipe.user_id)
                changes["group_id"] = [old_group, group_id]
                values["group"] = group_id
            if not values:
                return snipe
            values["updated_at"] = self.now()
            Snipe.update(values).where(Snipe.id == snipe_id).execute()
            snipe = self.get_snipe(snipe_id)
            self._event(
                HistoryAction.UPDATE,
                snipe=snipe,
                amount_minor=snipe.max_bid_minor,
                status=current,
                message=message or "Snipe edited.",
                details={"changes": changes},
            )
            return snipe

    def update_fields(
        self, snipe_id: int, *, expected: SnipeStatus | Collection[SnipeStatus] | None = None, **fields: Any
    ) -> bool:
        """Set engine columns (item refresh, job id, timing) without a status change or history event."""
        self._check_engine_fields(fields)
        if "title" in fields:
            fields["title"] = clip_title(fields["title"])
        with self._write():
            snipe = self.get_snipe(snipe_id)
            if expected is not None:
                allowed = {expected} if isinstance(expected, str) else set(expected)
                if SnipeStatus(snipe.status) not in {SnipeStatus(s) for s in allowed}:
                    return False
            if fields:
                fields["updated_at"] = self.now()
                Snipe.update(fields).where(Snipe.id == snipe_id).execute()
            return True

    def record_timing(
        self,
        snipe_id: int,
        *,
        planned_at: datetime | None = None,
        sent_at: datetime | None = None,
        reply_at: datetime | None = None,
        clock_offset_ms: float | None = None,
        latency_ms: float | None = None,
        attempts: int | None = None,
        ebay_message: str | None = None,
        proxy_bid_id: str | None = None,
    ) -> None:
        """Store the timing record of a fire; only the arguments given are written."""
        given: dict[str, Any] = {
            name: value
            for name, value in {
                "planned_at": planned_at,
                "sent_at": sent_at,
                "reply_at": reply_at,
                "clock_offset_ms": clock_offset_ms,
                "latency_ms": latency_ms,
                "attempts": attempts,
                "ebay_message": ebay_message,
                "proxy_bid_id": proxy_bid_id,
            }.items()
            if value is not None
        }
        self.update_fields(snipe_id, **given)

    def set_includes_shipping(self, snipe_id: int, includes: bool) -> Snipe:
        """The user's choice that the maximum includes shipping (and import charges): the bid is less them."""
        with self._write():
            snipe = self.get_snipe(snipe_id)
            if bool(snipe.includes_shipping) == includes:
                return snipe
            current = SnipeStatus(snipe.status)
            if current not in NOT_FIRED_STATUSES:
                raise IllegalTransition(
                    f"The snipe on {snipe.title or snipe.legacy_item_id} is {current.value.lower()}; "
                    "it can no longer be edited."
                )
            Snipe.update(includes_shipping=includes, updated_at=self.now()).where(Snipe.id == snipe_id).execute()
            snipe = self.get_snipe(snipe_id)
            self._event(
                HistoryAction.UPDATE, snipe=snipe, amount_minor=snipe.max_bid_minor, status=current,
                message=("Snipe edited: the maximum includes shipping." if includes
                         else "Snipe edited: the maximum no longer includes shipping."),
                details={"changes": {"includes_shipping": [not includes, includes]}},
            )
            return snipe

    @staticmethod
    def _check_engine_fields(fields: dict[str, Any]) -> None:
        unknown = set(fields) - ENGINE_FIELDS
        if unknown:
            raise TypeError(f"cannot set snipe field(s) here: {', '.join(sorted(unknown))}")
        for name, value in fields.items():
            if isinstance(value, datetime):
                check_aware(value, name)


def ended_row(snipe: Snipe, values: dict[str, Any] | None = None) -> EndedRow:
    """The row as the outcome reads it, with ``values`` about to be written laid over it."""
    v = values or {}

    def get(name: str) -> Any:
        return v[name] if name in v else getattr(snipe, name)

    return EndedRow(
        status=SnipeStatus(get("status")), currency=get("currency"), max_bid_minor=get("max_bid_minor"),
        end_time=get("end_time"), status_reason=get("status_reason"), final_price_minor=get("final_price_minor"),
        current_price_minor=get("current_price_minor"), planned_at=get("planned_at"), sent_at=get("sent_at"),
        reply_at=get("reply_at"), clock_offset_ms=get("clock_offset_ms"), latency_ms=get("latency_ms"),
        ebay_message=get("ebay_message"), includes_shipping=bool(get("includes_shipping")),
        shipping_minor=get("shipping_minor"), shipping_currency=get("shipping_currency"),
        import_charges_minor=get("import_charges_minor"), import_charges_currency=get("import_charges_currency"),
    )


def _outcome_fields(snipe: Snipe, new_status: SnipeStatus, values: dict[str, Any]) -> dict[str, Any]:
    """The outcome a final status is written with: the engine's when it named one (a code, or a code and its
    sentence), else derived from the status and its reason."""
    if new_status not in FINAL_STATUSES:
        return {"outcome_code": None, "outcome_text": None}
    code = values.get("outcome_code")
    if code is not None and values.get("outcome_text"):
        return {"outcome_code": str(code)}
    outcome = outcome_of(ended_row(snipe, values), OutcomeCode(code) if code is not None else None)
    assert outcome is not None
    return {"outcome_code": outcome.code.value, "outcome_text": outcome.sentence}
