"""The main window's status bar: fields that give up words by priority, and messages shown whole in a toast.

The permanent fields (next snipe, exposure, watch list sync, clock, account, environment) each have a full
text and shorter complete forms. :func:`fit_fields` picks, by priority, the longest forms the bar's width
holds: first the watch list and the clock say less, then the next snipe drops its title, then the sync and
the clock give way altogether. A countdown or an amount is never cut. Transient messages ("Snipe on …
saved.") are not squeezed into what room is left: :class:`MessageToast` shows them whole, wrapped when
long, just above the bar, until their time is up or a click dismisses them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from sniper_app.domain.views import ExposureView
from sniper_app.ui import icons
from sniper_app.ui.exposure_label import compact_amounts, compact_tooltip, compact_words
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
# QStatusBar lays its widgets out 6 px apart, 2 px in from each end.
_SPACING: Final = 6
_ENDS: Final = 4
_DIRECT: Final = QtCore.Qt.FindChildOption.FindDirectChildrenOnly
# Which field says less next, and to which of its forms, while the fields ask for more than the bar has:
# 1 is a field's short form, 2 (past its last) drops a field that may be dropped. The watch list's sync and
# the clock have their own views; the next snipe, a warning, the pause and the exposure stay to the last.
FIT_LADDER: Final = (("sync", 1), ("clock", 1), ("next", 1), ("sync", 2), ("clock", 2), ("awake", 1),
                     ("paused", 1), ("exposure", 1))


class TailLabel(QtWidgets.QLabel):
    """A one-line status field with a full text and shorter complete forms, the longest that fits painted.

    "Watch list: 12 items, synced 5 s ago" becomes "Synced 5 s ago"; "Next snipe: <title> in 1m 25s" first
    gives up letters of the title (never of its tail, the time), then the title ("Next snipe in 1m 25s").
    ``text()`` stays whole (tests, tooltips, screen readers); only the painting is shortened. The bar
    (:func:`fit_fields`) sets :attr:`level`, the form asked for; a droppable field may show nothing.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None, *, fills: bool = False,
                 droppable: bool = False) -> None:
        super().__init__(parent)
        self._forms: tuple[str, ...] = ("",)
        self._tail = ""
        self._keep = 0
        self._level = 0
        # A label that fills the room left asks for no more than its least: the fixed fields are laid out
        # first, and it takes what they leave rather than squeeze them.
        self._fills = fills
        self._droppable = droppable
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Preferred)

    @property
    def forms(self) -> tuple[str, ...]:
        return self._forms

    @property
    def droppable(self) -> bool:
        return self._droppable

    def setText(self, text: str) -> None:
        self.set_text(text)

    def set_text(self, text: str, tail: str = "", *, short: Sequence[str] = (), keep: int = 0) -> None:
        """Show ``text``; ``short``: shorter complete forms, longest first. With ``tail`` (which ``text``
        ends with) the middle is elided before a short form is taken, as long as the first ``keep``
        characters and three more still show."""
        tail = tail if text.endswith(tail) else ""
        forms = (text, *short)
        if forms == self._forms and tail == self._tail and keep == self._keep:
            return  # the once-a-second tick changes nothing most of the time: no relayout for it
        self._forms, self._tail, self._keep = forms, tail, keep
        super().setText(text)  # asks for a new layout itself
        self.updateGeometry()

    @property
    def level(self) -> int:
        return self._level

    def set_level(self, level: int) -> None:
        level = max(0, min(level, len(self._forms) if self._droppable else len(self._forms) - 1))
        if level != self._level:
            self._level = level
            self.updateGeometry()

    def _width(self, text: str) -> int:
        if not text:
            return 0
        margins = self.contentsMargins()
        return self.fontMetrics().horizontalAdvance(text) + margins.left() + margins.right() + 2

    def _elided_floor(self) -> str:
        """The least of the full form that may show: its first ``keep`` characters, three more, "…", tail."""
        text = self._forms[0]
        return text[: min(len(text), self._keep + 3)] + "…" + self._tail

    def level_width(self, level: int) -> int:
        """The width the field asks for at ``level`` (0 when it is dropped there)."""
        if level >= len(self._forms):
            return 0 if self._droppable else self._width(self._forms[-1])
        if level == 0 and self._tail and self._fills:
            return min(self._width(self._forms[0]), self._width(self._elided_floor()))
        return self._width(self._forms[level])

    def shown_text(self) -> str:
        """What is painted at the current width: the longest form that fits."""
        metrics = self.fontMetrics()
        room = self.contentsRect().width()
        full = self._forms[0]
        if metrics.horizontalAdvance(full) <= room:
            return full
        if self._tail and metrics.horizontalAdvance(self._elided_floor()) <= room:
            head = full[: len(full) - len(self._tail)]
            return metrics.elidedText(head, QtCore.Qt.TextElideMode.ElideRight,
                                      max(0, room - metrics.horizontalAdvance(self._tail))) + self._tail
        for form in self._forms[1:]:
            if metrics.horizontalAdvance(form) <= room:
                return form
        if self._droppable:
            return ""
        # Narrower than its least (the window is being shrunk): the layout will catch up.
        return metrics.elidedText(self._forms[-1], QtCore.Qt.TextElideMode.ElideRight, room)

    def sizeHint(self) -> QtCore.QSize:
        height = super().sizeHint().height()
        return QtCore.QSize(self.level_width(self._level), height)

    def minimumSizeHint(self) -> QtCore.QSize:
        # The least any level asks: the window may always be made as narrow as its smallest forms allow.
        height = super().minimumSizeHint().height()
        least = self.level_width(len(self._forms)) if self._droppable else self.level_width(len(self._forms) - 1)
        if self._fills:
            least = min(least, self.level_width(0))
        return QtCore.QSize(least, height)

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        try:
            self.style().drawItemText(
                painter, self.contentsRect(), int(self.alignment()), self.palette(), self.isEnabled(),
                self.shown_text(), self.foregroundRole(),
            )
        finally:
            painter.end()


