"""The simulator's state: users, tokens, auctions with proxy bidding, faults and the request log.

All of it lives in one object guarded by one lock, so the HTTP handlers (on the server's loop) and the
Python helpers of SimulatorServer (on a test's thread) can both touch it safely.
"""

from __future__ import annotations

import base64
import itertools
import random
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .money import MARKETPLACE_CURRENCY, format_minor, increment
from .sim_clock import SimClock, iso_ms

CLIENT_ID = "sim-client"
CLIENT_SECRET = "sim-secret"  # noqa: S105 - the simulator's published demo credential
RUNAME = "sim-runame"
DEMO_USER = "demo"

SCOPE_API = "https://api.ebay.com/oauth/api_scope"
SCOPE_OFFER = "https://api.ebay.com/oauth/api_scope/buy.offer.auction"
SCOPE_IDENTITY = "https://api.ebay.com/oauth/api_scope/commerce.identity.readonly"
USER_SCOPES = frozenset({SCOPE_API, SCOPE_OFFER, SCOPE_IDENTITY})
APP_SCOPES = frozenset({SCOPE_API})

WATCH_LIST_LIMIT = 400
REQUEST_LOG_LIMIT = 200_000
BIN_BUYER = "bin_buyer"


@dataclass(slots=True)
class Bid:
    bidder: str
    max_minor: int
    arrival: float
    accepted: bool
    reason: str | None
    proxy_bid_id: str | None
    source: str


@dataclass(slots=True)
class Rival:
    user: str
    max_minor: int
    fire_at: float
    fired: bool = False


@dataclass(slots=True)
class BidOutcome:
    """Result of a bid attempt: accepted (proxy_bid_id set) or refused with eBay's error id."""

    error_id: int | None
    proxy_bid_id: str | None = None


