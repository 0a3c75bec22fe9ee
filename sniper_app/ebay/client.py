"""The eBay client: Browse, Offer, Trading and Identity calls with tokens handled behind the scenes."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from sniper_app.domain.errors import InputError
from sniper_app.domain.items import ItemRef, parse_item_ref
from sniper_app.domain.money import Money
from sniper_app.ebay import parsing as p
from sniper_app.ebay import trading
from sniper_app.ebay.endpoints import (
    BROWSE_BASE,
    IDENTITY_USER_PATH,
    OFFER_BASE,
    TRADING_COMPATIBILITY_LEVEL,
    USER_SCOPES,
    Endpoints,
    site_id,
)
from sniper_app.ebay.errors import AuthExpired, BadResponse, NeedsRelink
from sniper_app.ebay.keystore import SecretStore, StoredToken, UserTokens
from sniper_app.ebay.models import (
    BiddingStatus,
    BuyingResult,
    EbayUser,
    EndedItem,
    ItemDetails,
    ProxyBidResult,
    Timing,
    WatchList,
    WatchListItem,
)
from sniper_app.ebay.oauth import OAuthClient
from sniper_app.ebay.transport import Retry, RetryPolicy, Transport, make_http_client, rest_error

log = logging.getLogger("sniper_app.ebay")

T = TypeVar("T")

# A user token is refreshed before a call when it has less than this left.
USER_TOKEN_MARGIN_S = 120.0
MAX_RESULT_PAGES = 10


def _ref(item: ItemRef | str) -> ItemRef:
    return item if isinstance(item, ItemRef) else parse_item_ref(item)


def _path_id(ref: ItemRef) -> str:
    # The RESTful id goes in the path percent-encoded: v1%7C123%7C0.
    return quote(ref.rest_id, safe="")


class EbayClient:
    """One linked account (or none yet) on one eBay environment, over one shared httpx client."""

    def __init__(
        self,
        *,
        endpoints: Endpoints,
        client_id: str,
        runame: str,
        secrets: SecretStore | None = None,
        account: str | None = None,
        marketplace: str = "EBAY_US",
        http: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
        client_secret: str | None = None,
        scopes: Sequence[str] = USER_SCOPES,
        on_timing: Callable[[str, Timing], None] | None = None,
        timeout_s: float = 15.0,
    ) -> None:
        site_id(marketplace)
        self.endpoints = endpoints
        self.marketplace = marketplace
        self.secrets = secrets or SecretStore(endpoints.environment)
        self._owns_http = http is None
        self.http = http or make_http_client(timeout_s)
        # The whole exchange gets the same budget a single read had: a dripping reply cannot hold a call.
        self.transport = Transport(self.http, retry, on_timing, deadline_s=timeout_s)
        self.oauth = OAuthClient(
            self.transport, endpoints, client_id, runame, self.secrets, client_secret=client_secret, scopes=scopes
        )
        self._account = account
        self._tokens: UserTokens | None = None
        self._refresh_lock = asyncio.Lock()

    # --- lifecycle ----------------------------------------------------------------------------------

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def __aenter__(self) -> EbayClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # --- account and tokens -------------------------------------------------------------------------

    @property
    def account(self) -> str | None:
        return self._account

    def set_account(self, account: str | None, tokens: UserTokens | None = None) -> None:
        self._account = account
        self._tokens = tokens

    async def store_tokens(self, account: str, tokens: UserTokens) -> None:
        await self.secrets.asave_tokens(account, tokens)
        self.set_account(account, tokens)

    async def unlink(self) -> None:
        """Forget the linked account's tokens (keyring included)."""
        if self._account is not None:
            await self.secrets.adelete_tokens(self._account)
        self._tokens = None

    async def _load_tokens(self) -> UserTokens:
        if self._tokens is None:
            if self._account is None:
                raise NeedsRelink("No eBay account is linked yet; link one first (account link).")
            self._tokens = await self.secrets.aload_tokens(self._account)
        if self._tokens.refresh is None and self._tokens.access is None:
            raise NeedsRelink("No eBay sign-in is stored for this account; link it again (account link).")
        return self._tokens

    async def ensure_user_token(self, min_valid_s: float = USER_TOKEN_MARGIN_S) -> StoredToken:
        """A user access token valid for at least ``min_valid_s``, refreshed if needed (preflight)."""
        tokens = await self._load_tokens()
        if tokens.access is not None and tokens.access.valid_for(min_valid_s):
            return tokens.access
        return await self._refresh(tokens.access.token if tokens.access else None)

    def cached_user_token(self, min_valid_s: float) -> StoredToken | None:
        """The access token already in memory if valid for ``min_valid_s``; no keyring or network call."""
        access = self._tokens.access if self._tokens is not None else None
        return access if access is not None and access.valid_for(min_valid_s) else None

    async def renew_user_token(self) -> StoredToken:
        """A new access token even if the current one looks valid: eBay refused it (401) before its time."""
        tokens = await self._load_tokens()
        return await self._refresh(tokens.access.token if tokens.access else None)

    async def _refresh(self, failed: str | None) -> StoredToken:
        async with self._refresh_lock:
            tokens = await self._load_tokens()
            # Another call may have refreshed while this one waited for the lock.
            if tokens.access is not None and tokens.access.token != failed and tokens.access.valid_for(
                USER_TOKEN_MARGIN_S
            ):
                return tokens.access
            if tokens.refresh is None:
                raise NeedsRelink()
            try:
                access = await self.oauth.refresh(tokens.refresh)
            except NeedsRelink:
                self._tokens = UserTokens(access=None, refresh=None)
                raise
            new = UserTokens(access=access, refresh=tokens.refresh)
            self._tokens = new
            assert self._account is not None
            await self.secrets.asave_tokens(self._account, UserTokens(access=access, refresh=None))
            log.info("refreshed the eBay access token for %s", self._account)
            return access

    async def _with_user_token(self, run: Callable[[str], Awaitable[T]]) -> T:
        access = await self.ensure_user_token(0.0)
        try:
            return await run(access.token)
        except AuthExpired:
            access = await self._refresh(access.token)
        try:
            return await run(access.token)
        except AuthExpired as exc:
            raise NeedsRelink(
                "eBay keeps refusing the renewed sign-in; link your account again.",
                error_id=exc.error_id, ebay_message=exc.ebay_message, status=exc.status,
            ) from None

    async def _with_app_token(self, run: Callable[[str], Awaitable[T]]) -> T:
        token = await self.oauth.app_token()
        try:
            return await run(token)
        except AuthExpired:
            token = await self.oauth.app_token(force=True)
        return await run(token)

    # --- helpers ------------------------------------------------------------------------------------

    def _rest_headers(self, token: str, marketplace: str | None) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token}",
            "X-EBAY-C-MARKETPLACE-ID": marketplace or self.marketplace,
            "Accept": "application/json",
        }

    async def _get_json(
        self, url: str, what: str, token: str, *, params: dict[str, str] | None = None, marketplace: str | None = None
    ) -> tuple[dict[str, Any], Timing]:
        def build() -> httpx.Request:
            return self.http.build_request("GET", url, params=params, headers=self._rest_headers(token, marketplace))

        def handle(response: httpx.Response, timing: Timing) -> tuple[dict[str, Any], Timing]:
            if response.status_code != 200:
                raise rest_error(response, what)
            return p.load_json(response.content, what), timing

        return await self.transport.call(build, what, Retry.READ, handle)

    # --- Browse -------------------------------------------------------------------------------------

    async def get_item(self, item: ItemRef | str, *, marketplace: str | None = None) -> ItemDetails:
        ref = _ref(item)
        url = f"{self.endpoints.api_url}{BROWSE_BASE}/item/{_path_id(ref)}"

        async def run(token: str) -> ItemDetails:
            data, timing = await self._get_json(url, "getItem", token, marketplace=marketplace)
            return _same_item(ItemDetails.from_browse(data, timing), ref, "getItem")

        return await self._with_app_token(run)

    async def get_item_by_legacy_id(self, legacy_id: str, *, marketplace: str | None = None) -> ItemDetails:
        ref = ItemRef(legacy_id.strip())
        url = f"{self.endpoints.api_url}{BROWSE_BASE}/item/get_item_by_legacy_id"

        async def run(token: str) -> ItemDetails:
            data, timing = await self._get_json(
                url, "getItemByLegacyId", token, params={"legacy_item_id": ref.legacy_id}, marketplace=marketplace
            )
            return _same_item(ItemDetails.from_browse(data, timing), ref, "getItemByLegacyId")

        return await self._with_app_token(run)

    # --- Offer --------------------------------------------------------------------------------------

    async def get_bidding(
        self, item: ItemRef | str, *, currency: str | None = None, marketplace: str | None = None
    ) -> BiddingStatus:
        """This buyer's standing; raises NoBiddingActivity before the buyer's first bid."""
        url = f"{self.endpoints.api_url}{OFFER_BASE}/bidding/{_path_id(_ref(item))}"

        async def run(token: str) -> BiddingStatus:
            data, timing = await self._get_json(url, "getBidding", token, marketplace=marketplace)
            return BiddingStatus.from_offer(data, currency=currency, timing=timing)

        return await self._with_user_token(run)

    def bid_request(
        self, item: ItemRef | str, max_amount: Money, token: str, *, adult_only: bool = False,
        marketplace: str | None = None,
    ) -> httpx.Request:
        """The exact placeProxyBid request; built ahead so the fire path only sends."""
        url = f"{self.endpoints.api_url}{OFFER_BASE}/bidding/{_path_id(_ref(item))}/place_proxy_bid"
        body = {
            "maxAmount": {"currency": max_amount.currency, "value": max_amount.to_ebay_value()},
            "userConsent": {"adultOnlyItem": adult_only},
        }
        headers = self._rest_headers(token, marketplace) | {"Content-Type": "application/json"}
        return self.http.build_request("POST", url, content=json.dumps(body).encode(), headers=headers)

    async def place_proxy_bid(
        self, item: ItemRef | str, max_amount: Money, *, adult_only: bool = False, marketplace: str | None = None
    ) -> ProxyBidResult:
        """Place ``max_amount`` as a proxy bid. Never repeated here on a network failure: the engine decides.

        An expired token (401, so nothing was placed) is renewed and the bid sent once more.
        """
        if max_amount.minor <= 0:
            raise InputError("A bid must be more than zero.")
        ref = _ref(item)

        async def run(token: str) -> ProxyBidResult:
            def handle(response: httpx.Response, timing: Timing) -> ProxyBidResult:
                if response.status_code not in (200, 201):
                    raise rest_error(response, "placeProxyBid")
                try:
                    data = p.load_json(response.content, "placeProxyBid")
                    bid_id = p.as_str(p.req(data, "proxyBidId", "placeProxyBid"), "proxyBidId", "placeProxyBid")
                except BadResponse as exc:
                    raise BadResponse(
                        "eBay accepted the bid request but its reply is unreadable; the bid may be placed.",
                        status=response.status_code, maybe_applied=True,
                    ) from exc
                log.info("bid %s on %s placed in %.1f ms", max_amount.to_ebay_value(), ref, timing.rtt_s * 1000)
                return ProxyBidResult(item_id=ref.rest_id, proxy_bid_id=bid_id, max_amount=max_amount, timing=timing)

            return await self.transport.call(
                lambda: self.bid_request(ref, max_amount, token, adult_only=adult_only, marketplace=marketplace),
                "placeProxyBid",
                Retry.NEVER,
                handle,
            )

        return await self._with_user_token(run)

    # --- Identity -----------------------------------------------------------------------------------

    async def get_user(self, access_token: str | None = None) -> EbayUser:
        url = self.endpoints.identity_url + IDENTITY_USER_PATH

        async def run(token: str) -> EbayUser:
            data, _timing = await self._get_json(url, "getUser", token)
            return EbayUser.from_identity(data)

        if access_token is not None:
            return await run(access_token)
        return await self._with_user_token(run)

    # --- Trading ------------------------------------------------------------------------------------

    async def _trading(self, call: str, body: bytes) -> tuple[Any, Timing]:
        async def run(token: str) -> tuple[Any, Timing]:
            def build() -> httpx.Request:
                return self.http.build_request(
                    "POST",
                    self.endpoints.trading_url,
                    content=body,
                    headers={
                        "X-EBAY-API-CALL-NAME": call,
                        "X-EBAY-API-SITEID": str(site_id(self.marketplace)),
                        "X-EBAY-API-COMPATIBILITY-LEVEL": TRADING_COMPATIBILITY_LEVEL,
                        "X-EBAY-API-IAF-TOKEN": token,
                        "Content-Type": "text/xml",
                    },
                )

            async def handle(response: httpx.Response, timing: Timing) -> tuple[Any, Timing]:
                # A page of 200 watched items is a large XML document: parsed off the loop's thread, so
                # the window (which shares that thread) stays responsive during a sync.
                return await asyncio.to_thread(trading.parse_reply, response, call), timing

            return await self.transport.call(build, call, Retry.READ, handle)

        return await self._with_user_token(run)

    async def get_watch_list(self, *, limit: int = trading.WATCH_LIMIT) -> WatchList:
        """Every watched item (eBay allows 400; 200 a page)."""
        items: list[WatchListItem] = []
        skipped: list[str] = []
        total = 0
        timestamp = None
        timing: Timing | None = None
        page = 1
        while True:
            root, timing = await self._trading("GetMyeBayBuying", trading.watch_list_request(page))
            timestamp = trading.reply_timestamp(root, "GetMyeBayBuying")
            watch = root.find("WatchList")
            if watch is None:
                break
            good, bad = await asyncio.to_thread(_watch_items, watch.findall("ItemArray/Item"))
            items.extend(good)
            skipped.extend(bad)
            pages = p.xint(watch, "PaginationResult/TotalNumberOfPages", "GetMyeBayBuying") or 1
            total = p.xint(watch, "PaginationResult/TotalNumberOfEntries", "GetMyeBayBuying") or len(items)
            if page >= pages or len(items) >= limit or page * trading.WATCH_PAGE_SIZE >= trading.WATCH_LIMIT:
                break
            page += 1
        seen: set[str] = set()
        unique = [i for i in items if not (i.legacy_item_id in seen or seen.add(i.legacy_item_id))]  # type: ignore[func-returns-value]
        return WatchList(
            items=tuple(unique[:limit]), skipped=tuple(skipped), total_entries=total, timestamp=timestamp,
            timing=timing,
        )

    async def get_buying_results(self, duration_days: int = 60) -> BuyingResult:
        """Won and lost auctions of the last ``duration_days`` (1–60) days."""
        if not 1 <= duration_days <= 60:
            raise InputError("eBay reports won and lost auctions for 1 to 60 days back.")
        won: list[EndedItem] = []
        lost: list[EndedItem] = []
        timestamp = None
        timing: Timing | None = None
        page = 1
        while True:
            root, timing = await self._trading("GetMyeBayBuying", trading.results_request(duration_days, page))
            timestamp = trading.reply_timestamp(root, "GetMyeBayBuying")
            pages = 1
            won_list = root.find("WonList")
            if won_list is not None:
                won.extend(_won_items(won_list))
                pages = max(pages, p.xint(won_list, "PaginationResult/TotalNumberOfPages", "GetMyeBayBuying") or 1)
            lost_list = root.find("LostList")
            if lost_list is not None:
                lost.extend(EndedItem.from_xml(el, "LOST") for el in lost_list.findall("ItemArray/Item"))
                pages = max(pages, p.xint(lost_list, "PaginationResult/TotalNumberOfPages", "GetMyeBayBuying") or 1)
            if page >= min(pages, MAX_RESULT_PAGES):
                break
            page += 1
        return BuyingResult(
            won=tuple(won), lost=tuple(lost), duration_days=duration_days, timestamp=timestamp, timing=timing
        )

    # --- connection ---------------------------------------------------------------------------------

    async def warm_up(self) -> Timing:
        """Open (or keep) the connection to the API host so the bid pays no TCP/TLS handshake."""
        request = self.http.build_request("HEAD", self.endpoints.api_url + "/")
        _response, timing = await self.transport.exchange(request, "warm-up")
        return timing


