"""What an empty view says instead of showing blank rows: why it is empty, and the way to fill it.

An :class:`EmptyState` is a label laid over a table's viewport. It shows while the view's model has no
rows and hides as soon as one arrives; its sentence comes from a function asked again at every change
(the watch list's sentence depends on whether an account is linked, History's on its filter).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sniper_app.ui import icons
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets

if TYPE_CHECKING:
    from sniper_app.ui.main_window import MainWindow


class EmptyState(QtWidgets.QWidget):
    """An icon and a sentence centred over ``view`` while its model is empty."""

    def __init__(
        self,
        view: QtWidgets.QAbstractItemView,
        sentence: Callable[[], tuple[str, str]],
    ) -> None:
        """``sentence()`` gives (icon name, text) for the view's current state."""
        super().__init__(view.viewport())
        self._view = view
        self._sentence = sentence
        self.setObjectName(f"empty_{view.objectName().replace(' ', '_')}")
        # Clicks and wheel turns go through to the view below: the overlay only speaks.
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addStretch(1)
        self.picture = QtWidgets.QLabel(self)
        self.picture.setAlignment(QtCore.Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.picture)
        self.label = QtWidgets.QLabel(self)
        self.label.setObjectName("emptyStateText")
        self.label.setWordWrap(True)
        self.label.setAlignment(QtCore.Qt.AlignmentFlag.AlignHCenter | QtCore.Qt.AlignmentFlag.AlignTop)
        self.label.setForegroundRole(QtGui.QPalette.ColorRole.PlaceholderText)
        layout.addWidget(self.label)
        layout.addStretch(2)
        view.viewport().installEventFilter(self)
        model = view.model()
        for signal in (model.modelReset, model.rowsInserted, model.rowsRemoved, model.layoutChanged):
            signal.connect(self.refresh)
        self._icon = ""
        # A new palette only recolours the picture: the sentence asks the store, which may be closing.
        icons.follow_palette(self, self._draw_icon)
        self.refresh()

    def text(self) -> str:
        return self.label.text() if self.isVisibleTo(self._view) else ""

    @QtCore.Slot()
    def refresh(self) -> None:
        model = self._view.model()
        empty = model is not None and model.rowCount() == 0
        if empty:
            name, text = self._sentence()
            self.label.setText(text)
            self._view.viewport().setAccessibleDescription(text)
            self._icon = name
            self._draw_icon()
            self.setGeometry(self._view.viewport().rect())
        else:
            self._view.viewport().setAccessibleDescription("")
        self.setVisible(empty)

    def _draw_icon(self) -> None:
        if self._icon:
            self.picture.setPixmap(icons.icon(self._icon).pixmap(QtCore.QSize(40, 40), self.devicePixelRatioF()))

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.Resize:
            self.setGeometry(self._view.viewport().rect())
        return False


def install(window: MainWindow) -> dict[str, EmptyState]:
    """The three views' empty states, each following what would fill its view."""
    from sniper_app.domain.views import HistoryFilter

    tr = window.tr

    def watch() -> tuple[str, str]:
        if not window.service.linked_username():
            return "empty_account", tr("Link your eBay account to see your watch list (Ctrl+L).")
        return "watch_list", tr("Your eBay watch list is empty: watch an auction on eBay, then sync (F5).")

    def snipes() -> tuple[str, str]:
        if window.snipes_model.rowCount() > 0:
            return "empty_snipes", tr("No snipe is waiting. Finished snipes are hidden: tick Show finished "
                                      "snipes to see them.")
        return "empty_snipes", tr("No snipes yet: press Ctrl+N or pick an item in the Watch list.")

    def history() -> tuple[str, str]:
        if window.history_model.history_filter != HistoryFilter():
            return "empty_filter", tr("No events match this filter.")
        return "history", tr("No events yet: syncs, snipes and bids will be listed here as they happen.")

    states = {
        "watch": EmptyState(window.watch_view, watch),
        "snipes": EmptyState(window.snipes_view, snipes),
        "history": EmptyState(window.history_view, history),
    }
    window.bridge.accountStateChanged.connect(lambda _event: states["watch"].refresh())
    window.history_model.filterChanged.connect(states["history"].refresh)
    window.snipes_model.modelReset.connect(states["snipes"].refresh)
    return states
