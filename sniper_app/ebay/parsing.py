"""Strict readers for eBay's JSON and XML: anything odd becomes BadResponse, never a crash or a wrong amount."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from sniper_app.domain.money import Money, MoneyError
from sniper_app.ebay.errors import BadResponse

# Far above any auction price and any bid the app allows; a larger figure is a broken reply.
MAX_PLAUSIBLE_MAJOR = Decimal(1_000_000_000)
MAX_COUNT = 10_000_000
_MAX_BODY = 20_000_000


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name}")


def load_json(content: bytes, what: str) -> dict[str, Any]:
    """Parse a JSON object; floats stay Decimal so nothing is rounded on the way in."""
    if len(content) > _MAX_BODY:
        raise BadResponse(f"eBay's reply to {what} is implausibly large.")
    try:
        data = json.loads(content, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError, UnicodeDecodeError):
        raise BadResponse(f"eBay's reply to {what} is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadResponse(f"eBay's reply to {what} is not a JSON object.")
    return data


def load_xml(content: bytes, what: str) -> Element:
    """Parse XML with DTDs and entities refused (no entity expansion bombs); namespaces stripped."""
    if len(content) > _MAX_BODY:
        raise BadResponse(f"eBay's reply to {what} is implausibly large.")
    try:
        root = SafeET.fromstring(content, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise BadResponse(f"eBay's reply to {what} contains XML declarations the app refuses.") from None
    except (ParseError, ValueError, RecursionError):
        raise BadResponse(f"eBay's reply to {what} is not valid XML.") from None
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.startswith("{"):
            el.tag = el.tag.split("}", 1)[1]
    return root


def req(data: dict[str, Any], key: str, what: str) -> Any:
    if key not in data or data[key] is None:
        raise BadResponse(f"eBay's reply to {what} lacks the field '{key}'.")
    return data[key]


def as_str(value: Any, key: str, what: str) -> str:
    if not isinstance(value, str):
        raise BadResponse(f"eBay's reply to {what} has a malformed '{key}'.")
    return value


def opt_str(data: dict[str, Any], key: str, what: str) -> str | None:
    value = data.get(key)
    return None if value is None else as_str(value, key, what)


def as_int(value: Any, key: str, what: str, *, maximum: int = MAX_COUNT) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise BadResponse(f"eBay's reply to {what} has an implausible '{key}'.")
    return value


def opt_int(data: dict[str, Any], key: str, what: str) -> int | None:
    value = data.get(key)
    return None if value is None else as_int(value, key, what)


def opt_bool(data: dict[str, Any], key: str, what: str) -> bool | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise BadResponse(f"eBay's reply to {what} has a malformed '{key}'.")
    return value


def money_of(value: str, currency: str, key: str, what: str) -> Money:
    try:
        amount = Money.from_ebay(value.strip(), currency.strip())
    except MoneyError:
        raise BadResponse(f"eBay's reply to {what} has an amount the app cannot trust in '{key}'.") from None
    if amount.to_decimal() > MAX_PLAUSIBLE_MAJOR:
        raise BadResponse(f"eBay's reply to {what} has an implausible amount in '{key}'.")
    return amount


def amount(obj: Any, key: str, what: str, *, currency: str | None = None) -> Money:
    """An eBay Amount object ``{"currency": "USD", "value": "25.00"}``; ``currency`` is the one expected."""
    if not isinstance(obj, dict):
        raise BadResponse(f"eBay's reply to {what} has a malformed amount '{key}'.")
    value = obj.get("value")
    cur = obj.get("currency")
    if not isinstance(value, str) or not isinstance(cur, str):
        raise BadResponse(f"eBay's reply to {what} has a malformed amount '{key}'.")
    result = money_of(value, cur, key, what)
    if currency is not None and result.currency != currency:
        raise BadResponse(
            f"eBay's reply to {what} gives '{key}' in {result.currency} where {currency} was expected."
        )
    return result


def listing_amount(obj: Any, key: str, what: str, *, currency: str | None = None) -> tuple[Money, Money | None]:
    """A Browse ConvertedAmount as (the listing's own amount, the converted amount for display or None).

    Read through a marketplace other than the listing's site, Browse localizes every amount: ``value`` and
    ``currency`` are converted, and ``convertedFromValue``/``convertedFromCurrency`` hold what the seller set.
    Only the seller's amount can be bid (eBay refuses another currency with 120009); ``currency`` is the
    listing currency expected.
    """
    if not isinstance(obj, dict):
        raise BadResponse(f"eBay's reply to {what} has a malformed amount '{key}'.")
    shown = amount(obj, key, what)
    from_value = obj.get("convertedFromValue")
    from_currency = obj.get("convertedFromCurrency")
    if from_value is None and from_currency is None:
        own, converted = shown, None
    elif isinstance(from_value, str) and isinstance(from_currency, str):
        own = money_of(from_value, from_currency, key, what)
        converted = shown if shown.currency != own.currency else None
    else:
        raise BadResponse(f"eBay's reply to {what} has a half-converted amount '{key}'.")
    if currency is not None and own.currency != currency:
        raise BadResponse(f"eBay's reply to {what} gives '{key}' in {own.currency} where {currency} was expected.")
    return own, converted


def opt_listing_amount(
    data: dict[str, Any], key: str, what: str, *, currency: str | None = None
) -> tuple[Money | None, Money | None]:
    obj = data.get(key)
    return (None, None) if obj is None else listing_amount(obj, key, what, currency=currency)


def timestamp(value: Any, key: str, what: str) -> datetime:
    """An ISO-8601 instant with a zone (eBay's ``2024-05-01T12:00:00.000Z``), as aware UTC."""
    if not isinstance(value, str) or len(value) > 40:
        raise BadResponse(f"eBay's reply to {what} has a malformed time '{key}'.")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadResponse(f"eBay's reply to {what} has a malformed time '{key}'.") from None
    if parsed.tzinfo is None:
        raise BadResponse(f"eBay's reply to {what} has a time without a zone in '{key}'.")
    return parsed.astimezone(UTC)


def opt_timestamp(data: dict[str, Any], key: str, what: str) -> datetime | None:
    value = data.get(key)
    return None if value is None else timestamp(value, key, what)


_DURATION_RE = re.compile(
    r"^P(?:(?P<d>\d{1,6})D)?(?:T(?:(?P<h>\d{1,6})H)?(?:(?P<m>\d{1,6})M)?(?:(?P<s>\d{1,9}(?:\.\d{1,6})?)S)?)?$"
)


def iso_duration(value: str, key: str, what: str) -> timedelta:
    """eBay's TimeLeft (``P1DT2H3M4S``, ``PT0S``)."""
    match = _DURATION_RE.match(value.strip())
    if match is None or value.strip() in ("P", "PT"):
        raise BadResponse(f"eBay's reply to {what} has a malformed duration '{key}'.")
    return timedelta(
        days=int(match["d"] or 0),
        hours=int(match["h"] or 0),
        minutes=int(match["m"] or 0),
        seconds=float(Decimal(match["s"] or "0")),
    )


# --- XML helpers --------------------------------------------------------------------------------------


def xtext(el: Element, path: str) -> str | None:
    found = el.find(path)
    if found is None or found.text is None:
        return None
    return found.text.strip()


def xreq(el: Element, path: str, what: str) -> str:
    value = xtext(el, path)
    if not value:
        raise BadResponse(f"eBay's reply to {what} lacks '{path}'.")
    return value


def xint(el: Element, path: str, what: str) -> int | None:
    value = xtext(el, path)
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        raise BadResponse(f"eBay's reply to {what} has an implausible '{path}'.")
    return as_int(int(value), path, what)


def xamount(el: Element, path: str, what: str) -> Money | None:
    found = el.find(path)
    if found is None:
        return None
    currency = found.get("currencyID")
    if not found.text or not currency:
        raise BadResponse(f"eBay's reply to {what} has a malformed amount '{path}'.")
    return money_of(found.text, currency, path, what)
