"""Item thumbnails: fetched in the background by Qt's network stack, kept on disk and in memory.

A view asks :meth:`ThumbnailCache.pixmap` while painting; it answers at once with the image or a
placeholder, and emits :attr:`ThumbnailCache.loaded` when a missing image arrives so the model can repaint
just those cells.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Final

from sniper_app.ui.qt import QtCore, QtGui, QtNetwork

log = logging.getLogger(__name__)

THUMB_SIZE: Final = 48
MAX_IMAGE_BYTES: Final = 4 * 1024 * 1024  # eBay thumbnails are tens of kB; anything huge is not one
MEMORY_ITEMS: Final = 600
TRANSFER_TIMEOUT_MS: Final = 15_000
_URL_PROPERTY: Final = "sniperThumbnailUrl"


def _cache_name(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


class ThumbnailCache(QtCore.QObject):
    """Loads thumbnails asynchronously (QNetworkAccessManager) with a disk cache in ``directory``."""

    loaded = QtCore.Signal(str)  # the URL whose image is now available

    def __init__(
        self,
        directory: Path,
        *,
        size: int = THUMB_SIZE,
        network: QtNetwork.QNetworkAccessManager | None = None,
        parent: QtCore.QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.directory = Path(directory)
        self.size = size
        self._network = network or QtNetwork.QNetworkAccessManager(self)
        # One connection on the manager, not a closure per reply: a closure holding ``self`` makes a
        # reference cycle, and the garbage collector could then destroy the manager mid-callback.
        self._network.finished.connect(self._on_finished)
        self._memory: OrderedDict[str, QtGui.QPixmap] = OrderedDict()
        self._pending: dict[str, QtNetwork.QNetworkReply] = {}
        self._failed: set[str] = set()
        self._placeholder = self._make_placeholder(size)

    @property
    def placeholder(self) -> QtGui.QPixmap:
        return self._placeholder

    @staticmethod
    def _make_placeholder(size: int) -> QtGui.QPixmap:
        pixmap = QtGui.QPixmap(size, size)
        pixmap.fill(QtGui.QColor(0, 0, 0, 0))
        painter = QtGui.QPainter(pixmap)
        try:
            painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
            painter.setPen(QtGui.QPen(QtGui.QColor(150, 150, 150), 1))
            painter.setBrush(QtGui.QColor(220, 220, 220))
            painter.drawRoundedRect(QtCore.QRectF(1.5, 1.5, size - 3, size - 3), 4, 4)
        finally:
            painter.end()
        return pixmap

    def is_pending(self, url: str) -> bool:
        return url in self._pending

    def pixmap(self, url: str | None) -> QtGui.QPixmap:
        """The thumbnail for ``url`` if known (memory, then disk), else the placeholder and a fetch starts."""
        if not url:
            return self._placeholder
        cached = self._memory.get(url)
        if cached is not None:
            self._memory.move_to_end(url)
            return cached
        from_disk = self._load_disk(url)
        if from_disk is not None:
            self._remember(url, from_disk)
            return from_disk
        self._fetch(url)
        return self._placeholder

    def _path(self, url: str) -> Path:
        return self.directory / _cache_name(url)

    def _load_disk(self, url: str) -> QtGui.QPixmap | None:
        path = self._path(url)
        if not path.is_file():
            return None
        image = QtGui.QImage(str(path))
        if image.isNull():  # a damaged cache file: forget it and fetch again
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        return self._scaled(image)

    def _scaled(self, image: QtGui.QImage) -> QtGui.QPixmap:
        return QtGui.QPixmap.fromImage(
            image.scaled(
                self.size,
                self.size,
                QtCore.Qt.AspectRatioMode.KeepAspectRatio,
                QtCore.Qt.TransformationMode.SmoothTransformation,
            )
        )

    def _remember(self, url: str, pixmap: QtGui.QPixmap) -> None:
        self._memory[url] = pixmap
        self._memory.move_to_end(url)
        while len(self._memory) > MEMORY_ITEMS:
            self._memory.popitem(last=False)

    def _fetch(self, url: str) -> None:
        if url in self._pending or url in self._failed:
            return
        qurl = QtCore.QUrl(url)
        if qurl.scheme().lower() not in {"http", "https"}:
            self._failed.add(url)  # never read local files or odd schemes named by a remote listing
            return
        request = QtNetwork.QNetworkRequest(qurl)
        request.setTransferTimeout(TRANSFER_TIMEOUT_MS)
        request.setAttribute(
            QtNetwork.QNetworkRequest.Attribute.RedirectPolicyAttribute,
            QtNetwork.QNetworkRequest.RedirectPolicy.NoLessSafeRedirectPolicy,
        )
        reply = self._network.get(request)
        reply.setProperty(_URL_PROPERTY, url)
        self._pending[url] = reply

    @QtCore.Slot(QtNetwork.QNetworkReply)
    def _on_finished(self, reply: QtNetwork.QNetworkReply) -> None:
        url = reply.property(_URL_PROPERTY)
        if not isinstance(url, str) or self._pending.get(url) is not reply:
            reply.deleteLater()  # not one of ours (a shared manager)
            return
        del self._pending[url]
        try:
            if reply.error() != QtNetwork.QNetworkReply.NetworkError.NoError:
                log.info("Thumbnail %s not loaded: %s", url, reply.errorString())
                self._failed.add(url)
                return
            data = bytes(reply.read(MAX_IMAGE_BYTES + 1).data())
            image = QtGui.QImage.fromData(data) if len(data) <= MAX_IMAGE_BYTES else QtGui.QImage()
            if image.isNull():
                log.info("Thumbnail %s is not an image this app can show", url)
                self._failed.add(url)
                return
            self._save_disk(url, data)
            self._remember(url, self._scaled(image))
        finally:
            reply.deleteLater()
        self.loaded.emit(url)

    def _save_disk(self, url: str, data: bytes) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            # Write then rename, so a crash never leaves half an image that later loads as garbage.
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".part-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, self._path(url))
        except OSError:
            log.warning("Could not cache a thumbnail in %s", self.directory, exc_info=True)
