"""The most the active snipes could cost, per currency, and the cap's room: a line under the Snipes table,
and a compact field in the status bar ("Exposure $420.00 · £35.00", the cap's room in its tooltip)."""

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


def _tr(text: str) -> str:
    return QtCore.QCoreApplication.translate("ExposureLabel", text)


def _money(minor: int, currency: str) -> str:
    return Money(minor, currency).format()


def _row_words(row: ExposureRow) -> str:
    text = _money(row.pending_minor, row.currency)
    if row.cap_minor is not None and row.room_minor is not None:
        won = f"{_money(row.won_minor, row.currency)} won, " if row.won_minor else ""
        text += f" ({won}{_money(row.room_minor, row.currency)} left of the {_money(row.cap_minor, row.currency)} cap)"
    return text


def _shown_rows(view: ExposureView) -> list[ExposureRow]:
    return [r for r in view.rows if r.pending_minor or r.cap_minor is not None]


def exposure_words(view: ExposureView) -> str:
    """ "If every snipe wins: $105.50 ($194.50 left of the $300.00 cap) · £30.00"."""
    rows = _shown_rows(view)
    if not rows:
        return _tr("If every snipe wins: nothing to pay.")
    return _tr("If every snipe wins: {amounts}").format(amounts=" · ".join(_row_words(r) for r in rows))


def compact_amounts(view: ExposureView) -> str:
    """ "$420.00 · £35.00": the worst case per currency, or "" while nothing is pending and no cap is set."""
    return " · ".join(_money(r.pending_minor, r.currency) for r in _shown_rows(view))


def compact_words(view: ExposureView) -> str:
    """ "Exposure $420.00 · £35.00", or "" while nothing is pending and no cap is set."""
    amounts = compact_amounts(view)
    return _tr("Exposure {amounts}").format(amounts=amounts) if amounts else ""


def compact_tooltip(view: ExposureView) -> str:
    """One line per currency: the worst case, and against a cap what is won and the room left."""
    lines = [_tr("The most you could owe if every active snipe won (a group counts only the wins it asks "
                 "for):")]
    for row in _shown_rows(view):
        line = _money(row.pending_minor, row.currency)
        if row.cap_minor is not None and row.room_minor is not None:
            line += _tr("; {won} won in the last {days} days; {room} left of the {cap} cap").format(
                won=_money(row.won_minor, row.currency), days=view.period_days,
                room=_money(row.room_minor, row.currency), cap=_money(row.cap_minor, row.currency))
        else:
            line += _tr("; no spending cap in {currency}").format(currency=row.currency)
        lines.append(line)
    return "\n".join(lines)


class ExposureLabel(QtWidgets.QLabel):
    """Shows the exposure of ``read``; :meth:`schedule` after anything that may change it. Each reading
    is also handed on (:attr:`shown`), so the status bar's compact field needs no read of its own.
    ``read`` answers None while the exposure is not known yet (a box not answered yet): nothing is shown."""

    shown = QtCore.Signal(object)  # the ExposureView just shown

    def __init__(self, read: Callable[[], ExposureView | None], parent: QtWidgets.QWidget | None = None) -> None:
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
        if view is None:
            self.clear()
            return
        self.show_view(view)

    @QtCore.Slot(object)
    def show_view(self, view: ExposureView) -> None:
        self.setText(exposure_words(view))
        self.shown.emit(view)
