"""Small pieces the dialogs share: the inline message label beside a field, and its colours.

A message's colour is a tone (error, warning, ok, note), not a fixed colour: a dark red that reads well on
a light window almost vanishes on a dark one. Each tone has a shade for light and one for dark windows,
both at least 4.5:1 against the window (WCAG AA), and labels take the right one whenever the palette changes.
"""

from __future__ import annotations

import weakref
from typing import Final

from sniper_app.ui.qt import QtCore, QtGui, QtWidgets

# Tones, by name; they are what ``message_label`` and ``set_tone`` take.
ERROR_STYLE: Final = "error"
WARNING_STYLE: Final = "warning"
OK_STYLE: Final = "ok"
NOTE_STYLE: Final = "note"
LINK_TONE: Final = "link"

# (on a light window, on a dark window)
_SHADES: Final = {
    ERROR_STYLE: ("#b00020", "#ffa49a"),
    WARNING_STYLE: ("#7a4f00", "#ffcc66"),
    OK_STYLE: ("#1b5e20", "#81c784"),
    NOTE_STYLE: ("#595959", "#b8b8b8"),
    LINK_TONE: ("#0b57d0", "#8ab4f8"),
}
MIN_CONTRAST: Final = 4.5


def luminance(colour: QtGui.QColor) -> float:
    """WCAG relative luminance of an sRGB colour."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())


def contrast(a: QtGui.QColor, b: QtGui.QColor) -> float:
    """WCAG contrast ratio of two colours, 1 to 21."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def is_dark(palette: QtGui.QPalette) -> bool:
    window = palette.color(QtGui.QPalette.ColorRole.Window)
    return luminance(window) < luminance(palette.color(QtGui.QPalette.ColorRole.WindowText))


def tone_colour(tone: str, palette: QtGui.QPalette | None = None) -> QtGui.QColor:
    """The shade of ``tone`` that reads on ``palette``'s window (the application's palette by default)."""
    palette = palette if palette is not None else QtGui.QGuiApplication.palette()
    background = palette.color(QtGui.QPalette.ColorRole.Window)
    if tone == LINK_TONE:
        own = palette.color(QtGui.QPalette.ColorRole.Link)
        if contrast(own, background) >= MIN_CONTRAST:  # the desktop's own link colour, where it reads
            return own
    light, dark = _SHADES.get(tone, _SHADES[NOTE_STYLE])
    return QtGui.QColor(dark if is_dark(palette) else light)


def tone_style(tone: str, palette: QtGui.QPalette | None = None) -> str:
    return f"color: {tone_colour(tone, palette).name()};"


def set_tone(label: QtWidgets.QLabel, tone: str) -> None:
    """Colour ``label`` in ``tone``, now and after every later change of the application's palette."""
    label.setProperty("tone", tone)
    # The parent's palette, not the label's: a style sheet fixes the label's own palette at its first polish.
    parent = label.parentWidget()
    style = tone_style(tone, parent.palette() if parent is not None else None)
    if label.styleSheet() != style:
        label.setStyleSheet(style)
    _ToneFollower.instance().follow(label)


class _ToneFollower(QtCore.QObject):
    """Re-colours toned labels when the application's palette changes (light to dark and back)."""

    _one: _ToneFollower | None = None

    def __init__(self, parent: QtCore.QObject | None) -> None:
        super().__init__(parent)
        self._labels: weakref.WeakSet[QtWidgets.QLabel] = weakref.WeakSet()
        # Qt tells the style hints of every change of the application's palette (and the labels, which a
        # style sheet pins to a palette of their own, not at all): one cheap object to watch.
        self._hints = QtGui.QGuiApplication.styleHints()
        self._hints.installEventFilter(self)

    @classmethod
    def instance(cls) -> _ToneFollower:
        if cls._one is None:
            cls._one = cls(QtCore.QCoreApplication.instance())
        return cls._one

    def follow(self, label: QtWidgets.QLabel) -> None:
        self._labels.add(label)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.ApplicationPaletteChange and watched is self._hints:
            # After the event: the new palette reaches the windows once every widget has been told.
            QtCore.QTimer.singleShot(0, self, self._recolour)
        return False

    def _recolour(self) -> None:
        for label in list(self._labels):
            try:
                tone = label.property("tone")
            except RuntimeError:  # its C++ side is gone
                continue
            if isinstance(tone, str):
                set_tone(label, tone)


