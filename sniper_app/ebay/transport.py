"""One HTTP exchange with eBay: timing, bounded retries of reads, and eBay's errors mapped to types."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Any, TypeVar

import httpx

from sniper_app.ebay import parsing as p
from sniper_app.ebay.bounded import read_bounded
from sniper_app.ebay.errors import (
    AuctionEnded,
    AuthExpired,
    AuthInvalid,
    BadResponse,
    BidNotAllowed,
    BidTooLow,
    EbayError,
    InsufficientScope,
    ItemNotFound,
    NoBiddingActivity,
    RateLimited,
    Transient,
)
from sniper_app.ebay.models import Stopwatch, Timing
from sniper_app.tls import certificate_sentence, is_certificate_failure, ssl_context

log = logging.getLogger("sniper_app.ebay")

T = TypeVar("T")

USER_AGENT = "sniper-app/0.1 (+httpx)"


class Retry(Enum):
    """How the transport may repeat a request."""

    READ = "read"  # idempotent: retry transient failures and short rate limits
    UNSENT = "unsent"  # retry only when the request certainly never left (connect failures)
    NEVER = "never"  # a bid: the engine decides


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3
    base_delay_s: float = 0.05
    max_delay_s: float = 1.0
    # A 429 asking for a longer wait than this is raised to the caller instead of waited out.
    max_retry_after_s: float = 2.0

    def backoff(self, attempt: int) -> float:
        delay: float = min(self.max_delay_s, self.base_delay_s * (2**attempt))
        return delay * (0.5 + random.random() / 2)


def make_http_client(timeout_s: float = 15.0, connect_timeout_s: float = 5.0) -> httpx.AsyncClient:
    """The one shared client: keep-alive kept long so a warmed connection survives until the bid."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=120.0),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        verify=ssl_context(),
    )