class StatusBar(QtWidgets.QStatusBar):
    """A status bar that draws no message of its own (the toast shows it whole) and fits its fields to
    its width whenever that changes."""

    resized = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.fields: dict[str, TailLabel] = {}  # by name in FIT_LADDER: the fields that may say less

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        try:
            option = QtWidgets.QStyleOption()
            option.initFrom(self)
            self.style().drawPrimitive(QtWidgets.QStyle.PrimitiveElement.PE_PanelStatusBar, option, painter, self)
            for widget in self.findChildren(QtWidgets.QWidget, options=_DIRECT):
                if widget.isHidden() or isinstance(widget, QtWidgets.QSizeGrip):
                    continue
                frame = QtWidgets.QStyleOption()
                frame.rect = widget.geometry().adjusted(-2, -1, 2, 1)
                frame.palette = self.palette()
                frame.state = QtWidgets.QStyle.StateFlag.State_None
                self.style().drawPrimitive(QtWidgets.QStyle.PrimitiveElement.PE_FrameStatusBarItem, frame,
                                           painter, widget)
        finally:
            painter.end()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self.resized.emit()


class MessageToast(QtWidgets.QFrame):
    """A status message shown whole just above the status bar: wrapped when long, gone when its time is up
    (the status bar's own timeout), or at a click. It takes no focus and announces itself to screen readers."""

    MARGIN: Final = 8

    def __init__(self, window: QtWidgets.QMainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.setObjectName("messageToast")
        self.setAccessibleName(self.tr("Message"))
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.setToolTip(self.tr("Click to dismiss"))
        self.label = QtWidgets.QLabel(self)
        self.label.setObjectName("messageToastText")
        self.label.setWordWrap(True)
        self.label.setForegroundRole(QtGui.QPalette.ColorRole.ToolTipText)
        self.label.setAccessibleName(self.tr("Message"))
        self.close_button = QtWidgets.QToolButton(self)
        self.close_button.setIcon(icons.icon("close"))
        self.close_button.setAutoRaise(True)
        self.close_button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.close_button.setAccessibleName(self.tr("Dismiss message"))
        self.close_button.setToolTip(self.tr("Dismiss"))
        self.close_button.clicked.connect(self.dismiss)
        self._layout = layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 4, 6)
        layout.setSpacing(6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_button, 0, QtCore.Qt.AlignmentFlag.AlignTop)
        self.hide()
        window.installEventFilter(self)

    def show_message(self, text: str) -> None:
        if not text:
            self.hide()
            return
        self.label.setText(text)
        self.place()
        self.show()
        self.raise_()
        if QtGui.QAccessible.isActive():
            QtGui.QAccessible.updateAccessibility(QtGui.QAccessibleAnnouncementEvent(self.label, text))

    @QtCore.Slot()
    def dismiss(self) -> None:
        self._window.statusBar().clearMessage()

    def place(self) -> None:
        """Bottom left over the window's content, as wide as the text up to the window's width."""
        window = self._window
        margins = self._layout.contentsMargins()
        chrome = margins.left() + margins.right() + self._layout.spacing() + self.close_button.sizeHint().width()
        widest = max(120, window.width() - 2 * self.MARGIN)
        natural = self.label.fontMetrics().horizontalAdvance(self.label.text()) + chrome + 4
        width = min(widest, natural)
        height = max(self.heightForWidth(width), self.minimumSizeHint().height())
        bar = window.statusBar()
        bottom = bar.y() if bar.isVisible() else window.height()
        self.setGeometry(self.MARGIN, max(0, bottom - height - 6), width, height)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if watched is self._window and event.type() == QtCore.QEvent.Type.Resize and self.isVisible():
            self.place()
        return False

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        self.dismiss()
        event.accept()

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        try:
            painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
            palette = self.palette()
            edge = QtGui.QColor(palette.color(QtGui.QPalette.ColorRole.WindowText))
            edge.setAlpha(110)  # a line that shows on a light and on a dark window alike
            painter.setPen(QtGui.QPen(edge, 1))
            painter.setBrush(palette.color(QtGui.QPalette.ColorRole.ToolTipBase))
            painter.drawRoundedRect(QtCore.QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 5, 5)
        finally:
            painter.end()


