"""What a user can do to snipes and groups, the same from the window and the command line.

Every change goes to the database, which is the truth: a running engine (in this process or another)
notices it there. ``on_change`` lets an in-process engine be told at once instead of on its next poll.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Literal

from sniper_app.config import Settings
from sniper_app.domain.errors import IllegalTransition, InputError, NoSuchSnipe, RuleViolation, SniperError
from sniper_app.domain.exposure import SnipeCost
from sniper_app.domain.items import ItemRef, parse_item_ref
from sniper_app.domain.landed import bid_for_maximum
from sniper_app.domain.money import Money
from sniper_app.domain.rules import (
    AUTO_LEAD,
    MIN_LEAD_SECONDS,
    validate_edit,
    validate_lead,
    validate_new_snipe,
)
from sniper_app.domain.spending import CapCheck, TypoWarning, check_cap, parse_spending_cap, typo_warning
from sniper_app.domain.status import NOT_FIRED_STATUSES, SnipeStatus
from sniper_app.domain.text import check_group_name, check_group_wins
from sniper_app.domain.views import GroupSummary, GroupView, SnipeView
from sniper_app.ebay import EbayClient, ItemDetails, ItemNotFound
from sniper_app.engine.bus import EventBus, SnipeStatusChanged
from sniper_app.engine.metrics import Metrics
from sniper_app.engine.sync import charge_fields, converted_fields
from sniper_app.store import NotFound, Snipe, SnipeGroup, Store, WatchSyncResult, views
from sniper_app.store.spending import spending_facts


class NotLinked(SniperError):
    """No eBay account is linked to the profile, so nothing can be bid."""


class UnknownItem(InputError):
    """eBay does not know the item the user named."""


class SuspectedTypo(RuleViolation):
    """The maximum is so far above the price that it may be a typo; saved only once the user confirms it."""

    def __init__(self, warning: TypoWarning | str) -> None:
        # A bare sentence is this error rebuilt on a desktop from the box's reply, without the numbers.
        super().__init__(warning if isinstance(warning, str) else warning.sentence)
        self.warning = None if isinstance(warning, str) else warning


class OverSpendingCap(RuleViolation):
    """The snipe would pass the user's spending cap; ``check`` holds the numbers the sentence names."""

    def __init__(self, check: CapCheck | str) -> None:
        super().__init__(check if isinstance(check, str) else check.sentence)
        self.check = None if isinstance(check, str) else check


