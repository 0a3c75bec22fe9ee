"""The periodic watch-list sync, driven by the engine's scheduler, and the check for items gone from eBay."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Final

from sniper_app.domain.status import SnipeStatus
from sniper_app.ebay import EbayError, ItemNotFound, NeedsRelink
from sniper_app.engine.engine_state import _NOT_FIRED, EngineBase, _ref
from sniper_app.engine.sync import sync_watchlist

log = logging.getLogger(__name__)

# Items looked up per sync at most: a long list of snipes off the watch list is checked over several syncs
# rather than in one burst against eBay's call limits.
VANISHED_CHECKS_PER_SYNC: Final = 25


class WatchlistDriver(EngineBase):
    """Runs the watch-list sync on the scheduler, and at once on request."""

    # --- watch list ---------------------------------------------------------------------------------

    def sync_soon(self) -> None:
        """Run the periodic watch-list sync now rather than at its next period (e.g. right after a link)."""
        if self.scheduler is not None and self._started and not self._stopping:
            self.scheduler.modify_job("sync", next_run_time=datetime.now(UTC))

    async def _job_sync(self) -> None:
        if self.client.account is None or self._needs_relink:
            return  # nothing to sync until an account is linked (again)
        try:
            result = await sync_watchlist(self.store, self.client, self.user_id, bus=self.bus, metrics=self.metrics)
            await self.fail_vanished_snipes(watched=result.kept_ids)
        except NeedsRelink as exc:
            self._on_needs_relink(exc)
        except Exception:
            log.exception("periodic watch-list sync failed")

    async def fail_vanished_snipes(self, *, watched: frozenset[str] = frozenset()) -> list[int]:
        """Fail, now and with a sentence, each snipe still to fire whose item eBay says does not exist.

        An item that merely left the watch list is not gone (the user may have unwatched it): only eBay's
        "no such item" for that very item fails a snipe. Any other answer (a timeout, a 5xx) leaves it to
        the check before the bid. Items still on the watch list exist and are not asked about. Returns the
        snipes failed.
        """
        failed: list[int] = []
        asked = 0
        for snipe in self.store.active_snipes(self.user_id):
            if SnipeStatus(snipe.status) not in _NOT_FIRED or snipe.legacy_item_id in watched:
                continue
            if asked >= VANISHED_CHECKS_PER_SYNC:
                break
            asked += 1
            try:
                await self.client.get_item(_ref(snipe), marketplace=snipe.marketplace)
            except ItemNotFound:
                pk = int(snipe.id)
                reason = (f"eBay no longer has item {snipe.legacy_item_id} (removed, or never listed): there is "
                          "nothing to bid on, so this snipe will not be placed.")
                log.info("snipe %s: item %s is gone from eBay", pk, snipe.legacy_item_id)
                self._disarm(pk)
                self._finish_unfired(pk, SnipeStatus.FAILED, reason)
                failed.append(pk)
            except NeedsRelink:
                raise
            except EbayError as exc:
                log.info("snipe %s: its item could not be checked after the sync (%s)", snipe.id, exc)
        return failed
