"""Settings put in force on a running engine, and the list of those that wait for a restart."""

from __future__ import annotations

import logging
from datetime import UTC, timedelta

from apscheduler.triggers.interval import IntervalTrigger

from sniper_app.config import Settings, changed_fields, needs_restart
from sniper_app.engine.bus import SettingsApplied
from sniper_app.engine.engine_state import EngineBase

log = logging.getLogger(__name__)


class SettingsApplier(EngineBase):
    """Applies changed settings to the running engine."""

    # --- settings -----------------------------------------------------------------------------------

    def apply_settings(self, new: Settings) -> list[str]:
        """Put ``new`` in force at once where it can be; returns the changed fields that wait for a restart
        (those keep their old values in :attr:`settings`, which is always what this engine runs on)."""
        old = self.settings
        changed = changed_fields(old, new)
        waiting = [name for name in changed if needs_restart(name)]
        applied = [name for name in changed if not needs_restart(name)]
        if not changed:
            return []
        self.settings = new.model_copy(update={name: getattr(old, name) for name in waiting})
        if "watchlist_sync_minutes" in applied:
            self.sync_period_s = new.watchlist_sync_minutes * 60.0
            if self.scheduler is not None and self._started and not self._stopping:
                # The next sync is one new period from now: a shorter period is felt within it.
                self.scheduler.reschedule_job("sync", trigger=IntervalTrigger(seconds=self.sync_period_s, timezone=UTC))
            log.info("the watch list now syncs every %d min", new.watchlist_sync_minutes)
        if "marketplace" in applied and self._client is not None:
            # A request header and Trading's site id, read per request: the client and its tokens stay.
            self._client.marketplace = new.marketplace
        if "time_server" in applied:
            self.clock.server = new.time_server
            if self._started and not self._stopping:
                self._spawn(self._job_clock())  # the old server's offset says nothing about the new one
        if "history_retention_days" in applied:
            self.store.retention = timedelta(days=new.history_retention_days)
        if applied:
            log.info("settings applied at once: %s", ", ".join(applied))
        if waiting:
            log.warning("settings saved that take effect when Sniper restarts: %s", ", ".join(waiting))
        self.bus.publish(SettingsApplied(settings=self.settings, applied=tuple(applied), waiting=tuple(waiting)))
        return waiting
