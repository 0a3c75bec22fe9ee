"""The facade's values on the wire: the frozen views (and the few other plain results) as JSON and back.

The views are dataclasses of ints, strings, aware datetimes, enums, tuples and Optionals, so one generic
encoder serves them all, driven by the declared types rather than by a schema kept by hand: a field added to
a view travels at once. Pydantic's type adapters do the walking (dataclasses, unions, Literal, frozenset,
datetimes, StrEnums); this module only pins down the few choices that matter here:

- Money travels as ``{"minor": int, "currency": str}`` (it is a dataclass too): never a float, never a
  formatted string.
- Datetimes travel as ISO 8601 with their offset, and a naive one is refused both ways: every time in the
  app is aware UTC, and a naive one on the wire would be read in somebody's local zone. What is read back
  is in UTC (``datetime.UTC``) whatever offset it was written with.
- A float that is not finite (the open top of the record's last lead-time range) travels as the string
  ``"Infinity"``, ``"-Infinity"`` or ``"NaN"``: strict JSON has no such numbers, and the server refuses to
  write them. Reading a float back accepts those strings.
- Decoding checks the shape strictly enough that a box's arguments are refused with a sentence
  (:class:`WireError`) rather than reaching the engine as the wrong type.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import functools
import math
import types
import typing
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError


class WireError(ValueError):
    """A value that does not have the declared shape; the message is one sentence."""


def _naive_time(value: Any, depth: int = 0) -> bool:
    """Whether a naive datetime hides anywhere in ``value`` (fields, items, values)."""
    if depth > 20:
        return False
    if isinstance(value, datetime):
        return value.tzinfo is None or value.utcoffset() is None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(_naive_time(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value))
    if isinstance(value, (tuple, list, set, frozenset)):
        return any(_naive_time(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return any(_naive_time(item, depth + 1) for item in value.values())
    return False


def _in_utc(value: Any, depth: int = 0) -> Any:
    """``value`` with every (aware) datetime in it moved to UTC, rebuilt only where something changed."""
    if depth > 20:
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo is not UTC else value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            if f.init:
                old = getattr(value, f.name)
                new = _in_utc(old, depth + 1)
                if new is not old:
                    changes[f.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, (tuple, list, frozenset)):
        items = [_in_utc(item, depth + 1) for item in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        return type(value)(items)
    if isinstance(value, dict):
        return {key: _in_utc(item, depth + 1) for key, item in value.items()}
    return value


def _concrete(tp: Any) -> Any:
    """``tp`` with an ``Iterable[X]`` parameter read as ``tuple[X, ...]``: a list on the wire arrives as a
    tuple the callee can read twice, not a one-shot iterator."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is collections.abc.Iterable and args:
        return tuple[args[0], ...]  # type: ignore[valid-type]
    if origin in (typing.Union, types.UnionType):
        return typing.Union[tuple(_concrete(a) for a in args)]  # noqa: UP007 - built from a tuple
    return tp


@functools.lru_cache(maxsize=256)
def _adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(_concrete(tp))


def _strict_json(data: Any, depth: int = 0) -> Any:
    """``data`` with each non-finite float spelled as a string (rebuilt only where there is one)."""
    if isinstance(data, float):
        if math.isfinite(data):
            return data
        return "NaN" if math.isnan(data) else ("Infinity" if data > 0 else "-Infinity")
    if depth > 40:
        return data
    if isinstance(data, list):
        return [_strict_json(item, depth + 1) for item in data]
    if isinstance(data, dict):
        return {key: _strict_json(item, depth + 1) for key, item in data.items()}
    return data


def to_wire(value: Any, tp: Any = None) -> Any:
    """``value`` (of type ``tp``, inferred when not given) as plain, strict JSON data."""
    if _naive_time(value):
        raise WireError("A time without its UTC offset cannot be sent.")
    return _strict_json(_adapter(tp if tp is not None else Any).dump_python(value, mode="json"))


def from_wire(tp: Any, data: Any) -> Any:
    """JSON ``data`` read back as ``tp``; WireError with a sentence when it does not fit."""
    try:
        value = _adapter(tp).validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the value"
        raise WireError(f"{where}: {str(first['msg']).removeprefix('Value error, ').rstrip('.')}.") from None
    except (TypeError, ValueError) as exc:  # a view's own checks (Money's currency, ...)
        raise WireError(str(exc)) from None
    if _naive_time(value):
        raise WireError("Times must carry their UTC offset.")
    return _in_utc(value)
