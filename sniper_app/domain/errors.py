"""Errors the user can cause or meet, each carrying a sentence they can understand."""

from __future__ import annotations


class SniperError(Exception):
    """Base of every error the app reports to the user; ``str(err)`` is the user's sentence."""


class InputError(SniperError, ValueError):
    """Something the user typed (or eBay sent) is not acceptable; the message says what was expected."""


class NoSuchSnipe(InputError, LookupError):
    """The user named a snipe (or group) that does not exist, or is another profile's."""


class RuleViolation(InputError):
    """A new or edited snipe breaks one of the rules (too low, ends too soon, duplicate, ...)."""


class IllegalTransition(SniperError):
    """A snipe status change that the state machine forbids (e.g. a cancelled snipe firing)."""