class Actions:
    """The user's actions on snipes, groups and the watch list of profile ``user_id``."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        user_id: int,
        client: EbayClient | None,
        bus: EventBus | None = None,
        metrics: Metrics | None = None,
        on_change: Callable[[], Awaitable[None]] | None = None,
        bid_left: Callable[[int], bool] | None = None,
    ) -> None:
        self.settings = settings
        # The running engine's word that a bid has left, for the moment a full disk keeps the store from saying so.
        self.bid_left = bid_left
        self.store = store
        self.user_id = user_id
        self._client = client
        self.bus = bus
        self.metrics = metrics
        self.on_change = on_change

    @property
    def client(self) -> EbayClient:
        if self._client is None:
            raise NotLinked("This action needs eBay, and no eBay connection is configured.")
        return self._client

    # --- snipes -----------------------------------------------------------------------------------

    async def add_snipe(
        self, item: str, max_amount: str, *, lead: float | Literal["auto"] | None = None, group: str | None = None,
        confirmed: bool = True,
        includes_shipping: bool = False,
    ) -> tuple[SnipeView, list[str]]:
        """Check the item on eBay, the rules and the spending cap, then save a PENDING snipe; returns it and
        any warnings.

        ``lead="auto"`` (or no lead with the ``auto_lead`` setting) lets the engine choose it per snipe. Without
        ``confirmed``, a maximum that looks like a typo is refused with :class:`SuspectedTypo`."""
        ref = parse_item_ref(item)
        if lead is None:
            lead = "auto" if self.settings.auto_lead else self.settings.default_lead_seconds
        lead_s = _lead_of(lead)
        group_row = self._group_by_name(group) if group is not None else None
        user = self.store.get_user(self.user_id)
        if not user.ebay_username:
            raise NotLinked(
                "No eBay account is linked, so the app cannot bid for you; link one first with "
                "'sniper-app account link'."
            )
        details = await self._fetch_item(ref)
        currency, current, end_time = self._auction_facts(details)
        max_bid = Money.parse(max_amount, currency, expected_currency=currency)
        warnings = validate_new_snipe(
            max_bid=max_bid,
            current_price=current,
            bid_count=details.bid_count,
            marketplace=self.settings.marketplace,
            end_time=end_time,
            now=datetime.now(UTC),
            lead_seconds=_checked_lead(lead_s),
            has_active_snipe_for_item=self.store.find_active_snipe(self.user_id, details.legacy_item_id) is not None,
            min_seconds_before_end=self.settings.min_seconds_before_end,
            listing_marketplace=details.listing_marketplace,
            minimum_to_bid=details.minimum_to_bid,
        )
        # A maximum that includes the charges must leave a bid eBay accepts: refused here, never at the fire.
        bid_for_maximum(max_bid, includes_shipping=includes_shipping, shipping=details.shipping_cost,
                        import_charges=details.import_charges, minimum_bid=details.minimum_to_bid)
        if not confirmed:
            self._refuse_typo(max_bid, current)
        warnings += self._check_cap(SnipeCost(
            snipe_id=0, status=SnipeStatus.PENDING, maximum=max_bid,
            group_id=group_row.id if group_row is not None else None,
            group_wins=group_row.target_wins if group_row is not None else None,
            shipping=details.shipping_cost, import_charges=details.import_charges,
            maximum_includes_shipping=includes_shipping,
        ))
        if user.needs_relink:
            warnings.append(
                "Your eBay account must be linked again before this snipe can be placed (account link)."
            )
        snipe = self.store.create_snipe(
            self.user_id,
            legacy_item_id=details.legacy_item_id,
            rest_item_id=ref.rest_id if ref.variation_id != "0" else details.item_id,
            currency=currency,
            max_bid_minor=max_bid.minor,
            end_time=end_time,
            lead_seconds=lead_s,
            title=details.title or "",
            image_url=details.image_url,
            item_url=details.web_url,
            marketplace=self.settings.marketplace,
            current_price_minor=current.minor,
            bid_count=details.bid_count,
            group_id=group_row.id if group_row is not None else None,
            details={"warnings": warnings} if warnings else None,
            includes_shipping=includes_shipping,
            **converted_fields(details),
            **charge_fields(details),
        )
        self._publish(snipe.id, None, SnipeStatus.PENDING)
        await self._changed()
        return views.view_of(self.store, snipe), warnings

    async def cancel_snipe(self, snipe_id: int) -> SnipeView:
        current = self._snipe(snipe_id)
        old = current.snipe_status
        self._refuse_if_sent(current, "cancelled")
        try:
            snipe = self.store.cancel(snipe_id)
        except NotFound as exc:
            raise NoSuchSnipe(str(exc)) from None
        except IllegalTransition as exc:
            raise RuleViolation(str(exc)) from None
        self._publish(snipe.id, old, SnipeStatus.CANCELLED, snipe.status_reason)
        await self._changed()
        return views.view_of(self.store, snipe)

    def _refuse_if_sent(self, snipe: Snipe, what: str) -> None:
        if self.bid_left is not None and self.bid_left(int(snipe.id)):
            name = snipe.title or f"item {snipe.legacy_item_id}"
            raise RuleViolation(f"The bid on {name} has already been sent to eBay; it can no longer be {what}.")

    async def edit_snipe(
        self, snipe_id: int, *, max_amount: str | None = None, lead: float | Literal["auto"] | None = None,
        confirmed: bool = True,
        includes_shipping: bool | None = None,
    ) -> tuple[SnipeView, list[str]]:
        """Change the maximum, lead and/or whether the maximum includes shipping of a snipe that has not
        fired, re-checked against eBay and the spending cap now (a new maximum that looks like a typo needs
        ``confirmed``, as when adding)."""
        if max_amount is None and lead is None and includes_shipping is None:
            raise InputError("Nothing to change: give a new maximum (--max) and/or lead time (--lead).")
        snipe = self._snipe(snipe_id)
        status = snipe.snipe_status
        max_bid = (
            Money.parse(max_amount, snipe.currency, expected_currency=snipe.currency)
            if max_amount is not None
            else Money(snipe.max_bid_minor, snipe.currency)
        )
        lead_s = _lead_of(lead) if lead is not None else float(snipe.lead_seconds)
        # Refuse an edit of a fired snipe before asking eBay anything.
        if status not in NOT_FIRED_STATUSES:
            if status.is_final:
                raise RuleViolation(
                    f"Snipe #{snipe_id} already ended as {status.value}; it can no longer be changed."
                )
            raise RuleViolation(
                f"The bid of snipe #{snipe_id} has already been sent to eBay; it can no longer be changed."
            )
        self._refuse_if_sent(snipe, "changed")
        details = await self._fetch_item(ItemRef(snipe.legacy_item_id))
        currency, current, end_time = self._auction_facts(details)
        warnings = validate_edit(
            status=status,
            max_bid=max_bid,
            lead_seconds=_checked_lead(lead_s),
            current_price=current,
            bid_count=details.bid_count,
            marketplace=snipe.marketplace,
            end_time=end_time,
            now=datetime.now(UTC),
            min_seconds_before_end=self.settings.min_seconds_before_end,
            listing_marketplace=details.listing_marketplace,
            minimum_to_bid=details.minimum_to_bid,
        )
        if currency != snipe.currency:
            raise RuleViolation(f"eBay now prices this item in {currency}; cancel the snipe and add a new one.")
        includes = bool(snipe.includes_shipping) if includes_shipping is None else includes_shipping
        bid_for_maximum(max_bid, includes_shipping=includes, shipping=details.shipping_cost,
                        import_charges=details.import_charges, minimum_bid=details.minimum_to_bid)
        if max_amount is not None and not confirmed:
            self._refuse_typo(max_bid, current)
        # A maximum that stops including shipping costs the shipping on top: checked like a raised maximum.
        if max_amount is not None or includes_shipping is not None:
            group = self.store.get_group(snipe.group_id) if snipe.group_id is not None else None
            warnings += self._check_cap(SnipeCost(
                snipe_id=snipe_id, status=status, maximum=max_bid, group_id=snipe.group_id,
                group_wins=group.target_wins if group is not None else None,
                shipping=details.shipping_cost, import_charges=details.import_charges,
                maximum_includes_shipping=includes,
            ))
        try:
            self.store.update_fields(
                snipe_id,
                current_price_minor=current.minor,
                bid_count=details.bid_count,
                end_time=end_time,
                **converted_fields(details),
                **charge_fields(details),
            )
            if includes_shipping is not None:
                self.store.set_includes_shipping(snipe_id, includes_shipping)
            updated = self.store.update_snipe(
                snipe_id,
                max_bid_minor=max_bid.minor if max_amount is not None else None,
                lead_seconds=lead_s if lead is not None else None,
            )
        except IllegalTransition as exc:
            raise RuleViolation(str(exc)) from None
        await self._changed()
        return views.view_of(self.store, updated), warnings

    # --- groups -----------------------------------------------------------------------------------

    def add_group(self, name: str, target_wins: int = 1) -> GroupView:
        return views.group_view(
            self.store.create_group(self.user_id, check_group_name(name), target_wins=check_group_wins(target_wins))
        )

    def list_groups(self) -> list[GroupSummary]:
        return list(views.group_summaries(self.store, self.user_id))

    # --- watch list -------------------------------------------------------------------------------

    async def sync_watchlist(self) -> WatchSyncResult:
        from sniper_app.engine.sync import sync_watchlist

        return await sync_watchlist(self.store, self.client, self.user_id, self.bus, self.metrics)

    # --- money guards -----------------------------------------------------------------------------

    @staticmethod
    def _refuse_typo(max_bid: Money, current: Money) -> None:
        warning = typo_warning(max_bid, current)
        if warning is not None:
            raise SuspectedTypo(warning)

    def _check_cap(self, candidate: SnipeCost) -> list[str]:
        """Refuse ``candidate`` with :class:`OverSpendingCap` when it would pass the spending cap; the warning
        to show when a cap is set but none covers its currency."""
        caps = parse_spending_cap(self.settings.spending_cap)
        if not caps:
            return []
        now = datetime.now(UTC)
        days = self.settings.spending_period_days
        facts = spending_facts(self.store, self.user_id, now=now, period_days=days)
        check = check_cap(caps, days, wins=facts.wins, snipes=facts.snipes,
                          candidate=candidate, now=now)
        if not check.ok:
            raise OverSpendingCap(check)
        return [check.sentence] if check.uncapped else []

    # --- helpers ----------------------------------------------------------------------------------

    def _snipe(self, snipe_id: int) -> Snipe:
        try:
            return self.store.get_user_snipe(self.user_id, snipe_id)
        except NotFound as exc:
            raise NoSuchSnipe(str(exc)) from None

    def _group_by_name(self, name: str) -> SnipeGroup:
        group = self.store.find_group(self.user_id, name)
        if group is not None:
            return group
        names = [g.name for g in self.store.list_groups(self.user_id)]
        known = f" Existing groups: {', '.join(names)}." if names else ""
        raise NoSuchSnipe(
            f"There is no group named “{name.strip()}”. Create it first with "
            f"'sniper-app group add \"{name.strip()}\" --wins N'.{known}"
        )

    async def _fetch_item(self, ref: ItemRef) -> ItemDetails:
        try:
            if ref.variation_id == "0":
                return await self.client.get_item_by_legacy_id(ref.legacy_id)
            return await self.client.get_item(ref)
        except ItemNotFound:
            raise UnknownItem(f"eBay does not know item {ref}; check the item number or link.") from None

    @staticmethod
    def _auction_facts(details: ItemDetails) -> tuple[str, Money, datetime]:
        name = details.title or f"item {details.legacy_item_id}"
        if not details.is_auction:
            raise RuleViolation(
                f"{name} is not an auction (it can only be bought outright); there is nothing to snipe."
            )
        current = details.current_price or details.minimum_to_bid
        if current is None or details.end_time is None:
            raise RuleViolation(f"eBay did not give the price and end time of {name}; try again in a moment.")
        return current.currency, current, details.end_time

    def _publish(self, snipe_id: int, old: SnipeStatus | None, new: SnipeStatus, reason: str | None = None) -> None:
        if self.bus is not None:
            self.bus.publish(SnipeStatusChanged(snipe_id=snipe_id, old=old, new=new, reason=reason))

    async def _changed(self) -> None:
        if self.on_change is not None:
            await self.on_change()


def _lead_of(lead: float | Literal["auto"]) -> float:
    """The lead to store: ``AUTO_LEAD`` for "auto", else a checked number of seconds."""
    return AUTO_LEAD if lead == "auto" else validate_lead(lead)


def _checked_lead(lead_s: float) -> float:
    """The lead the rules check: an automatic one is chosen at the hand-over, at least the least lead."""
    return MIN_LEAD_SECONDS if lead_s == AUTO_LEAD else lead_s
