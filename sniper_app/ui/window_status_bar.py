"""The main window's status bar fields: environment badge, account, next snipe, watch list sync, clock, pause."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from sniper_app.ui.formatting import format_time_left
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets
from sniper_app.ui.widgets import WARNING_STYLE, set_tone

if TYPE_CHECKING:
    from sniper_app.ui.main_window import MainWindow

_BADGES: Final = {
    "simulator": ("DEMO", "#2e7d32"),
    "sandbox": ("SANDBOX", "#b34700"),  # dark enough for white text at 4.5:1 or more, as the others
    "custom": ("CUSTOM", "#6a1b9a"),
}


class TailLabel(QtWidgets.QLabel):
    """A one-line label that, short of room, elides the middle of its text and never its tail.

    The status bar's "Next snipe: <title> in 1m 25s" gives up letters of the title, never of the time.
    ``text()`` stays whole (tests, tooltips, screen readers); only the painting is shortened.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None, *, fills: bool = False) -> None:
        super().__init__(parent)
        self._tail = ""
        # A label that fills the room left asks for none: the fixed fields are laid out first, and it
        # takes what they leave rather than squeeze them.
        self._fills = fills
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Preferred)

    def set_text(self, text: str, tail: str = "") -> None:
        tail = tail if text.endswith(tail) else ""
        if text == self.text() and tail == self._tail:
            return  # the once-a-second tick changes nothing most of the time: no relayout for it
        self._tail = tail
        self.setText(text)  # asks for a new layout itself
        self.setToolTip(text)

    def shown_text(self) -> str:
        """What is painted at the current width."""
        text, tail = self.text(), self._tail
        metrics = self.fontMetrics()
        room = self.contentsRect().width()
        if metrics.horizontalAdvance(text) <= room:
            return text
        head = text[: len(text) - len(tail)] if tail else text
        return metrics.elidedText(head, QtCore.Qt.TextElideMode.ElideRight,
                                  max(0, room - metrics.horizontalAdvance(tail))) + tail

    def sizeHint(self) -> QtCore.QSize:
        return self.minimumSizeHint() if self._fills else super().sizeHint()

    def minimumSizeHint(self) -> QtCore.QSize:
        hint = super().minimumSizeHint()
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance("…" + self._tail) + margins.left() + margins.right() + 2
        return QtCore.QSize(width, hint.height())

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        try:
            self.style().drawItemText(
                painter, self.contentsRect(), int(self.alignment()), self.palette(), self.isEnabled(),
                self.shown_text(), self.foregroundRole(),
            )
        finally:
            painter.end()


def make_room_for_message(window: MainWindow, message: str) -> None:
    window.statusBar().setToolTip(message)
    if message:
        for label in (window.next_snipe_label, window.sync_label, window.clock_label):
            label.hide()
        return
    window.clock_label.show()
    update_next_snipe(window)
    window._update_sync()


def build_status_bar(window: MainWindow) -> None:
    bar = window.statusBar()
    window.environment_badge = QtWidgets.QLabel(window)
    window.environment_badge.setObjectName("environmentBadge")
    window.environment_badge.setAccessibleName(window.tr("eBay environment"))
    badge = _BADGES.get(window._settings.ebay_env)
    if badge is not None:
        text, colour = badge
        window.environment_badge.setText(text)
        window.environment_badge.setStyleSheet(
            f"QLabel {{ background: {colour}; color: white; font-weight: bold; padding: 1px 6px;"
            " border-radius: 3px; }"
        )
        window.environment_badge.setToolTip(window.tr("Not the real eBay: bids here cost nothing"))
    else:
        window.environment_badge.hide()
    window.account_label = TailLabel(window)
    window.account_label.setAccessibleName(window.tr("Linked eBay account"))
    window.next_snipe_label = TailLabel(window, fills=True)
    window.next_snipe_label.setAccessibleName(window.tr("Next snipe"))
    window.sync_label = TailLabel(window)
    window.sync_label.setAccessibleName(window.tr("Watch list sync"))
    window.clock_label = TailLabel(window)
    window.clock_label.setAccessibleName(window.tr("eBay clock offset and latency"))
    # Said once, here: while paused the next-snipe field steps aside rather than repeat it.
    window.paused_label = QtWidgets.QLabel(window.tr("Paused: no snipe will be placed"), window)
    window.paused_label.setObjectName("pausedLabel")
    window.paused_label.setAccessibleName(window.tr("Snipes paused"))
    window.paused_label.setStyleSheet("QLabel { font-weight: bold; }")
    window.paused_label.setToolTip(window.tr("No snipe will be placed until you resume (Ctrl+P)"))
    window.paused_label.hide()
    # Only the log knew it before: a snipe due while the machine sleeps is lost, so the window says so.
    window.awake_label = QtWidgets.QLabel(window.tr("Cannot keep the computer awake"), window)
    window.awake_label.setObjectName("keepAwakeLabel")
    window.awake_label.setAccessibleName(window.tr("Keep-awake problem"))
    set_tone(window.awake_label, WARNING_STYLE)
    window.awake_label.setToolTip(window.tr(
        "This computer refused to stay awake for a snipe that is due soon; if it sleeps, the bid is not "
        "placed. Switch off sleep until the auction ends, or keep the computer in use."))
    window.awake_label.hide()
    bar.addPermanentWidget(window.paused_label)
    bar.addPermanentWidget(window.awake_label)
    # The one field that stretches: the title in it gives up room first, every other field stays whole.
    bar.addPermanentWidget(window.next_snipe_label, 1)
    bar.addPermanentWidget(window.sync_label)
    bar.addPermanentWidget(window.clock_label)
    bar.addPermanentWidget(window.account_label)
    bar.addPermanentWidget(window.environment_badge)
    # A message ("Snipe on … saved.") is drawn in the room the permanent labels leave: while one shows, the
    # next snipe, sync and clock step aside so it is read whole, and come back when it goes.
    bar.messageChanged.connect(window._make_room_for_message)
    window._last_sync = None
    window._update_account()
    window._update_clock()
    window._update_sync()


