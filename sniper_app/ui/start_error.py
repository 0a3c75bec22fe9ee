"""The sentence that keeps the window from starting (a damaged database, a read-only data folder), in a box.

Someone who starts Sniper from a desktop menu sees no terminal: without the box the window would simply
never appear. The same sentence still goes to stderr for a terminal and for scripts.
"""

from __future__ import annotations

from sniper_app.ui.qt import QtCore, QtWidgets

TITLE = "Sniper cannot start"


def show_start_error(text: str) -> None:
    """Show ``text`` (what is wrong, the path, what to do) in a critical box and wait for the user."""
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Critical, TITLE, text,
                                QtWidgets.QMessageBox.StandardButton.Close)
    box.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)  # the path can be copied
    box.exec()


def tell_start_error(app: QtWidgets.QApplication, text: str) -> None:
    """The box, where someone can close it: on the offscreen platform nobody could, and stderr says it."""
    if app.platformName() != "offscreen":
        show_start_error(text)
