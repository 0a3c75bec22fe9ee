"""Where an item number or link comes from: typed or pasted text, a drag and drop, the clipboard."""

from __future__ import annotations

from typing import Final

from sniper_app.domain.errors import InputError
from sniper_app.domain.items import parse_item_ref
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets

MAX_SCAN_CHARS: Final = 4096  # a clipboard holding a whole document is searched only at its start
_MAX_SCAN_TOKENS: Final = 32


def item_text_from_text(text: str) -> str | None:
    """The first eBay item reference (number, item link, RESTful id) in ``text``, as written there."""
    head = text[:MAX_SCAN_CHARS].strip()
    if not head:
        return None
    for candidate in [head, *head.split()[:_MAX_SCAN_TOKENS]]:
        candidate = candidate.strip("<>\"'()[],;")
        try:
            parse_item_ref(candidate)
        except InputError:
            continue
        return candidate
    return None


def item_text_from_mime(mime: QtCore.QMimeData | None) -> str | None:
    """An eBay item reference carried by a drop or the clipboard (links first, then plain text), or None.

    Only eBay item references are returned: a link to a look-alike host or any other text gives None.
    """
    if mime is None:
        return None
    if mime.hasUrls():  # text/uri-list, and what browsers put on a dragged link
        for url in mime.urls():
            if url.scheme().lower() in ("http", "https"):
                found = item_text_from_text(url.toString(QtCore.QUrl.ComponentFormattingOption.FullyEncoded))
                if found is not None:
                    return found
    if mime.hasText():
        return item_text_from_text(mime.text())
    return None


def item_text_from_clipboard() -> str | None:
    """An eBay item reference on the clipboard (for "Add snipe from clipboard"), or None."""
    clipboard = QtGui.QGuiApplication.clipboard()
    return item_text_from_mime(clipboard.mimeData()) if clipboard is not None else None


class ItemLineEdit(QtWidgets.QLineEdit):
    """A line edit that takes a dropped item link whole, in place of its text."""

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        if item_text_from_mime(event.mimeData()) is not None:
            event.acceptProposedAction()
            return
        super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QtGui.QDragMoveEvent) -> None:
        if item_text_from_mime(event.mimeData()) is not None:
            event.acceptProposedAction()
            return
        super().dragMoveEvent(event)

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        found = item_text_from_mime(event.mimeData())
        if found is None:
            super().dropEvent(event)
            return
        if not self.isReadOnly():
            self.setText(found)
        event.acceptProposedAction()