@dataclass
class Auction:
    legacy_id: str
    title: str
    currency: str
    marketplace: str
    start_minor: int
    created: float
    end_epoch: float
    reserve_minor: int | None
    bin_minor: int | None
    image_url: str  # "": the seller gave no picture
    shipping_minor: int | None  # None: collection only, no shipping options
    seller: str
    seller_feedback: int
    seller_percent: str
    category: str
    condition: str
    # A fixed-price (Buy It Now only) listing: watched like any item, never bid on.
    fixed_price: bool = False
    import_charges_minor: int | None = None  # the Global Shipping Program's import charges
    bids: list[Bid] = field(default_factory=list)
    rivals: list[Rival] = field(default_factory=list)
    ended_early_at: float | None = None
    ended_by: str | None = None  # "seller" | "buy_it_now"; None while running or ended on time
    bin_buyer: str | None = None
    # Derived from the accepted bids by _recompute.
    maxes: dict[str, tuple[int, float, str]] = field(default_factory=dict)
    price_minor: int = 0
    high_bidder: str | None = None
    accepted_count: int = 0

    @property
    def item_id(self) -> str:
        return f"v1|{self.legacy_id}|0"

    @property
    def end_instant(self) -> float:
        return self.ended_early_at if self.ended_early_at is not None else self.end_epoch

    def ended_at(self, t: float) -> bool:
        return t >= self.end_instant

    def reserve_met(self) -> bool:
        if self.reserve_minor is None:
            return True
        top = self._top()
        return top is not None and top[1] >= self.reserve_minor

    def bin_available(self, t: float) -> bool:
        if self.bin_minor is None or self.ended_at(t):
            return False
        # eBay removes Buy It Now at the first bid, or on a reserve auction once the reserve is met.
        if self.reserve_minor is not None:
            return not self.reserve_met()
        return self.accepted_count == 0

    def min_next_bid(self) -> int:
        if self.accepted_count == 0:
            return self.start_minor
        return self.price_minor + increment(self.marketplace, self.price_minor)

    def _top(self) -> tuple[str, int, float] | None:
        if not self.maxes:
            return None
        bidder, (mx, at, _) = min(self.maxes.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
        return bidder, mx, at

    def _recompute(self) -> None:
        ranked = sorted(self.maxes.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
        if not ranked:
            self.price_minor, self.high_bidder = self.start_minor, None
            return
        top_bidder, (top_max, _, _) = ranked[0]
        if len(ranked) == 1:
            price = self.start_minor
        else:
            second = ranked[1][1][0]
            price = max(self.start_minor, min(top_max, second + increment(self.marketplace, second)))
        if self.reserve_minor is not None and top_max >= self.reserve_minor:
            price = max(price, self.reserve_minor)
        self.price_minor, self.high_bidder = price, top_bidder

    def winner(self, t: float) -> str | None:
        if not self.ended_at(t):
            return None
        if self.ended_by == "buy_it_now":
            return self.bin_buyer
        if self.high_bidder is None or not self.reserve_met():
            return None
        return self.high_bidder

    def final_price(self, t: float) -> int | None:
        if not self.ended_at(t):
            return None
        if self.ended_by == "buy_it_now":
            return self.bin_minor
        return self.price_minor if self.winner(t) is not None else None

    def unique_bidders(self) -> int:
        return len(self.maxes)


@dataclass(slots=True)
class User:
    username: str
    user_id: str
    watch: list[str] = field(default_factory=list)


@dataclass(slots=True)
class AuthCode:
    user: str
    scopes: frozenset[str]
    expires: float
    used: bool = False


@dataclass(slots=True)
class AccessToken:
    user: str | None
    scopes: frozenset[str]
    expires: float


@dataclass(slots=True)
class RefreshToken:
    user: str
    scopes: frozenset[str]
    expires: float
    revoked: bool = False


@dataclass(slots=True)
class Fault:
    pattern: re.Pattern[str]
    method: str | None
    remaining: int
    kind: str
    status: int
    retry_after: float
    hang_s: float
    drip_s: float = 5.0  # "drip": seconds between the bytes of the reply body


@dataclass(slots=True)
class RequestRecord:
    seq: int
    method: str
    path: str
    query: str
    arrival: float
    status: int | None = None
    user: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "arrival_epoch": self.arrival,
            "arrival_time": iso_ms(self.arrival),
            "status": self.status,
            "user": self.user,
        }


POSTMARK_TEST_TOKEN = "POSTMARK_API_TEST"  # noqa: S105 - Postmark's published test token


@dataclass(slots=True)
class EmailRejects:
    """The next ``remaining`` emails are refused with Postmark's 422 ``error_code`` (a permanent failure)."""

    remaining: int = 0
    error_code: int = 406
    message: str = "You tried to send to a recipient that has been marked as inactive."


class World:
    """Everything the simulated eBay knows. Call methods with ``self.lock`` held."""

    def __init__(self, clock: SimClock, seed: int | None = None) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.rng = random.Random(seed)
        self.base_url = "http://127.0.0.1"
        self.latency_ms = 0.0
        self.jitter_ms = 0.0
        self.access_token_ttl_s = 7200.0
        self.code_ttl_s = 299.0
        self.refresh_token_ttl_s = 47_304_000.0
        # Postmark's own test token works against the real API too (it accepts and discards).
        self.postmark_token = POSTMARK_TEST_TOKEN
        self.reset()

    def reset(self) -> None:
        self.users: dict[str, User] = {}
        self.auctions: dict[str, Auction] = {}
        self.codes: dict[str, AuthCode] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.faults: list[Fault] = []
        self.requests: deque[RequestRecord] = deque(maxlen=REQUEST_LOG_LIMIT)
        self.seq = itertools.count(1)
        self.next_legacy = 135_000_000_000 + self.rng.randrange(0, 9_000_000) * 1000
        self.image_count = 0
        self.emails: list[dict[str, Any]] = []
        self.email_rejects = EmailRejects()
        self.trading_calls = 0
        self.ensure_user(DEMO_USER)

    # --- users and tokens -------------------------------------------------------------------------

    def ensure_user(self, username: str) -> User:
        user = self.users.get(username)
        if user is None:
            user = User(username=username, user_id=self._random_token(9, alphabet="abcdefghjkmnpqrstuvwxyz23456789"))
            self.users[username] = user
        return user

    def _random_token(self, n: int, alphabet: str | None = None) -> str:
        if alphabet:
            return "".join(self.rng.choice(alphabet) for _ in range(n))
        return base64.b64encode(self.rng.randbytes(n)).decode("ascii")

    def new_code(self, user: str, scopes: frozenset[str]) -> str:
        # 64 random bytes end their base64 in "=", as eBay's codes do.
        code = "v^1.1#i^1#f^0#r^1#I^3#p^3#t^" + self._random_token(64)
        self.codes[code] = AuthCode(user, scopes, self.clock.now() + self.code_ttl_s)
        return code

    def new_access_token(self, user: str | None, scopes: frozenset[str]) -> str:
        token = "v^1.1#i^1#p^3#I^3#r^0#f^0#t^H4sI" + self._random_token(96)
        self.access_tokens[token] = AccessToken(user, scopes, self.clock.now() + self.access_token_ttl_s)
        return token

    def new_refresh_token(self, user: str, scopes: frozenset[str]) -> str:
        token = "v^1.1#i^1#I^3#r^1#f^0#p^3#t^Ul4x" + self._random_token(96)
        self.refresh_tokens[token] = RefreshToken(user, scopes, self.clock.now() + self.refresh_token_ttl_s)
        return token

    def expire_access_tokens(self, user: str) -> int:
        now = self.clock.now()
        hits = 0
        for tok in self.access_tokens.values():
            if tok.user == user:
                tok.expires = min(tok.expires, now - 0.001)
                hits += 1
        return hits

    def revoke_refresh_tokens(self, user: str) -> int:
        hits = 0
        for tok in self.refresh_tokens.values():
            if tok.user == user:
                tok.revoked = True
                hits += 1
        return hits

    # --- auctions ----------------------------------------------------------------------------------

    def create_auction(
        self,
        *,
        title: str,
        start_minor: int,
        currency: str,
        marketplace: str,
        ends_in: float,
        watched_by: list[str],
        rivals: list[tuple[str, int, float]],
        reserve_minor: int | None,
        bin_minor: int | None,
        image_url: str | None,
        shipping_minor: int | None,
        seller: str = "vintage_finds_co",
        category: str = "Collectibles",
        condition: str = "Used",
        fixed_price: bool = False,
        import_charges_minor: int | None = None,
    ) -> Auction:
        now = self.clock.now()
        self.next_legacy += self.rng.randrange(7, 977)
        legacy = str(self.next_legacy)
        self.image_count += 1
        auction = Auction(
            legacy_id=legacy,
            title=title,
            currency=currency,
            marketplace=marketplace,
            start_minor=start_minor,
            created=now,
            end_epoch=now + ends_in,
            reserve_minor=reserve_minor,
            bin_minor=bin_minor,
            # None draws a picture; "" is a listing without one (eBay then leaves image out).
            image_url=f"{self.base_url}/_sim/images/{self.image_count}.png" if image_url is None else image_url,
            shipping_minor=shipping_minor,
            seller=seller,
            seller_feedback=self.rng.randrange(40, 25000),
            seller_percent=f"{self.rng.choice([98.9, 99.2, 99.5, 99.8, 100.0]):.1f}",
            category=category,
            condition=condition,
            fixed_price=fixed_price,
            import_charges_minor=import_charges_minor,
        )
        auction.price_minor = start_minor
        for user, max_minor, before_end in rivals:
            fire_at = max(now, auction.end_epoch - before_end)
            auction.rivals.append(Rival(user, max_minor, fire_at))
        auction.rivals.sort(key=lambda r: r.fire_at)
        self.auctions[legacy] = auction
        for name in watched_by:
            watcher = self.ensure_user(name)
            if len(watcher.watch) < WATCH_LIST_LIMIT:
                watcher.watch.append(legacy)
        return auction

    def find_auction(self, item_id: str) -> Auction | None:
        """Look up by RESTful id ``v1|<legacy>|0`` (or a bare legacy id)."""
        if item_id.startswith("v1|"):
            parts = item_id.split("|")
            if len(parts) != 3 or parts[2] != "0":
                return None
            item_id = parts[1]
        return self.auctions.get(item_id)

    def advance(self, auction: Auction, t: float) -> None:
        """Fire every scripted rival whose instant has come by ``t``."""
        for rival in auction.rivals:
            if rival.fired:
                continue
            if rival.fire_at > t:
                break
            rival.fired = True
            if auction.ended_at(rival.fire_at):
                continue
            self._apply_bid(auction, rival.user, rival.max_minor, rival.fire_at, "rival", auction.currency)

    def place_bid(
        self, auction: Auction, bidder: str, max_minor: int, arrival: float, currency: str, source: str = "api"
    ) -> BidOutcome:
        self.advance(auction, arrival)
        return self._apply_bid(auction, bidder, max_minor, arrival, source, currency)

    def _apply_bid(
        self, auction: Auction, bidder: str, max_minor: int, arrival: float, source: str, currency: str
    ) -> BidOutcome:
        error = self._check_bid(auction, bidder, max_minor, arrival, currency)
        if error is not None:
            auction.bids.append(Bid(bidder, max_minor, arrival, False, _REASONS.get(error, str(error)), None, source))
            return BidOutcome(error)
        proxy_id = str(self.rng.randrange(10**11, 10**12))
        auction.bids.append(Bid(bidder, max_minor, arrival, True, None, proxy_id, source))
        auction.maxes[bidder] = (max_minor, arrival, proxy_id)
        auction.accepted_count += 1
        auction._recompute()
        return BidOutcome(None, proxy_id)

    @staticmethod
    def _check_bid(auction: Auction, bidder: str, max_minor: int, arrival: float, currency: str) -> int | None:
        if auction.ended_at(arrival):
            return 120002 if auction.ended_by == "buy_it_now" else 120012
        if auction.fixed_price:
            return 120004
        if currency != auction.currency:
            return 120009
        own = auction.maxes.get(bidder)
        if own is not None and max_minor < own[0]:
            return 120010
        if own is not None and max_minor == own[0]:
            return 120008
        if max_minor < auction.min_next_bid() and not (own is not None and auction.high_bidder == bidder):
            return 120008
        return None

    def end_auction(self, auction: Auction, reason: str | None) -> None:
        now = self.clock.now()
        self.advance(auction, now)
        if auction.ended_at(now):
            return
        if reason is None:
            reason = "buy_it_now" if auction.bin_available(now) else "seller"
        if reason == "buy_it_now":
            auction.bin_buyer = BIN_BUYER
            if auction.bin_minor is None:
                auction.bin_minor = auction.min_next_bid()
        auction.ended_by = reason
        auction.ended_early_at = now

    def auction_json(self, auction: Auction) -> dict[str, Any]:
        now = self.clock.now()
        self.advance(auction, now)
        final = auction.final_price(now)
        return {
            "legacy_item_id": auction.legacy_id,
            "item_id": auction.item_id,
            "title": auction.title,
            "status": "ENDED" if auction.ended_at(now) else "ACTIVE",
            "ended_by": auction.ended_by or ("time" if auction.ended_at(now) else None),
            "end_time": iso_ms(auction.end_instant),
            "end_epoch": auction.end_instant,
            "currency": auction.currency,
            "marketplace": auction.marketplace,
            "current_price": format_minor(auction.price_minor),
            "minimum_to_bid": format_minor(auction.min_next_bid()),
            "bid_count": auction.accepted_count,
            "high_bidder": auction.high_bidder,
            "reserve_met": auction.reserve_met() if auction.reserve_minor is not None else None,
            "winner": auction.winner(now),
            "final_price": format_minor(final) if final is not None else None,
            "bids": [
                {
                    "bidder": b.bidder,
                    "max": format_minor(b.max_minor),
                    "arrival_epoch": b.arrival,
                    "arrival_time": iso_ms(b.arrival),
                    "accepted": b.accepted,
                    "reason": b.reason,
                    "source": b.source,
                }
                for b in auction.bids
            ],
        }

    # --- faults and the request log ---------------------------------------------------------------

    def take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.remaining <= 0:
                continue
            if fault.method is not None and fault.method.upper() != method:
                continue
            if fault.pattern.search(path) is None:
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self.faults.remove(fault)
            return fault
        return None

    def record(self, method: str, path: str, query: str, arrival: float) -> RequestRecord:
        rec = RequestRecord(next(self.seq), method, path, query, arrival)
        self.requests.append(rec)
        return rec

    def requests_since(self, since: int) -> list[dict[str, Any]]:
        out: list[RequestRecord] = []
        for rec in reversed(self.requests):
            if rec.seq <= since:
                break
            out.append(rec)
        out.reverse()
        return [r.as_json() for r in out]


def currency_for(marketplace: str) -> str:
    return MARKETPLACE_CURRENCY.get(marketplace, "USD")


_REASONS = {
    120002: "ended by Buy It Now",
    120008: "bid too low",
    120009: "currency mismatch",
    120010: "cannot lower proxy bid",
    120012: "auction ended",
    120004: "not an auction",
}
