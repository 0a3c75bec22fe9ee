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

    @property
    def tray_title(self) -> str:
        """What happened, and to which item: the first line of a balloon."""
        return f"{self.headline}: {self.title}" if self.title else self.headline

    @property
    def useful_reason(self) -> str | None:
        """The engine's reason when it adds to the numbers shown; None when it only restates them.

        A won or placed snipe's reason is "Won for $X." or "eBay accepted the bid of $X.", which the
        figures already say; printing both is how a notice comes to repeat itself.
        """
        if self.kind in (NoticeKind.BID_WON, NoticeKind.BID_PLACED):
            return None
        if self.kind is NoticeKind.BID_LOST and self.final_price is not None:
            return None
        return self.reason or None

    def body(self) -> str:
        """The numbers and the next step, under :attr:`tray_title`; never a repeat of it."""
        parts: list[str] = []
        ends = f"{self.ends_at.astimezone():%H:%M}" if self.ends_at is not None else None
        if self.outcome:
            # An ended snipe's outcome sentence already carries its numbers (and why, when it was lost).
            parts.append(self.outcome)
            if self.kind is NoticeKind.BID_WON:
                parts.append("Pay on eBay as usual.")
        elif self.kind is NoticeKind.BID_WON:
            if self.final_price is not None:
                saving = self.saving
                below = f", {saving} below your maximum of {self.max_bid_text}" if saving and saving.minor > 0 else ""
                parts.append(f"Final price {self.final_price_text}{below}.")
            parts.append("Pay on eBay as usual.")
        elif self.kind is NoticeKind.BID_LOST:
            if self.final_price is not None:
                parts.append(f"Sold for {self.final_price_text}; your maximum was {self.max_bid_text}.")
        elif self.kind is NoticeKind.BID_PLACED:
            if self.max_bid is not None:
                parts.append(f"eBay holds your maximum of {self.max_bid_text}.")
            parts.append(f"The auction ends at {ends}; you will hear how it ends." if ends
                         else "You will hear how it ends.")
        elif self.kind is NoticeKind.AUCTION_ENDING:
            up_to = f" up to {self.max_bid_text}" if self.max_bid is not None else ""
            when = f"Ends at {ends}" if ends else "Ends soon"
            parts.append(f"{when}; Sniper will bid{up_to} just before the end.")
        elif self.kind is NoticeKind.DAILY_SUMMARY:
            shown = "; ".join(self.lines[:3])
            more = len(self.lines) - 3
            parts.append(shown + (f"; and {more} more." if more > 0 else "."))
        if not self.outcome:  # the outcome sentence already says why; the engine's reason would repeat it
            reason = self.useful_reason
            if reason:
                parts.append(reason)
            elif self.kind is NoticeKind.BID_FAILED:
                parts.append("The bid could not be placed.")
            elif self.kind is NoticeKind.BID_MISSED:
                parts.append("The bid was not sent in time.")
        if self.kind is NoticeKind.BID_MISSED:
            parts.append("Keep Sniper running before auctions end.")
        elif self.kind is NoticeKind.ACCOUNT_NEEDS_RELINK:
            parts.append("Link it again: Account › Link, or sniper-app account link.")
        elif self.kind in (NoticeKind.BID_FAILED, NoticeKind.SNIPE_AT_RISK) and self.snipe_id is not None:
            parts.append("Click to open the snipe.")
        return " ".join(parts)

    def summary(self) -> str:
        """The whole notice on one line, where there is no balloon (the status bar)."""
        return f"{self.tray_title} — {self.body()}"
