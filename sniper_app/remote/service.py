"""The desktop's stand-in for the box's facade: the same method names and parameters as
:class:`~sniper_app.engine.service.SniperService` and its :class:`~sniper_app.engine.reads.Reads`, each one
call over the pinned HTTPS client, returning the same frozen views.

Every method is a coroutine, reads included: a read that crosses the network must not block whoever asks
(the views' module says so too). Arguments and results travel in the types the real facade declares, so
this class holds no schema of its own; its methods only name what they send.

Errors come back as they were raised on the box: the box sends each refusal's class name with its
sentence, and :func:`raised` rebuilds that class here, so ``InputError`` still exits 2 and ``NotLinked``
still exits 1. A box that cannot be reached, or refuses this desktop, is :class:`BoxUnavailable`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sniper_app.domain.errors import InputError, SniperError
from sniper_app.remote.client import RemoteClient, RemoteError
from sniper_app.remote.credentials import RemoteLink
from sniper_app.remote.wire import WireError, from_wire, to_wire

if TYPE_CHECKING:
    from sniper_app.domain.lead import LeadChoice
    from sniper_app.domain.stats import Record
    from sniper_app.domain.status import SnipeStatus
    from sniper_app.domain.views import (
        AccountView,
        ExposureView,
        GroupSummary,
        GroupView,
        HistoryCursor,
        HistoryFilter,
        HistoryPage,
        SnipeView,
        WatchSyncResult,
        WatchView,
    )
    from sniper_app.ebay import EbayUser, SecretStore
    from sniper_app.engine.accounts import AccountStatus, UnlinkResult
    from sniper_app.engine.service import ClockState, ItemPreview


def engine_words(status: dict[str, Any]) -> str:
    """The box's engine in a few words from its ``/v1/status``, as ``remote status`` and Settings › Remote
    say it: running or paused, for whom, and whether it can bid at all."""
    from sniper_app.domain.text import visible

    if not status.get("engine_running"):
        return "not running"
    state = str(status.get("state") or "running")
    account, problem = status.get("account"), status.get("sign_in_problem")
    if account and problem:
        return f"{state}, linked to eBay user {visible(str(account))} but unable to bid: {visible(str(problem))}"
    if account:
        return f"{state}, bidding as eBay user {visible(str(account))}"
    return f"{state}, with no eBay account linked yet"


def active_words(status: dict[str, Any]) -> str:
    active = int(status.get("active_snipes") or 0)
    return f"{active} active snipe{'s' if active != 1 else ''}"


class BoxUnavailable(SniperError):
    """The box cannot be reached, or does not accept this desktop; the sentence says which."""

    def __init__(self, message: str, *, kind: str = "unreachable") -> None:
        super().__init__(message)
        self.kind = kind


@functools.cache
def _error_classes() -> dict[str, type[SniperError]]:
    # The modules whose errors a facade call can raise, imported so each class is known by its name.
    import sniper_app.config
    import sniper_app.domain.landed
    import sniper_app.domain.money
    import sniper_app.domain.spending
    import sniper_app.ebay.errors
    import sniper_app.engine.accounts
    import sniper_app.engine.actions
    import sniper_app.store.errors  # noqa: F401

    found: dict[str, type[SniperError]] = {}
    pending: list[type[SniperError]] = [SniperError]
    while pending:
        cls = pending.pop()
        found.setdefault(cls.__name__, cls)
        pending.extend(cls.__subclasses__())
    return found


def raised(exc: RemoteError) -> SniperError:
    """The error the box raised, as the same class with the same sentence (or BoxUnavailable)."""
    cls = _error_classes().get(exc.kind)
    if cls is not None and exc.status is not None and 400 <= exc.status < 500:
        try:
            return cls(exc.message)
        except TypeError:
            pass
    if exc.status in (400, 422):
        return InputError(exc.message)
    return BoxUnavailable(exc.message, kind=exc.kind)


@functools.cache
def _hints(name: str) -> dict[str, Any]:
    from sniper_app.engine.service import SniperService

    return typing.get_type_hints(getattr(SniperService, name))


class RemoteService:
    """The box's facade, reached through ``client`` (pinned, with this desktop's token)."""

    def __init__(self, client: RemoteClient) -> None:
        self.client = client

    @classmethod
    def of(cls, link: RemoteLink, *, timeout: float = 10.0) -> RemoteService:
        return cls(RemoteClient(link.address, link.fingerprint, link.token, timeout=timeout))

    @property
    def box(self) -> str:
        return str(self.client.address)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def __aenter__(self) -> RemoteService:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _call(self, name: str, /, **kwargs: Any) -> Any:
        hints = _hints(name)
        args = {key: to_wire(value, hints.get(key, Any)) for key, value in kwargs.items()}
        try:
            data = await self.client.call(name, args)
        except RemoteError as exc:
            raise raised(exc) from None
        try:
            return from_wire(hints.get("return", Any), data)
        except WireError as exc:
            raise BoxUnavailable(f"The box's answer to {name} was not understood ({exc}); update both to the "
                                 "same version.", kind="bad_reply") from None

    async def status(self) -> dict[str, Any]:
        try:
            return await self.client.status()
        except RemoteError as exc:
            raise raised(exc) from None

    # --- reads --------------------------------------------------------------------------------------

    async def snipes(self, status: SnipeStatus | Iterable[SnipeStatus] | None = None) -> tuple[SnipeView, ...]:
        if status is not None and not isinstance(status, str):
            status = tuple(status)
        result: tuple[SnipeView, ...] = await self._call("snipes", status=status)
        return result

    async def active_snipes(self) -> tuple[SnipeView, ...]:
        result: tuple[SnipeView, ...] = await self._call("active_snipes")
        return result

    async def snipe(self, snipe_id: int) -> SnipeView:
        result: SnipeView = await self._call("snipe", snipe_id=snipe_id)
        return result

    async def get_snipe(self, snipe_id: int) -> SnipeView:
        result: SnipeView = await self._call("get_snipe", snipe_id=snipe_id)
        return result

    async def find_snipe(self, snipe_id: int) -> SnipeView | None:
        result: SnipeView | None = await self._call("find_snipe", snipe_id=snipe_id)
        return result

    async def lead_choice(self, snipe_id: int) -> LeadChoice | None:
        result: LeadChoice | None = await self._call("lead_choice", snipe_id=snipe_id)
        return result

    async def groups(self) -> tuple[GroupView, ...]:
        result: tuple[GroupView, ...] = await self._call("groups")
        return result

    async def group_summaries(self) -> tuple[GroupSummary, ...]:
        result: tuple[GroupSummary, ...] = await self._call("group_summaries")
        return result

    async def list_groups(self) -> list[GroupSummary]:
        result: list[GroupSummary] = await self._call("list_groups")
        return result

    async def exposure(self, spending_cap: str | None = None, period_days: int | None = None) -> ExposureView:
        """Under the box's own cap and period unless they are given."""
        result: ExposureView = await self._call("exposure", spending_cap=spending_cap, period_days=period_days)
        return result

    async def record(self) -> Record:
        result: Record = await self._call("record")
        return result

    async def watch_items(self) -> tuple[WatchView, ...]:
        result: tuple[WatchView, ...] = await self._call("watch_items")
        return result

    async def history_page(
        self,
        history_filter: HistoryFilter | None = None,
        *,
        cursor: HistoryCursor | None = None,
        limit: int | None = None,
        details: bool = False,
    ) -> HistoryPage:
        args: dict[str, Any] = {"cursor": cursor, "details": details}
        if history_filter is not None:
            args["history_filter"] = history_filter
        if limit is not None:
            args["limit"] = limit
        result: HistoryPage = await self._call("history_page", **args)
        return result

    async def count_history(self, history_filter: HistoryFilter | None = None) -> int:
        args = {"history_filter": history_filter} if history_filter is not None else {}
        result: int = await self._call("count_history", **args)
        return result

    async def account(self) -> AccountView:
        result: AccountView = await self._call("account")
        return result

    async def linked_username(self) -> str | None:
        result: str | None = await self._call("linked_username")
        return result

    async def pending_count(self) -> int:
        result: int = await self._call("pending_count")
        return result

    async def clock_state(self) -> ClockState:
        result: ClockState = await self._call("clock_state")
        return result

    async def metrics_snapshot(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("metrics_snapshot")
        return result

    # --- the box's engine settings (not the facade's: the box's settings file) ------------------------

    async def engine_settings(self) -> dict[str, Any]:
        """The settings that steer the box's engine, as the box has saved them, by field name."""
        try:
            data = await self.client.call("engine_settings")
        except RemoteError as exc:
            raise raised(exc) from None
        if not isinstance(data, dict):
            raise BoxUnavailable("The box's settings were not understood; update both to the same version.",
                                 kind="bad_reply")
        return data

    async def change_engine_setting(self, field: str, value: str | int | float | bool | None) -> dict[str, Any]:
        """Change one of them on the box (validated there as its own 'config set' would); returns the saved
        value, when it applies (``live`` or ``restart``) and the box's variable that overrides it, if any."""
        try:
            data = await self.client.call("change_engine_setting", {"field": field, "value": value})
        except RemoteError as exc:
            raise raised(exc) from None
        if not isinstance(data, dict):
            raise BoxUnavailable("The box's answer was not understood; update both to the same version.",
                                 kind="bad_reply")
        return data

    # --- commands -----------------------------------------------------------------------------------

    async def preview_item(self, text: str) -> ItemPreview:
        result: ItemPreview = await self._call("preview_item", text=text)
        return result

    async def add_snipe(
        self, item: str, max_amount: str, *, lead: float | Literal["auto"] | None = None, group: str | None = None,
        confirmed: bool = True, includes_shipping: bool = False,
    ) -> tuple[SnipeView, list[str]]:
        result: tuple[SnipeView, list[str]] = await self._call(
            "add_snipe", item=item, max_amount=max_amount, lead=lead, group=group, confirmed=confirmed,
            includes_shipping=includes_shipping,
        )
        return result

    async def edit_snipe(
        self, snipe_id: int, *, max_amount: str | None = None, lead: float | Literal["auto"] | None = None,
        confirmed: bool = True, includes_shipping: bool | None = None,
    ) -> tuple[SnipeView, list[str]]:
        result: tuple[SnipeView, list[str]] = await self._call(
            "edit_snipe", snipe_id=snipe_id, max_amount=max_amount, lead=lead, confirmed=confirmed,
            includes_shipping=includes_shipping,
        )
        return result

    async def cancel_snipe(self, snipe_id: int) -> SnipeView:
        result: SnipeView = await self._call("cancel_snipe", snipe_id=snipe_id)
        return result

    async def add_group(self, name: str, target_wins: int = 1) -> GroupView:
        result: GroupView = await self._call("add_group", name=name, target_wins=target_wins)
        return result

    async def sync_watchlist(self) -> WatchSyncResult:
        result: WatchSyncResult = await self._call("sync_watchlist")
        return result

    async def start_link(self) -> str:
        result: str = await self._call("start_link")
        return result

    async def complete_link(self, pasted_url: str) -> EbayUser:
        result: EbayUser = await self._call("complete_link", pasted_url=pasted_url)
        return result

    async def account_status(self) -> AccountStatus:
        result: AccountStatus = await self._call("account_status")
        return result

    async def unlink(self) -> UnlinkResult:
        result: UnlinkResult = await self._call("unlink")
        return result

    async def set_paused(self, paused: bool) -> None:
        await self._call("set_paused", paused=paused)

    async def measure_clock(self) -> ClockState:
        result: ClockState = await self._call("measure_clock")
        return result



@dataclass(frozen=True)
class Pairing:
    """A desktop newly paired with a box: the link it keeps, the box's status, and the box it replaced."""

    link: RemoteLink
    status: dict[str, Any]
    replaced: RemoteLink | None


@dataclass(frozen=True)
class DesktopLink:
    """Where this desktop keeps its link to a box: a note in its data folder (address and pin, no token) and
    the link itself in its secret store. The command line and the window's Settings › Remote both pair,
    read and forget through this, so they leave the same traces."""

    data_dir: Path
    secrets: SecretStore

    def box(self) -> str | None:
        """The box this desktop drives, by address (None: it runs its own engine)."""
        from sniper_app.remote.credentials import marked_box

        return marked_box(self.data_dir)

    async def link(self) -> RemoteLink | None:
        from sniper_app.remote.credentials import aload_link

        return await aload_link(self.secrets) if self.box() is not None else None

    async def connect(self, invite_text: str, name: str) -> Pairing:
        """Pin the invite's certificate, spend its secret, keep the link; InputError for an invite that is
        damaged, spent or expired, BoxUnavailable for a box that cannot be reached or is not the invite's."""
        from sniper_app.remote.credentials import aload_link, asave_link, mark_connected
        from sniper_app.remote.invite import InviteError, parse_invite

        try:
            invite = parse_invite(invite_text)
        except InviteError as exc:
            raise InputError(str(exc)) from None
        try:
            async with RemoteClient(invite.address, invite.fingerprint) as client:
                token = await client.pair(invite.secret, name)
                status = await client.status()
        except RemoteError as exc:
            if exc.kind == "bad_invite":
                raise InputError(exc.message) from None
            error = raised(exc)
            raise (error if isinstance(error, InputError) else BoxUnavailable(exc.message, kind=exc.kind)) from None
        link = RemoteLink(invite.address, invite.fingerprint, token)
        previous = await aload_link(self.secrets) if self.box() is not None else None
        await asave_link(self.secrets, link)
        await asyncio.to_thread(mark_connected, self.data_dir, link)
        return Pairing(link, status, previous)

    async def disconnect(self) -> str | None:
        """Forget the box; returns its address (None when none was driven). The note goes first: a secret
        store that cannot open must not keep this computer tied to the box."""
        from sniper_app.ebay.errors import NoKeyring
        from sniper_app.remote.credentials import aforget_link, unmark

        box = self.box()
        if box is None:
            return None
        unmark(self.data_dir)
        with contextlib.suppress(NoKeyring):
            await aforget_link(self.secrets)
        return box


async def status_and_latency(link: RemoteLink) -> tuple[dict[str, Any], float]:
    """The box's status and the time one status request takes, in seconds, once the connection is open
    (the first request pins the certificate and pays for the handshake)."""
    async with RemoteService.of(link) as service:
        await service.status()
        started = time.perf_counter()
        status = await service.status()
        return status, time.perf_counter() - started