def message_label(
    parent: QtWidgets.QWidget, name: str, style: str = ERROR_STYLE, *, visible: bool = False
) -> QtWidgets.QLabel:
    """A wrapped, selectable label for one sentence (a problem, a warning, a note); hidden until used."""
    label = QtWidgets.QLabel(parent)
    label.setObjectName(name)
    label.setWordWrap(True)
    set_tone(label, style)
    # Selectable, so a user can copy eBay's or the app's exact words into a search or a bug report.
    label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setVisible(visible)
    return label


def link_html(url: str, text: str, palette: QtGui.QPalette | None = None) -> str:
    """An HTML link for a label, in a colour that reads on the window and without an underline: the
    text is a title first, a link second. Both arguments are escaped."""
    import html

    colour = tone_colour(LINK_TONE, palette).name()
    return (f'<a href="{html.escape(url, quote=True)}" style="color: {colour}; text-decoration: none;">'
            f"{html.escape(text)}</a>")


class HorizontalStrip(QtWidgets.QScrollArea):
    """A one-row bar of controls that scrolls sideways when the window is narrower than the row.

    A filter bar wider than a small window would otherwise set the whole window's minimum width; here it
    keeps its controls whole and gives up only the view of its right end, with a scroll bar to reach it.
    """

    def __init__(self, content: QtWidgets.QWidget, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"{content.objectName() or 'bar'}Strip")
        self.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.setWidgetResizable(True)
        self.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)
        self.setWidget(content)
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # the controls take focus, not the strip

    def _needs_scroll_bar(self) -> bool:
        content = self.widget()
        return content is not None and content.minimumSizeHint().width() > self.viewport().width()

    def sizeHint(self) -> QtCore.QSize:
        content = self.widget()
        hint = content.sizeHint() if content is not None else QtCore.QSize(0, 0)
        bar = self.horizontalScrollBar().sizeHint().height() if self._needs_scroll_bar() else 0
        return QtCore.QSize(hint.width(), hint.height() + bar)

    def minimumSizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(120, self.sizeHint().height())

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self.updateGeometry()  # the scroll bar comes or goes with the width, and the height follows it


class _WrappedHeights(QtCore.QObject):
    """See :func:`keep_wrapped_labels_whole`."""

    def __init__(self, root: QtWidgets.QWidget) -> None:
        super().__init__(root)
        self._root = root
        self._watched: set[int] = set()
        root.installEventFilter(self)

    def fit(self) -> None:
        for label in self._root.findChildren(QtWidgets.QLabel):
            if not label.wordWrap():
                continue
            if id(label) not in self._watched:
                self._watched.add(id(label))
                label.installEventFilter(self)
            self._fit(label)

    @staticmethod
    def _fit(label: QtWidgets.QLabel) -> None:
        width = label.width()
        # Before it is shown a label's width is a placeholder: fitted to it, a dialog would open too tall.
        if width > 0 and label.text() and label.isVisible():
            held = label.minimumHeight()
            label.setMinimumHeight(0)  # QLabel's height for a width is never below its minimum: ask without it
            need = label.heightForWidth(width)
            label.setMinimumHeight(need if need > 0 else held)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        kind = event.type()
        if watched is self._root and kind in (QtCore.QEvent.Type.Show, QtCore.QEvent.Type.LayoutRequest):
            self.fit()
        elif kind == QtCore.QEvent.Type.Resize and isinstance(watched, QtWidgets.QLabel):
            self._fit(watched)
        return False


def keep_wrapped_labels_whole(root: QtWidgets.QWidget) -> None:
    """Keep each word-wrapped label of ``root`` as tall as its lines need at the width it is given.

    Qt lays a window out from its labels' minimum sizes, which do not ask how tall a wrapped sentence is
    at the width it ends up with: narrowed, or with a large font, a dialog squeezes its lines into each
    other. Each label's minimum height follows its width instead, so the window grows to hold them.
    """
    _WrappedHeights(root)
