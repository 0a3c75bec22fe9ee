"""One snipe in detail: the item, the plan, what happened in words, and the snipe's own history."""

from __future__ import annotations

import html
from typing import Final

from sniper_app.domain.errors import NoSuchSnipe
from sniper_app.domain.landed import BidAmount
from sniper_app.domain.rules import AUTO_LEAD
from sniper_app.domain.timing import TimingFacts, explain_snipe
from sniper_app.domain.views import GroupView, SnipeView
from sniper_app.engine.autolead import lead_text
from sniper_app.engine.bus import SnipeStatusChanged
from sniper_app.engine.reads import Reads
from sniper_app.ui.formatting import format_near_price, format_price
from sniper_app.ui.history import HistoryFilter
from sniper_app.ui.models import Clock, HistoryColumn, HistoryModel, status_text, utc_now
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets
from sniper_app.ui.widgets import link_html

TICK_MS: Final = 1000
Qt = QtCore.Qt


def _translate(template: str) -> str:
    return QtCore.QCoreApplication.translate("SnipeTiming", template)


class SnipeDetail(QtWidgets.QDialog):
    """A non-modal window on snipe ``snipe_id``: ``SnipeDetail(reads, snipe_id, clock=..., parent=...)``.

    Show it with ``show()`` or ``open()`` (never ``exec()``). It reads the snipe when built and on
    :meth:`refresh`; connect the bridge's ``snipeStatusChanged`` to :meth:`on_status_changed` to keep
    it current as the engine acts. While visible, the "fires in …" sentence counts down each second.
    """

    def __init__(
        self,
        reads: Reads,
        snipe_id: int,
        *,
        clock: Clock = utc_now,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("SnipeDetail")
        self.setModal(False)
        self._reads = reads
        self._clock = clock
        self.snipe_id = snipe_id
        self._facts: TimingFacts | None = None

        self.title_label = QtWidgets.QLabel(self)
        self.title_label.setAccessibleName(self.tr("Item"))
        self.title_label.setWordWrap(True)
        self.title_label.setOpenExternalLinks(True)
        self.title_label.setTextFormat(Qt.TextFormat.RichText)
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title_label.setFont(font)

        self.item_label = self._value(self.tr("Item number"))
        self.max_label = self._value(self.tr("Maximum bid"))
        self.price_label = self._value(self.tr("Price now"))
        self.lead_label = self._value(self.tr("Lead time"))
        self.group_label = self._value(self.tr("Group"))
        self.ends_label = self._value(self.tr("Auction end"))
        self.status_label = self._value(self.tr("Status"))
        self.reason_label = self._value(self.tr("Reason"))
        self.reason_label.setWordWrap(True)
        self.outcome_label = self._value(self.tr("Outcome"))
        self.outcome_label.setWordWrap(True)
        self.landed_label = self._value(self.tr("Shipping and total"))
        self.landed_label.setWordWrap(True)
        form = QtWidgets.QFormLayout()
        form.addRow(self.tr("Item number:"), self.item_label)
        form.addRow(self.tr("Maximum bid:"), self.max_label)
        form.addRow(self.tr("Price now:"), self.price_label)
        form.addRow(self.tr("Lead time:"), self.lead_label)
        form.addRow(self.tr("Group:"), self.group_label)
        form.addRow(self.tr("Ends:"), self.ends_label)
        form.addRow(self.tr("Status:"), self.status_label)
        form.addRow(self.tr("Reason:"), self.reason_label)
        form.addRow(self.tr("Outcome:"), self.outcome_label)
        form.addRow(self.tr("Shipping and total:"), self.landed_label)

        self.story_label = self._value(self.tr("What happened"))
        self.story_label.setWordWrap(True)
        story_box = QtWidgets.QGroupBox(self.tr("Timing and outcome"), self)
        QtWidgets.QVBoxLayout(story_box).addWidget(self.story_label)

        self.history_model = HistoryModel(reads, clock=clock, parent=self)
        self.history_model.set_filter(HistoryFilter(snipe_id=snipe_id))
        self.history_view = QtWidgets.QTableView(self)
        self.history_view.setObjectName("Snipe history")
        self.history_view.setAccessibleName(self.tr("History of this snipe"))
        self.history_view.setModel(self.history_model)
        self.history_view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.history_view.setAlternatingRowColors(True)
        self.history_view.setWordWrap(False)
        self.history_view.verticalHeader().setVisible(False)
        self.history_view.setColumnHidden(HistoryColumn.ITEM, True)  # always this snipe's item
        header = self.history_view.horizontalHeader()
        header.resizeSection(HistoryColumn.WHEN, 150)
        header.setStretchLastSection(True)
        history_box = QtWidgets.QGroupBox(self.tr("History"), self)
        QtWidgets.QVBoxLayout(history_box).addWidget(self.history_view)

        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close, self)
        close = buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName(self.tr("Close"))
        buttons.rejected.connect(self.close)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.title_label)
        layout.addLayout(form)
        layout.addWidget(story_box)
        layout.addWidget(history_box, 1)
        layout.addWidget(buttons)

        refresh = QtGui.QShortcut(QtGui.QKeySequence(QtGui.QKeySequence.StandardKey.Refresh), self)
        refresh.activated.connect(self.refresh)

        self._tick = QtCore.QTimer(self)
        self._tick.setInterval(TICK_MS)
        self._tick.timeout.connect(self._show_story)
        self.resize(640, 560)
        self.refresh()

    def _value(self, name: str) -> QtWidgets.QLabel:
        label = QtWidgets.QLabel(self)
        label.setAccessibleName(name)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    # ------------------------------------------------------------------ reading

    @QtCore.Slot()
    def refresh(self) -> None:
        """Re-read the snipe and its history."""
        try:
            snipe = self._reads.snipe(self.snipe_id)
        except NoSuchSnipe as exc:
            self._facts = None
            self.setWindowTitle(self.tr("Snipe #{id}").format(id=self.snipe_id))
            self.title_label.setText(html.escape(str(exc)))
            for label in (self.item_label, self.max_label, self.price_label, self.lead_label, self.group_label,
                          self.ends_label, self.status_label, self.reason_label, self.story_label,
                          self.outcome_label, self.landed_label):
                label.clear()
            self.history_model.reload()
            return
        lead = self._reads.lead_choice(self.snipe_id) if snipe.lead_seconds == AUTO_LEAD else None
        self._facts = snipe.timing_facts(lead.seconds if lead is not None else None)
        title = snipe.title or self.tr("Item {item}").format(item=snipe.legacy_item_id)
        self.setWindowTitle(self.tr("Snipe: {title}").format(title=title))
        if snipe.item_url:
            self.title_label.setText(link_html(snipe.item_url, title, self.palette()))
            self.title_label.setToolTip(self.tr("Open the item on eBay"))
        else:
            self.title_label.setText(html.escape(title))
            self.title_label.setToolTip("")
        self.item_label.setText(snipe.legacy_item_id)
        self.max_label.setText(format_near_price(
            snipe.max_bid_minor, snipe.currency, snipe.current_price_minor, snipe.converted_price_minor,
            snipe.converted_currency,
        ))
        self.price_label.setText(format_price(
            snipe.current_price_minor, snipe.currency, snipe.converted_price_minor, snipe.converted_currency
        ))
        if snipe.lead_seconds == AUTO_LEAD:
            self.lead_label.setText(lead_text(snipe, lead))
        else:
            self.lead_label.setText(self.tr("{s} s before the end").format(s=f"{snipe.lead_seconds:g}"))
        self.group_label.setText(self._group_text(snipe.group) if snipe.group is not None else self.tr("none"))
        self.ends_label.setText(snipe.end_time.astimezone().strftime("%Y-%m-%d %H:%M:%S"))
        self.status_label.setText(status_text(snipe.status))
        self.reason_label.setText(snipe.status_reason or "")
        self.outcome_label.setText(self._outcome_text(snipe))
        self.landed_label.setText(self._landed_text(snipe))
        self._show_story()
        self.history_model.reload()

    def _outcome_text(self, snipe: SnipeView) -> str:
        outcome = snipe.outcome
        if outcome is None:
            return self.tr("not ended yet")
        return self.tr("{sentence} ({code})").format(sentence=outcome.sentence, code=outcome.code.value)

    def _landed_text(self, snipe: SnipeView) -> str:
        landed = snipe.landed()
        text = landed.sentence if landed is not None else ""
        if snipe.includes_shipping:
            bid = snipe.bid_amount()
            told = bid.sentence if isinstance(bid, BidAmount) else str(bid) if bid is not None else ""
            text = f"{text} {told}".strip()
        return text

    def _group_text(self, group: GroupView) -> str:
        return self.tr("{name} (win {n})").format(name=group.name, n=group.target_wins)

    @QtCore.Slot()
    def _show_story(self) -> None:
        if self._facts is None:
            return
        self.story_label.setText(" ".join(explain_snipe(self._facts, self._clock(), translate=_translate)))

    def story(self) -> str:
        """The timing and outcome as the window shows them."""
        return self.story_label.text()

    @QtCore.Slot(object)
    def on_status_changed(self, event: SnipeStatusChanged) -> None:
        if event.snipe_id == self.snipe_id:
            self.refresh()

    # ------------------------------------------------------------------ visibility

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        self._tick.start()

    def hideEvent(self, event: QtGui.QHideEvent) -> None:
        self._tick.stop()
        super().hideEvent(event)
