"""The watch list's one-click Snipe column: its text drawn as a push button that reports a click."""

from __future__ import annotations

from sniper_app.ui.models import SNIPEABLE_ROLE
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets


class ButtonDelegate(QtWidgets.QStyledItemDelegate):
    """Paints a column's text as a push button and reports a click (or Space/Enter) on it."""

    clicked = QtCore.Signal(QtCore.QModelIndex)

    def paint(
        self,
        painter: QtGui.QPainter,
        option: QtWidgets.QStyleOptionViewItem,
        index: QtCore.QModelIndex | QtCore.QPersistentModelIndex,
    ) -> None:
        if index.data(SNIPEABLE_ROLE) is False:
            # Nothing to press on a listing that cannot be sniped: its label is plain text.
            super().paint(painter, option, index)
            return
        button = QtWidgets.QStyleOptionButton()
        button.rect = option.rect.adjusted(4, 4, -4, -4)
        button.text = str(index.data() or "")
        button.state = QtWidgets.QStyle.StateFlag.State_Enabled | QtWidgets.QStyle.StateFlag.State_Raised
        widget = option.widget
        style = widget.style() if widget is not None else QtWidgets.QApplication.style()
        style.drawControl(QtWidgets.QStyle.ControlElement.CE_PushButton, button, painter, widget)

    def sizeHint(
        self, option: QtWidgets.QStyleOptionViewItem, index: QtCore.QModelIndex | QtCore.QPersistentModelIndex
    ) -> QtCore.QSize:
        hint = super().sizeHint(option, index)
        return QtCore.QSize(hint.width() + 24, hint.height())

    def editorEvent(
        self,
        event: QtCore.QEvent,
        model: QtCore.QAbstractItemModel,
        option: QtWidgets.QStyleOptionViewItem,
        index: QtCore.QModelIndex | QtCore.QPersistentModelIndex,
    ) -> bool:
        if (
            event.type() == QtCore.QEvent.Type.MouseButtonRelease
            and isinstance(event, QtGui.QMouseEvent)
            and event.button() == QtCore.Qt.MouseButton.LeftButton
            and option.rect.contains(event.position().toPoint())
            and index.data(SNIPEABLE_ROLE) is not False
        ):
            self.clicked.emit(model.index(index.row(), index.column()))
            return True
        return super().editorEvent(event, model, option, index)
