"""eBay's replies in the app's own terms: Money, aware UTC datetimes, RESTful and legacy ids."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from xml.etree.ElementTree import Element

from pydantic import BaseModel, ConfigDict

from sniper_app.domain.items import ItemRef
from sniper_app.domain.money import Money
from sniper_app.ebay import parsing as p
from sniper_app.ebay.errors import BadResponse


@dataclass(frozen=True, slots=True)
class Timing:
    """When a request left and its reply came back: wall instants (UTC) and monotonic seconds."""

    sent_at: datetime
    received_at: datetime
    sent_monotonic: float
    received_monotonic: float

    @property
    def rtt_s(self) -> float:
        return self.received_monotonic - self.sent_monotonic

    @property
    def midpoint(self) -> datetime:
        return self.sent_at + (self.received_at - self.sent_at) / 2


class Stopwatch:
    """Takes a wall/monotonic pair at the start so the end instant is exact even if the wall clock steps."""

    __slots__ = ("_mono0", "_wall0")

    def __init__(self) -> None:
        self._wall0 = time.time()
        self._mono0 = time.monotonic()

    def stop(self) -> Timing:
        mono1 = time.monotonic()
        wall1 = self._wall0 + (mono1 - self._mono0)
        return Timing(
            sent_at=datetime.fromtimestamp(self._wall0, UTC),
            received_at=datetime.fromtimestamp(wall1, UTC),
            sent_monotonic=self._mono0,
            received_monotonic=mono1,
        )


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)


def _ref_from_rest(rest_id: str, what: str) -> ItemRef:
    parts = rest_id.split("|")
    if len(parts) != 3 or parts[0] != "v1":
        raise BadResponse(f"eBay's reply to {what} has a malformed item id.")
    try:
        return ItemRef(parts[1], parts[2])
    except ValueError:
        raise BadResponse(f"eBay's reply to {what} has a malformed item id.") from None


def _ref_from_legacy(legacy: str, what: str) -> ItemRef:
    try:
        return ItemRef(legacy)
    except ValueError:
        raise BadResponse(f"eBay's reply to {what} has a malformed item number.") from None


class ItemDetails(_Model):
    """Browse getItem: the auction as a buyer sees it."""

    item_id: str
    legacy_item_id: str
    title: str | None
    image_url: str | None
    # The listing's own amounts (what the seller set, what a bid must be in)...
    current_price: Money | None
    minimum_to_bid: Money | None
    # ...and, when Browse localized them for the request's marketplace, the current price as converted,
    # for display beside the listing's own amount only.
    converted_price: Money | None = None
    end_time: datetime | None
    # eBay leaves bidCount out when nobody has bid: absent means 0.
    bid_count: int
    unique_bidder_count: int | None
    # The site the item is listed on (EBAY_GB ...): its increment table applies, whoever reads it.
    listing_marketplace: str | None = None
    buying_options: tuple[str, ...]
    reserve_price_met: bool | None
    seller_username: str | None
    seller_feedback_score: int | None
    shipping_cost: Money | None
    import_charges: Money | None = None  # the Global Shipping Program's, for the first shipping option
    web_url: str | None
    timing: Timing | None = None

    @property
    def ref(self) -> ItemRef:
        return _ref_from_rest(self.item_id, "getItem")

    @property
    def is_auction(self) -> bool:
        return "AUCTION" in self.buying_options

    @property
    def currency(self) -> str | None:
        price = self.current_price or self.minimum_to_bid
        return price.currency if price else None

    @classmethod
    def from_browse(cls, data: dict[str, Any], timing: Timing | None = None) -> ItemDetails:
        what = "getItem"
        item_id = p.as_str(p.req(data, "itemId", what), "itemId", what)
        ref = _ref_from_rest(item_id, what)
        legacy = p.opt_str(data, "legacyItemId", what) or ref.legacy_id
        if legacy != ref.legacy_id:
            raise BadResponse("eBay's reply to getItem names two different items.")
        current, converted = p.opt_listing_amount(data, "currentBidPrice", what)
        if current is None:
            current, converted = p.opt_listing_amount(data, "price", what)
        currency = current.currency if current else None
        minimum, _ = p.opt_listing_amount(data, "minimumPriceToBid", what, currency=currency)
        image = data.get("image")
        image_url = p.opt_str(image, "imageUrl", what) if isinstance(image, dict) else None
        seller = data.get("seller")
        seller = seller if isinstance(seller, dict) else {}
        options = data.get("buyingOptions") or []
        if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
            raise BadResponse("eBay's reply to getItem has malformed buyingOptions.")
        shipping: Money | None = None
        import_charges: Money | None = None
        ship_opts = data.get("shippingOptions")
        if isinstance(ship_opts, list) and ship_opts and isinstance(ship_opts[0], dict):
            shipping, _ = p.opt_listing_amount(ship_opts[0], "shippingCost", what)
            import_charges, _ = p.opt_listing_amount(ship_opts[0], "importCharges", what)
        return cls(
            item_id=ref.rest_id,
            legacy_item_id=legacy,
            title=p.opt_str(data, "title", what),
            image_url=image_url,
            current_price=current,
            minimum_to_bid=minimum,
            converted_price=converted,
            end_time=p.opt_timestamp(data, "itemEndDate", what),
            bid_count=p.opt_int(data, "bidCount", what) or 0,
            unique_bidder_count=p.opt_int(data, "uniqueBidderCount", what),
            listing_marketplace=p.opt_str(data, "listingMarketplaceId", what),
            buying_options=tuple(options),
            reserve_price_met=p.opt_bool(data, "reservePriceMet", what),
            seller_username=p.opt_str(seller, "username", what),
            seller_feedback_score=p.opt_int(seller, "feedbackScore", what),
            shipping_cost=shipping,
            import_charges=import_charges,
            web_url=p.opt_str(data, "itemWebUrl", what),
            timing=timing,
        )


class BiddingStatus(_Model):
    """Offer getBidding: this buyer's standing in an auction."""

    item_id: str
    auction_status: Literal["ACTIVE", "ENDED"]
    end_time: datetime | None
    bid_count: int
    current_price: Money
    high_bidder: bool
    max_amount: Money | None
    proxy_bid_id: str | None
    reserve_price_met: bool | None
    suggested_bid_amounts: tuple[Money, ...]
    timing: Timing | None = None

    @property
    def ended(self) -> bool:
        return self.auction_status == "ENDED"

    @property
    def won(self) -> bool:
        return self.ended and self.high_bidder

    @classmethod
    def from_offer(
        cls, data: dict[str, Any], *, currency: str | None = None, timing: Timing | None = None
    ) -> BiddingStatus:
        what = "getBidding"
        item_id = p.as_str(p.req(data, "itemId", what), "itemId", what)
        ref = _ref_from_rest(item_id, what)
        status = p.as_str(p.req(data, "auctionStatus", what), "auctionStatus", what)
        if status not in ("ACTIVE", "ENDED"):
            raise BadResponse(f"eBay's reply to getBidding has an unknown auction status {status!r}.")
        # Offer's Amount has no conversion in the contract; should eBay localize it as Browse does, the
        # listing's own amount (convertedFrom*) is still the one that counts.
        current, _ = p.listing_amount(p.req(data, "currentPrice", what), "currentPrice", what, currency=currency)
        proxy = data.get("currentProxyBid")
        max_amount: Money | None = None
        proxy_id: str | None = None
        if isinstance(proxy, dict):
            max_amount, _ = p.opt_listing_amount(proxy, "maxAmount", what, currency=current.currency)
            proxy_id = p.opt_str(proxy, "proxyBidId", what)
        suggested = data.get("suggestedBidAmounts") or []
        if not isinstance(suggested, list):
            raise BadResponse("eBay's reply to getBidding has malformed suggestedBidAmounts.")
        high = p.opt_bool(data, "highBidder", what)
        return cls(
            item_id=ref.rest_id,
            auction_status=status,  # type: ignore[arg-type]
            end_time=p.opt_timestamp(data, "auctionEndDate", what),
            bid_count=p.opt_int(data, "bidCount", what) or 0,
            current_price=current,
            high_bidder=bool(high),
            max_amount=max_amount,
            proxy_bid_id=proxy_id,
            reserve_price_met=p.opt_bool(data, "reservePriceMet", what),
            suggested_bid_amounts=tuple(
                p.listing_amount(s, "suggestedBidAmounts", what, currency=current.currency)[0] for s in suggested
            ),
            timing=timing,
        )


