"""Trading API (XML) for the simulator: GetMyeBayBuying with WatchList, WonList and LostList.

Reply shape, as eBay writes it::

    GetMyeBayBuyingResponse (xmlns urn:ebay:apis:eBLBaseComponents)
      Timestamp, Ack, Version, Build, [Errors]
      WatchList/ItemArray/Item*  +  WatchList/PaginationResult/{TotalNumberOfPages,TotalNumberOfEntries}
      WonList/OrderTransactionArray/OrderTransaction/Transaction/{Item, TotalPrice, CreatedDate}
      LostList/ItemArray/Item*
    Item: ItemID, Title, ListingType (Chinese), ListingDetails/{StartTime,EndTime,ViewItemURL},
          SellingStatus/{CurrentPrice@currencyID, BidCount, ReserveMet}, TimeLeft (ISO duration),
          BuyItNowPrice@currencyID, PictureDetails/GalleryURL, ShippingDetails/ShippingServiceOptions/
          ShippingServiceCost@currencyID, Site, Currency
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from .money import KNOWN_CURRENCIES, convert_minor, format_trading
from .sim_clock import iso_duration, iso_ms
from .world import SCOPE_API, Auction, World

NS = "urn:ebay:apis:eBLBaseComponents"
VERSION = "1349"
BUILD = "E1349_CORE_APISIGNIN_19151597_R1"
MAX_PER_PAGE = 200
# X-EBAY-API-SITEID -> the currency that site shows converted prices in.
_SITE_CURRENCIES = {"0": "USD", "3": "GBP", "77": "EUR", "15": "AUD", "2": "CAD", "71": "EUR", "101": "EUR",
                    "186": "EUR"}
# Every third Trading reply carries a warning beside its data, as eBay's often do.
WARNING_EVERY = 3
_SITES = {"EBAY_US": "US", "EBAY_GB": "UK", "EBAY_DE": "Germany", "EBAY_AU": "Australia",
          "EBAY_CA": "Canada", "EBAY_FR": "France", "EBAY_IT": "Italy", "EBAY_ES": "Spain"}


def _envelope(call: str, now: float, ack: str, body: str) -> bytes:
    # eBay writes its declaration in single quotes.
    return (
        f"<?xml version='1.0' encoding='UTF-8'?>\n<{call}Response xmlns=\"{NS}\">"
        f"<Timestamp>{iso_ms(now)}</Timestamp><Ack>{ack}</Ack><Version>{VERSION}</Version>"
        f"<Build>{BUILD}</Build>{body}</{call}Response>"
    ).encode()


_WARNING = (
    "<Errors><ShortMessage>Compatibility level is outdated.</ShortMessage>"
    "<LongMessage>The compatibility level of this request will soon no longer be supported; "
    "update it to the current version.</LongMessage><ErrorCode>14003</ErrorCode>"
    "<SeverityCode>Warning</SeverityCode><ErrorClassification>RequestError</ErrorClassification></Errors>"
)


def _failure(call: str, now: float, code: int, short: str, long: str) -> bytes:
    errors = (
        f"<Errors><ShortMessage>{escape(short)}</ShortMessage><LongMessage>{escape(long)}</LongMessage>"
        f"<ErrorCode>{code}</ErrorCode><SeverityCode>Error</SeverityCode>"
        f"<ErrorClassification>RequestError</ErrorClassification></Errors>"
    )
    return _envelope(call, now, "Failure", errors)


# XML 1.0 cannot carry most C0 controls even as character references; eBay's XML drops them from titles
# that its JSON APIs return as they are.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _money(tag: str, minor: int, currency: str, pad: str = "") -> str:
    # Trading writes "10.0" and "339.9", and sometimes wraps a value in whitespace.
    return f'<{tag} currencyID="{currency}">{pad}{format_trading(minor)}{pad}</{tag}>'


def item_xml(world: World, a: Auction, t: float, viewer: str | None = None) -> str:
    cur = a.currency
    # BuyItNowPrice 0.0 is how eBay says there is none.
    bin_minor = a.bin_minor if a.bin_available(t) and a.bin_minor is not None else 0
    if a.fixed_price:
        bin_minor = a.bin_minor or a.price_minor
    reserve = f"<ReserveMet>{'true' if a.reserve_met() else 'false'}</ReserveMet>" if a.reserve_minor else ""
    converted = ""
    if viewer is not None and viewer != cur and viewer in KNOWN_CURRENCIES:
        converted = _money("ConvertedCurrentPrice", convert_minor(a.price_minor, cur, viewer), viewer)
    return (
        "<Item>\n  "
        + _money("BuyItNowPrice", bin_minor, cur)
        + f"\n  <ItemID>\n    {a.legacy_id}\n  </ItemID>"
        + f"<ListingDetails><StartTime>{iso_ms(a.created)}</StartTime><EndTime>{iso_ms(a.end_instant)}</EndTime>"
        + f"<ViewItemURL>{escape(world.base_url)}/itm/{a.legacy_id}</ViewItemURL></ListingDetails>"
        + f"<ListingType>{'FixedPriceItem' if a.fixed_price else 'Chinese'}</ListingType>"
        + f"<SellingStatus><BidCount>{a.accepted_count}</BidCount>"
        + converted
        + _money("CurrentPrice", a.price_minor, cur, pad="\n    ")
        + reserve
        + "</SellingStatus>"
        + (
            "<ShippingDetails><ShippingServiceOptions>"
            + _money("ShippingServiceCost", a.shipping_minor, cur)
            + "</ShippingServiceOptions></ShippingDetails>"
            if a.shipping_minor is not None else ""
        )
        + f"<Site>{_SITES.get(a.marketplace, 'US')}</Site><Currency>{cur}</Currency>"
        + f"<TimeLeft>{iso_duration(a.end_instant - t)}</TimeLeft>"
        + f"<Title>{escape(_XML_ILLEGAL.sub('', a.title))}</Title>"
        + (f"<PictureDetails><GalleryURL>{escape(a.image_url)}</GalleryURL></PictureDetails>" if a.image_url else "")
        + "</Item>"
    )


def _child_text(node: Element | None, path: str) -> str | None:
    if node is None:
        return None
    found = node.find(path, {"e": NS})
    return found.text.strip() if found is not None and found.text else None


def _paging(section: Element | None) -> tuple[int, int]:
    per_page = _child_text(section, "e:Pagination/e:EntriesPerPage")
    page = _child_text(section, "e:Pagination/e:PageNumber")
    try:
        n = min(MAX_PER_PAGE, max(1, int(per_page))) if per_page else 25
        p = max(1, int(page)) if page else 1
    except ValueError:
        n, p = 25, 1
    return n, p


def _pagination_result(total: int, per_page: int) -> str:
    pages = (total + per_page - 1) // per_page
    return (f"<PaginationResult><TotalNumberOfPages>{pages}</TotalNumberOfPages>"
            f"<TotalNumberOfEntries>{total}</TotalNumberOfEntries></PaginationResult>")


def _wanted(root: Element, name: str) -> tuple[bool, Element | None]:
    section = root.find(f"e:{name}", {"e": NS})
    if section is None:
        return False, None
    include = _child_text(section, "e:Include")
    return include is None or include.lower() == "true", section


def handle(
    world: World, headers: Mapping[str, str], body: bytes, arrival: float, note_user: Callable[[str | None], None]
) -> bytes:
    """Answer one Trading call; the caller holds ``world.lock``."""
    call = headers.get("x-ebay-api-call-name", "") or "GetMyeBayBuying"
    if call != "GetMyeBayBuying":
        return _failure(
            call, arrival, 2, "Unsupported API call.",
            f'The API call "{call}" is invalid or not supported in this release.',
        )
    token = headers.get("x-ebay-api-iaf-token", "").strip()
    tok = world.access_tokens.get(token)
    if tok is None or tok.user is None or SCOPE_API not in tok.scopes:
        return _failure(call, arrival, 21916984, "Invalid IAF token.", "IAF token supplied is invalid.")
    note_user(tok.user)
    if tok.expires <= arrival:
        return _failure(call, arrival, 21917053, "Expired IAF token.", "IAF token supplied is expired.")
    try:
        root = ElementTree.fromstring(body) if body.strip() else Element(f"{{{NS}}}GetMyeBayBuyingRequest")
    except (ElementTree.ParseError, DefusedXmlException):
        return _failure(call, arrival, 5, "XML Parse error.", "XML Error Text: request body is not well-formed XML.")
    user = world.ensure_user(tok.user)
    viewer = _SITE_CURRENCIES.get(headers.get("x-ebay-api-siteid", "0").strip())
    world.trading_calls += 1
    parts: list[str] = [_WARNING] if world.trading_calls % WARNING_EVERY == 0 else []

    want, section = _wanted(root, "WatchList")
    if want:
        watched = [world.auctions[i] for i in user.watch if i in world.auctions]
        for a in watched:
            world.advance(a, arrival)
        sort = _child_text(section, "e:Sort") or "TimeLeft"
        if sort == "TimeLeftDescending" or sort == "EndTimeDescending":
            watched.sort(key=lambda a: -a.end_instant)
        else:
            watched.sort(key=lambda a: a.end_instant)
        per_page, page = _paging(section)
        chunk = watched[(page - 1) * per_page: page * per_page]
        parts.append(
            "<WatchList><ItemArray>" + "".join(item_xml(world, a, arrival, viewer) for a in chunk) + "</ItemArray>"
            + _pagination_result(len(watched), per_page) + "</WatchList>"
        )

    ended = [a for a in world.auctions.values() if a.ended_at(arrival)]
    for a in ended:
        world.advance(a, arrival)

    want, section = _wanted(root, "WonList")
    if want:
        won = [a for a in _recent(ended, section, arrival) if a.winner(arrival) == user.username]
        per_page, page = _paging(section)
        chunk = won[(page - 1) * per_page: page * per_page]
        rows = []
        for a in chunk:
            final = a.final_price(arrival) or a.price_minor
            rows.append(
                "<OrderTransaction><Transaction>" + item_xml(world, a, arrival)
                + f"<CreatedDate>{iso_ms(a.end_instant)}</CreatedDate><QuantityPurchased>1</QuantityPurchased>"
                + _money("TotalPrice", final + (a.shipping_minor or 0), a.currency)
                + _money("TotalTransactionPrice", final, a.currency)
                + "</Transaction></OrderTransaction>"
            )
        parts.append("<WonList><OrderTransactionArray>" + "".join(rows) + "</OrderTransactionArray>"
                     + _pagination_result(len(won), per_page) + "</WonList>")

    want, section = _wanted(root, "LostList")
    if want:
        lost = [
            a for a in _recent(ended, section, arrival)
            if user.username in a.maxes and a.winner(arrival) != user.username
        ]
        per_page, page = _paging(section)
        chunk = lost[(page - 1) * per_page: page * per_page]
        parts.append("<LostList><ItemArray>" + "".join(item_xml(world, a, arrival) for a in chunk)
                     + "</ItemArray>" + _pagination_result(len(lost), per_page) + "</LostList>")
    return _envelope(call, arrival, "Warning" if parts[:1] == [_WARNING] else "Success", "".join(parts))


def _recent(ended: list[Auction], section: Element | None, t: float) -> list[Auction]:
    days_text = _child_text(section, "e:DurationInDays")
    try:
        days = min(60, max(0, int(days_text))) if days_text else 60
    except ValueError:
        days = 60
    horizon = t - days * 86400
    out = [a for a in ended if a.end_instant >= horizon]
    out.sort(key=lambda a: -a.end_instant)
    return out
