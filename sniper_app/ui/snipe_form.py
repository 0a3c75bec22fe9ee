"""The Add/Edit snipe dialog's form: its widgets and layout, and the names of the fields messages go by."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sniper_app.domain.errors import SniperError
from sniper_app.domain.rules import MAX_LEAD_SECONDS, MIN_LEAD_SECONDS
from sniper_app.ui.item_sources import ItemLineEdit
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets
from sniper_app.ui.widgets import WARNING_STYLE, message_label

if TYPE_CHECKING:
    from sniper_app.ui.snipe_dialog import SnipeDialog

log = logging.getLogger(__name__)


class Field:
    ITEM = "item"
    AMOUNT = "amount"
    LEAD = "lead"
    GROUP = "group"
    FORM = "form"


def amount_placeholder(dialog: SnipeDialog) -> str:
    """The maximum's hint while no item (or no least bid) is known."""
    return dialog.tr("The most you will pay, e.g. 25.00")


def build_form(dialog: SnipeDialog) -> None:
    layout = QtWidgets.QVBoxLayout(dialog)
    form = QtWidgets.QFormLayout()
    form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
    layout.addLayout(form)

    # Item
    dialog.item_edit = ItemLineEdit(dialog)
    dialog.item_edit.setObjectName("itemEdit")
    dialog.item_edit.setAccessibleName(dialog.tr("eBay item number or link"))
    dialog.item_edit.setPlaceholderText(dialog.tr("Paste or drop an eBay item link or number"))
    dialog.item_edit.setClearButtonEnabled(True)
    dialog.paste_button = QtWidgets.QToolButton(dialog)
    dialog.paste_button.setText(dialog.tr("Paste"))
    dialog.paste_button.setAccessibleName(dialog.tr("Paste the item from the clipboard"))
    dialog.paste_button.setToolTip(dialog.tr("Paste the item from the clipboard (Ctrl+Shift+V)"))
    dialog.paste_button.setShortcut(QtGui.QKeySequence("Ctrl+Shift+V"))
    dialog.paste_button.clicked.connect(dialog._paste_item)
    item_row = QtWidgets.QHBoxLayout()
    item_row.addWidget(dialog.item_edit, 1)
    item_row.addWidget(dialog.paste_button)
    dialog.item_error = message_label(dialog, "itemError")
    dialog.item_error.setAccessibleName(dialog.tr("Item problem"))
    item_box = QtWidgets.QVBoxLayout()
    item_box.addLayout(item_row)
    item_box.addWidget(dialog.item_error)
    item_label = QtWidgets.QLabel(dialog.tr("&Item:"), dialog)
    item_label.setBuddy(dialog.item_edit)
    form.addRow(item_label, item_box)

    # Preview
    dialog.preview_box = QtWidgets.QFrame(dialog)
    dialog.preview_box.setObjectName("previewBox")
    dialog.preview_box.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
    preview_layout = QtWidgets.QHBoxLayout(dialog.preview_box)
    dialog.image_label = QtWidgets.QLabel(dialog.preview_box)
    dialog.image_label.setObjectName("itemImage")
    dialog.image_label.setAccessibleName(dialog.tr("Item picture"))
    dialog.image_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop | QtCore.Qt.AlignmentFlag.AlignHCenter)
    size = dialog._thumbnails.size if dialog._thumbnails is not None else 48
    dialog.image_label.setFixedSize(size + 4, size + 4)
    preview_layout.addWidget(dialog.image_label)
    facts = QtWidgets.QFormLayout()
    dialog.title_label = QtWidgets.QLabel(dialog.preview_box)
    dialog.title_label.setObjectName("titleLabel")
    dialog.title_label.setWordWrap(True)
    font = dialog.title_label.font()
    font.setBold(True)
    dialog.title_label.setFont(font)
    dialog.title_label.setAccessibleName(dialog.tr("Item title"))
    facts.addRow(dialog.title_label)
    dialog.price_label = QtWidgets.QLabel(dialog.preview_box)
    dialog.price_label.setObjectName("priceLabel")
    dialog.minimum_label = QtWidgets.QLabel(dialog.preview_box)
    dialog.minimum_label.setObjectName("minimumLabel")
    dialog.shipping_label = QtWidgets.QLabel(dialog.preview_box)
    dialog.shipping_label.setObjectName("shippingLabel")
    dialog.end_label = QtWidgets.QLabel(dialog.preview_box)
    dialog.end_label.setObjectName("endLabel")
    for label, name in (
        (dialog.price_label, dialog.tr("Current price")),
        (dialog.minimum_label, dialog.tr("Minimum next bid")),
        (dialog.shipping_label, dialog.tr("Shipping")),
        (dialog.end_label, dialog.tr("Ends")),
    ):
        label.setAccessibleName(name)
        label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        facts.addRow(name + ":", label)
    preview_layout.addLayout(facts, 1)
    dialog.lookup_label = QtWidgets.QLabel(dialog)
    dialog.lookup_label.setObjectName("lookupLabel")
    dialog.lookup_label.setAccessibleName(dialog.tr("Item lookup"))
    dialog.lookup_label.setWordWrap(True)
    layout.addWidget(dialog.lookup_label)
    layout.addWidget(dialog.preview_box)
    dialog.preview_box.setVisible(False)

    form2 = QtWidgets.QFormLayout()
    form2.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
    layout.addLayout(form2)

    # Maximum
    dialog.currency_label = QtWidgets.QLabel(dialog)
    dialog.currency_label.setObjectName("currencyLabel")
    dialog.currency_label.setAccessibleName(dialog.tr("Currency of the item"))
    dialog.amount_edit = QtWidgets.QLineEdit(dialog)
    dialog.amount_edit.setObjectName("amountEdit")
    dialog.amount_edit.setAccessibleName(dialog.tr("Your maximum bid"))
    dialog.amount_edit.setPlaceholderText(amount_placeholder(dialog))
    amount_row = QtWidgets.QHBoxLayout()
    amount_row.addWidget(dialog.currency_label)
    amount_row.addWidget(dialog.amount_edit, 1)
    dialog.amount_error = message_label(dialog, "amountError")
    dialog.amount_error.setAccessibleName(dialog.tr("Maximum bid problem"))
    # Which currency a bare number means: the listing's own, whatever marketplace the user browses.
    dialog.currency_hint = QtWidgets.QLabel(dialog)
    dialog.currency_hint.setObjectName("currencyHint")
    dialog.currency_hint.setAccessibleName(dialog.tr("Currency of your maximum"))
    dialog.currency_hint.setWordWrap(True)
    dialog.currency_hint.setVisible(False)
    dialog.includes_shipping_check = QtWidgets.QCheckBox(dialog.tr("My maximum includes shipping"), dialog)
    dialog.includes_shipping_check.setObjectName("includesShipping")
    dialog.includes_shipping_check.setToolTip(dialog.tr(
        "Bid the maximum less the shipping (and any import charges) eBay reports, so the total stays within it."))
    dialog.landed_label = QtWidgets.QLabel(dialog)
    dialog.landed_label.setObjectName("landedLabel")
    dialog.landed_label.setAccessibleName(dialog.tr("Maximum with shipping"))
    dialog.landed_label.setWordWrap(True)
    amount_box = QtWidgets.QVBoxLayout()
    amount_box.addLayout(amount_row)
    amount_box.addWidget(dialog.currency_hint)
    amount_box.addWidget(dialog.includes_shipping_check)
    amount_box.addWidget(dialog.landed_label)
    amount_box.addWidget(dialog.amount_error)
    amount_label = QtWidgets.QLabel(dialog.tr("&Maximum bid:"), dialog)
    amount_label.setBuddy(dialog.amount_edit)
    form2.addRow(amount_label, amount_box)

    # Lead time
    dialog.lead_spin = QtWidgets.QDoubleSpinBox(dialog)
    dialog.lead_spin.setObjectName("leadSpin")
    dialog.lead_spin.setAccessibleName(dialog.tr("Lead time in seconds before the end"))
    dialog.lead_spin.setDecimals(1)
    dialog.lead_spin.setRange(MIN_LEAD_SECONDS, MAX_LEAD_SECONDS)
    dialog.lead_spin.setSingleStep(1.0)
    dialog.lead_spin.setSuffix(dialog.tr(" s"))
    dialog.lead_spin.setValue(float(dialog._service.settings.default_lead_seconds))
    dialog.lead_spin.setToolTip(dialog.tr("How long before the auction ends the bid should reach eBay."))
    dialog.lead_auto_check = QtWidgets.QCheckBox(dialog.tr("Choose the shortest safe lead automatically"), dialog)
    dialog.lead_auto_check.setObjectName("leadAuto")
    dialog.lead_auto_check.setToolTip(dialog.tr(
        "The engine picks the lead from the measured round trip to eBay, its spread and the clock's "
        "uncertainty, never below 1 s; the snipe's details show what it chose and why."))
    dialog.lead_auto_check.setChecked(bool(dialog._service.settings.auto_lead))
    dialog.lead_spin.setEnabled(not dialog.lead_auto_check.isChecked())
    dialog.lead_error = message_label(dialog, "leadError")
    dialog.lead_error.setAccessibleName(dialog.tr("Lead time problem"))
    lead_box = QtWidgets.QVBoxLayout()
    lead_box.addWidget(dialog.lead_spin)
    lead_box.addWidget(dialog.lead_auto_check)
    lead_box.addWidget(dialog.lead_error)
    lead_label = QtWidgets.QLabel(dialog.tr("&Lead time:"), dialog)
    lead_label.setBuddy(dialog.lead_spin)
    form2.addRow(lead_label, lead_box)

    # Group
    dialog.group_combo = QtWidgets.QComboBox(dialog)
    dialog.group_combo.setObjectName("groupCombo")
    dialog.group_combo.setAccessibleName(dialog.tr("Snipe group"))
    # Editable: a name that is not in the list makes a new group (aiming to win one item) on save.
    dialog.group_combo.setEditable(True)
    dialog.group_combo.setMinimumWidth(300)  # room for the placeholder that says what an empty group means
    dialog.group_combo.setInsertPolicy(QtWidgets.QComboBox.InsertPolicy.NoInsert)
    group_line = dialog.group_combo.lineEdit()
    if group_line is not None:
        group_line.setPlaceholderText(dialog.tr("(no group) — or type a name for a new one"))
    dialog.group_combo.setToolTip(
        dialog.tr("Snipes in one group win at most the number of items the group aims for; "
                "when it is reached, the others are cancelled.")
    )
    dialog.group_combo.addItem("", None)
    try:
        for summary in dialog._service.list_groups():
            dialog.group_combo.addItem(summary.group.name, summary.group.name)
    except SniperError as err:  # the dialog still works without groups
        log.warning("Could not list snipe groups: %s", err)
    dialog.group_combo.setCurrentIndex(0)
    dialog.group_combo.editTextChanged.connect(dialog._on_group_changed)
    dialog.group_error = message_label(dialog, "groupError")
    dialog.group_hint = message_label(dialog, "groupHint", WARNING_STYLE)
    group_box = QtWidgets.QVBoxLayout()
    group_box.addWidget(dialog.group_combo)
    group_box.addWidget(dialog.group_hint)
    group_box.addWidget(dialog.group_error)
    group_label = QtWidgets.QLabel(dialog.tr("&Group:"), dialog)
    group_label.setBuddy(dialog.group_combo)
    form2.addRow(group_label, group_box)

    dialog.warning_label = message_label(dialog, "warningLabel", WARNING_STYLE)
    dialog.warning_label.setAccessibleName(dialog.tr("Warnings"))
    layout.addWidget(dialog.warning_label)
    dialog.form_error = message_label(dialog, "formError")
    dialog.form_error.setAccessibleName(dialog.tr("Problem"))
    layout.addWidget(dialog.form_error)
    dialog.saving_label = QtWidgets.QLabel(dialog)
    dialog.saving_label.setObjectName("savingLabel")
    dialog.saving_label.setVisible(False)
    layout.addWidget(dialog.saving_label)

    dialog.buttons = QtWidgets.QDialogButtonBox(
        QtWidgets.QDialogButtonBox.StandardButton.Ok | QtWidgets.QDialogButtonBox.StandardButton.Cancel,
        dialog,
    )
    dialog.ok_button = dialog.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
    dialog.ok_button.setText(dialog.tr("&Save") if dialog.is_edit else dialog.tr("&Add snipe"))
    dialog.ok_button.setAccessibleName(dialog.ok_button.text().replace("&", ""))
    dialog.cancel_button = dialog.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Cancel)
    dialog.buttons.accepted.connect(dialog._on_ok)
    dialog.buttons.rejected.connect(dialog.reject)
    layout.addWidget(dialog.buttons)
    dialog._labels = {
        Field.ITEM: dialog.item_error,
        Field.AMOUNT: dialog.amount_error,
        Field.LEAD: dialog.lead_error,
        Field.GROUP: dialog.group_error,
        Field.FORM: dialog.form_error,
    }
    # At least 520 px wide, as a strut rather than the dialog's own minimum: that would override the
    # layout's, and a large font would cut the lines wider than 520 px.
    layout.addStrut(520)
