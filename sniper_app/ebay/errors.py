"""What can go wrong when talking to eBay, as a small hierarchy the engine can act on.

``str(err)`` is always a sentence for the user and never contains a token: every message passes through
the process-wide redactor when the error is built.
"""

from __future__ import annotations

from sniper_app.domain.errors import SniperError
from sniper_app.domain.redact import redact


class EbayError(SniperError):
    """Base of every eBay failure; carries eBay's own error id and message when eBay gave them."""

    default_message = "eBay could not complete the request."

    def __init__(
        self,
        message: str | None = None,
        *,
        error_id: int | None = None,
        ebay_message: str | None = None,
        status: int | None = None,
        maybe_applied: bool = False,
    ) -> None:
        self.message = redact(message or self.default_message)
        # True when a write (a bid) may have taken effect although this error was raised.
        self.maybe_applied = maybe_applied
        self.error_id = error_id
        self.ebay_message = redact(ebay_message) if ebay_message else None
        self.status = status
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, error_id={self.error_id!r}, status={self.status!r})"


class AuthExpired(EbayError):
    default_message = "The eBay sign-in has expired; the app renews it automatically."


class AuthInvalid(EbayError):
    default_message = "eBay did not accept the app's credentials; check the client id and secret."


class NeedsRelink(AuthInvalid):
    default_message = (
        "Your eBay account link has expired or was revoked; link your account again (account link)."
    )


class LinkError(EbayError):
    """Linking an account failed: a declined consent, a wrong or stale address, or an expired code."""

    default_message = "Linking the eBay account failed; start the link again."


class InsufficientScope(EbayError):
    default_message = (
        "The eBay account link does not allow this action (missing permission); link your account again."
    )


class RateLimited(EbayError):
    default_message = "eBay asks the app to slow down (too many requests)."

    def __init__(self, message: str | None = None, *, retry_after: float | None = None, **kw: object) -> None:
        self.retry_after = retry_after
        if message is None:
            message = self.default_message
            if retry_after is not None:
                message = f"eBay asks the app to slow down; try again in {retry_after:g} seconds."
        super().__init__(message, **kw)  # type: ignore[arg-type]


class ItemNotFound(EbayError):
    default_message = "eBay does not know this item; check the item number."


class NoBiddingActivity(EbayError):
    default_message = "You have not bid on this auction yet."


class BidRejected(EbayError):
    """eBay refused a bid; ``ebay_message`` is eBay's own reason."""

    default_message = "eBay refused the bid."


class AuctionEnded(BidRejected):
    default_message = "The auction has already ended."


class BidTooLow(BidRejected):
    default_message = "The bid is below the minimum eBay accepts now."


class BidNotAllowed(BidRejected):
    default_message = "eBay does not allow this bid."


class Transient(EbayError):
    """A failure that may pass: 5xx, timeout, dropped connection.

    ``maybe_applied`` is true when the request may have reached eBay (sent, then no answer): for a bid the
    engine must check with getBidding before deciding anything else.
    """

    default_message = "eBay did not answer properly; this is usually temporary."


class BadResponse(EbayError):
    default_message = "eBay sent a reply the app cannot read; nothing was changed on the strength of it."


class NoKeyring(EbayError):
    default_message = (
        "No secure password store (keyring) is available, so the app cannot keep your eBay sign-in. Either "
        "start and unlock the desktop's keyring (GNOME Keyring, KWallet), or keep the secrets in an encrypted "
        "file: run 'sniper-app secrets init' and give the app the key it prints (SNIPER_SECRETS_KEY)."
    )


class ClockUnavailable(EbayError):
    default_message = "The time server did not give a usable answer."
