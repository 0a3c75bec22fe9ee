"""The periodic watch-list sync, driven by the engine's scheduler."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sniper_app.ebay import NeedsRelink
from sniper_app.engine.engine_state import EngineBase
from sniper_app.engine.sync import sync_watchlist

log = logging.getLogger(__name__)


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
            await sync_watchlist(self.store, self.client, self.user_id, bus=self.bus, metrics=self.metrics)
        except NeedsRelink as exc:
            self._on_needs_relink(exc)
        except Exception:
            log.exception("periodic watch-list sync failed")
