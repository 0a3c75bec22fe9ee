"""Optimistic rows of the Snipes model: shown at once, then replaced by the stored snipe or removed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from sniper_app.domain.money import Money
from sniper_app.engine.reads import Reads
from sniper_app.store import Store
from sniper_app.ui.models import KEY_ROLE, SnipeColumn, SnipesModel, SnipesProxy, sort_proxy
from sniper_app.ui.qt import QtCore
from tests.gui.conftest import seed
from tests.support.store import FakeClock

Display = QtCore.Qt.ItemDataRole.DisplayRole


def column(model: SnipesModel, col: int) -> list[Any]:
    return [model.data(model.index(r, col), Display) for r in range(model.rowCount())]


def add_pending(model: SnipesModel, clock: FakeClock, key: str = "k1", *, minutes: int = 30) -> int:
    return model.add_pending(
        key,
        title="Rolleiflex 2.8F",
        legacy_item_id="300111222333",
        max_bid=Money.of("410.00", "USD"),
        lead_seconds=6.0,
        end_time=clock.now + timedelta(minutes=minutes),
        group_name="Cameras",
    )


def store_the_pending_snipe(store: Store, user_id: int, clock: FakeClock) -> Any:
    """The snipe the engine stores for the row ``add_pending`` shows."""
    return store.create_snipe(
        user_id,
        legacy_item_id="300111222333",
        currency="USD",
        max_bid_minor=41_000,
        end_time=clock.now + timedelta(minutes=30),
        lead_seconds=6.0,
        title="Rolleiflex 2.8F",
    )


def test_models_with_a_pending_row_pass_qts_model_checker(
    qtmodeltester: Any, store: Store, user_id: int, clock: FakeClock
) -> None:
    seed(store, user_id, clock)
    model = SnipesModel(Reads(store, user_id), clock=clock)
    add_pending(model, clock)
    proxy = SnipesProxy()
    proxy.setSourceModel(model)
    proxy.set_show_finished(False)
    for checked in (model, sort_proxy(model), proxy):
        qtmodeltester.check(checked, force_py=False)


def test_a_pending_row_shows_in_end_order_greyed_and_adding(store: Store, user_id: int, clock: FakeClock) -> None:
    seed(store, user_id, clock)
    model = SnipesModel(Reads(store, user_id), clock=clock)
    rows = model.rowCount()
    at = add_pending(model, clock, minutes=30)  # after the 3-minute one, before the 2-hour one
    assert model.rowCount() == rows + 1
    assert column(model, SnipeColumn.ITEM)[at] == "Rolleiflex 2.8F"
    assert column(model, SnipeColumn.STATUS)[at] == "Adding…"
    assert column(model, SnipeColumn.MAX)[at] == "$410.00"
    assert column(model, SnipeColumn.GROUP)[at] == "Cameras"
    assert column(model, SnipeColumn.TIME_LEFT)[at] == "30m 00s"
    ends = [r.end_time for r in model.rows()]
    assert ends == sorted(ends)
    assert model.is_pending(at)
    flags = model.flags(model.index(at, 0))
    assert not flags & QtCore.Qt.ItemFlag.ItemIsSelectable
    assert not flags & QtCore.Qt.ItemFlag.ItemIsEnabled
    assert model.data(model.index(at, 0), KEY_ROLE) < 0  # never a real snipe id
    with pytest.raises(ValueError, match="already shown"):
        add_pending(model, clock)
    model.reload()  # a reload (after a sync, say) keeps it
    assert column(model, SnipeColumn.STATUS).count("Adding…") == 1


def test_a_refused_snipe_goes_away_and_an_accepted_one_becomes_the_stored_row(
    qtbot: Any, store: Store, user_id: int, clock: FakeClock
) -> None:
    model = SnipesModel(Reads(store, user_id), clock=clock)
    add_pending(model, clock, "refused")
    with qtbot.waitSignal(model.rowsRemoved):
        model.drop_pending("refused")
    assert model.rowCount() == 0
    model.drop_pending("refused")  # twice, or an unknown key: nothing happens

    add_pending(model, clock, "accepted")
    snipe = store_the_pending_snipe(store, user_id, clock)
    model.resolve_pending("accepted", int(snipe.id))
    assert [r.id for r in model.rows()] == [snipe.id]
    assert column(model, SnipeColumn.STATUS) == ["Pending"]


def test_the_engine_event_of_the_new_snipe_takes_the_place_of_its_pending_row(
    store: Store, user_id: int, clock: FakeClock
) -> None:
    model = SnipesModel(Reads(store, user_id), clock=clock)
    add_pending(model, clock, "k")
    snipe = store_the_pending_snipe(store, user_id, clock)
    model.refresh_snipe(int(snipe.id))  # the event arrives before the add call returns
    assert [r.id for r in model.rows()] == [snipe.id]  # never the item twice
    model.resolve_pending("k", int(snipe.id))
    assert [r.id for r in model.rows()] == [snipe.id]
