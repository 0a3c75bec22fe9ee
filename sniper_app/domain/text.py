"""Text from eBay or the user made safe to show and sane to keep: control characters visible, lengths bounded."""

from __future__ import annotations

import re

from sniper_app.domain.errors import InputError

# eBay titles are at most 80 characters; anything far longer is not a title and is cut, not stored whole.
MAX_TITLE_LENGTH = 300
MAX_GROUP_NAME_LENGTH = 60
# The most snipes one group holds, so "win N of these" can never ask for more wins than it could have.
MAX_GROUP_SIZE = 100

# C0 and C1 controls, DEL, bidirectional overrides/isolates and the Unicode line/paragraph separators:
# each can move the cursor, recolour or retitle a terminal, or make text read in another order.
_FORMAT = "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f{_FORMAT}]")
_CONTROL_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_FORMAT}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``), so a terminal only prints it."""
    return (_CONTROL_BUT_NEWLINE if keep_newlines else _CONTROL).sub(_escape, text)


def has_control(text: str) -> bool:
    return _CONTROL.search(text) is not None


def clip_title(title: str | None) -> str:
    """An eBay title bounded to :data:`MAX_TITLE_LENGTH` characters (cut with an ellipsis)."""
    if not title:
        return ""
    if len(title) <= MAX_TITLE_LENGTH:
        return title
    return title[: MAX_TITLE_LENGTH - 1] + "…"


def check_group_name(name: str) -> str:
    """The group name stripped, or :class:`InputError` if it is empty, too long or holds control characters."""
    name = name.strip()
    if not name:
        raise InputError("A group needs a name.")
    if len(name) > MAX_GROUP_NAME_LENGTH:
        raise InputError(f"A group name can be at most {MAX_GROUP_NAME_LENGTH} characters ({len(name)} given).")
    if has_control(name):
        raise InputError("A group name cannot contain control characters such as line breaks or escapes.")
    return name


def check_group_wins(target_wins: int) -> int:
    """The number of wins a group aims for: 1 to :data:`MAX_GROUP_SIZE`."""
    if isinstance(target_wins, bool) or not isinstance(target_wins, int) or target_wins < 1:
        raise InputError("A group must aim to win at least one item (--wins 1 or more).")
    if target_wins > MAX_GROUP_SIZE:
        raise InputError(
            f"A group holds at most {MAX_GROUP_SIZE} snipes, so it can aim to win at most {MAX_GROUP_SIZE}."
        )
    return target_wins
