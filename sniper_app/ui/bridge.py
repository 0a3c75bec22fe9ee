"""The one place where engine events cross into Qt: EventBus callbacks become Qt signals.

The engine publishes on the loop thread (the GUI thread under qasync), but every event is re-emitted
through a queued connection, so a publisher on any thread is safe and a slow slot never delays the engine.
"""

from __future__ import annotations

from collections.abc import Callable

from sniper_app.engine.bus import (
    AccountStateChanged,
    AuctionEndingSoon,
    ClockMeasured,
    Event,
    EventBus,
    SnipeStatusChanged,
    WatchlistSynced,
)
from sniper_app.ui.qt import QtCore


class EngineBridge(QtCore.QObject):
    """Subscribes to an :class:`EventBus` and emits one typed signal per event kind, on the GUI thread."""

    snipeStatusChanged = QtCore.Signal(object)  # SnipeStatusChanged
    auctionEndingSoon = QtCore.Signal(object)  # AuctionEndingSoon
    watchlistSynced = QtCore.Signal(object)  # WatchlistSynced
    clockMeasured = QtCore.Signal(object)  # ClockMeasured
    accountStateChanged = QtCore.Signal(object)  # AccountStateChanged
    eventReceived = QtCore.Signal(object)  # every Event, after its typed signal

    _incoming = QtCore.Signal(object)

    def __init__(self, bus: EventBus, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._incoming.connect(self._dispatch, QtCore.Qt.ConnectionType.QueuedConnection)
        self._unsubscribe: Callable[[], None] | None = bus.subscribe(Event, self._on_event)

    def _on_event(self, event: Event) -> None:
        # Called by the bus on the publisher's thread; emitting a queued signal is all it may do.
        try:
            self._incoming.emit(event)
        except RuntimeError:  # the Qt side is gone (window closed): stop listening rather than log forever
            self.detach()

    @QtCore.Slot(object)
    def _dispatch(self, event: Event) -> None:
        if isinstance(event, SnipeStatusChanged):
            self.snipeStatusChanged.emit(event)
        elif isinstance(event, AuctionEndingSoon):
            self.auctionEndingSoon.emit(event)
        elif isinstance(event, WatchlistSynced):
            self.watchlistSynced.emit(event)
        elif isinstance(event, ClockMeasured):
            self.clockMeasured.emit(event)
        elif isinstance(event, AccountStateChanged):
            self.accountStateChanged.emit(event)
        self.eventReceived.emit(event)

    def detach(self) -> None:
        """Stop listening to the bus (the window calls this when it is destroyed)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
