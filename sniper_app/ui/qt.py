"""The one module that picks the Qt binding: every other ui/ module imports Qt from here.

qasync chooses a binding by its own preference order unless ``QT_API`` names one, so the variable is set
before PySide6 is imported, and this module must be imported before qasync.
"""

from __future__ import annotations

import os

os.environ["QT_API"] = "pyside6"

from PySide6 import QtCore, QtGui, QtNetwork, QtWidgets

__all__ = ["QtCore", "QtGui", "QtNetwork", "QtWidgets"]