class ProxyBidResult(_Model):
    """Offer placeProxyBid accepted: eBay's proxy bid id and when the request left and returned."""

    item_id: str
    proxy_bid_id: str
    max_amount: Money
    timing: Timing


class WatchListItem(_Model):
    """One row of the Trading watch list."""

    legacy_item_id: str
    item_id: str
    title: str
    listing_type: str | None
    end_time: datetime | None
    current_price: Money | None
    bid_count: int | None
    time_left: timedelta | None
    buy_it_now_price: Money | None
    image_url: str | None
    # ConvertedCurrentPrice: the price in the currency of the site the call was made for, for display only.
    converted_price: Money | None = None

    @property
    def is_auction(self) -> bool:
        return self.listing_type in ("Chinese", "Auction")

    @property
    def ended(self) -> bool:
        return self.time_left is not None and self.time_left <= timedelta(0)

    @classmethod
    def from_xml(cls, el: Element) -> WatchListItem:
        what = "GetMyeBayBuying"
        ref = _ref_from_legacy(p.xreq(el, "ItemID", what), what)
        time_left = p.xtext(el, "TimeLeft")
        current = p.xamount(el, "SellingStatus/CurrentPrice", what)
        converted = p.xamount(el, "SellingStatus/ConvertedCurrentPrice", what)
        if converted is not None and (current is None or converted.currency == current.currency):
            converted = None
        buy_now = p.xamount(el, "BuyItNowPrice", what)
        return cls(
            legacy_item_id=ref.legacy_id,
            item_id=ref.rest_id,
            title=p.xtext(el, "Title") or "",
            listing_type=p.xtext(el, "ListingType"),
            end_time=_xtime(el, "ListingDetails/EndTime", what),
            current_price=current,
            bid_count=p.xint(el, "SellingStatus/BidCount", what),
            time_left=p.iso_duration(time_left, "TimeLeft", what) if time_left else None,
            # eBay writes BuyItNowPrice 0.0 on a listing that has none.
            buy_it_now_price=buy_now if buy_now is not None and buy_now.minor > 0 else None,
            image_url=p.xtext(el, "PictureDetails/GalleryURL"),
            converted_price=converted,
        )


