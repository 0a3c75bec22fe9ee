"""The line under the Snipes table: the most the active snipes could cost, per currency, and the cap's room."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sniper_app.domain.errors import SniperError
from sniper_app.domain.money import Money
from sniper_app.domain.views import ExposureRow, ExposureView
from sniper_app.ui.qt import QtCore, QtWidgets

log = logging.getLogger(__name__)

# Engine events come in bursts (a fire, a sync): one read per burst.
REFRESH_DELAY_MS = 200


def _row_words(row: ExposureRow) -> str:
    def money(minor: int) -> str:
        return Money(minor, row.currency).format()

    text = money(row.pending_minor)
    if row.cap_minor is not None and row.room_minor is not None:
        won = f"{money(row.won_minor)} won, " if row.won_minor else ""
        text += f" ({won}{money(row.room_minor)} left of the {money(row.cap_minor)} cap)"
    return text


def exposure_words(view: ExposureView) -> str:
    """ "If every snipe wins: $105.50 ($194.50 left of the $300.00 cap) · £30.00"."""
    rows = [r for r in view.rows if r.pending_minor or r.cap_minor is not None]
    if not rows:
        return QtCore.QCoreApplication.translate("ExposureLabel", "If every snipe wins: nothing to pay.")
    return QtCore.QCoreApplication.translate("ExposureLabel", "If every snipe wins: {amounts}").format(
        amounts=" · ".join(_row_words(r) for r in rows))


class ExposureLabel(QtWidgets.QLabel):
    """Shows the exposure of ``read``; :meth:`schedule` after anything that may change it."""

    def __init__(self, read: Callable[[], ExposureView], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._read = read
        self.setObjectName("exposureLabel")
        self.setAccessibleName(self.tr("Exposure"))
        self.setToolTip(self.tr("The most you could owe if every active snipe won (a group counts only the "
                                "wins it asks for), and the room left under your spending cap."))
        self.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        self._stopped = False

    def schedule(self, *_args: Any) -> None:
        if not self._stopped:
            self._timer.start()

    def stop(self) -> None:
        """No more reads: the store is about to close."""
        self._stopped = True
        self._timer.stop()

    def refresh(self) -> None:
        try:
            view = self._read()
        except SniperError as exc:  # a store that cannot be read now: the next change tries again
            log.warning("the exposure could not be read: %s", exc)
            return
        self.setText(exposure_words(view))