def next_snipe_text(window: MainWindow) -> str:
    if window.service.paused:
        return window.tr("paused: no snipe will be placed")
    due = window.snipes_model.next_due()
    if due is None:
        return window.tr("No snipe waiting")
    left = format_time_left(due.fire_at, window._clock(), ended=window.tr("now"))
    return window.tr("Next snipe: {title} in {left}").format(title=due.title or due.legacy_item_id, left=left)


def update_next_snipe(window: MainWindow) -> None:
    label = window.next_snipe_label
    label.setVisible(not window.service.paused and not window.statusBar().currentMessage())
    due = window.snipes_model.next_due()
    if due is None:
        label.set_text(window.tr("No snipe waiting"))
        return
    tail = window.tr(" in {left}").format(left=format_time_left(due.fire_at, window._clock(), ended=window.tr("now")))
    label.set_text(window.tr("Next snipe: {title}").format(title=due.title or due.legacy_item_id) + tail, tail)


def update_keep_awake(window: MainWindow) -> None:
    window.awake_label.setVisible(window.service.keep_awake_failing())


def update_clock(window: MainWindow) -> None:
    state = window.service.clock_state()
    if not state.synced:
        window.clock_label.setText(window.tr("Clock: not measured yet"))
        window.clock_label.setToolTip(state.last_error or window.tr("Measuring against {server}").format(
            server=state.server))
        return
    # Before any round trip to eBay is timed the latency is a default guess: it is not shown as a fact.
    latency = (window.tr("{ms:.0f} ms").format(ms=state.latency_s * 1000) if state.latency_measured
               else window.tr("latency measuring…"))
    window.clock_label.setText(
        window.tr("Clock {offset:+.3f} s · {latency} · {age} ago").format(
            offset=round(state.offset_s, 3) + 0.0,  # + 0.0: never show "-0.000"
            latency=latency, age=_age_text(state.age_s)
        )
    )
    tip = window.tr(
        "Your computer's clock differs from true time by {offset:+.3f} s (measured against {server}). "
    ).format(offset=state.offset_s, server=state.server)
    tip += window.tr(
        "A bid takes about {latency:.0f} ms to reach eBay. Sniper sends early by both."
    ).format(latency=state.latency_s * 1000) if state.latency_measured else window.tr(
        "How long a bid takes to reach eBay is measured at the first request to eBay."
    )
    if state.last_error:
        tip += "\n" + window.tr("Last measurement failed: {error}").format(error=state.last_error)
    window.clock_label.setToolTip(tip)


def update_sync(window: MainWindow) -> None:
    synced = window._last_sync
    window.sync_label.setVisible(not window.statusBar().currentMessage())
    if synced is None:
        window.sync_label.setText(window.tr("Watch list: not synced yet"))
    elif synced.error:
        window.sync_label.setText(window.tr("Watch list sync failed"))
        window.sync_label.setToolTip(synced.error)
    else:
        age = (window._clock() - synced.at).total_seconds()
        window.sync_label.setText(
            window.tr("Watch list: {n} items, synced {age} ago").format(n=synced.count, age=_age_text(age))
        )
        window.sync_label.setToolTip(
            window.tr("{added} added, {removed} removed at the last sync").format(
                added=synced.added, removed=synced.removed)
        )


def update_account(window: MainWindow, message: str | None = None) -> None:
    account = window._reads.account()
    if not account.username:
        text = window.tr("No eBay account linked")
    elif account.needs_relink:
        text = window.tr("{name}: link again").format(name=account.username)
    else:
        text = window.tr("eBay: {name}").format(name=account.username)
    window.account_label.setText(text)
    window.account_label.setToolTip(message or "")



def _age_text(seconds: float) -> str:
    if seconds == float("inf"):
        return "—"
    if seconds < 90:
        return f"{max(0, int(seconds))} s"
    if seconds < 90 * 60:
        return f"{int(seconds // 60)} min"
    return f"{int(seconds // 3600)} h"