def make_room_for_message(window: MainWindow, message: str) -> None:
    """The bar's message changed: the toast shows it (or goes when it is cleared); the fields stay put."""
    window.statusBar().setToolTip(message)
    window.message_toast.show_message(message)


def build_status_bar(window: MainWindow) -> None:
    bar = StatusBar(window)
    bar.setObjectName("statusBar")
    window.setStatusBar(bar)
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
    window.sync_label = TailLabel(window, droppable=True)
    window.sync_label.setAccessibleName(window.tr("Watch list sync"))
    window.clock_label = TailLabel(window, droppable=True)
    window.clock_label.setAccessibleName(window.tr("eBay clock offset and latency"))
    # The Snipes view's exposure line reads the engine; this compact field shows what it read.
    window.exposure_status = TailLabel(window)
    window.exposure_status.setObjectName("exposureStatus")
    window.exposure_status.setAccessibleName(window.tr("Exposure"))
    window.exposure_status.hide()
    window.exposure_label.shown.connect(lambda view: show_exposure(window, view))
    # Said once, here: while paused the next-snipe field steps aside rather than repeat it.
    window.paused_label = paused = TailLabel(window)
    paused.set_text(window.tr("Paused: no snipe will be placed"), short=(window.tr("Paused"),))
    window.paused_label.setObjectName("pausedLabel")
    window.paused_label.setAccessibleName(window.tr("Snipes paused"))
    window.paused_label.setStyleSheet("QLabel { font-weight: bold; }")
    window.paused_label.setToolTip(window.tr("No snipe will be placed until you resume (Ctrl+P)"))
    window.paused_label.hide()
    # Only the log knew it before: a snipe due while the machine sleeps is lost, so the window says so.
    window.awake_label = awake = TailLabel(window)
    awake.set_text(window.tr("Cannot keep the computer awake"), short=(window.tr("Cannot stay awake"),))
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
    bar.addPermanentWidget(window.exposure_status)
    bar.addPermanentWidget(window.sync_label)
    bar.addPermanentWidget(window.clock_label)
    bar.addPermanentWidget(window.account_label)
    bar.addPermanentWidget(window.environment_badge)
    bar.fields.update(next=window.next_snipe_label, sync=window.sync_label, clock=window.clock_label,
                      awake=awake, paused=paused, exposure=window.exposure_status)
    window.message_toast = MessageToast(window)
    bar.messageChanged.connect(window._make_room_for_message)
    bar.resized.connect(lambda: fit_fields(window))
    window._last_sync = None
    window._update_account()
    window._update_clock()
    window._update_sync()


