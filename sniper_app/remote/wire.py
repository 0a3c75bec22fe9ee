"""The facade's values on the wire: the frozen views (and the few other plain results) as JSON and back.

The views are dataclasses of ints, strings, aware datetimes, enums, tuples and Optionals, so one generic
encoder serves them all, driven by the declared types rather than by a schema kept by hand: a field added to
a view travels at once. Pydantic's type adapters do the walking (dataclasses, unions, Literal, frozenset,
datetimes, StrEnums); this module only pins down the few choices that matter here:

- Money travels as ``{"minor": int, "currency": str}`` (it is a dataclass too): never a float, never a
  formatted string.
- Datetimes travel as ISO 8601 with their offset, and a naive one is refused both ways: every time in the
  app is aware UTC, and a naive one on the wire would be read in somebody's local zone.
- Decoding checks the shape strictly enough that a box's arguments are refused with a sentence
  (:class:`WireError`) rather than reaching the engine as the wrong type.
"""

from __future__ import annotations

import dataclasses
import functools
from datetime import datetime
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


@functools.lru_cache(maxsize=256)
def _adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp)


def to_wire(value: Any, tp: Any = None) -> Any:
    """``value`` (of type ``tp``, inferred when not given) as plain JSON data."""
    if _naive_time(value):
        raise WireError("A time without its UTC offset cannot be sent.")
    return _adapter(tp if tp is not None else Any).dump_python(value, mode="json")


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
    return value
