"""A snipe's detail window on a real store: the item, the plan, the timing told in words, its own history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sniper_app.domain.history import HistoryAction
from sniper_app.domain.rules import AUTO_LEAD
from sniper_app.domain.status import SnipeStatus
from sniper_app.engine.bus import SnipeStatusChanged
from sniper_app.engine.reads import Reads
from sniper_app.store import Store
from sniper_app.ui.detail import SnipeDetail
from sniper_app.ui.models import HistoryColumn
from sniper_app.ui.qt import QtCore, QtGui
from tests.gui.conftest import SCREENSHOT_DIR, seed
from tests.support.store import FakeClock

Display = QtCore.Qt.ItemDataRole.DisplayRole


def history(detail: SnipeDetail, column: int) -> list[str]:
    model = detail.history_model
    return [model.data(model.index(r, column), Display) for r in range(model.rowCount())]


def fire(store: Store, clock: FakeClock, snipe_id: int, *, offset_ms: float = 2500.0, latency_ms: float = 40.0) -> None:
    """Record a fire as the engine does: planned/sent/reply on the local clock, eBay ahead by the offset."""
    snipe = store.get_snipe(snipe_id)
    end_local = snipe.end_time - timedelta(milliseconds=offset_ms)
    store.set_status(snipe_id, SnipeStatus.PLACING)
    store.record_timing(
        snipe_id,
        planned_at=end_local - timedelta(seconds=2.040),
        sent_at=end_local - timedelta(seconds=2.043),
        reply_at=end_local - timedelta(seconds=1.943),
        clock_offset_ms=offset_ms,
        latency_ms=latency_ms,
        attempts=1,
    )


def test_a_scheduled_snipe_says_when_it_fires(qtbot: Any, store: Store, user_id: int, clock: FakeClock) -> None:
    ids = seed(store, user_id, clock)["snipes"]
    leica = ids["126001"]
    detail = SnipeDetail(Reads(store, user_id), leica, clock=clock)
    qtbot.addWidget(detail)
    assert detail.windowTitle() == "Snipe: Leica M3 rangefinder, 50mm Summicron"
    assert detail.max_label.text() == "$1,500.00"
    assert detail.lead_label.text() == "6 s before the end"
    assert detail.group_label.text() == "Cameras (win 1)"
    assert detail.status_label.text() == "Scheduled"
    fires = (clock.now + timedelta(hours=2, minutes=13, seconds=-6)).astimezone().strftime("%H:%M:%S")
    assert detail.story() == (
        f"Fires at {fires} local time, in 2 h 12 min, so the bid reaches eBay 6 s before the end."
    )
    # Only this snipe's events, newest first.
    assert history(detail, HistoryColumn.ACTION) == ["Scheduled", "Created"]

    # While shown, the countdown moves with the clock.
    detail.show()
    qtbot.waitExposed(detail)
    clock.advance(hours=2, minutes=10)
    qtbot.waitUntil(lambda: "in 2 min, so" in detail.story(), timeout=3000)
    detail.hide()


def test_a_won_snipe_tells_its_timing_record_and_saving(
    qtbot: Any, store: Store, user_id: int, clock: FakeClock
) -> None:
    ids = seed(store, user_id, clock)["snipes"]
    technics = ids["126004"]
    store.set_status(technics, SnipeStatus.SCHEDULED)
    detail = SnipeDetail(Reads(store, user_id), technics, clock=clock)
    qtbot.addWidget(detail)

    fire(store, clock, technics)
    store.set_status(technics, SnipeStatus.PLACED, reason="eBay accepted the bid of $450.00.")
    clock.advance(minutes=4)
    store.set_status(technics, SnipeStatus.WON, reason="Won for $431.00.", final_price_minor=43_100)
    detail.on_status_changed(SnipeStatusChanged(snipe_id=ids["126001"], old=None, new=SnipeStatus.WON))
    assert detail.status_label.text() == "Scheduled"  # another snipe's event changes nothing here
    detail.on_status_changed(SnipeStatusChanged(snipe_id=technics, old=SnipeStatus.PLACED, new=SnipeStatus.WON))

    assert detail.status_label.text() == "Won"
    assert detail.reason_label.text() == "Won for $431.00."
    assert detail.story() == (
        "Bid sent 2.043 s before the end (planned 2.040 s); eBay received it about 2.00 s before the end. "
        "Clock offset used +2.500 s, latency 40 ms. eBay answered 100 ms after the bid left. "
        "Won at $431.00, saving $19.00 below your maximum of $450.00."
    )
    assert detail.outcome_label.text() == "Won at $431.00, saving $19.00 below your maximum of $450.00. (won)"
    assert history(detail, HistoryColumn.ACTION) == ["Won", "Bid", "Bid", "Scheduled", "Created"]
    assert history(detail, HistoryColumn.AMOUNT)[0] == "$431.00"


def test_failed_lost_and_cancelled_snipes_explain_themselves(
    qtbot: Any, store: Store, user_id: int, clock: FakeClock
) -> None:
    ids = seed(store, user_id, clock)["snipes"]
    omega, leica = ids["126003"], ids["126001"]
    store.set_status(omega, SnipeStatus.SCHEDULED)
    fire(store, clock, omega, offset_ms=-120.0, latency_ms=85.0)
    store.record_timing(omega, ebay_message="Your bid is below the minimum next bid.")
    store.set_status(omega, SnipeStatus.FAILED, reason="eBay refused the bid: it is too low.")
    failed = SnipeDetail(Reads(store, user_id), omega, clock=clock)
    qtbot.addWidget(failed)
    assert failed.story() == (
        "Bid sent 2.043 s before the end (planned 2.040 s); eBay received it about 1.96 s before the end. "
        "Clock offset used -0.120 s, latency 85 ms. eBay answered 100 ms after the bid left. "
        "eBay refused the bid of $3,500.00: Your bid is below the minimum next bid."
    )

    fire(store, clock, leica)
    store.set_status(leica, SnipeStatus.PLACED)
    store.set_status(leica, SnipeStatus.LOST, reason="Lost: the auction ended at $1,525.00.", final_price_minor=152_500)
    lost = SnipeDetail(Reads(store, user_id), leica, clock=clock)
    qtbot.addWidget(lost)
    assert lost.story().endswith("Outbid: it went for $1,525.00; your maximum was $1,500.00.")
    assert lost.outcome_label.text() == "Outbid: it went for $1,525.00; your maximum was $1,500.00. (outbid)"

    cancelled = SnipeDetail(Reads(store, user_id), ids["200777"], clock=clock)
    qtbot.addWidget(cancelled)
    assert cancelled.story() == "Cancelled before it fired: no bid of $300.00 was sent."
    assert cancelled.reason_label.text() == "Cancelled by the user."
    assert history(cancelled, HistoryColumn.ACTION) == ["Cancelled", "Created"]

    store.set_status(ids["126004"], SnipeStatus.SKIPPED, reason="The price $460.00 is already above your maximum.")
    skipped = SnipeDetail(Reads(store, user_id), ids["126004"], clock=clock)
    qtbot.addWidget(skipped)
    assert skipped.story() == "Skipped: the price passed your maximum of $450.00 before the fire; no bid was sent."

    missing = SnipeDetail(Reads(store, user_id), 9999, clock=clock)
    qtbot.addWidget(missing)
    assert missing.title_label.text() == "There is no snipe #9999."
    assert missing.story() == ""
    assert missing.history_model.rowCount() == 0


def test_title_links_to_the_item_and_screenshot(qtbot: Any, store: Store, user_id: int, clock: FakeClock) -> None:
    seed(store, user_id, clock)
    snipe = store.create_snipe(
        user_id,
        legacy_item_id="300300",
        currency="GBP",
        max_bid_minor=120_00,
        end_time=clock.now + timedelta(minutes=20),
        lead_seconds=2.0,
        title="Penguin first edition <1935> & dust jacket",
        item_url="https://www.ebay.co.uk/itm/300300",
    )
    store.set_status(snipe.id, SnipeStatus.SCHEDULED)
    fire(store, clock, snipe.id)
    store.set_status(snipe.id, SnipeStatus.PLACED, reason="eBay accepted the bid of £120.00.")
    clock.advance(minutes=21)
    store.set_status(snipe.id, SnipeStatus.WON, reason="Won for £98.50.", final_price_minor=98_50)
    store.add_event(HistoryAction.NOTE, snipe_id=snipe.id, message="Paid with PayPal.")
    detail = SnipeDetail(Reads(store, user_id), snipe.id, clock=clock)
    qtbot.addWidget(detail)
    text = detail.title_label.text()
    assert text.startswith('<a href="https://www.ebay.co.uk/itm/300300" style="color: #')
    # A title that is a link, but not drawn as an underlined web link.
    assert "text-decoration: none;" in text
    assert text.endswith('">Penguin first edition &lt;1935&gt; &amp; dust jacket</a>')
    assert detail.title_label.openExternalLinks()
    assert detail.story().endswith("Won at £98.50, saving £21.50 below your maximum of £120.00.")
    detail.resize(720, 600)
    detail.show()
    qtbot.waitExposed(detail)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / "detail.png"
    assert detail.grab().save(str(path))
    assert QtGui.QImage(str(path)).width() == 720


def test_an_automatic_lead_shows_the_lead_chosen_and_why(
    qtbot: Any, store: Store, user_id: int, clock: FakeClock
) -> None:
    snipe = store.create_snipe(
        user_id, legacy_item_id="300301", currency="USD", max_bid_minor=50_00,
        end_time=clock.now + timedelta(minutes=20), lead_seconds=AUTO_LEAD, title="Lamp",
    )
    detail = SnipeDetail(Reads(store, user_id), snipe.id, clock=clock)
    qtbot.addWidget(detail)
    assert detail.lead_label.text().startswith("auto (chosen when the bid is handed over")
    why = "round trip 40 ms + 4 × spread 3 ms + 2 × clock ± 2 ms + margin 0.5 s"
    store.add_event(HistoryAction.NOTE, snipe_id=snipe.id, message=f"Lead chosen: 1.2 s ({why}).",
                    details={"lead_auto_s": 1.2, "why": why})
    detail.refresh()
    assert detail.lead_label.text() == f"auto: 1.2 s ({why})"


def test_a_pound_snipe_shows_its_maximum_and_price_with_ebays_dollars_beside(
    qtbot: Any, store: Store, user_id: int, clock: FakeClock
) -> None:
    snipe = store.create_snipe(
        user_id, legacy_item_id="284460198823", currency="GBP", max_bid_minor=5_000, lead_seconds=6.0,
        end_time=clock.now + timedelta(hours=1), title="Roberts R200", current_price_minor=4_500,
        converted_currency="USD", converted_price_minor=5_769,
    )
    detail = SnipeDetail(Reads(store, user_id), snipe.id, clock=clock)
    qtbot.addWidget(detail)
    # 50.00 x 57.69 / 45.00 = 64.10: for reading only, the bid stays £50.00.
    assert detail.max_label.text() == "£50.00 ≈ $64.10"
    assert detail.price_label.text() == "£45.00 ≈ $57.69"


def test_the_details_show_the_outcome_and_what_a_maximum_including_shipping_bids(
    qtbot: Any, store: Store, user_id: int, clock: FakeClock
) -> None:
    snipe = store.create_snipe(
        user_id, legacy_item_id="300302", currency="USD", max_bid_minor=60_00, lead_seconds=6.0,
        end_time=clock.now + timedelta(hours=1), title="Desk lamp", includes_shipping=True,
        shipping_minor=8_00, shipping_currency="USD", import_charges_minor=2_50, import_charges_currency="USD",
    )
    detail = SnipeDetail(Reads(store, user_id), snipe.id, clock=clock)
    qtbot.addWidget(detail)
    assert detail.outcome_label.text() == "not ended yet"
    assert detail.landed_label.text() == (
        "$60.00 + $8.00 shipping + $2.50 import charges = $70.50. "
        "Bids $49.50: your maximum of $60.00 includes $8.00 shipping and $2.50 import charges.")

    store.set_status(snipe.id, SnipeStatus.SCHEDULED)
    fire(store, clock, snipe.id)
    store.set_status(snipe.id, SnipeStatus.PLACED)
    # It ended at exactly the $49.50 bid (the maximum less the charges): a tie lost to an earlier bid.
    store.set_status(snipe.id, SnipeStatus.LOST, reason="Lost: the auction ended at $49.50.", final_price_minor=49_50)
    detail.on_status_changed(SnipeStatusChanged(snipe_id=snipe.id, old=SnipeStatus.PLACED, new=SnipeStatus.LOST))
    assert detail.outcome_label.text().startswith(
        "Lost on a tie: another bidder placed the same bid of $49.50 earlier (your maximum of $60.00 less $10.50 "
        "shipping and import charges)")
    assert detail.outcome_label.text().endswith("(tie_lost)")
    assert "Lost on a tie" in detail.story()
