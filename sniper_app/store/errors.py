"""Errors of the store; each ``str(err)`` is a sentence the user can read."""

from __future__ import annotations

from sniper_app.domain.errors import SniperError


class StoreError(SniperError):
    """The database cannot be opened or used as asked."""


class SchemaTooNew(StoreError):
    """The database was written by a newer version of the app than this one."""


class NotFound(StoreError, LookupError):
    """A snipe, group, user or event that the caller named does not exist."""