def fit_fields(window: MainWindow) -> None:
    """Give each field the longest form the bar's width allows, saying less by :data:`FIT_LADDER`'s order.

    The room is the bar's width less what the other fields (badges, the pause, the exposure) ask for;
    the next snipe then stretches into whatever is left over.
    """
    bar = window.statusBar()
    if not isinstance(bar, StatusBar):
        return
    fields = bar.fields
    shown = [w for w in bar.findChildren(QtWidgets.QWidget, options=_DIRECT) if not w.isHidden()]
    room = bar.contentsRect().width() - _ENDS
    for widget in shown:
        if isinstance(widget, QtWidgets.QSizeGrip):
            room -= widget.sizeHint().width()
            continue
        room -= _SPACING
        if widget not in fields.values():
            room -= widget.sizeHint().width()
    room += _SPACING  # n fields, n - 1 gaps
    visible = {name: field for name, field in fields.items() if not field.isHidden()}
    levels = dict.fromkeys(visible, 0)

    def asked() -> int:
        return sum(field.level_width(levels[name]) for name, field in visible.items())

    for name, level in FIT_LADDER:
        if asked() <= room:
            break
        if name in levels:
            levels[name] = level
    for name, field in visible.items():
        field.set_level(levels[name])


def show_exposure(window: MainWindow, view: ExposureView) -> None:
    """ "Exposure $420.00 · £35.00", or just the amounts where room is short; hidden while nothing is
    pending and no cap is set. The tooltip has each currency's cap and room."""
    field = window.exposure_status
    text = compact_words(view)
    field.set_text(text, short=(compact_amounts(view),))
    field.setToolTip(compact_tooltip(view) if text else "")
    field.setAccessibleDescription(field.toolTip())
    field.setVisible(bool(text))
    fit_fields(window)


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
    label.setVisible(not window.service.paused)
    due = window.snipes_model.next_due()
    if due is None:
        label.set_text(window.tr("No snipe waiting"))
        label.setToolTip("")
    else:
        left = format_time_left(due.fire_at, window._clock(), ended=window.tr("now"))
        tail = window.tr(" in {left}").format(left=left)
        head = window.tr("Next snipe: ")
        title = due.title or due.legacy_item_id
        label.set_text(head + title + tail, tail, short=(window.tr("Next snipe in {left}").format(left=left),),
                       keep=len(head))
        label.setToolTip(label.text())
    fit_fields(window)


def update_keep_awake(window: MainWindow) -> None:
    failing = window.service.keep_awake_failing()
    if failing != window.awake_label.isVisibleTo(window):
        window.awake_label.setVisible(failing)
        fit_fields(window)


def update_clock(window: MainWindow) -> None:
    state = window.service.clock_state()
    label = window.clock_label
    if not state.synced:
        label.set_text(window.tr("Clock: not measured yet"), short=(window.tr("Clock: not measured"),))
        label.setToolTip(state.last_error or window.tr("Measuring against {server}").format(server=state.server))
        fit_fields(window)
        return
    offset = window.tr("{offset:+.3f} s").format(offset=round(state.offset_s, 3) + 0.0)  # + 0.0: never "-0.000"
    # Before any round trip to eBay is timed the latency is a default guess: it is not shown as a fact.
    latency = (window.tr("{ms:.0f} ms").format(ms=state.latency_s * 1000) if state.latency_measured
               else window.tr("latency measuring…"))
    label.set_text(
        window.tr("Clock {offset} · {latency} · {age} ago").format(
            offset=offset, latency=latency, age=_age_text(state.age_s)),
        short=(window.tr("Clock {offset}").format(offset=offset),),
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
    label.setToolTip(tip)
    fit_fields(window)


def update_sync(window: MainWindow) -> None:
    synced = window._last_sync
    label = window.sync_label
    if synced is None:
        label.set_text(window.tr("Watch list: not synced yet"), short=(window.tr("Not synced yet"),))
    elif synced.error:
        label.set_text(window.tr("Watch list sync failed"), short=(window.tr("Sync failed"),))
        label.setToolTip(synced.error)
    else:
        age = _age_text((window._clock() - synced.at).total_seconds())
        label.set_text(window.tr("Watch list: {n} items, synced {age} ago").format(n=synced.count, age=age),
                       short=(window.tr("Synced {age} ago").format(age=age),))
        label.setToolTip(
            window.tr("{added} added, {removed} removed at the last sync").format(
                added=synced.added, removed=synced.removed)
        )
    fit_fields(window)


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
    fit_fields(window)


def _age_text(seconds: float) -> str:
    if seconds == float("inf"):
        return "—"
    if seconds < 90:
        return f"{max(0, int(seconds))} s"
    if seconds < 90 * 60:
        return f"{int(seconds // 60)} min"
    return f"{int(seconds // 3600)} h"
