"""What a command runs in: the app context of the data dir, and the facade it acts on under a deadline: the
local engine's data (reads over the store, an eBay client when a command needs one), or, while this desktop
is connected to a box, the box's engine over the network (:class:`~sniper_app.remote.service.RemoteService`)."""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar, Union

from sniper_app.domain.errors import InputError, SniperError

if TYPE_CHECKING:
    from sniper_app.app import AppContext
    from sniper_app.cli.output import Output
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
    from sniper_app.ebay import EbayClient, EbayUser
    from sniper_app.engine.accounts import AccountStatus, UnlinkResult
    from sniper_app.remote.credentials import RemoteLink
    from sniper_app.remote.service import RemoteService

T = TypeVar("T")

COMMAND_DEADLINE_S = 90.0  # SNIPER_COMMAND_DEADLINE_S may shorten it (slow-network tests, scripts)


class CommandTimedOut(SniperError):
    """A command's total deadline passed."""


@contextmanager
def command_context(args: argparse.Namespace) -> Iterator[AppContext]:
    """The app context of this command: the running demo's with --demo, else the user's settings."""
    from sniper_app.app import app_context, running_demo_settings
    from sniper_app.config import load_settings
    from sniper_app.logging_setup import setup_logging

    if args.log_level:
        setup_logging(args.log_level)
    settings = running_demo_settings() if args.demo else load_settings()
    with app_context(settings, demo=args.demo) as ctx:
        try:
            yield ctx
        except Exception as exc:
            # Damage found past the file's header (a read of a broken page) is the same story as at opening.
            from sniper_app.engine.reads import read_failure

            failure = read_failure(exc, ctx.store.path)
            if failure is None:
                raise
            raise failure from None


def command_deadline() -> float:
    try:
        return float(os.environ.get("SNIPER_COMMAND_DEADLINE_S") or COMMAND_DEADLINE_S)
    except ValueError:
        raise InputError("SNIPER_COMMAND_DEADLINE_S must be a number of seconds.") from None