def _xtime(el: Element, path: str, what: str) -> datetime | None:
    value = p.xtext(el, path)
    return None if value is None else p.timestamp(value, path, what)


class WatchList(_Model):
    """The whole watch list (every page) and the reply timestamp of the last page, for the clock check."""

    items: tuple[WatchListItem, ...]
    # One sentence per watched item eBay described so badly it was left out (the rest still sync).
    skipped: tuple[str, ...] = ()
    total_entries: int
    timestamp: datetime | None
    timing: Timing | None = None


class EndedItem(_Model):
    """An auction in the won or lost list."""

    legacy_item_id: str
    item_id: str
    title: str
    result: Literal["WON", "LOST"]
    end_time: datetime | None
    final_price: Money | None

    @classmethod
    def from_xml(cls, el: Element, result: Literal["WON", "LOST"], price_el: Element | None = None) -> EndedItem:
        what = "GetMyeBayBuying"
        ref = _ref_from_legacy(p.xreq(el, "ItemID", what), what)
        # The hammer price: TotalPrice would add shipping, so it is never used here.
        price: Money | None = None
        if price_el is not None:
            price = p.xamount(price_el, "TransactionPrice", what)
        price = price or p.xamount(el, "SellingStatus/CurrentPrice", what)
        if price is None and price_el is not None:
            price = p.xamount(price_el, "TotalTransactionPrice", what)
        return cls(
            legacy_item_id=ref.legacy_id,
            item_id=ref.rest_id,
            title=p.xtext(el, "Title") or "",
            result=result,
            end_time=_xtime(el, "ListingDetails/EndTime", what),
            final_price=price,
        )


class BuyingResult(_Model):
    """Won and lost auctions of the last ``duration_days`` days."""

    won: tuple[EndedItem, ...]
    lost: tuple[EndedItem, ...]
    duration_days: int
    timestamp: datetime | None
    timing: Timing | None = None


class EbayUser(_Model):
    """Commerce Identity getUser: who is linked."""

    user_id: str | None
    username: str
    account_type: str | None
    registration_marketplace_id: str | None

    @classmethod
    def from_identity(cls, data: dict[str, Any]) -> EbayUser:
        what = "getUser"
        username = p.as_str(p.req(data, "username", what), "username", what)
        if not username.strip() or len(username) > 64:
            raise BadResponse("eBay's reply to getUser has a malformed username.")
        return cls(
            user_id=p.opt_str(data, "userId", what),
            username=username,
            account_type=p.opt_str(data, "accountType", what),
            registration_marketplace_id=p.opt_str(data, "registrationMarketplaceId", what),
        )