def _same_item(details: ItemDetails, asked: ItemRef, what: str) -> ItemDetails:
    # A reply about another item than the one asked for must never become a snipe on the wrong auction.
    if details.legacy_item_id != asked.legacy_id or (
        asked.variation_id != "0" and details.item_id != asked.rest_id
    ):
        raise BadResponse(
            f"eBay's reply to {what} describes item {details.legacy_item_id}, not the item {asked} that was asked "
            "for; nothing was saved."
        )
    return details


def _won_items(won_list: Any) -> list[EndedItem]:
    result: list[EndedItem] = []
    transactions = list(won_list.iter("Transaction"))
    for tx in transactions:
        item = tx.find("Item")
        if item is not None:
            result.append(EndedItem.from_xml(item, "WON", tx))
    if not transactions:
        result.extend(EndedItem.from_xml(el, "WON") for el in won_list.findall("ItemArray/Item"))
    return result


def _watch_items(elements: list[Any]) -> tuple[list[WatchListItem], list[str]]:
    """The readable items, and a sentence for each one eBay described too badly to trust."""
    good: list[WatchListItem] = []
    bad: list[str] = []
    for el in elements:
        try:
            good.append(WatchListItem.from_xml(el))
        except BadResponse as exc:
            number = p.xtext(el, "ItemID") or "without a number"
            number = number if number.isdigit() and len(number) <= 19 else "without a readable number"
            log.warning("watch-list item %s skipped: %s", number, exc)
            bad.append(f"Watched item {number} was left out of the sync: {exc}")
    return good, bad
