"""Every icon the window shows, by name: ``icon("add")``, ``status_icon(SnipeStatus.WON)``.

The glyphs are Material Design Icons (Apache 2.0), cut down to the ones named here
(resources/icons/ui-icons.ttf, made by resources/packaging/make_icon_font.py, a few kilobytes). A
glyph is drawn at whatever size and pixel ratio Qt asks for, so icons stay sharp at 2×. Its colour is the
palette's text colour at the moment of asking, so light and dark themes both read; whatever holds an icon
is re-given it when the application's palette changes (:func:`follow_palette`). Outcome statuses carry a
tone of their own, chosen to read on light and dark backgrounds alike.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable
from typing import Final

from sniper_app.domain.status import SnipeStatus
from sniper_app.resources import resource_path
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

FONT_FILE: Final = "ui-icons.ttf"  # the glyphs named here, cut from Material Design Icons
MAP_FILE: Final = "ui-icons.json"

_cache: dict[tuple[str, str, str, str], QtGui.QIcon] = {}
_font: list[tuple[str, dict[str, str]]] = []  # (font family, glyph name -> character), once loaded


class _GlyphEngine(QtGui.QIconEngine):
    """Draws one glyph of the icon font at whatever size (and pixel ratio) Qt asks, in the mode's colour."""

    def __init__(self, family: str, char: str, colours: dict[QtGui.QIcon.Mode, QtGui.QColor]) -> None:
        super().__init__()
        self._family, self._char, self._colours = family, char, colours

    def paint(self, painter: QtGui.QPainter, rect: QtCore.QRect, mode: QtGui.QIcon.Mode,
              state: QtGui.QIcon.State) -> None:
        font = QtGui.QFont(self._family)
        font.setPixelSize(max(1, rect.height()))
        painter.save()
        painter.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing)
        painter.setFont(font)
        painter.setPen(self._colours.get(mode, self._colours[QtGui.QIcon.Mode.Normal]))
        painter.drawText(QtCore.QRectF(rect), QtCore.Qt.AlignmentFlag.AlignCenter, self._char)
        painter.restore()

    def pixmap(self, size: QtCore.QSize, mode: QtGui.QIcon.Mode, state: QtGui.QIcon.State) -> QtGui.QPixmap:
        # Qt asks for size × the screen's pixel ratio: the glyph is drawn at that many real pixels.
        pixmap = QtGui.QPixmap(size)
        pixmap.fill(QtCore.Qt.GlobalColor.transparent)
        painter = QtGui.QPainter(pixmap)
        self.paint(painter, QtCore.QRect(QtCore.QPoint(0, 0), size), mode, state)
        painter.end()
        return pixmap

    def clone(self) -> QtGui.QIconEngine:
        return _GlyphEngine(self._family, self._char, dict(self._colours))


def _load_font() -> tuple[str, dict[str, str]]:
    if not _font:
        folder = resource_path("icons")
        codes = json.loads((folder / MAP_FILE).read_text(encoding="utf-8"))
        font_id = QtGui.QFontDatabase.addApplicationFont(str(folder / FONT_FILE))
        families = QtGui.QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
        if not families:
            raise OSError(f"the icon font {folder / FONT_FILE} could not be loaded")
        _font.append((families[0], {name: chr(int(code, 16)) for name, code in codes.items()}))
    return _font[0]


def _draw(glyph: str, normal: str, disabled: str, selected: str) -> QtGui.QIcon:
    family, chars = _load_font()
    mode = QtGui.QIcon.Mode
    colours = {mode.Normal: QtGui.QColor(normal), mode.Active: QtGui.QColor(normal),
               mode.Disabled: QtGui.QColor(disabled), mode.Selected: QtGui.QColor(selected)}
    return QtGui.QIcon(_GlyphEngine(family, chars[glyph], colours))


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
        made = _draw(glyph, normal, disabled, selected)
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
    """Calls every holder's ``apply`` again whenever the application's palette changes (a dark theme on).

    One filter on the application for all holders: every event of the application passes through each
    of its filters, in Python, so one per holder would be paid on each paint and mouse move.
    """

    def __init__(self, app: QtCore.QCoreApplication) -> None:
        super().__init__(app)
        self._app = app
        self._applies: dict[int, Callable[[], None]] = {}
        self._keys = itertools.count()
        app.installEventFilter(self)

    def add(self, owner: QtCore.QObject, apply: Callable[[], None]) -> None:
        key = next(self._keys)
        self._applies[key] = apply
        owner.destroyed.connect(lambda *_args: self._applies.pop(key, None))

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.ApplicationPaletteChange and watched is self._app:
            for apply in list(self._applies.values()):
                apply()
        return False


_watch: list[_PaletteWatch] = []


def follow_palette(owner: QtCore.QObject, apply: Callable[[], None]) -> None:
    """Run ``apply`` (which sets icons) now, and again after every palette change while ``owner`` lives."""
    apply()
    app = QtCore.QCoreApplication.instance()
    if app is None:
        return
    if not _watch or _watch[0]._app is not app:
        _watch[:] = [_PaletteWatch(app)]
    _watch[0].add(owner, apply)