def retry_after_seconds(response: httpx.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    raw = raw.strip()
    if raw.isascii() and raw.isdigit() and len(raw) < 7:
        return float(raw)
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    from datetime import UTC, datetime

    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _first_error(response: httpx.Response) -> tuple[int | None, str | None]:
    """eBay's first ``errors[]`` entry (errorId, message), if the body is eBay's JSON error shape."""
    try:
        data = p.load_json(response.content, "error")
    except BadResponse:
        return None, None
    errors = data.get("errors")
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return None, None
    first = errors[0]
    error_id = first.get("errorId")
    if isinstance(error_id, str) and error_id.isascii() and error_id.isdigit() and len(error_id) < 10:
        error_id = int(error_id)
    if not isinstance(error_id, int) or isinstance(error_id, bool):
        error_id = None
    message = first.get("longMessage") or first.get("message")
    return error_id, message[:500] if isinstance(message, str) else None


_ENDED_IDS = {120012, 120002}
_NOT_FOUND_IDS = {11001, 11003, 11006, 11004, 120001}


def rest_error(response: httpx.Response, what: str) -> EbayError:
    """Map a non-2xx REST reply to the error the engine acts on."""
    status = response.status_code
    error_id, message = _first_error(response)
    kw: dict[str, Any] = {"error_id": error_id, "ebay_message": message, "status": status}
    if status == 429:
        return RateLimited(retry_after=retry_after_seconds(response), **kw)
    if status >= 500 or error_id in (120000, 11000):
        return Transient(f"eBay had a temporary problem with {what} (HTTP {status}).", **kw)
    if status == 401:
        if error_id == 1001 or error_id is None:
            return AuthExpired(**kw)
        return AuthInvalid(**kw)
    if status == 403 and error_id == 1100:
        return InsufficientScope(**kw)
    if error_id == 120033:
        return NoBiddingActivity(**kw)
    if error_id in _NOT_FOUND_IDS or (status == 404 and error_id is None):
        return ItemNotFound(**kw)
    if error_id in _ENDED_IDS:
        reason = "ended by a Buy It Now purchase" if error_id == 120002 else "already ended"
        return AuctionEnded(f"eBay refused the bid: the auction has {reason}.", **kw)
    if error_id == 120008:
        detail = f" eBay says: {message}" if message else ""
        return BidTooLow(f"eBay refused the bid as too low.{detail}", **kw)
    if status in (400, 409) and what == "placeProxyBid":
        detail = f": {message}" if message else ""
        return BidNotAllowed(f"eBay refused the bid (error {error_id}){detail}", **kw)
    if status == 403:
        return InsufficientScope(
            f"eBay refused {what} (HTTP 403); the account link may lack a permission.", **kw
        )
    detail = f": {message}" if message else "."
    if 300 <= status < 400:
        return EbayError(f"eBay answered {what} with a redirect (HTTP {status}), which the app does not follow.", **kw)
    code = f", error {error_id}" if error_id is not None else ""
    return EbayError(f"eBay refused {what} (HTTP {status}{code}){detail}", **kw)


class Transport:
    """Sends requests over the shared client; retries per ``Retry`` and reports each call's timing."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        retry: RetryPolicy | None = None,
        on_timing: Callable[[str, Timing], None] | None = None,
        deadline_s: float = 30.0,
    ) -> None:
        self.http = http
        self.retry = retry or RetryPolicy()
        self.on_timing = on_timing
        self.deadline_s = deadline_s
        self.in_flight: str | None = None  # the exchange under way, to say what a caller's deadline cut short

    async def exchange(self, request: httpx.Request, what: str) -> tuple[httpx.Response, Timing]:
        """:meth:`once` under a total deadline: connect, send and the whole reply.

        httpx's timeouts apply to each socket operation, so a reply that drips a byte at a time never
        trips them; this one counts from the start. Cancelling inside ``send`` closes the response.
        """
        self.in_flight = what  # left set when a caller's own deadline cancels this: it says what was cut
        try:
            async with asyncio.timeout(self.deadline_s):
                result = await self.once(request, what)
        except TimeoutError:
            self.in_flight = None
            raise Transient(
                f"eBay did not answer {what} in time (no whole reply within {self.deadline_s:g} s).",
                maybe_applied=True,
            ) from None
        except Exception:
            self.in_flight = None
            raise
        self.in_flight = None
        return result

    async def once(self, request: httpx.Request, what: str) -> tuple[httpx.Response, Timing]:
        """One attempt: the reply (any status) and its timing, or Transient for a network failure."""
        watch = Stopwatch()
        try:
            response = await self.http.send(request, stream=True)
            await read_bounded(response, what)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise Transient(
                certificate_sentence(what) if is_certificate_failure(exc)
                else f"Could not reach eBay for {what} ({type(exc).__name__}).",
                maybe_applied=False,
            ) from None
        except httpx.TimeoutException as exc:
            raise Transient(
                f"eBay did not answer {what} in time ({type(exc).__name__}).", maybe_applied=True
            ) from None
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise Transient(
                f"The connection to eBay dropped during {what} ({type(exc).__name__}).", maybe_applied=True
            ) from None
        timing = watch.stop()
        log.debug(
            "%s %s %s -> %s in %.1f ms",
            what, request.method, request.url.path, response.status_code, timing.rtt_s * 1000,
        )
        if self.on_timing is not None:
            try:
                self.on_timing(what, timing)
            except Exception:  # an observer must never break a call
                log.exception("timing observer failed")
        return response, timing

    async def call(
        self,
        build: Callable[[], httpx.Request],
        what: str,
        retry: Retry,
        handle: Callable[[httpx.Response, Timing], Awaitable[T] | T],
    ) -> T:
        """Send ``build()``; ``handle`` turns the reply into a result or raises an EbayError."""
        attempt = 0
        while True:
            try:
                response, timing = await self.exchange(build(), what)
                result = handle(response, timing)
                if asyncio.iscoroutine(result):
                    return await result  # type: ignore[no-any-return]
                return result  # type: ignore[return-value]
            except Transient as exc:
                attempt += 1
                may_retry = retry is Retry.READ or (retry is Retry.UNSENT and not exc.maybe_applied)
                if not may_retry or attempt >= self.retry.attempts:
                    raise
                delay = self.retry.backoff(attempt - 1)
                log.info("%s failed (%s); retry %d in %.2f s", what, exc, attempt, delay)
            except RateLimited as exc:
                attempt += 1
                wait = exc.retry_after if exc.retry_after is not None else self.retry.backoff(attempt - 1)
                if retry is not Retry.READ or attempt >= self.retry.attempts or wait > self.retry.max_retry_after_s:
                    raise
                delay = wait
                log.info("%s rate limited; waiting %.2f s", what, delay)
            await asyncio.sleep(delay)
