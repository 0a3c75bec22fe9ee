"""The exposure read on a real store: groups count their N largest, WON members take up wins, wins by period."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sniper_app.domain.status import SnipeStatus
from sniper_app.domain.views import ExposureRow, ExposureView
from sniper_app.engine.reads import Reads
from sniper_app.store import Store, User


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = Store.open(tmp_path / "data")
    yield st
    st.close()


def _snipe(store: Store, user_id: int, item: str, maximum: int, *, currency: str = "USD", **kw: Any) -> int:
    snipe_id: int = store.create_snipe(
        user_id, legacy_item_id=item, currency=currency, max_bid_minor=maximum,
        end_time=datetime.now(UTC) + timedelta(hours=1), lead_seconds=5.0, title=item, **kw).id
    return snipe_id


def _win(store: Store, snipe_id: int, final_minor: int | None, days_ago: float) -> None:
    for status in (SnipeStatus.SCHEDULED, SnipeStatus.PLACING, SnipeStatus.PLACED):
        assert store.set_status(snipe_id, status)
    assert store.set_status(snipe_id, SnipeStatus.WON, final_price_minor=final_minor)
    store.update_fields(snipe_id, end_time=datetime.now(UTC) - timedelta(days=days_ago))


def test_exposure_counts_groups_wins_and_the_cap_per_currency(store: Store) -> None:
    user_id = store.get_or_create_user(ebay_user_id="buyer").id
    group = store.create_group(user_id, "Lamps", target_wins=2)
    won_in_group = _snipe(store, user_id, "1", 5000, group_id=group.id)
    for item, maximum in (("2", 3000), ("3", 2000), ("4", 1000)):
        _snipe(store, user_id, item, maximum, group_id=group.id)
    _snipe(store, user_id, "5", 1500)
    _win(store, won_in_group, 4000, days_ago=2)
    _win(store, _snipe(store, user_id, "6", 2000), 1200, days_ago=40)
    _win(store, _snipe(store, user_id, "7", 900), None, days_ago=400)  # older than any period
    _snipe(store, user_id, "8", 2000, currency="GBP")
    now = datetime.now(UTC)
    other = int(User.create(ebay_user_id="someone else", created_at=now, updated_at=now).id)
    _snipe(store, other, "9", 99_900)  # another profile's snipe counts for nobody here

    reads = Reads(store, user_id)
    # One of the group's two wins is taken: only its largest active maximum (30.00) counts, plus 15.00.
    assert reads.exposure("100 USD") == ExposureView(30, (
        ExposureRow("GBP", 0, 2000, None, None),
        ExposureRow("USD", 4000, 4500, 10000, 1500),
    ))
    assert reads.exposure("100 USD", 60).rows[1] == ExposureRow("USD", 5200, 4500, 10000, 300)
    # Over budget already: the room is never negative.
    assert reads.exposure("50 USD, 10 GBP").rows == (
        ExposureRow("GBP", 0, 2000, 1000, 0), ExposureRow("USD", 4000, 4500, 5000, 0))
    assert reads.exposure().rows[1].cap_minor is None


def test_exposure_and_wins_count_landed_cost(store: Store) -> None:
    user_id = store.get_or_create_user(ebay_user_id="buyer").id
    usd_ship = {"shipping_currency": "USD"}
    _snipe(store, user_id, "1", 4000, shipping_minor=750, **usd_ship)
    _snipe(store, user_id, "2", 3000, shipping_minor=500, includes_shipping=True, **usd_ship)  # inside its max
    _snipe(store, user_id, "3", 2000, shipping_minor=300, import_charges_minor=200, import_charges_currency="USD",
           **usd_ship)
    # Shipping charged in pounds on a dollar listing is owed in pounds: counted there, never converted.
    _snipe(store, user_id, "4", 1000, shipping_minor=900, shipping_currency="GBP")
    # Won for 25.00 plus 6.00 shipping: 31.00 was paid, though its maximum included the shipping.
    _win(store, _snipe(store, user_id, "5", 3500, shipping_minor=600, includes_shipping=True, **usd_ship), 2500, 1)
    # eBay never gave the final price: the most it could have cost, its maximum plus shipping.
    _win(store, _snipe(store, user_id, "6", 1000, shipping_minor=100, **usd_ship), None, days_ago=1)
    _win(store, _snipe(store, user_id, "7", 1000, shipping_minor=400, shipping_currency="GBP"), 800, days_ago=1)

    view = Reads(store, user_id).exposure("200 USD")
    assert view.rows == (
        ExposureRow("GBP", 400, 900, None, None, 900),
        # 40.00 + 7.50, 30.00, 20.00 + 3.00 + 2.00, 10.00 = 112.50, of which 12.50 is charges.
        # Won: 31.00 + 11.00 + 8.00 = 50.00; room 200.00 − 50.00 − 112.50.
        ExposureRow("USD", 5000, 11250, 20000, 3750, 1250),
    )


def test_the_record_counts_a_win_at_what_it_cost_with_its_shipping(store: Store) -> None:
    user_id = store.get_or_create_user(ebay_user_id="buyer").id
    usd_ship = {"shipping_minor": 500, "shipping_currency": "USD"}
    _win(store, _snipe(store, user_id, "1", 5000, **usd_ship), 3000, days_ago=1)
    _win(store, _snipe(store, user_id, "2", 5000, includes_shipping=True, **usd_ship), 3000, days_ago=1)
    record = Reads(store, user_id).record()
    # $35.00 paid for each; saved $20.00 against the first maximum and $15.00 against the second (it included
    # the shipping).
    assert [(m.currency, m.minor) for m in record.spent.values()] == [("USD", 7000)]
    assert [(m.currency, m.minor) for m in record.saved.values()] == [("USD", 3500)]
