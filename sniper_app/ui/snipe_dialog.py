"""The Add / Edit snipe dialog: an item from a paste, a drop or the clipboard, its preview, and the maximum.

The dialog checks what it can with the domain's own rules as the user types (pure functions, no I/O), so
most mistakes get their sentence next to the field before anything is sent. What only the engine can
know (a snipe already on the item, a price that moved) comes back as a refusal: the optimistic row in the
Snipes view goes away, and the dialog, still open with everything the user typed, shows the sentence.

The form's widgets are built in snipe_form, the looked-up item is shown by snipe_preview, and where an
item number comes from (typing, a drop, the clipboard) is read by item_sources.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sniper_app.domain.errors import InputError, RuleViolation, SniperError
from sniper_app.domain.exposure import SnipeCost
from sniper_app.domain.items import ItemRef, parse_item_ref
from sniper_app.domain.money import Money, MoneyError
from sniper_app.domain.rules import (
    AUTO_LEAD,
    MIN_LEAD_SECONDS,
    max_bid_bounds,
    validate_edit,
    validate_lead,
    validate_new_snipe,
)
from sniper_app.domain.spending import check_cap, parse_spending_cap, typo_warning
from sniper_app.domain.status import SnipeStatus
from sniper_app.domain.views import SnipeView
from sniper_app.engine.actions import SuspectedTypo
from sniper_app.engine.service import ItemPreview, SniperService
from sniper_app.ui import snipe_form, snipe_preview
from sniper_app.ui.bridge import AsyncRunner
from sniper_app.ui.item_sources import MAX_SCAN_CHARS, ItemLineEdit, item_text_from_clipboard, item_text_from_mime
from sniper_app.ui.models import SnipesModel
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets
from sniper_app.ui.snipe_form import Field
from sniper_app.ui.thumbnails import ThumbnailCache

log = logging.getLogger(__name__)

PREVIEW_DELAY_MS: Final = 350  # long enough to let a typist finish a number, short enough to feel instant

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------------------------------ the dialog


@dataclass(frozen=True)
class _Checked:
    max_bid: Money
    lead: float
    warnings: list[str]


def _field_of_rule(err: RuleViolation) -> str:
    # The domain's sentences name what they are about; the dialog only needs to put them by that field.
    text = str(err)
    if text.startswith(("Your maximum", "This item is priced in", "This would pass your spending cap")):
        return Field.AMOUNT
    if text.startswith(("Lead time", "The lead time", "A lead time")):
        return Field.LEAD
    return Field.ITEM


class SnipeDialog(QtWidgets.QDialog):
    """Add a snipe (``snipe`` None) or change the maximum and lead of one that has not fired."""

    snipeAdded = QtCore.Signal(int, list)  # (snipe id, the engine's warnings)
    snipeEdited = QtCore.Signal(int, list)

    # The form's widgets, built by snipe_form.build_form.
    item_edit: ItemLineEdit
    paste_button: QtWidgets.QToolButton
    lookup_label: QtWidgets.QLabel
    preview_box: QtWidgets.QFrame
    image_label: QtWidgets.QLabel
    title_label: QtWidgets.QLabel
    price_label: QtWidgets.QLabel
    minimum_label: QtWidgets.QLabel
    shipping_label: QtWidgets.QLabel
    end_label: QtWidgets.QLabel
    amount_edit: QtWidgets.QLineEdit
    currency_label: QtWidgets.QLabel
    currency_hint: QtWidgets.QLabel
    includes_shipping_check: QtWidgets.QCheckBox
    landed_label: QtWidgets.QLabel
    lead_spin: QtWidgets.QDoubleSpinBox
    lead_auto_check: QtWidgets.QCheckBox
    group_combo: QtWidgets.QComboBox
    group_hint: QtWidgets.QLabel
    item_error: QtWidgets.QLabel
    amount_error: QtWidgets.QLabel
    lead_error: QtWidgets.QLabel
    group_error: QtWidgets.QLabel
    form_error: QtWidgets.QLabel
    warning_label: QtWidgets.QLabel
    saving_label: QtWidgets.QLabel
    buttons: QtWidgets.QDialogButtonBox
    ok_button: QtWidgets.QPushButton
    cancel_button: QtWidgets.QPushButton
    _labels: dict[str, QtWidgets.QLabel]

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
        snipe_form.build_form(self)

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
        self.amount_edit.textChanged.connect(lambda _text: snipe_preview.show_landed(self))
        self.includes_shipping_check.toggled.connect(lambda _on: snipe_preview.show_landed(self))
        self.amount_edit.editingFinished.connect(self._on_amount_finished)
        self.lead_spin.valueChanged.connect(self._on_lead_changed)
        self.lead_auto_check.toggled.connect(self._on_lead_auto_toggled)

        if self._snipe is not None:
            self._fill_from_snipe(self._snipe)
        else:
            text = item_text if item_text is not None else (item_text_from_clipboard() if use_clipboard else None)
            if text:
                self.item_edit.setText(text)
                # Selected from the end back to the start: typing replaces what was filled in, and a long
                # link shows its host, not its tracking tail.
                self.item_edit.setSelection(len(text), -len(text))
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
        text = "\n".join(warnings)
        if text == self.warning_label.text() and self.warning_label.isHidden() != bool(warnings):
            return  # the countdown re-checks every second: an unchanged sentence is not laid out again
        self.warning_label.setText(text)
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
            self.item_edit.setText(text[:MAX_SCAN_CHARS])  # shows the domain's sentence for what is not an item

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
        snipe_preview.set_preview(self, preview)

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

    @QtCore.Slot(str)
    def _on_thumbnail(self, url: str) -> None:
        if self._preview is not None and self._preview.image_url == url:
            snipe_preview.show_image(self)

    @QtCore.Slot()
    def _show_end(self) -> None:
        snipe_preview.show_end(self)
        if self._preview is not None and not self._saving:
            # "Ends in 4 minutes 23 seconds" counts down with the Ends line, and an end passed while the
            # dialog is open is said at once.
            if self._amount_touched:
                self._validate(show=True)
            else:
                self._check_item()
        self._update_ok()

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
        self._set_warnings([*warnings, *self._uncapped_note(max_bid)])
        return _Checked(max_bid, lead, warnings)

    def _uncapped_note(self, max_bid: Money) -> list[str]:
        """The domain's note when a spending cap is set but none covers this currency (the engine says the same
        on saving; said here, the user knows before)."""
        try:
            caps = parse_spending_cap(self._service.settings.spending_cap)
        except SniperError:
            return []
        candidate = SnipeCost(snipe_id=0, status=SnipeStatus.PENDING, maximum=max_bid)
        check = check_cap(caps, self._service.settings.spending_period_days, wins=(), snipes=(), candidate=candidate,
                          now=_utc_now())
        return [check.sentence] if caps and check.uncapped else []

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
        ended = snipe_preview.has_ended(self)
        ready = preview is not None and preview.is_auction and not self._saving and not ended
        self.ok_button.setEnabled(ready)
        self.ok_button.setToolTip(self.tr("This auction has already ended: there is nothing left to bid on.")
                                  if ended else "")

    # --- edit mode --------------------------------------------------------------------------------

    def _fill_from_snipe(self, snipe: SnipeView) -> None:
        ref = ItemRef(snipe.legacy_item_id)
        self.item_edit.setText(str(ref))
        self.item_edit.setReadOnly(True)
        self.item_edit.setClearButtonEnabled(False)  # the item of a snipe cannot change
        self.paste_button.setVisible(False)
        self.amount_edit.setText(Money(snipe.max_bid_minor, snipe.currency).to_ebay_value())
        self.currency_label.setText(snipe.currency)
        self.includes_shipping_check.setChecked(snipe.includes_shipping)
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

    def _confirm_typo(self, sentence: str) -> bool:
        """Ask whether a maximum far above the price is meant; a typo ("4000" for "40.00") is costly."""
        answer = QtWidgets.QMessageBox.question(
            self, self.tr("Check your maximum"), sentence + "\n\n" + self.tr("Save this maximum anyway?"),
            QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.No,
            QtWidgets.QMessageBox.StandardButton.No,
        )
        return answer == QtWidgets.QMessageBox.StandardButton.Yes

    @QtCore.Slot()
    def _on_ok(self) -> None:
        self._save(confirmed=False)

    def _save(self, *, confirmed: bool) -> None:
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
        changed = self._snipe is None or checked.max_bid.minor != self._snipe.max_bid_minor
        warning = typo_warning(checked.max_bid, self._preview.current_price) if changed and not confirmed else None
        if warning is not None:
            if not self._confirm_typo(warning.sentence):
                self._set_error(Field.AMOUNT, warning.sentence)
                self.amount_edit.setFocus()
                return
            confirmed = True
        if self._snipe is not None:
            self._save_edit(self._snipe, checked, confirmed)
        else:
            self._save_new(self._preview, checked, confirmed)

    def _save_new(self, preview: ItemPreview, checked: _Checked, confirmed: bool) -> None:
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
                confirmed=confirmed,
                includes_shipping=self.includes_shipping_check.isChecked(),
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
        self._ask_after_typo_refusal(exc)

    def _ask_after_typo_refusal(self, exc: BaseException) -> None:
        # The engine read a fresher price than the preview showed: ask now, as the preview would have.
        if isinstance(exc, SuspectedTypo) and self._confirm_typo(str(exc)):
            self._save(confirmed=True)

    def _save_edit(self, snipe: SnipeView, checked: _Checked, confirmed: bool) -> None:
        max_changed = checked.max_bid.minor != snipe.max_bid_minor
        lead_changed = abs(checked.lead - float(snipe.lead_seconds)) > 1e-9
        includes = self.includes_shipping_check.isChecked()
        includes_changed = includes != snipe.includes_shipping
        if not max_changed and not lead_changed and not includes_changed:
            self.accept()
            return
        self._set_saving(True)
        self._runner.submit(
            self._service.edit_snipe(
                int(snipe.id),
                max_amount=checked.max_bid.to_ebay_value() if max_changed else None,
                lead=("auto" if checked.lead == AUTO_LEAD else checked.lead) if lead_changed else None,
                confirmed=confirmed,
                includes_shipping=includes if includes_changed else None,
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
        self._ask_after_typo_refusal(exc)

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
