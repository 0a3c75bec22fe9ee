"""What a command runs in: the app context of the data dir, its reads, and an eBay client under a deadline."""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from sniper_app.domain.errors import InputError, SniperError

if TYPE_CHECKING:
    from sniper_app.app import AppContext
    from sniper_app.ebay import EbayClient
    from sniper_app.engine.reads import Reads

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


def reads_of(ctx: AppContext) -> Reads:
    from sniper_app.engine.reads import Reads

    return Reads(ctx.store, ctx.user_id)


def with_client(ctx: AppContext, work: Callable[[EbayClient], Coroutine[Any, Any, T]]) -> T:
    try:
        deadline = float(os.environ.get("SNIPER_COMMAND_DEADLINE_S") or COMMAND_DEADLINE_S)
    except ValueError:
        raise InputError("SNIPER_COMMAND_DEADLINE_S must be a number of seconds.") from None

    async def run() -> T:
        client = ctx.build_client()
        try:
            # A whole command has a deadline too: each request has one, but retries, pages and a keyring
            # prompt add up, and a command line must come back.
            async with asyncio.timeout(deadline):
                return await work(client)
        except TimeoutError:
            waiting = client.transport.in_flight
            what = f"eBay did not answer {waiting}" if waiting else "the keyring or eBay did not answer"
            raise CommandTimedOut(f"Gave up after {deadline:g} s: {what} in time. Try again later.") from None
        finally:
            await client.aclose()

    return asyncio.run(run())

