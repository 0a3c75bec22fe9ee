"""The Add / Edit snipe dialog: an item from a paste, a drop or the clipboard, its preview, and the maximum.

The dialog checks what it can with the domain's own rules as the user types (pure functions, no I/O), so
most mistakes get their sentence next to the field before anything is sent. What only the engine can
know (a snipe already on the item, a price that moved) comes back as a refusal: the optimistic row in the
Snipes view goes away, and the dialog, still open with everything the user typed, shows the sentence.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sniper_app.domain.errors import InputError, RuleViolation, SniperError
from sniper_app.domain.items import ItemRef, parse_item_ref
from sniper_app.domain.money import Money, MoneyError, near_price, with_converted
from sniper_app.domain.rules import (
    AUTO_LEAD,
    MAX_LEAD_SECONDS,
    MIN_LEAD_SECONDS,
    max_bid_bounds,
    validate_edit,
    validate_lead,
    validate_new_snipe,
)
from sniper_app.domain.status import SnipeStatus
from sniper_app.domain.views import SnipeView
from sniper_app.engine.service import ItemPreview, SniperService
from sniper_app.ui.bridge import AsyncRunner
from sniper_app.ui.formatting import format_time_left
from sniper_app.ui.models import SnipesModel
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets
from sniper_app.ui.thumbnails import ThumbnailCache
from sniper_app.ui.widgets import WARNING_STYLE, message_label

log = logging.getLogger(__name__)

PREVIEW_DELAY_MS: Final = 350  # long enough to let a typist finish a number, short enough to feel instant
_MAX_SCAN_CHARS: Final = 4096  # a clipboard holding a whole document is searched only at its start
_MAX_SCAN_TOKENS: Final = 32

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------------------------------ item sources


def item_text_from_text(text: str) -> str | None:
    """The first eBay item reference (number, item link, RESTful id) in ``text``, as written there."""
    head = text[:_MAX_SCAN_CHARS].strip()
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


# ------------------------------------------------------------------------------------------ the dialog


class Field:
    ITEM = "item"
    AMOUNT = "amount"
    LEAD = "lead"
    GROUP = "group"
    FORM = "form"


@dataclass(frozen=True)
class _Checked:
    max_bid: Money
    lead: float
    warnings: list[str]


def _field_of_rule(err: RuleViolation) -> str:
    # The domain's sentences name what they are about; the dialog only needs to put them by that field.
    text = str(err)
    if text.startswith(("Your maximum", "This item is priced in")):
        return Field.AMOUNT
    if text.startswith(("Lead time", "The lead time", "A lead time")):
        return Field.LEAD
    return Field.ITEM


class SnipeDialog(QtWidgets.QDialog):
    """Add a snipe (``snipe`` None) or change the maximum and lead of one that has not fired."""

    snipeAdded = QtCore.Signal(int, list)  # (snipe id, the engine's warnings)
    snipeEdited = QtCore.Signal(int, list)

    def __init__(
        self,
        service: SniperService,
        runner: AsyncRunner,
        thumbnails: ThumbnailCache | None,
        parent: QtWidgets.QWidget | None = None,
        *,
        snipe: SnipeView | int | None = None,
        item_text: str | None = None,
        snipes_model: SnipesModel | None = None,
        use_clipboard: bool = True,
        clock: Clock = _utc_now,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._runner = runner
        self._thumbnails = thumbnails
        self._model = snipes_model
        self._clock = clock
        self._snipe = service.get_snipe(snipe) if isinstance(snipe, int) else snipe
        self._preview: ItemPreview | None = None
        self._wanted_ref: ItemRef | None = None  # the item being looked up or shown
        self._deferred_item_error: str | None = None
        self._seq = 0  # bumped whenever the item changes: a preview of an older item is dropped
        self._preview_task: Any = None
        self._saving = False
        self._amount_touched = False
        self.setObjectName("snipeDialog")
        self.setWindowTitle(self.tr("Edit snipe") if self.is_edit else self.tr("Add snipe"))
        self.setAcceptDrops(not self.is_edit)
        self._build()

        self._debounce = QtCore.QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(PREVIEW_DELAY_MS)
        self._debounce.timeout.connect(self._on_item_settled)
        self._countdown = QtCore.QTimer(self)
        self._countdown.setInterval(1000)
        self._countdown.timeout.connect(self._show_end)
        if thumbnails is not None:
            thumbnails.loaded.connect(self._on_thumbnail)

        self.item_edit.textChanged.connect(self._on_item_changed)
        self.item_edit.returnPressed.connect(self._on_item_settled)
        self.amount_edit.textChanged.connect(self._on_amount_changed)
        self.amount_edit.editingFinished.connect(self._on_amount_finished)
        self.lead_spin.valueChanged.connect(self._on_lead_changed)
        self.lead_auto_check.toggled.connect(self._on_lead_auto_toggled)

        if self._snipe is not None:
            self._fill_from_snipe(self._snipe)
        else:
            text = item_text if item_text is not None else (item_text_from_clipboard() if use_clipboard else None)
            if text:
                self.item_edit.setText(text)
                self.item_edit.setCursorPosition(0)  # a long link shows its host, not its tracking tail
                self._debounce.stop()
                self._on_item_settled()  # a prefilled item is looked up at once
        self._update_ok()

    @property
    def is_edit(self) -> bool:
        return self._snipe is not None

    @property
    def preview(self) -> ItemPreview | None:
        return self._preview

    @property
    def saving(self) -> bool:
        return self._saving

    # --- layout -----------------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QtWidgets.QVBoxLayout(self)
        form = QtWidgets.QFormLayout()
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        layout.addLayout(form)

        # Item
        self.item_edit = ItemLineEdit(self)
        self.item_edit.setObjectName("itemEdit")
        self.item_edit.setAccessibleName(self.tr("eBay item number or link"))
        self.item_edit.setPlaceholderText(self.tr("Paste or drop an eBay item link or number"))
        self.item_edit.setClearButtonEnabled(True)
        self.paste_button = QtWidgets.QToolButton(self)
        self.paste_button.setText(self.tr("Paste"))
        self.paste_button.setAccessibleName(self.tr("Paste the item from the clipboard"))
        self.paste_button.setToolTip(self.tr("Paste the item from the clipboard (Ctrl+Shift+V)"))
        self.paste_button.setShortcut(QtGui.QKeySequence("Ctrl+Shift+V"))
        self.paste_button.clicked.connect(self._paste_item)
        item_row = QtWidgets.QHBoxLayout()
        item_row.addWidget(self.item_edit, 1)
        item_row.addWidget(self.paste_button)
        self.item_error = message_label(self, "itemError")
        self.item_error.setAccessibleName(self.tr("Item problem"))
        item_box = QtWidgets.QVBoxLayout()
        item_box.addLayout(item_row)
        item_box.addWidget(self.item_error)
        item_label = QtWidgets.QLabel(self.tr("&Item:"), self)
        item_label.setBuddy(self.item_edit)
        form.addRow(item_label, item_box)

        # Preview
        self.preview_box = QtWidgets.QFrame(self)
        self.preview_box.setObjectName("previewBox")
        self.preview_box.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        preview_layout = QtWidgets.QHBoxLayout(self.preview_box)
        self.image_label = QtWidgets.QLabel(self.preview_box)
        self.image_label.setObjectName("itemImage")
        self.image_label.setAccessibleName(self.tr("Item picture"))
        self.image_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop | QtCore.Qt.AlignmentFlag.AlignHCenter)
        size = self._thumbnails.size if self._thumbnails is not None else 48
        self.image_label.setFixedSize(size + 4, size + 4)
        preview_layout.addWidget(self.image_label)
        facts = QtWidgets.QFormLayout()
        self.title_label = QtWidgets.QLabel(self.preview_box)
        self.title_label.setObjectName("titleLabel")
        self.title_label.setWordWrap(True)
        font = self.title_label.font()
        font.setBold(True)
        self.title_label.setFont(font)
        self.title_label.setAccessibleName(self.tr("Item title"))
        facts.addRow(self.title_label)
        self.price_label = QtWidgets.QLabel(self.preview_box)
        self.price_label.setObjectName("priceLabel")
        self.minimum_label = QtWidgets.QLabel(self.preview_box)
        self.minimum_label.setObjectName("minimumLabel")
        self.shipping_label = QtWidgets.QLabel(self.preview_box)
        self.shipping_label.setObjectName("shippingLabel")
        self.end_label = QtWidgets.QLabel(self.preview_box)
        self.end_label.setObjectName("endLabel")
        for label, name in (
            (self.price_label, self.tr("Current price")),
            (self.minimum_label, self.tr("Minimum next bid")),
            (self.shipping_label, self.tr("Shipping")),
            (self.end_label, self.tr("Ends")),
        ):
            label.setAccessibleName(name)
            label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
            facts.addRow(name + ":", label)
        preview_layout.addLayout(facts, 1)
        self.lookup_label = QtWidgets.QLabel(self)
        self.lookup_label.setObjectName("lookupLabel")
        self.lookup_label.setAccessibleName(self.tr("Item lookup"))
        self.lookup_label.setWordWrap(True)
        layout.addWidget(self.lookup_label)
        layout.addWidget(self.preview_box)
        self.preview_box.setVisible(False)

        form2 = QtWidgets.QFormLayout()
        form2.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        layout.addLayout(form2)

        # Maximum
        self.currency_label = QtWidgets.QLabel(self)
        self.currency_label.setObjectName("currencyLabel")
        self.currency_label.setAccessibleName(self.tr("Currency of the item"))
        self.amount_edit = QtWidgets.QLineEdit(self)
        self.amount_edit.setObjectName("amountEdit")
        self.amount_edit.setAccessibleName(self.tr("Your maximum bid"))
        self.amount_edit.setPlaceholderText(self.tr("The most you will pay, e.g. 25.00"))
        amount_row = QtWidgets.QHBoxLayout()
        amount_row.addWidget(self.currency_label)
        amount_row.addWidget(self.amount_edit, 1)
        self.amount_error = message_label(self, "amountError")
        self.amount_error.setAccessibleName(self.tr("Maximum bid problem"))
        # Which currency a bare number means: the listing's own, whatever marketplace the user browses.
        self.currency_hint = QtWidgets.QLabel(self)
        self.currency_hint.setObjectName("currencyHint")
        self.currency_hint.setAccessibleName(self.tr("Currency of your maximum"))
        self.currency_hint.setWordWrap(True)
        self.currency_hint.setVisible(False)
        amount_box = QtWidgets.QVBoxLayout()
        amount_box.addLayout(amount_row)
        amount_box.addWidget(self.currency_hint)
        amount_box.addWidget(self.amount_error)
        amount_label = QtWidgets.QLabel(self.tr("&Maximum bid:"), self)
        amount_label.setBuddy(self.amount_edit)
        form2.addRow(amount_label, amount_box)

        # Lead time
        self.lead_spin = QtWidgets.QDoubleSpinBox(self)
        self.lead_spin.setObjectName("leadSpin")
        self.lead_spin.setAccessibleName(self.tr("Lead time in seconds before the end"))
        self.lead_spin.setDecimals(1)
        self.lead_spin.setRange(MIN_LEAD_SECONDS, MAX_LEAD_SECONDS)
        self.lead_spin.setSingleStep(1.0)
        self.lead_spin.setSuffix(self.tr(" s"))
        self.lead_spin.setValue(float(self._service.settings.default_lead_seconds))
        self.lead_spin.setToolTip(self.tr("How long before the auction ends the bid should reach eBay."))
        self.lead_auto_check = QtWidgets.QCheckBox(self.tr("Choose the shortest safe lead automatically"), self)
        self.lead_auto_check.setObjectName("leadAuto")
        self.lead_auto_check.setToolTip(self.tr(
            "The engine picks the lead from the measured round trip to eBay, its spread and the clock's "
            "uncertainty, never below 1 s; the snipe's details show what it chose and why."))
        self.lead_auto_check.setChecked(bool(self._service.settings.auto_lead))
        self.lead_spin.setEnabled(not self.lead_auto_check.isChecked())
        self.lead_error = message_label(self, "leadError")
        self.lead_error.setAccessibleName(self.tr("Lead time problem"))
        lead_box = QtWidgets.QVBoxLayout()
        lead_box.addWidget(self.lead_spin)
        lead_box.addWidget(self.lead_auto_check)
        lead_box.addWidget(self.lead_error)
        lead_label = QtWidgets.QLabel(self.tr("&Lead time:"), self)
        lead_label.setBuddy(self.lead_spin)
        form2.addRow(lead_label, lead_box)

        # Group
        self.group_combo = QtWidgets.QComboBox(self)
        self.group_combo.setObjectName("groupCombo")
        self.group_combo.setAccessibleName(self.tr("Snipe group"))
        # Editable: a name that is not in the list makes a new group (aiming to win one item) on save.
        self.group_combo.setEditable(True)
        self.group_combo.setMinimumWidth(300)  # room for the placeholder that says what an empty group means
        self.group_combo.setInsertPolicy(QtWidgets.QComboBox.InsertPolicy.NoInsert)
        group_line = self.group_combo.lineEdit()
        if group_line is not None:
            group_line.setPlaceholderText(self.tr("(no group) — or type a name for a new one"))
        self.group_combo.setToolTip(
            self.tr("Snipes in one group win at most the number of items the group aims for; "
                    "when it is reached, the others are cancelled.")
        )
        self.group_combo.addItem("", None)
        try:
            for summary in self._service.list_groups():
                self.group_combo.addItem(summary.group.name, summary.group.name)
        except SniperError as err:  # the dialog still works without groups
            log.warning("Could not list snipe groups: %s", err)
        self.group_combo.setCurrentIndex(0)
        self.group_combo.editTextChanged.connect(self._on_group_changed)
        self.group_error = message_label(self, "groupError")
        self.group_hint = message_label(self, "groupHint", WARNING_STYLE)
        group_box = QtWidgets.QVBoxLayout()
        group_box.addWidget(self.group_combo)
        group_box.addWidget(self.group_hint)
        group_box.addWidget(self.group_error)
        group_label = QtWidgets.QLabel(self.tr("&Group:"), self)
        group_label.setBuddy(self.group_combo)
        form2.addRow(group_label, group_box)

        self.warning_label = message_label(self, "warningLabel", WARNING_STYLE)
        self.warning_label.setAccessibleName(self.tr("Warnings"))
        layout.addWidget(self.warning_label)
        self.form_error = message_label(self, "formError")
        self.form_error.setAccessibleName(self.tr("Problem"))
        layout.addWidget(self.form_error)
        self.saving_label = QtWidgets.QLabel(self)
        self.saving_label.setObjectName("savingLabel")
        self.saving_label.setVisible(False)
        layout.addWidget(self.saving_label)

        self.buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok | QtWidgets.QDialogButtonBox.StandardButton.Cancel,
            self,
        )
        self.ok_button = self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self.tr("&Save") if self.is_edit else self.tr("&Add snipe"))
        self.ok_button.setAccessibleName(self.ok_button.text().replace("&", ""))
        self.cancel_button = self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._on_ok)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._labels = {
            Field.ITEM: self.item_error,
            Field.AMOUNT: self.amount_error,
            Field.LEAD: self.lead_error,
            Field.GROUP: self.group_error,
            Field.FORM: self.form_error,
        }
        self.setMinimumWidth(520)

    # --- messages ---------------------------------------------------------------------------------

    def error_text(self, field: str) -> str:
        label = self._labels[field]
        return label.text() if not label.isHidden() else ""

    def _set_error(self, field: str, text: str | None) -> None:
        label = self._labels[field]
        label.setText(text or "")
        label.setVisible(bool(text))
        QtCore.QTimer.singleShot(0, self, self._fit_to_contents)

    def _set_warnings(self, warnings: list[str]) -> None:
        self.warning_label.setText("\n".join(warnings))
        self.warning_label.setVisible(bool(warnings))
        QtCore.QTimer.singleShot(0, self, self._fit_to_contents)

    def _show_failure(self, exc: BaseException) -> None:
        if isinstance(exc, MoneyError):
            self._set_error(Field.AMOUNT, str(exc))
            self.amount_edit.setFocus()
        elif isinstance(exc, RuleViolation):
            field = _field_of_rule(exc)
            self._set_error(field, str(exc))
            focus: QtWidgets.QWidget = {Field.AMOUNT: self.amount_edit, Field.LEAD: self.lead_spin}.get(
                field, self.item_edit
            )
            focus.setFocus()
        elif isinstance(exc, InputError):
            # A bad or unknown item, or a group deleted meanwhile (the only input error naming a group).
            self._set_error(Field.GROUP if "group" in str(exc).lower() else Field.ITEM, str(exc))
        elif isinstance(exc, SniperError):
            self._set_error(Field.FORM, str(exc))
        else:
            log.error("Saving a snipe failed", exc_info=exc)
            self._set_error(
                Field.FORM,
                self.tr("The snipe could not be saved because of an unexpected problem; nothing you typed is lost, "
                        "so you can try again."),
            )

    # --- item and preview -------------------------------------------------------------------------

    def _paste_item(self) -> None:
        found = item_text_from_clipboard()
        if found is not None:
            self.item_edit.setText(found)
            return
        clipboard = QtGui.QGuiApplication.clipboard()
        text = clipboard.text().strip() if clipboard is not None else ""
        if text:
            self.item_edit.setText(text[:_MAX_SCAN_CHARS])  # shows the domain's sentence for what is not an item

    def _cancel_preview(self) -> None:
        if self._preview_task is not None and not self._preview_task.done():
            self._preview_task.cancel()
        self._preview_task = None

    @QtCore.Slot(str)
    def _on_item_changed(self, text: str) -> None:
        if self.is_edit:
            return
        self._set_error(Field.ITEM, None)
        self._set_error(Field.FORM, None)
        ref: ItemRef | None = None
        self._deferred_item_error = None
        if text.strip():
            try:
                ref = parse_item_ref(text)
            except InputError as err:
                self._deferred_item_error = str(err)
        if ref is not None and ref == self._wanted_ref:
            return  # the same item written another way (tracking parameters, spaces): keep its preview
        self._seq += 1
        self._cancel_preview()
        self._wanted_ref = ref
        self._set_preview(None)
        self._debounce.start()

    @QtCore.Slot()
    def _on_item_settled(self) -> None:
        self._debounce.stop()
        if self._wanted_ref is None:
            if self._deferred_item_error:
                self._set_error(Field.ITEM, self._deferred_item_error)
            elif self.item_edit.text().strip() and not self.is_edit:
                # Enter after a failed lookup: try the same text again.
                self._on_item_changed(self.item_edit.text())
            return
        if self._preview is not None or self._preview_task is not None:
            return
        self._request_preview(self._wanted_ref)

    def _request_preview(self, ref: ItemRef) -> None:
        seq = self._seq
        self.lookup_label.setText(self.tr("Looking up item {item} on eBay…").format(item=str(ref)))
        self.lookup_label.setVisible(True)
        self._preview_task = self._runner.submit(
            self._service.preview_item(str(ref)),
            on_done=lambda preview: self._on_preview(seq, preview),
            on_error=lambda exc: self._on_preview_error(seq, exc),
            what="item preview",
        )

    def _on_preview(self, seq: int, preview: ItemPreview) -> None:
        if seq != self._seq:
            return  # the user has named another item since
        self._preview_task = None
        self._set_preview(preview)
        if not preview.is_auction:
            self._set_error(
                Field.ITEM,
                self.tr(
                    "{title} is not an auction (it can only be bought outright); there is nothing to snipe."
                ).format(title=preview.title),
            )
        else:
            self._check_item()
            if self._amount_touched or self.amount_edit.text().strip():
                self._validate(show=self._amount_touched)
        self._update_ok()

    def _on_preview_error(self, seq: int, exc: BaseException) -> None:
        if seq != self._seq:
            return
        self._preview_task = None
        self._wanted_ref = None  # any edit, or Enter, looks it up again
        self.lookup_label.setVisible(False)
        if isinstance(exc, SniperError):
            self._set_error(Field.ITEM, str(exc))
        else:
            log.warning("Item preview failed", exc_info=exc)
            self._set_error(
                Field.ITEM,
                self.tr("eBay could not be asked about this item just now; check the connection and press Enter "
                        "in the item field to try again."),
            )
        self._update_ok()

    def _set_preview(self, preview: ItemPreview | None) -> None:
        self._preview = preview
        self.lookup_label.setVisible(False)
        self.preview_box.setVisible(preview is not None)
        if preview is None:
            self._countdown.stop()
            self.currency_label.setText("")
            self.currency_hint.setVisible(False)
            self._set_warnings([])
            self._update_ok()
            return
        self.title_label.setText(preview.title)
        self.title_label.setToolTip(self.tr("Item {item}").format(item=preview.legacy_item_id))
        if preview.current_price is not None:
            # The listing's own price, and eBay's conversion for the user beside it ("£179.95 ≈ $257.87").
            price = with_converted(preview.current_price, preview.converted_price)
            self.price_label.setText(
                self.tr("{price} ({n} bids)").format(price=price, n=preview.bid_count)
                if preview.bid_count != 1
                else self.tr("{price} (1 bid)").format(price=price)
            )
        else:
            self.price_label.setText(self.tr("unknown"))
        least = preview.minimum_next_bid
        self.minimum_label.setText(
            near_price(least, preview.current_price, preview.converted_price)
            if least is not None else self.tr("unknown")
        )
        if preview.shipping_cost is None:
            self.shipping_label.setText(self.tr("see the listing"))
        elif preview.shipping_cost.minor == 0:
            self.shipping_label.setText(self.tr("free"))
        else:
            self.shipping_label.setText(
                near_price(preview.shipping_cost, preview.current_price, preview.converted_price)
            )
        self.currency_label.setText(preview.currency or "")
        if preview.currency:
            self.currency_hint.setText(
                self.tr("A number without a currency is read in {currency}, the listing's own currency; "
                        "the bid is placed in {currency}.").format(currency=preview.currency)
            )
        self.currency_hint.setVisible(bool(preview.currency))
        if preview.minimum_next_bid is not None:
            self.amount_edit.setPlaceholderText(
                self.tr("At least {least}").format(least=preview.minimum_next_bid.format())
            )
        self._show_image()
        self._show_end()
        self._countdown.start()
        # A long title wraps; a form layout does not grow for a wrapped label by itself.
        QtCore.QTimer.singleShot(0, self, self._fit_to_contents)

    def _fit_to_contents(self) -> None:
        # Every wrapped sentence shown (the title, the currency note, a problem, a warning) keeps the height
        # its lines need, or a message appearing squeezes the others into each other.
        for label in self.findChildren(QtWidgets.QLabel):
            width = label.width()
            if label.wordWrap() and label.isVisible() and width > 0:
                label.setMinimumHeight(label.heightForWidth(width))
        keep = self.width()
        self.adjustSize()
        self.resize(max(keep, self.width()), self.height())

    def _show_image(self) -> None:
        preview = self._preview
        if self._thumbnails is None or preview is None:
            self.image_label.clear()
            return
        self.image_label.setPixmap(self._thumbnails.pixmap(preview.image_url))

    @QtCore.Slot(str)
    def _on_thumbnail(self, url: str) -> None:
        if self._preview is not None and self._preview.image_url == url:
            self._show_image()

    @QtCore.Slot()
    def _show_end(self) -> None:
        preview = self._preview
        if preview is None or preview.end_time is None:
            self.end_label.setText(self.tr("unknown"))
            return
        local = preview.end_time.astimezone()
        left = format_time_left(preview.end_time, self._clock(), ended=self.tr("ended"))
        self.end_label.setText(
            self.tr("{when} (in {left})").format(when=local.strftime("%a %d %b %H:%M:%S"), left=left)
            if left != self.tr("ended")
            else self.tr("{when} (ended)").format(when=local.strftime("%a %d %b %H:%M:%S"))
        )

    def _facts(self) -> tuple[Money, datetime] | None:
        """The price and end the rules need, or None (with the reason shown) when eBay did not give them."""
        preview = self._preview
        if preview is None:
            return None
        current = preview.current_price or preview.minimum_next_bid
        if current is None or preview.end_time is None:
            self._set_error(
                Field.ITEM,
                self.tr("eBay did not give the price and end time of {title}; try again in a moment.").format(
                    title=preview.title
                ),
            )
            return None
        return current, preview.end_time

    def _rules(self, max_bid: Money, lead: float, current: Money, end_time: datetime) -> list[str]:
        settings = self._service.settings
        preview = self._preview
        assert preview is not None
        if self._snipe is not None:
            return validate_edit(
                status=SnipeStatus(self._snipe.status),
                max_bid=max_bid,
                lead_seconds=lead,
                current_price=current,
                bid_count=preview.bid_count,
                marketplace=self._snipe.marketplace,
                end_time=end_time,
                now=self._clock(),
                min_seconds_before_end=settings.min_seconds_before_end,
                listing_marketplace=preview.listing_marketplace,
                minimum_to_bid=preview.ebay_minimum,
            )
        return validate_new_snipe(
            max_bid=max_bid,
            current_price=current,
            bid_count=preview.bid_count,
            marketplace=settings.marketplace,
            end_time=end_time,
            now=self._clock(),
            lead_seconds=lead,
            has_active_snipe_for_item=False,  # only the engine knows; it refuses a second one
            min_seconds_before_end=settings.min_seconds_before_end,
            listing_marketplace=preview.listing_marketplace,
            minimum_to_bid=preview.ebay_minimum,
        )

    def _check_item(self) -> None:
        """Item-level rules (ended, ends too soon) and warnings, before any amount is typed."""
        facts = self._facts()
        if facts is None:
            return
        current, end_time = facts
        low, high = max_bid_bounds(current.currency)
        least = self._preview.minimum_next_bid if self._preview is not None else None
        probe = max(low, least) if least is not None and least.currency == current.currency else low
        if probe > high:
            return
        try:
            warnings = self._rules(probe, float(MIN_LEAD_SECONDS), current, end_time)
        except RuleViolation as err:
            if _field_of_rule(err) == Field.ITEM:
                self._set_error(Field.ITEM, str(err))
            return
        self._set_warnings(warnings)

    def _validate(self, *, show: bool) -> _Checked | None:
        """Check the whole form with the domain's rules; with ``show``, put each sentence by its field."""
        for field in (Field.AMOUNT, Field.LEAD, Field.FORM):
            self._set_error(field, None)
        auto = self.lead_auto_check.isChecked()
        lead = AUTO_LEAD if auto else self.lead_spin.value()
        try:
            if not auto:
                validate_lead(lead)
        except RuleViolation as err:
            self._set_error(Field.LEAD, str(err))
            return None
        facts = self._facts()
        preview = self._preview
        if facts is None or preview is None or not preview.is_auction:
            return None
        current, end_time = facts
        currency = current.currency
        try:
            max_bid = Money.parse(self.amount_edit.text(), currency, expected_currency=currency)
        except MoneyError as err:
            if show:
                self._set_error(Field.AMOUNT, str(err))
            return None
        try:
            # An automatic lead is chosen at the hand-over, at least the least lead: the rules check that one.
            warnings = self._rules(max_bid, MIN_LEAD_SECONDS if auto else lead, current, end_time)
        except RuleViolation as err:
            field = _field_of_rule(err)
            if show or field != Field.AMOUNT:
                self._set_error(field, str(err))
            return None
        # eBay's own figure wins over the increment table where it is stricter (as the engine checks).
        least = preview.minimum_next_bid
        if least is not None and least.currency == currency and max_bid < least:
            if show:
                self._set_error(
                    Field.AMOUNT,
                    self.tr("Your maximum {amount} is below the minimum next bid of {least}.").format(
                        amount=max_bid.format(), least=least.format()
                    ),
                )
            return None
        self._set_warnings(warnings)
        return _Checked(max_bid, lead, warnings)

    # --- group ------------------------------------------------------------------------------------

    def group_choice(self) -> tuple[str | None, bool]:
        """The group the snipe goes in (None for none), and whether it is a new one to make."""
        text = self.group_combo.currentText().strip()
        if not text:
            return None, False
        at = self.group_combo.findText(text, QtCore.Qt.MatchFlag.MatchFixedString)
        if at > 0:
            return self.group_combo.itemText(at), False
        return text, True

    @QtCore.Slot(str)
    def _on_group_changed(self, _text: str) -> None:
        self._set_error(Field.GROUP, None)
        name, is_new = self.group_choice()
        hint = self.tr("A new group “{name}” is made when you save.").format(name=name) if is_new else ""
        self.group_hint.setText(hint)
        self.group_hint.setVisible(bool(hint))

    # --- amount, lead -----------------------------------------------------------------------------

    @QtCore.Slot(str)
    def _on_amount_changed(self, _text: str) -> None:
        if self._saving:
            return
        if self._amount_touched:
            self._validate(show=True)
        else:
            self._set_error(Field.AMOUNT, None)

    @QtCore.Slot()
    def _on_amount_finished(self) -> None:
        if self._saving or not self.amount_edit.text().strip() or self._preview is None:
            return
        self._amount_touched = True
        self._validate(show=True)

    @QtCore.Slot(float)
    def _on_lead_changed(self, _value: float) -> None:
        if self._saving:
            return
        self._set_error(Field.LEAD, None)
        if self._amount_touched:
            self._validate(show=True)

    @QtCore.Slot(bool)
    def _on_lead_auto_toggled(self, auto: bool) -> None:
        self.lead_spin.setEnabled(not auto)
        self._on_lead_changed(self.lead_spin.value())

    def _update_ok(self) -> None:
        preview = self._preview
        ready = preview is not None and preview.is_auction and not self._saving
        self.ok_button.setEnabled(ready)

    # --- edit mode --------------------------------------------------------------------------------

    def _fill_from_snipe(self, snipe: SnipeView) -> None:
        ref = ItemRef(snipe.legacy_item_id)
        self.item_edit.setText(str(ref))
        self.item_edit.setReadOnly(True)
        self.paste_button.setVisible(False)
        self.amount_edit.setText(Money(snipe.max_bid_minor, snipe.currency).to_ebay_value())
        self.currency_label.setText(snipe.currency)
        if snipe.lead_seconds == AUTO_LEAD:
            self.lead_auto_check.setChecked(True)
        else:
            self.lead_auto_check.setChecked(False)
            self.lead_spin.setValue(float(snipe.lead_seconds))
        if snipe.group is not None:
            at = self.group_combo.findData(snipe.group.name)
            if at >= 0:
                self.group_combo.setCurrentIndex(at)
        self.group_combo.setEnabled(False)
        self.group_combo.setToolTip(self.tr("A snipe's group is chosen when it is added."))
        self._wanted_ref = ref
        self._request_preview(ref)

    # --- OK ---------------------------------------------------------------------------------------

    def _set_saving(self, saving: bool) -> None:
        self._saving = saving
        if not self.is_edit:
            self.item_edit.setReadOnly(saving)
            self.paste_button.setEnabled(not saving)
            self.group_combo.setEnabled(not saving)
        self.amount_edit.setReadOnly(saving)
        self.lead_spin.setReadOnly(saving)
        self.lead_auto_check.setEnabled(not saving)
        self.cancel_button.setEnabled(not saving)
        self.saving_label.setText(self.tr("Saving…") if saving else "")
        self.saving_label.setVisible(saving)
        self._update_ok()

    @QtCore.Slot()
    def _on_ok(self) -> None:
        if self._saving or self._preview is None:
            return
        self._amount_touched = True
        checked = self._validate(show=True)
        if checked is None:
            for field, widget in (
                (Field.ITEM, self.item_edit),
                (Field.AMOUNT, self.amount_edit),
                (Field.LEAD, self.lead_spin),
            ):
                if self.error_text(field):
                    widget.setFocus()
                    break
            return
        if self._snipe is not None:
            self._save_edit(self._snipe, checked)
        else:
            self._save_new(self._preview, checked)

    def _save_new(self, preview: ItemPreview, checked: _Checked) -> None:
        assert preview.end_time is not None
        group, is_new = self.group_choice()
        if is_new and group is not None:
            try:
                self._service.add_group(group)
            except SniperError as err:
                self._set_error(Field.GROUP, str(err))
                self.group_combo.setFocus()
                return
            # Known from now on, so a retry after a refusal does not try to make it twice.
            self.group_combo.addItem(group, group)
            self._on_group_changed(group)
        key = uuid.uuid4().hex
        if self._model is not None:
            self._model.add_pending(
                key,
                title=preview.title,
                legacy_item_id=preview.legacy_item_id,
                max_bid=checked.max_bid,
                lead_seconds=checked.lead,
                end_time=preview.end_time,
                group_name=group,
            )
        self._set_saving(True)
        self._runner.submit(
            self._service.add_snipe(
                self.item_edit.text().strip(),
                checked.max_bid.to_ebay_value(),
                lead="auto" if checked.lead == AUTO_LEAD else checked.lead,
                group=group,
            ),
            on_done=lambda result: self._on_added(key, result),
            on_error=lambda exc: self._on_refused(key, exc),
            what="add snipe",
        )

    def _on_added(self, key: str, result: tuple[SnipeView, list[str]]) -> None:
        snipe, warnings = result
        if self._model is not None:
            self._model.resolve_pending(key, int(snipe.id))
        self._set_saving(False)
        self.snipeAdded.emit(int(snipe.id), list(warnings))
        self.accept()

    def _on_refused(self, key: str, exc: BaseException) -> None:
        if self._model is not None:
            self._model.drop_pending(key)
        self._set_saving(False)
        self._show_failure(exc)

    def _save_edit(self, snipe: SnipeView, checked: _Checked) -> None:
        max_changed = checked.max_bid.minor != snipe.max_bid_minor
        lead_changed = abs(checked.lead - float(snipe.lead_seconds)) > 1e-9
        if not max_changed and not lead_changed:
            self.accept()
            return
        self._set_saving(True)
        self._runner.submit(
            self._service.edit_snipe(
                int(snipe.id),
                max_amount=checked.max_bid.to_ebay_value() if max_changed else None,
                lead=("auto" if checked.lead == AUTO_LEAD else checked.lead) if lead_changed else None,
            ),
            on_done=self._on_edited,
            on_error=self._on_edit_refused,
            what="edit snipe",
        )

    def _on_edited(self, result: tuple[SnipeView, list[str]]) -> None:
        snipe, warnings = result
        if self._model is not None:
            self._model.refresh_snipe(int(snipe.id))
        self._set_saving(False)
        self.snipeEdited.emit(int(snipe.id), list(warnings))
        self.accept()

    def _on_edit_refused(self, exc: BaseException) -> None:
        self._set_saving(False)
        self._show_failure(exc)

    # --- closing and drops ------------------------------------------------------------------------

    def reject(self) -> None:
        if self._saving:
            return  # the engine is answering; closing now would hide its answer
        super().reject()

    def done(self, result: int) -> None:
        self._cancel_preview()
        self._debounce.stop()
        self._countdown.stop()
        super().done(result)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        if self._saving:
            event.ignore()
            return
        super().closeEvent(event)

    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        if not self.is_edit and not self._saving and item_text_from_mime(event.mimeData()) is not None:
            event.acceptProposedAction()
            return
        super().dragEnterEvent(event)

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        found = item_text_from_mime(event.mimeData()) if not self.is_edit and not self._saving else None
        if found is None:
            super().dropEvent(event)
            return
        self.item_edit.setText(found)
        self.item_edit.setCursorPosition(0)
        event.acceptProposedAction()
