"""The facade's values on the wire: every view survives JSON and back unchanged, nothing the box holds as a
secret is in what it serves, and the box's refusals come back as the same error class."""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import math
import re
import types
import typing
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sniper_app.domain.errors import InputError, NoSuchSnipe, RuleViolation, SniperError
from sniper_app.domain.lead import LeadChoice
from sniper_app.domain.money import Money
from sniper_app.domain.stats import LeadBucket, Record
from sniper_app.domain.views import (
    AccountView,
    ExposureView,
    GroupSummary,
    HistoryCursor,
    HistoryFilter,
    HistoryPage,
    SnipeView,
    WatchSyncResult,
    WatchView,
)
from sniper_app.engine.accounts import AccountStatus, UnlinkResult
from sniper_app.engine.actions import NotLinked
from sniper_app.engine.service import ClockState, ItemPreview, SniperService
from sniper_app.remote.box import WHITELIST, exposed_types, refusal
from sniper_app.remote.client import RemoteError
from sniper_app.remote.service import BoxUnavailable, RemoteService, raised
from sniper_app.remote.wire import WireError, from_wire, to_wire

# Hypothesis takes naive bounds and adds the zone itself.
_TIMES = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)  # noqa: DTZ001
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def strategy(tp: Any) -> st.SearchStrategy[Any]:
    """Values of declared type ``tp``, aware UTC times and valid Money included."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is type(None):
        return st.none()
    if tp is Any:
        return _JSON
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(strategy(a) for a in args))
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(strategy(args[0]), max_size=3).map(tuple)
        return st.tuples(*(strategy(a) for a in args))
    if origin is list:
        return st.lists(strategy(args[0]), max_size=3)
    if origin is frozenset:
        return st.frozensets(strategy(args[0]), max_size=3)
    if origin in (dict, Mapping) or (origin is not None and issubclass(origin, Mapping)):
        return st.dictionaries(st.text(max_size=5), strategy(args[1]), max_size=3)
    if tp is Money:
        return st.builds(Money, st.integers(0, 10**12), st.sampled_from(["USD", "GBP", "EUR", "JPY"]))
    if tp is datetime:
        return _TIMES
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(-(2**53), 2**53)
    if tp is float:
        return st.floats(allow_nan=False, allow_infinity=False, width=64)
    if tp is str:
        return st.text(max_size=12)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from(list(tp))
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        fields = {f.name: strategy(hints[f.name]) for f in dataclasses.fields(tp) if f.init}
        return st.builds(tp, **fields)
    raise AssertionError(f"no strategy for {tp!r}")


VIEWS = [SnipeView, WatchView, HistoryPage, GroupSummary, AccountView, LeadChoice, HistoryFilter, ItemPreview,
         ClockState, AccountStatus, UnlinkResult, WatchSyncResult, Money, tuple[SnipeView, list[str]], ExposureView,
         Record]


@pytest.mark.parametrize("tp", VIEWS, ids=lambda t: getattr(t, "__name__", str(t)))
def test_every_view_comes_back_equal_through_json(tp: Any) -> None:
    @settings(max_examples=40, deadline=None)
    @given(strategy(tp))
    def round_trip(value: Any) -> None:
        sent = json.loads(json.dumps(to_wire(value, tp)))
        assert from_wire(tp, sent) == value

    round_trip()


def test_money_travels_as_minor_units_and_its_currency_never_as_a_float() -> None:
    assert to_wire(Money(1999, "GBP")) == {"minor": 1999, "currency": "GBP"}
    with pytest.raises(WireError, match="currency"):
        from_wire(Money, {"minor": 5, "currency": "XYZ"})


@pytest.mark.parametrize("bound", [math.inf, -math.inf])
def test_an_endless_range_travels_as_strict_json_and_comes_back_endless(bound: float) -> None:
    record = Record(months=(), saved={}, spent={}, leads=(LeadBucket("30 s and more", 30.0, bound, 2, 1),),
                    codes=(), total=2)
    sent = json.dumps(to_wire(record, Record), allow_nan=False)  # what the box's server insists on
    assert from_wire(Record, json.loads(sent)) == record


def test_a_time_without_its_offset_is_refused_both_ways() -> None:
    naive = datetime(2030, 1, 1, 12, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(WireError):
        to_wire(HistoryCursor(naive, 1))
    with pytest.raises(WireError, match="offset"):
        from_wire(HistoryCursor, {"at": "2030-01-01T12:00:00", "id": 1})
    later = from_wire(HistoryCursor, {"at": "2030-01-01T13:00:00+01:00", "id": 1})
    assert later.at == datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    assert later.at.utcoffset() == timedelta(0)


def test_arguments_of_the_wrong_shape_are_refused_with_a_sentence() -> None:
    with pytest.raises(WireError, match=r"\.$"):
        from_wire(int, "many")


_SECRET_NAME = re.compile(r"token|secret|password|passphrase|credential|private|key", re.IGNORECASE)


def _field_names(tp: Any, seen: set[Any]) -> set[str]:
    if tp in seen:
        return set()
    seen.add(tp)
    names: set[str] = set()
    for arg in typing.get_args(tp):
        names |= _field_names(arg, seen)
    model_fields = getattr(tp, "model_fields", None)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        for f in dataclasses.fields(tp):
            names.add(f.name)
            names |= _field_names(hints[f.name], seen)
    elif isinstance(model_fields, dict):  # a pydantic model (eBay's user)
        for name, info in model_fields.items():
            names.add(name)
            names |= _field_names(info.annotation, seen)
    return names


def test_nothing_the_box_serves_can_carry_a_secret() -> None:
    returns = exposed_types(SniperService)
    assert set(returns) == set(WHITELIST)
    for name, tp in returns.items():
        fields = _field_names(tp, set())
        # When a sign-in expires is a time, not the sign-in: the status bar shows it.
        suspect = {f for f in fields if _SECRET_NAME.search(f) and not f.endswith("_expires_at")}
        assert not suspect, (name, suspect)
        assert "Settings" not in repr(tp), name
    # What could reach them is never served.
    for hidden in ("apply_settings", "settings", "client", "accounts", "actions", "engine", "store", "data_dir"):
        assert hidden not in WHITELIST


def test_the_desktop_proxy_mirrors_every_served_method() -> None:
    for name in WHITELIST:
        local = inspect.signature(getattr(SniperService, name))
        remote = inspect.signature(getattr(RemoteService, name))
        assert list(remote.parameters) == list(local.parameters), name
        assert inspect.iscoroutinefunction(getattr(RemoteService, name)), name


@pytest.mark.parametrize("error", [InputError("Bad."), NoSuchSnipe("There is no snipe #4."),
                                   RuleViolation("Too low."), NotLinked("No account is linked.")])
def test_a_refusal_comes_back_as_the_same_class_with_the_same_sentence(error: SniperError) -> None:
    refused = refusal(error)
    back = raised(RemoteError(refused.message, kind=refused.code, status=refused.status))
    assert type(back) is type(error)
    assert str(back) == str(error)
    assert refused.status == (422 if isinstance(error, InputError) else 409)


def test_an_unreachable_or_unpaired_box_is_a_failure_not_bad_input() -> None:
    for kind, status in (("unreachable", None), ("unauthorized", 401), ("internal", 500)):
        back = raised(RemoteError("The box said no.", kind=kind, status=status))
        assert isinstance(back, BoxUnavailable)
        assert not isinstance(back, InputError)


def test_the_engine_settings_a_desktop_may_touch_hold_no_secret_folder_or_address() -> None:
    from sniper_app.config import FIELDS
    from sniper_app.remote.box import ENGINE_SETTINGS, SETTINGS_CALLS

    assert set(ENGINE_SETTINGS) <= set(FIELDS)
    assert not [f for f in ENGINE_SETTINGS if _SECRET_NAME.search(f)]
    assert not [f for f in ENGINE_SETTINGS if f in ("data_dir", "listen") or f.startswith(("ebay_", "smtp_"))]
    assert not set(SETTINGS_CALLS) & set(WHITELIST)


def test_a_desktop_changes_the_box_s_engine_settings_through_the_box_s_own_validation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    from types import SimpleNamespace

    from sniper_app.config import Settings
    from sniper_app.remote.box import settings_calls
    from sniper_app.remote.server import CallRefused

    monkeypatch.delenv("SNIPER_DEFAULT_LEAD_SECONDS", raising=False)
    settings_file = tmp_path / "settings.json"
    calls = settings_calls(typing.cast(Any, SimpleNamespace(settings=Settings())), settings_file)
    done = asyncio.run(calls["change_engine_setting"]({"field": "default_lead_seconds", "value": "7"}))
    assert done == {"field": "default_lead_seconds", "value": 7.0, "applies": "live", "overridden_by": None}
    assert json.loads(settings_file.read_text()) == {"default_lead_seconds": 7.0}
    assert asyncio.run(calls["engine_settings"]({}))["default_lead_seconds"] == 7.0

    for args, status, words in (
        ({"field": "default_lead_seconds", "value": "999"}, 422, "default_lead_seconds"),
        ({"field": "data_dir", "value": "/elsewhere"}, 422, "not one of the box's engine settings"),
        ({"field": "ebay_client_id", "value": "x"}, 422, "not one of the box's engine settings"),
        ({"field": "spending_cap", "value": ["a"]}, 400, "text or a number"),
        ({"value": "7"}, 400, "a field name"),
    ):
        with pytest.raises(CallRefused) as refused:
            asyncio.run(calls["change_engine_setting"](args))
        assert refused.value.status == status, args
        assert words in refused.value.message, args
    assert json.loads(settings_file.read_text()) == {"default_lead_seconds": 7.0}  # nothing half-written
