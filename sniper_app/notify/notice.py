"""What the app tells the user: one :class:`Notice` per event, whatever channel carries it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from sniper_app.domain.money import Money, with_converted


class NoticeKind(StrEnum):
    BID_PLACED = "BID_PLACED"
    BID_WON = "BID_WON"
    BID_LOST = "BID_LOST"
    BID_FAILED = "BID_FAILED"
    BID_MISSED = "BID_MISSED"
    AUCTION_ENDING = "AUCTION_ENDING"
    ACCOUNT_NEEDS_RELINK = "ACCOUNT_NEEDS_RELINK"
    DAILY_SUMMARY = "DAILY_SUMMARY"
    SNIPE_AT_RISK = "SNIPE_AT_RISK"


# The one line a tray balloon shows; the email templates say more.
HEADLINES: dict[NoticeKind, str] = {
    NoticeKind.BID_PLACED: "Bid placed",
    NoticeKind.BID_WON: "You won",
    NoticeKind.BID_LOST: "Outbid",
    NoticeKind.BID_FAILED: "Bid failed",
    NoticeKind.BID_MISSED: "Snipe missed",
    NoticeKind.AUCTION_ENDING: "Auction ending soon",
    NoticeKind.ACCOUNT_NEEDS_RELINK: "eBay account needs linking again",
    NoticeKind.DAILY_SUMMARY: "Today's snipes",
    NoticeKind.SNIPE_AT_RISK: "Snipe at risk",
}


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """The facts a tray balloon or an email needs; nothing here is a secret."""

    kind: NoticeKind
    title: str = ""
    snipe_id: int | None = None
    item_url: str | None = None
    image_url: str | None = None
    max_bid: Money | None = None
    final_price: Money | None = None
    timing: str | None = None
    reason: str | None = None
    ends_at: datetime | None = None
    account: str | None = None
    lines: tuple[str, ...] = ()  # the daily summary's entries
    # The amounts at eBay's conversion for the user's marketplace, shown as "≈" beside the listing's own.
    max_bid_converted: Money | None = None
    final_price_converted: Money | None = None
    when: datetime = field(default_factory=_now)
    # An ended snipe's outcome: its stable code and the sentence with the numbers, the notice's body.
    outcome_code: str | None = None
    outcome: str | None = None

    @property
    def headline(self) -> str:
        return HEADLINES[self.kind]

    @property
    def saving(self) -> Money | None:
        """How far below the maximum the item went (won), or None when it does not apply."""
        if self.max_bid is None or self.final_price is None or self.max_bid.currency != self.final_price.currency:
            return None
        return self.max_bid - self.final_price

    @property
    def max_bid_text(self) -> str | None:
        return with_converted(self.max_bid, self.max_bid_converted) if self.max_bid is not None else None

    @property
    def final_price_text(self) -> str | None:
        return with_converted(self.final_price, self.final_price_converted) if self.final_price is not None else None

    def summary(self) -> str:
        """One or two plain sentences for a tray balloon."""
        parts: list[str] = []
        if self.title:
            parts.append(self.title)
        if self.outcome:
            return " — ".join([*parts, self.outcome])
        if self.kind is NoticeKind.BID_WON and self.final_price is not None:
            parts.append(f"Won for {self.final_price_text}.")
        elif self.kind is NoticeKind.BID_LOST and self.final_price is not None:
            parts.append(f"Sold for {self.final_price_text}; your maximum was {self.max_bid_text}.")
        elif self.kind is NoticeKind.BID_PLACED and self.max_bid is not None:
            parts.append(f"Your maximum of {self.max_bid_text} reached eBay.")
        elif self.kind is NoticeKind.AUCTION_ENDING and self.ends_at is not None:
            parts.append(f"Ends at {self.ends_at.astimezone():%H:%M}.")
        if self.reason:
            parts.append(self.reason)
        return " — ".join(parts) if parts else self.headline
