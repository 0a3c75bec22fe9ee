"""The Add/Edit snipe dialog's item preview: title, price, least bid, shipping, picture and the countdown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sniper_app.domain.errors import SniperError
from sniper_app.domain.landed import LandedError, bid_for_maximum
from sniper_app.domain.money import Money, near_price, with_converted
from sniper_app.engine.service import ItemPreview
from sniper_app.ui import snipe_form
from sniper_app.ui.formatting import format_time_left
from sniper_app.ui.qt import QtCore, QtWidgets

if TYPE_CHECKING:
    from sniper_app.ui.snipe_dialog import SnipeDialog


def set_preview(dialog: SnipeDialog, preview: ItemPreview | None) -> None:
    dialog._preview = preview
    dialog.lookup_label.setVisible(False)
    dialog.preview_box.setVisible(preview is not None)
    if preview is None:
        dialog._countdown.stop()
        dialog.currency_label.setText("")
        dialog.currency_hint.setVisible(False)
        dialog.amount_edit.setPlaceholderText(snipe_form.amount_placeholder(dialog))
        dialog._set_warnings([])
        dialog._update_ok()
        return
    dialog.title_label.setText(preview.title)
    dialog.title_label.setToolTip(dialog.tr("Item {item}").format(item=preview.legacy_item_id))
    if preview.current_price is not None:
        # The listing's own price, and eBay's conversion for the user beside it ("£179.95 ≈ $257.87").
        price = with_converted(preview.current_price, preview.converted_price)
        dialog.price_label.setText(
            dialog.tr("{price} ({n} bids)").format(price=price, n=preview.bid_count)
            if preview.bid_count != 1
            else dialog.tr("{price} (1 bid)").format(price=price)
        )
    else:
        dialog.price_label.setText(dialog.tr("unknown"))
    least = preview.minimum_next_bid
    dialog.minimum_label.setText(
        near_price(least, preview.current_price, preview.converted_price)
        if least is not None else dialog.tr("unknown")
    )
    if preview.shipping_cost is None:
        dialog.shipping_label.setText(dialog.tr("see the listing"))
    elif preview.shipping_cost.minor == 0:
        dialog.shipping_label.setText(dialog.tr("free"))
    else:
        dialog.shipping_label.setText(
            near_price(preview.shipping_cost, preview.current_price, preview.converted_price)
        )
    if preview.import_charges is not None:
        dialog.shipping_label.setText(dialog.tr("{shipping} + {charges} import charges").format(
            shipping=dialog.shipping_label.text(), charges=preview.import_charges.format()))
    dialog.currency_label.setText(preview.currency or "")
    show_landed(dialog)
    if preview.currency:
        dialog.currency_hint.setText(
            dialog.tr("A number without a currency is read in {currency}, the listing's own currency; "
                    "the bid is placed in {currency}.").format(currency=preview.currency)
        )
    dialog.currency_hint.setVisible(bool(preview.currency))
    # The hint always speaks of the item now shown, never of the one before it.
    dialog.amount_edit.setPlaceholderText(
        dialog.tr("At least {least}").format(least=preview.minimum_next_bid.format())
        if preview.minimum_next_bid is not None else snipe_form.amount_placeholder(dialog)
    )
    show_image(dialog)
    dialog._show_end()
    dialog._countdown.start()
    # A long title wraps; a form layout does not grow for a wrapped label by itself.
    QtCore.QTimer.singleShot(0, dialog, dialog._fit_to_contents)


def show_image(dialog: SnipeDialog) -> None:
    preview = dialog._preview
    if dialog._thumbnails is None or preview is None:
        dialog.image_label.clear()
        return
    dialog.image_label.setPixmap(dialog._thumbnails.pixmap(preview.image_url))


def has_ended(dialog: SnipeDialog) -> bool:
    preview = dialog._preview
    return preview is not None and preview.end_time is not None and preview.end_time <= dialog._clock()


def _show_minimum(dialog: SnipeDialog, shown: bool) -> None:
    """An ended auction has no next bid: its minimum row goes, and the amount's hint with it."""
    for form in dialog.preview_box.findChildren(QtWidgets.QFormLayout):
        if form.indexOf(dialog.minimum_label) >= 0:
            form.setRowVisible(dialog.minimum_label, shown)
    if not shown:
        dialog.amount_edit.setPlaceholderText("")


def show_end(dialog: SnipeDialog) -> None:
    preview = dialog._preview
    if preview is None or preview.end_time is None:
        dialog.end_label.setText(dialog.tr("unknown"))
        return
    _show_minimum(dialog, not has_ended(dialog))
    local = preview.end_time.astimezone()
    left = format_time_left(preview.end_time, dialog._clock(), ended=dialog.tr("ended"))
    dialog.end_label.setText(
        dialog.tr("{when} (in {left})").format(when=local.strftime("%a %d %b %H:%M:%S"), left=left)
        if left != dialog.tr("ended")
        else dialog.tr("{when} (ended)").format(when=local.strftime("%a %d %b %H:%M:%S"))
    )


def show_landed(dialog: SnipeDialog) -> None:
    """The maximum typed so far with the shipping and import charges: "max + shipping = total", and what is
    bid when the maximum includes them (or why it cannot)."""
    preview = dialog._preview
    text = dialog.amount_edit.text().strip()
    dialog.landed_label.setText("")
    if preview is None or not preview.currency or not text:
        return
    try:
        maximum = Money.parse(text, preview.currency, expected_currency=preview.currency)
        told = bid_for_maximum(maximum, includes_shipping=dialog.includes_shipping_check.isChecked(),
                               shipping=preview.shipping_cost, import_charges=preview.import_charges,
                               minimum_bid=preview.ebay_minimum)
    except LandedError as exc:
        dialog.landed_label.setText(str(exc))
        return
    except SniperError:
        return  # the amount's own problem is shown beside it
    dialog.landed_label.setText(told.sentence)
