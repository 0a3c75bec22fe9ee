"""Every icon the window shows, by name: ``icon("add")``, ``status_icon(SnipeStatus.WON)``.

The glyphs come from Material Design Icons through qtawesome (its code MIT, the font Apache 2.0/OFL). A
glyph is drawn at whatever size and pixel ratio Qt asks for, so icons stay sharp at 2×. Its colour is the
palette's text colour at the moment of asking, so light and dark themes both read; whatever holds an icon
is re-given it when the application's palette changes (:func:`follow_palette`). Outcome statuses carry a
tone of their own, chosen to read on light and dark backgrounds alike.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Final

from sniper_app.domain.status import SnipeStatus
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets

log = logging.getLogger(__name__)

_FONT: Final = "mdi6"

# One name per thing the window shows; the glyph behind it can change without touching a caller.
GLYPHS: Final[dict[str, str]] = {
    "add": "plus-circle-outline",
    "add_from_clipboard": "clipboard-arrow-down-outline",
    "edit": "pencil-outline",
    "cancel": "close-circle-outline",
    "details": "information-outline",
    "sync": "sync",
    "pause": "pause-circle-outline",
    "link": "link-variant",
    "settings": "cog-outline",
    "export": "file-export-outline",
    "close": "window-close",
    "quit": "power",
    "about": "help-circle-outline",
    "show": "application-outline",
    "folder": "folder-outline",
    "readme": "file-document-outline",
    "watch_list": "eye-outline",
    "snipes": "target",
    "history": "history",
    "diagnostics": "chart-timeline-variant",
    "empty_account": "link-off",
    "empty_snipes": "target",
    "empty_filter": "text-box-search-outline",
}

# Outcomes carry a colour as well as a shape; each tone has at least 3:1 contrast (WCAG's bar for
# graphics) on both a white and a near-black background. Other statuses take the text colour.
WON_TONE: Final = "#2f9e44"
LOST_TONE: Final = "#e8590c"
FAILED_TONE: Final = "#e03131"
MISSED_TONE: Final = "#b7791f"

STATUS_GLYPHS: Final[dict[SnipeStatus, tuple[str, str | None]]] = {
    SnipeStatus.PENDING: ("timer-sand", None),
    SnipeStatus.SCHEDULED: ("clock-outline", None),
    SnipeStatus.PLACING: ("progress-clock", None),
    SnipeStatus.PLACED: ("send-check-outline", None),
    SnipeStatus.WON: ("trophy-outline", WON_TONE),
    SnipeStatus.LOST: ("thumb-down-outline", LOST_TONE),
    SnipeStatus.FAILED: ("alert-circle", FAILED_TONE),
    SnipeStatus.CANCELLED: ("cancel", None),
    SnipeStatus.MISSED: ("clock-alert-outline", MISSED_TONE),
    SnipeStatus.SKIPPED: ("minus-circle", None),
}

_cache: dict[tuple[str, str, str, str], QtGui.QIcon] = {}


def _palette() -> QtGui.QPalette:
    app = QtWidgets.QApplication.instance()
    return app.palette() if isinstance(app, QtWidgets.QApplication) else QtGui.QPalette()


def _glyph_icon(glyph: str, colour: str | None = None) -> QtGui.QIcon:
    palette = _palette()
    group, role = QtGui.QPalette.ColorGroup, QtGui.QPalette.ColorRole
    normal = colour or palette.color(group.Active, role.WindowText).name()
    disabled = palette.color(group.Disabled, role.WindowText).name()
    # A selected table row is drawn in the highlight colour: its icon follows the highlighted text.
    selected = colour or palette.color(group.Active, role.HighlightedText).name()
    key = (glyph, normal, disabled, selected)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    try:
        # qtawesome reaches Qt through qtpy, which would pick PyQt5 first if one happened to be installed.
        os.environ.setdefault("QT_API", "pyside6")
        import qtawesome

        made: QtGui.QIcon = qtawesome.icon(
            f"{_FONT}.{glyph}", color=normal, color_active=normal, color_disabled=disabled, color_selected=selected
        )
    except Exception:  # a damaged install must cost the pictures, never the window
        log.warning("icon %s could not be drawn", glyph, exc_info=True)
        made = QtGui.QIcon()
    _cache[key] = made
    return made


def icon(name: str) -> QtGui.QIcon:
    """The icon called ``name`` (a key of :data:`GLYPHS`) in the current palette's colours."""
    return _glyph_icon(GLYPHS[name])


def status_icon(status: SnipeStatus | str) -> QtGui.QIcon:
    """The icon of a snipe's status: a shape for each, and a colour for the outcomes."""
    glyph, tone = STATUS_GLYPHS[SnipeStatus(status)]
    return _glyph_icon(glyph, tone)


def status_tone(status: SnipeStatus | str) -> QtGui.QColor | None:
    """The colour an outcome is shown in (None: the ordinary text colour)."""
    tone = STATUS_GLYPHS[SnipeStatus(status)][1]
    return QtGui.QColor(tone) if tone else None


class _PaletteWatch(QtCore.QObject):
    """Calls ``apply`` again whenever the application's palette changes (a dark theme switched on)."""

    def __init__(self, owner: QtCore.QObject, apply: Callable[[], None]) -> None:
        super().__init__(owner)
        self._apply = apply
        app = QtCore.QCoreApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.ApplicationPaletteChange:
            self._apply()
        return False


def follow_palette(owner: QtCore.QObject, apply: Callable[[], None]) -> None:
    """Run ``apply`` (which sets icons) now, and again after every palette change while ``owner`` lives."""
    apply()
    _PaletteWatch(owner, apply)
