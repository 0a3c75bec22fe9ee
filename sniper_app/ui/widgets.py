"""Small pieces the dialogs share: the inline message label beside a field, and its colours."""

from __future__ import annotations

from typing import Final

from sniper_app.ui.qt import QtCore, QtWidgets

ERROR_STYLE: Final = "color: #b00020;"
WARNING_STYLE: Final = "color: #8a5a00;"
OK_STYLE: Final = "color: #1b5e20;"
NOTE_STYLE: Final = "color: #666;"


def message_label(
    parent: QtWidgets.QWidget, name: str, style: str = ERROR_STYLE, *, visible: bool = False
) -> QtWidgets.QLabel:
    """A wrapped, selectable label for one sentence (a problem, a warning, a note); hidden until used."""
    label = QtWidgets.QLabel(parent)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setStyleSheet(style)
    # Selectable, so a user can copy eBay's or the app's exact words into a search or a bug report.
    label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setVisible(visible)
    return label
