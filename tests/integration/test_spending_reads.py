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
