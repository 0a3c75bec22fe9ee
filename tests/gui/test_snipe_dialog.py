"""The Add / Edit snipe dialog against a live engine and the simulator: what the user sees, what eBay gets."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import shiboken6

from sniper_app.domain.rules import AUTO_LEAD
from sniper_app.simulator import SimulatorServer
from sniper_app.ui.bridge import AsyncRunner, EngineBridge
from sniper_app.ui.item_sources import item_text_from_mime
from sniper_app.ui.models import SnipeColumn, SnipesModel
from sniper_app.ui.qt import QtCore, QtGui, QtWidgets
from sniper_app.ui.snipe_dialog import SnipeDialog
from sniper_app.ui.thumbnails import ThumbnailCache
from tests.gui.conftest import SCREENSHOT_DIR
from tests.support.live import Live, live_service
from tests.support.wait import wait_until_async

Qt = QtCore.Qt
LOOK_ALIKE = "https://www.ebay.com.evil.example/itm/123456789012"


def status_cells(model: SnipesModel) -> list[tuple[str, str]]:
    return [
        (
            str(model.data(model.index(r, SnipeColumn.ITEM))),
            str(model.data(model.index(r, SnipeColumn.STATUS))),
        )
        for r in range(model.rowCount())
    ]


@dataclass
class Rig:
    live: Live
    runner: AsyncRunner
    model: SnipesModel
    thumbnails: ThumbnailCache
    bridge: EngineBridge
    dialogs: list[SnipeDialog] = field(default_factory=list)

    def dialog(self, **kw: Any) -> SnipeDialog:
        kw.setdefault("use_clipboard", False)
        dialog = SnipeDialog(self.live.service, self.runner, self.thumbnails, None, snipes_model=self.model, **kw)
        self.dialogs.append(dialog)  # deleted by the rig, on the GUI thread
        dialog.open()
        return dialog


@asynccontextmanager
async def dialog_rig(live: Live, tmp_path: Path) -> AsyncIterator[Rig]:
    """The window's parts the dialog works with, deleted on the GUI thread when the test is done.

    Left to the garbage collector, a Qt object in a reference cycle may be destroyed on whichever thread
    collects (the simulator's), and a timer it owned then fires into freed memory.
    """
    runner = AsyncRunner()
    model = SnipesModel(live.service)
    bridge = EngineBridge(live.bus)
    bridge.snipeStatusChanged.connect(model.on_status_changed)
    rig = Rig(live, runner, model, ThumbnailCache(tmp_path / "thumbs"), bridge)
    try:
        yield rig
    finally:
        bridge.detach()
        runner.cancel_all()
        # Let a picture still on its way arrive while the simulator answers, so no reply outlives its cache.
        previews = [d.preview for d in rig.dialogs if shiboken6.isValid(d)]
        images = [p.image_url for p in previews if p is not None and p.image_url]
        await wait_until_async(
            lambda: not any(rig.thumbnails.is_pending(url) for url in images), what="pictures to arrive"
        )
        objects: list[QtCore.QObject] = [*rig.dialogs, model, bridge, runner, rig.thumbnails]
        for obj in objects:
            if shiboken6.isValid(obj):
                obj.deleteLater()
        await wait_until_async(
            lambda: not any(shiboken6.isValid(o) for o in objects), what="the dialog's parts to be deleted"
        )


def paste(qtbot: Any, widget: QtWidgets.QWidget, text: str) -> None:
    """What a user does: put ``text`` on the clipboard, focus the field, press Ctrl+V."""
    QtGui.QGuiApplication.clipboard().setText(text)
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)


def squeezed(dialog: QtWidgets.QDialog) -> list[str]:
    """The wrapped sentences shown with less height than their lines need: clipped for the user."""
    return [
        label.text() for label in dialog.findChildren(QtWidgets.QLabel)
        if label.wordWrap() and label.isVisible() and label.text()
        and label.height() < label.heightForWidth(label.width())
    ]


def item_url(auction: dict[str, Any]) -> str:
    return f"https://www.ebay.com/itm/brass-sextant/{auction['legacy_item_id']}?hash=item1f&var=0"


@pytest.fixture(autouse=True)
def _clean_clipboard(qapp: Any) -> Iterator[None]:
    yield
    QtGui.QGuiApplication.clipboard().clear()


def test_add_from_a_pasted_url_shows_the_item_then_the_snipe_at_once(
    sim: SimulatorServer, tmp_path: Path, qloop: Any, qtbot: Any
) -> None:
    auction = sim.create_auction("Brass sextant", "40.00", ends_in=900)

    async def scenario() -> None:
        async with live_service(sim, tmp_path) as live, dialog_rig(live, tmp_path) as rig:
            dialog = rig.dialog()
            assert not dialog.ok_button.isEnabled()  # nothing named yet
            paste(qtbot, dialog.item_edit, item_url(auction))
            assert dialog.item_edit.text() == item_url(auction)
            await wait_until_async(lambda: dialog.preview is not None, what="the item preview")
            assert dialog.title_label.text() == "Brass sextant"
            assert dialog.minimum_label.text() == "$40.00"
            assert dialog.price_label.text() == "$40.00 (0 bids)"
            assert dialog.currency_label.text() == "USD"
            assert "(in 14m" in dialog.end_label.text()
            assert dialog.ok_button.isEnabled()
            assert dialog.lead_spin.value() == live.settings.default_lead_seconds
            image = dialog.preview.image_url if dialog.preview else None
            await wait_until_async(lambda: not rig.thumbnails.is_pending(image or ""), what="the item picture")

            qtbot.keyClicks(dialog.amount_edit, "55.00")
            dialog.lead_spin.setValue(7)
            SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
            assert dialog.grab().save(str(SCREENSHOT_DIR / "add_snipe.png"))
            before = len(rig.model.rows())
            qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

            # Optimistic: the row is there before the engine has answered, and the dialog waits for it.
            assert ("Brass sextant", "Adding…") in status_cells(rig.model)
            assert len(rig.model.rows()) == before + 1
            assert dialog.saving
            assert dialog.isVisible()
            assert not dialog.cancel_button.isEnabled()

            await wait_until_async(lambda: not dialog.isVisible(), what="the dialog to close after the engine accepted")
            assert dialog.result() == QtWidgets.QDialog.DialogCode.Accepted
            (snipe,) = live.store.list_snipes(user_id=live.user_id)
            assert (snipe.max_bid_minor, snipe.lead_seconds, snipe.title) == (5500, 7.0, "Brass sextant")
            await wait_until_async(
                lambda: live.store.get_snipe(snipe.id).status == "SCHEDULED", what="the snipe to be armed"
            )
            await wait_until_async(
                lambda: status_cells(rig.model) == [("Brass sextant", "Scheduled")], what="the row to follow"
            )
            assert rig.model.row(0).id == snipe.id
            assert live.bids() == []  # armed, not fired: nothing bid yet

    qloop(scenario())


def test_a_bad_url_is_explained_inline_and_ok_stays_disabled(
    sim: SimulatorServer, tmp_path: Path, qloop: Any, qtbot: Any
) -> None:
    async def scenario() -> None:
        async with live_service(sim, tmp_path) as live, dialog_rig(live, tmp_path) as rig:
            dialog = rig.dialog()
            calls = len(sim.requests())
            paste(qtbot, dialog.item_edit, LOOK_ALIKE)
            await wait_until_async(lambda: dialog.error_text("item") != "", what="the item's sentence")
            assert dialog.error_text("item").startswith("Expected an eBay item number")
            assert dialog.item_edit.text() == LOOK_ALIKE  # kept, to be corrected
            assert not dialog.ok_button.isEnabled()
            assert len(sim.requests()) == calls  # a look-alike host is never asked about
            # Correcting it clears the sentence.
            dialog.item_edit.setText("not an item")
            assert dialog.error_text("item") == ""

    qloop(scenario())


def test_an_unknown_item_gets_the_domain_sentence(
    sim: SimulatorServer, tmp_path: Path, qloop: Any, qtbot: Any
) -> None:
    async def scenario() -> None:
        async with live_service(sim, tmp_path) as live, dialog_rig(live, tmp_path) as rig:
            dialog = rig.dialog(item_text="999999999999")
            await wait_until_async(lambda: dialog.error_text("item") != "", what="the item's sentence")
            assert dialog.error_text("item") == "eBay does not know item 999999999999; check the item number or link."
            assert not dialog.ok_button.isEnabled()

    qloop(scenario())


def test_a_too_low_amount_is_refused_inline_and_nothing_is_sent(
    sim: SimulatorServer, tmp_path: Path, qloop: Any, qtbot: Any
) -> None:
    auction = sim.create_auction("Brass sextant", "40.00", ends_in=900)

    async def scenario() -> None:
        async with live_service(sim, tmp_path) as live, dialog_rig(live, tmp_path) as rig:
            dialog = rig.dialog(item_text=item_url(auction))
            await wait_until_async(lambda: dialog.preview is not None, what="the item preview")
            qtbot.keyClicks(dialog.amount_edit, "39.50")
            assert dialog.error_text("amount") == ""  # not while typing
            calls = len(sim.requests())
            qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
            assert dialog.error_text("amount") == "Your maximum $39.50 is below the minimum next bid of $40.00."
            assert dialog.amount_edit.text() == "39.50"
            assert dialog.isVisible()
            assert not dialog.saving
            assert not rig.runner.busy  # nothing was started: no request can follow
            assert len(sim.requests()) == calls
            assert live.store.list_snipes(user_id=live.user_id) == []
            assert rig.model.rowCount() == 0
            # Garbage is the money parser's sentence; fixing the amount clears it as the user types.
            dialog.amount_edit.setText("forty")
            assert dialog.error_text("amount").startswith("Could not read 'forty' as an amount.")
            dialog.amount_edit.setText("40.00")
            assert dialog.error_text("amount") == ""

    qloop(scenario())


def test_a_pound_listing_seen_from_the_us_shows_both_prices_and_refuses_dollars(
    sim: SimulatorServer, tmp_path: Path, qloop: Any, qtbot: Any
) -> None:
    auction = sim.create_auction("Roberts radio", "45.00", ends_in=900, marketplace="EBAY_GB")

    async def scenario() -> None:
        async with live_service(sim, tmp_path) as live, dialog_rig(live, tmp_path) as rig:
            assert live.settings.marketplace == "EBAY_US"
            dialog = rig.dialog(item_text=item_url(auction))
            await wait_until_async(lambda: dialog.preview is not None, what="the item preview")
            # The listing's own pounds first, eBay's dollars (at the simulator's 0.78) beside them.
            assert dialog.price_label.text() == "£45.00 ≈ $57.69 (0 bids)"
            # The least bid too, at the rate eBay converted the price; what is bid stays in pounds.
            assert dialog.minimum_label.text() == "£45.00 ≈ $57.69"
            assert dialog.currency_label.text() == "GBP"
            assert dialog.currency_hint.isVisibleTo(dialog)
            assert dialog.currency_hint.text() == (
                "A number without a currency is read in GBP, the listing's own currency; the bid is placed in GBP."
            )
            qtbot.keyClicks(dialog.amount_edit, "$60")
            calls = len(sim.requests())
            qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
            assert dialog.error_text("amount") == "This item is priced in GBP; enter the amount in GBP."
            # The refusal appears without squeezing the currency note above it into its own lines.
            await wait_until_async(lambda: squeezed(dialog) == [], what="every sentence to have the height it needs")
            assert len(sim.requests()) == calls
            assert live.store.list_snipes(user_id=live.user_id) == []
            dialog.amount_edit.setText("60")
            assert dialog.error_text("amount") == ""

    qloop(scenario())


def test_an_engine_refusal_removes_the_optimistic_row_and_keeps_the_dialog(
    sim: SimulatorServer, tmp_path: Path, qloop: Any, qtbot: Any
) -> None:
    auction = sim.create_auction("Brass sextant", "40.00", ends_in=900)

    async def scenario() -> None:
        async with live_service(sim, tmp_path) as live:
            first, _ = await live.service.add_snipe(auction["legacy_item_id"], "50.00")
            async with dialog_rig(live, tmp_path) as rig:
                dialog = rig.dialog(item_text=item_url(auction))
                await wait_until_async(lambda: dialog.preview is not None, what="the item preview")
                qtbot.keyClicks(dialog.amount_edit, "60.00")
                qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
                assert [s for _, s in status_cells(rig.model)].count("Adding…") == 1

                await wait_until_async(lambda: dialog.error_text("item") != "", what="the engine's refusal")
                assert dialog.error_text("item") == (
                    "You already have a snipe on this item; edit or cancel it instead of adding another."
                )
                assert [r.id for r in rig.model.rows()] == [first.id]  # the optimistic row is gone
                assert "Adding…" not in [s for _, s in status_cells(rig.model)]
                assert dialog.isVisible()
                assert not dialog.saving
                assert dialog.ok_button.isEnabled()
                assert (dialog.item_edit.text(), dialog.amount_edit.text()) == (item_url(auction), "60.00")
                assert [s.id for s in live.store.list_snipes(user_id=live.user_id)] == [first.id]
                assert live.store.get_snipe(first.id).max_bid_minor == 5000

    qloop(scenario())


def test_an_auction_ending_soon_warns_a_too_long_lead_is_refused_and_a_group_is_kept(
    sim: SimulatorServer, tmp_path: Path, qloop: Any, qtbot: Any
) -> None:
    auction = sim.create_auction("Brass sextant", "40.00", ends_in=100)

    async def scenario() -> None:
        async with live_service(sim, tmp_path) as live, dialog_rig(live, tmp_path) as rig:
            live.service.add_group("Instruments")
            dialog = rig.dialog(item_text=auction["legacy_item_id"])
            await wait_until_async(lambda: dialog.preview is not None, what="the item preview")
            # Shown before any amount, and not blocking.
            assert dialog.warning_label.text().startswith("This auction ends in 1 minute")
            assert dialog.ok_button.isEnabled()

            qtbot.keyClicks(dialog.amount_edit, "45")
            dialog.lead_spin.setValue(120)
            qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
            assert dialog.error_text("lead").startswith("The lead time of 2 minutes is longer than the 1 minute")
            assert dialog.error_text("amount") == ""
            assert not rig.runner.busy

            dialog.lead_spin.setValue(4)
            assert dialog.error_text("lead") == ""
            dialog.group_combo.setCurrentIndex(dialog.group_combo.findText("Instruments"))
            added: list[tuple[int, list[str]]] = []
            dialog.snipeAdded.connect(lambda snipe_id, warnings: added.append((snipe_id, warnings)))
            qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
            await wait_until_async(lambda: bool(added), what="the snipe to be added")
            ((snipe_id, warnings),) = added
            assert warnings[0].startswith("This auction ends in 1 minute")
            snipe = live.store.get_snipe(snipe_id)
            assert (snipe.max_bid_minor, snipe.lead_seconds) == (4500, 4.0)
            assert live.store.find_group(live.user_id, "Instruments").id == snipe.group_id  # type: ignore[attr-defined]

    qloop(scenario())


def test_a_new_group_typed_in_the_group_field_is_made_on_save(
    sim: SimulatorServer, tmp_path: Path, qloop: Any, qtbot: Any
) -> None:
    auction = sim.create_auction("Brass sextant", "40.00", ends_in=900)

    async def scenario() -> None:
        async with live_service(sim, tmp_path) as live, dialog_rig(live, tmp_path) as rig:
            live.service.add_group("Instruments")
            dialog = rig.dialog(item_text=auction["legacy_item_id"])
            assert dialog.group_choice() == (None, False)
            qtbot.keyClicks(dialog.group_combo.lineEdit(), "instruments")
            assert dialog.group_choice() == ("Instruments", False)  # an existing one, whatever its case
            dialog.group_combo.lineEdit().clear()
            qtbot.keyClicks(dialog.group_combo.lineEdit(), "Navigation")
            assert dialog.group_choice() == ("Navigation", True)
            assert dialog.group_hint.text() == "A new group “Navigation” is made when you save."
            await wait_until_async(lambda: dialog.preview is not None, what="the item preview")
            qtbot.keyClicks(dialog.amount_edit, "41")
            qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
            await wait_until_async(lambda: not dialog.isVisible(), what="the snipe to be added")
            group = live.store.find_group(live.user_id, "Navigation")
            assert group is not None
            (snipe,) = live.store.list_snipes(user_id=live.user_id)
            assert snipe.group_id == group.id  # type: ignore[attr-defined]
            assert rig.model.row(0).group_name == "Navigation"

    qloop(scenario())


def test_edit_changes_the_maximum(sim: SimulatorServer, tmp_path: Path, qloop: Any, qtbot: Any) -> None:
    auction = sim.create_auction("Brass sextant", "40.00", ends_in=900)

    async def scenario() -> None:
        async with live_service(sim, tmp_path) as live:
            snipe, _ = await live.service.add_snipe(auction["legacy_item_id"], "50.00", lead=6)
            async with dialog_rig(live, tmp_path) as rig:
                dialog = rig.dialog(snipe=int(snipe.id))
                assert dialog.windowTitle() == "Edit snipe"
                assert dialog.item_edit.isReadOnly()
                assert (dialog.amount_edit.text(), dialog.lead_spin.value()) == ("50.00", 6.0)
                await wait_until_async(lambda: dialog.preview is not None, what="the item preview")
                dialog.amount_edit.selectAll()
                qtbot.keyClicks(dialog.amount_edit, "72.50")
                qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
                await wait_until_async(lambda: not dialog.isVisible(), what="the dialog to close after the edit")
                assert live.store.get_snipe(snipe.id).max_bid_minor == 7250
                assert live.store.get_snipe(snipe.id).lead_seconds == 6.0
                at = rig.model.row_of(int(snipe.id))
                assert at is not None
                assert rig.model.data(rig.model.index(at, SnipeColumn.MAX)) == "$72.50"

    qloop(scenario())


def test_dropping_a_link_names_the_item(sim: SimulatorServer, tmp_path: Path, qloop: Any, qtbot: Any) -> None:
    auction = sim.create_auction("Brass sextant", "40.00", ends_in=900)

    def drop(target: QtWidgets.QWidget, mime: QtCore.QMimeData) -> tuple[bool, bool]:
        pos = QtCore.QPointF(target.rect().center())
        with warnings.catch_warnings():
            # PySide6 marks the only QDragEnterEvent constructor it binds (QPoint) deprecated.
            warnings.simplefilter("ignore", DeprecationWarning)
            enter = QtGui.QDragEnterEvent(
                pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
            )
        QtWidgets.QApplication.sendEvent(target, enter)
        event = QtGui.QDropEvent(
            pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        )
        QtWidgets.QApplication.sendEvent(target, event)
        return enter.isAccepted(), event.isAccepted()

    async def scenario() -> None:
        async with live_service(sim, tmp_path) as live, dialog_rig(live, tmp_path) as rig:
            dialog = rig.dialog()
            refused = QtCore.QMimeData()
            refused.setUrls([QtCore.QUrl(LOOK_ALIKE)])
            assert drop(dialog, refused) == (False, False)
            assert dialog.item_edit.text() == ""
            link = QtCore.QMimeData()
            link.setUrls([QtCore.QUrl(item_url(auction))])
            assert drop(dialog, link) == (True, True)  # onto the window, not only the field
            assert dialog.item_edit.text() == item_url(auction)
            await wait_until_async(lambda: dialog.preview is not None, what="the item preview")
            assert dialog.title_label.text() == "Brass sextant"

    qloop(scenario())


def test_the_clipboard_prefills_the_item(sim: SimulatorServer, tmp_path: Path, qloop: Any, qtbot: Any) -> None:
    auction = sim.create_auction("Brass sextant", "40.00", ends_in=900)

    async def scenario() -> None:
        async with live_service(sim, tmp_path) as live, dialog_rig(live, tmp_path) as rig:
            QtGui.QGuiApplication.clipboard().setText(f"Look at this one: {item_url(auction)} !")
            dialog = rig.dialog(use_clipboard=True)
            assert dialog.item_edit.text() == item_url(auction)
            await wait_until_async(lambda: dialog.preview is not None, what="the item preview")
            QtGui.QGuiApplication.clipboard().setText("a shopping list, not an item")
            assert rig.dialog(use_clipboard=True).item_edit.text() == ""

    qloop(scenario())


def test_a_stale_preview_is_ignored(sim: SimulatorServer, tmp_path: Path, qloop: Any, qtbot: Any) -> None:
    first = sim.create_auction("Brass sextant", "40.00", ends_in=900)
    second = sim.create_auction("Ship's chronometer", "120.00", ends_in=900)

    async def scenario() -> None:
        async with live_service(sim, tmp_path) as live, dialog_rig(live, tmp_path) as rig:
            dialog = rig.dialog(item_text=first["legacy_item_id"])
            # The first lookup is in flight; the user names another item before it answers.
            dialog.item_edit.setText(second["legacy_item_id"])
            await wait_until_async(lambda: dialog.preview is not None, what="the second item's preview")
            assert dialog.title_label.text() == "Ship's chronometer"
            assert dialog.minimum_label.text() == "$120.00"

    qloop(scenario())


def test_item_text_from_mime_takes_only_ebay_items(qapp: Any) -> None:
    def mime(*, urls: list[str] | None = None, text: str | None = None) -> QtCore.QMimeData:
        data = QtCore.QMimeData()
        if urls is not None:
            data.setUrls([QtCore.QUrl(u) for u in urls])
        if text is not None:
            data.setText(text)
        return data

    assert item_text_from_mime(mime(urls=["https://www.ebay.co.uk/itm/123456789012"])) == (
        "https://www.ebay.co.uk/itm/123456789012"
    )
    # A page link first, the item second: the item is found.
    assert item_text_from_mime(
        mime(urls=["https://example.org/blog", "https://www.ebay.com/itm/223456789012?var=5"])
    ) == "https://www.ebay.com/itm/223456789012?var=5"
    uri_list = QtCore.QMimeData()
    uri_list.setData("text/uri-list", b"# a comment\r\nhttps://www.ebay.de/itm/323456789012\r\n")
    assert item_text_from_mime(uri_list) == "https://www.ebay.de/itm/323456789012"
    assert item_text_from_mime(mime(text="  423456789012\n")) == "423456789012"
    assert item_text_from_mime(mime(text="see <https://www.ebay.com/itm/523456789012>")) == (
        "https://www.ebay.com/itm/523456789012"
    )
    assert item_text_from_mime(mime(urls=[LOOK_ALIKE])) is None
    assert item_text_from_mime(mime(text=LOOK_ALIKE)) is None
    assert item_text_from_mime(mime(text="file:///etc/passwd")) is None
    assert item_text_from_mime(mime(text="")) is None
    assert item_text_from_mime(None) is None



def test_edit_to_an_automatic_lead_and_back(
    sim: SimulatorServer, tmp_path: Path, qloop: Any, qtbot: Any
) -> None:
    auction = sim.create_auction("Brass sextant", "40.00", ends_in=900)

    async def scenario() -> None:
        async with live_service(sim, tmp_path) as live:
            snipe, _ = await live.service.add_snipe(auction["legacy_item_id"], "50.00", lead=6)
            async with dialog_rig(live, tmp_path) as rig:
                dialog = rig.dialog(snipe=int(snipe.id))
                assert not dialog.lead_auto_check.isChecked()
                await wait_until_async(lambda: dialog.preview is not None, what="the item preview")
                qtbot.mouseClick(dialog.lead_auto_check, Qt.MouseButton.LeftButton)
                assert not dialog.lead_spin.isEnabled()
                qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
                await wait_until_async(lambda: not dialog.isVisible(), what="the dialog to close after the edit")
                assert live.store.get_snipe(snipe.id).lead_seconds == AUTO_LEAD
                at = rig.model.row_of(int(snipe.id))
                assert at is not None
                assert rig.model.data(rig.model.index(at, SnipeColumn.LEAD)) == "auto"

                again = rig.dialog(snipe=int(snipe.id))
                assert again.lead_auto_check.isChecked()
                await wait_until_async(lambda: again.preview is not None, what="the item preview")
                qtbot.mouseClick(again.lead_auto_check, Qt.MouseButton.LeftButton)
                again.lead_spin.setValue(9)
                qtbot.mouseClick(again.ok_button, Qt.MouseButton.LeftButton)
                await wait_until_async(lambda: not again.isVisible(), what="the dialog to close after the edit")
                assert live.store.get_snipe(snipe.id).lead_seconds == 9.0

    qloop(scenario())
