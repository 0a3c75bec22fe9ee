"""Trading API (XML) pieces: GetMyeBayBuying requests and replies, and Trading errors."""

from __future__ import annotations

import logging
from datetime import datetime
from xml.etree.ElementTree import Element

import httpx

from sniper_app.ebay import parsing as p
from sniper_app.ebay.errors import AuthExpired, BadResponse, EbayError, NeedsRelink, RateLimited, Transient
from sniper_app.ebay.transport import rest_error

log = logging.getLogger("sniper_app.ebay")

NS = "urn:ebay:apis:eBLBaseComponents"
WATCH_PAGE_SIZE = 200
WATCH_LIMIT = 400

# 21916984 ("Invalid IAF token") also comes back for a token eBay dropped before its time: like an
# expired one it earns one refresh before the account is said to need linking again.
_EXPIRED = {21917053, 21916984}
_INVALID = {931, 932, 16110}
_LIMIT = {518}


def _request(body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<GetMyeBayBuyingRequest xmlns="{NS}">{body}'
        "<ErrorLanguage>en_US</ErrorLanguage><WarningLevel>High</WarningLevel>"
        "</GetMyeBayBuyingRequest>"
    ).encode()


def watch_list_request(page: int, per_page: int = WATCH_PAGE_SIZE) -> bytes:
    return _request(
        "<WatchList><Include>true</Include><Sort>TimeLeft</Sort>"
        f"<Pagination><EntriesPerPage>{int(per_page)}</EntriesPerPage><PageNumber>{int(page)}</PageNumber>"
        "</Pagination></WatchList>"
    )


def results_request(duration_days: int, page: int = 1, per_page: int = WATCH_PAGE_SIZE) -> bytes:
    pagination = (
        f"<Pagination><EntriesPerPage>{int(per_page)}</EntriesPerPage><PageNumber>{int(page)}</PageNumber>"
        "</Pagination>"
    )
    days = f"<DurationInDays>{int(duration_days)}</DurationInDays>"
    return _request(
        f"<WonList><Include>true</Include>{days}{pagination}</WonList>"
        f"<LostList><Include>true</Include>{days}{pagination}</LostList>"
    )


def parse_reply(response: httpx.Response, call: str) -> Element:
    """The reply's root element when Ack is Success/Warning; otherwise the matching typed error."""
    if response.status_code != 200:
        raise rest_error(response, call)
    root = p.load_xml(response.content, call)
    ack = p.xtext(root, "Ack")
    if ack == "Warning":
        # eBay's data is good with a warning beside it: keep the warning for whoever reads the log.
        for warning in root.findall("Errors"):
            log.warning(
                "eBay warned on %s (%s): %s", call, p.xtext(warning, "ErrorCode") or "no code",
                (p.xtext(warning, "LongMessage") or p.xtext(warning, "ShortMessage") or "")[:300],
            )
    if ack in ("Success", "Warning"):
        return root
    if ack not in ("Failure", "PartialFailure"):
        raise BadResponse(f"eBay's reply to {call} has no usable Ack.")
    errors = [e for e in root.findall("Errors") if p.xtext(e, "SeverityCode") != "Warning"] or root.findall(
        "Errors"
    )
    first = errors[0] if errors else None
    code_text = p.xtext(first, "ErrorCode") if first is not None else None
    code = int(code_text) if code_text and code_text.isascii() and code_text.isdigit() and len(code_text) < 10 else None
    message = None
    if first is not None:
        message = p.xtext(first, "LongMessage") or p.xtext(first, "ShortMessage")
    kw = {"error_id": code, "ebay_message": message[:500] if message else None, "status": 200}
    if code in _EXPIRED:
        raise AuthExpired(**kw)  # type: ignore[arg-type]
    if code in _INVALID:
        raise NeedsRelink(**kw)  # type: ignore[arg-type]
    if code in _LIMIT:
        raise RateLimited("eBay's daily Trading call limit is reached; try again later.", **kw)  # type: ignore[arg-type]
    if code is not None and code in (10007, 16100):
        raise Transient(f"eBay had a temporary problem with {call}.", **kw)  # type: ignore[arg-type]
    detail = f": {message}" if message else "."
    raise EbayError(f"eBay refused {call} (error {code}){detail}", **kw)  # type: ignore[arg-type]


def reply_timestamp(root: Element, call: str) -> datetime | None:
    value = p.xtext(root, "Timestamp")
    return None if value is None else p.timestamp(value, "Timestamp", call)
