"""The watch list's one-click Snipe column: a compact push button, as small as its word, that reports a click."""

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
        widget = option.widget
        style = widget.style() if widget is not None else QtWidgets.QApplication.style()
        # Highlight and focus of the row first, then a button only as large as its word, not the whole cell.
        plain = QtWidgets.QStyleOptionViewItem(option)
        self.initStyleOption(plain, index)
        plain.text = ""
        style.drawControl(QtWidgets.QStyle.ControlElement.CE_ItemViewItem, plain, painter, widget)
        button = QtWidgets.QStyleOptionButton()
        button.rect = self.button_rect(option, index)
        button.text = str(index.data() or "")
        button.palette = option.palette
        button.fontMetrics = option.fontMetrics
        state = QtWidgets.QStyle.StateFlag
        button.state = state.State_Enabled | state.State_Raised
        if option.state & state.State_MouseOver:
            button.state |= state.State_MouseOver
        if option.state & state.State_HasFocus:
            button.state |= state.State_HasFocus
        style.drawControl(QtWidgets.QStyle.ControlElement.CE_PushButton, button, painter, widget)

    @staticmethod
    def button_rect(
        option: QtWidgets.QStyleOptionViewItem, index: QtCore.QModelIndex | QtCore.QPersistentModelIndex
    ) -> QtCore.QRect:
        """Where the button is drawn in its cell: its text plus a little padding, centred."""
        metrics = option.fontMetrics
        width = min(option.rect.width() - 4, metrics.horizontalAdvance(str(index.data() or "")) + 20)
        height = min(option.rect.height() - 2, metrics.height() + 6)
        rect = QtCore.QRect(0, 0, width, height)
        rect.moveCenter(option.rect.center())
        return rect

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
            and self.button_rect(option, index).contains(event.position().toPoint())
            and index.data(SNIPEABLE_ROLE) is not False
        ):
            self.clicked.emit(model.index(index.row(), index.column()))
            return True
        return super().editorEvent(event, model, option, index)