class LocalFacade:
    """The local engine's facade for one command: reads over the open store, commands with an eBay client
    built at their first need. The same coroutines as :class:`~sniper_app.remote.service.RemoteService`, so
    a command reads the same whichever engine answers."""

    def __init__(self, ctx: AppContext) -> None:
        from sniper_app.engine.reads import Reads

        self.ctx = ctx
        self.reads = Reads(ctx.store, ctx.user_id)
        self._client: EbayClient | None = None

    @property
    def client(self) -> EbayClient:
        if self._client is None:
            self._client = self.ctx.build_client()
        return self._client

    @property
    def in_flight(self) -> str | int | None:
        return self._client.transport.in_flight if self._client is not None else None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # --- reads --------------------------------------------------------------------------------------

    async def snipes(self, status: SnipeStatus | None = None) -> tuple[SnipeView, ...]:
        return self.reads.snipes(status)

    async def active_snipes(self) -> tuple[SnipeView, ...]:
        return self.reads.active_snipes()

    async def snipe(self, snipe_id: int) -> SnipeView:
        return self.reads.snipe(snipe_id)

    async def exposure(self, spending_cap: str | None = None, period_days: int | None = None) -> ExposureView:
        """Under this computer's cap and period unless they are given, as the engine counts it."""
        settings = self.ctx.settings
        return self.reads.exposure(settings.spending_cap if spending_cap is None else spending_cap,
                                   settings.spending_period_days if period_days is None else period_days)

    async def record(self) -> Record:
        return self.reads.record()

    async def lead_choice(self, snipe_id: int) -> LeadChoice | None:
        return self.reads.lead_choice(snipe_id)

    async def group_summaries(self) -> tuple[GroupSummary, ...]:
        return self.reads.group_summaries()

    async def watch_items(self) -> tuple[WatchView, ...]:
        return self.reads.watch_items()

    async def history_page(
        self,
        history_filter: HistoryFilter | None = None,
        *,
        cursor: HistoryCursor | None = None,
        limit: int | None = None,
        details: bool = False,
    ) -> HistoryPage:
        from sniper_app.domain.views import HistoryFilter

        wanted = history_filter or HistoryFilter()
        if limit is None:
            return self.reads.history_page(wanted, cursor=cursor, details=details)
        return self.reads.history_page(wanted, cursor=cursor, limit=limit, details=details)

    async def count_history(self) -> int:
        return self.reads.count_history()

    async def account(self) -> AccountView:
        return self.reads.account()

    async def metrics_snapshot(self) -> dict[str, Any]:
        """What a running engine last wrote of its metrics (empty when none has run)."""
        import json

        from sniper_app.bootstrap import METRICS_FILE

        try:
            data = json.loads((self.ctx.data_dir / METRICS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    # --- commands -----------------------------------------------------------------------------------

    async def add_snipe(
        self, item: str, max_amount: str, *, lead: float | Literal["auto"] | None = None, group: str | None = None,
        confirmed: bool = True, includes_shipping: bool = False,
    ) -> tuple[SnipeView, list[str]]:
        return await self.ctx.actions(self.client).add_snipe(
            item, max_amount, lead=lead, group=group, confirmed=confirmed, includes_shipping=includes_shipping)

    async def edit_snipe(
        self, snipe_id: int, *, max_amount: str | None = None, lead: float | Literal["auto"] | None = None,
        confirmed: bool = True, includes_shipping: bool | None = None,
    ) -> tuple[SnipeView, list[str]]:
        return await self.ctx.actions(self.client).edit_snipe(
            snipe_id, max_amount=max_amount, lead=lead, confirmed=confirmed, includes_shipping=includes_shipping)

    async def cancel_snipe(self, snipe_id: int) -> SnipeView:
        return await self.ctx.actions(None).cancel_snipe(snipe_id)

    async def add_group(self, name: str, target_wins: int = 1) -> GroupView:
        return self.ctx.actions(None).add_group(name, target_wins)

    async def sync_watchlist(self) -> WatchSyncResult:
        return await self.ctx.actions(self.client).sync_watchlist()

    async def start_link(self) -> str:
        return self.ctx.accounts(self.client).start_link()

    async def complete_link(self, pasted_url: str) -> EbayUser:
        return await self.ctx.accounts(self.client).complete_link(pasted_url)

    async def account_status(self) -> AccountStatus:
        return await self.ctx.accounts(self.client).status()

    async def unlink(self) -> UnlinkResult:
        return await self.ctx.accounts(self.client).unlink()


Facade = Union[LocalFacade, "RemoteService"]


@dataclass
class Session:
    """What one command acts on: the local engine's data, or the box this desktop is connected to."""

    ctx: AppContext
    link: RemoteLink | None

    @property
    def box(self) -> str | None:
        return str(self.link.address) if self.link is not None else None

    def run(self, work: Callable[[Facade], Coroutine[Any, Any, T]]) -> T:
        """``work(facade)`` under the command's deadline, with the facade opened and closed around it."""
        deadline = command_deadline()

        async def run() -> T:
            facade: LocalFacade | RemoteService
            if self.link is not None:
                from sniper_app.remote.service import RemoteService

                facade = RemoteService.of(self.link)
            else:
                facade = LocalFacade(self.ctx)
            try:
                async with asyncio.timeout(deadline):
                    return await work(facade)
            except TimeoutError:
                if isinstance(facade, LocalFacade):
                    waiting = facade.in_flight
                    what = f"eBay did not answer {waiting}" if waiting else "the keyring or eBay did not answer"
                else:
                    what = f"the box at {self.box} did not answer"
                raise CommandTimedOut(f"Gave up after {deadline:g} s: {what} in time. Try again later.") from None
            finally:
                await facade.aclose()

        return asyncio.run(run())


class PairingLost(SniperError):
    """This desktop is marked as driving a box, but its pairing is gone from the secret store."""


def stored_link(ctx: AppContext) -> RemoteLink | None:
    """The box this desktop is connected to, if any. The secret store is opened only when the data folder
    says a box is driven, so a desktop that never connected behaves as before."""
    from sniper_app.remote.credentials import load_link, marked_box

    box = marked_box(ctx.data_dir)
    if box is None:
        return None
    link = load_link(ctx.secrets)
    if link is None:
        raise PairingLost(
            f"This computer drives {box}, but its pairing is missing from the secret store; connect again with a "
            "new invite ('sniper-app remote connect'), or run 'sniper-app remote disconnect' to use this "
            "computer's own engine."
        )
    return link


@contextmanager
def command_session(args: argparse.Namespace) -> Iterator[Session]:
    """The command's session: on the box while this desktop is connected to one (``--demo`` always acts on
    the local demo), else on the local data."""
    with command_context(args) as ctx:
        yield Session(ctx, None if args.demo else stored_link(ctx))


def say_this_computer(args: argparse.Namespace, out: Output, what: str) -> None:
    """While this desktop drives a box, a command that reads or writes this computer's own settings or secret
    store says so beside its result (on stderr, so the result scripts read is unchanged): the box's engine
    runs on the box's settings and keys, which are changed on the box."""
    import json

    from sniper_app.config import load_settings
    from sniper_app.remote.credentials import marked_box

    if args.demo:
        return
    try:
        box = marked_box(load_settings().resolved_data_dir())
    except SniperError:
        return  # the command itself reports settings it cannot read
    if box is None:
        return
    note = (f"{what} this computer, not the box at {box}: the box's engine runs on its own settings and "
            "secrets, so change those on the box.")
    print(json.dumps({"note": note, "machine": "this computer", "box": box}) if out.as_json else note, file=out.err)
