"""Landed cost: what winning costs with shipping and import charges, and the bid when the maximum includes them.

Pure. The charges are those eBay's Browse API reports for the item's first shipping option
(``shippingOptions[].shippingCost`` and, for the Global Shipping Program, ``shippingOptions[].importCharges``).
A charge in another currency than the listing is shown as such and never converted: the app cannot take it
from a maximum, so it says so instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from sniper_app.domain.errors import RuleViolation
from sniper_app.domain.money import Money


class LandedError(RuleViolation):
    """The maximum cannot cover its charges as asked; the message says why and with which numbers."""


@dataclass(frozen=True, slots=True)
class LandedCost:
    maximum: Money
    shipping: Money | None  # None: eBay reported no shipping cost
    import_charges: Money | None
    total: Money  # the maximum plus every charge in the listing's currency
    foreign: tuple[Money, ...]  # charges in another currency, left out of ``total``
    sentence: str  # "$100.00 + $12.50 shipping = $112.50"


def _charges(shipping: Money | None, import_charges: Money | None) -> list[tuple[Money, str]]:
    return [(m, what) for m, what in ((shipping, "shipping"), (import_charges, "import charges")) if m is not None]


def _is(what: str) -> str:
    return "are" if what.endswith("s") else "is"


def landed_cost(maximum: Money, shipping: Money | None, import_charges: Money | None = None) -> LandedCost:
    """The maximum plus shipping and import charges: the most winning could cost."""
    total = maximum
    parts = [maximum.format()]
    foreign: list[Money] = []
    notes: list[str] = []
    for charge, what in _charges(shipping, import_charges):
        if charge.currency != maximum.currency:
            foreign.append(charge)
            notes.append(f"{what} of {charge} {_is(what)} charged in {charge.currency}, not {maximum.currency}, and "
                         f"{_is(what)} not added in")
            continue
        total = total + charge
        parts.append(f"{charge} {what}")
    if len(parts) == 1:
        sentence = f"{maximum}; eBay reports no shipping cost" if shipping is None else maximum.format()
    else:
        sentence = f"{' + '.join(parts)} = {total}"
    if notes:
        sentence += f" ({'; '.join(notes)})"
    return LandedCost(maximum, shipping, import_charges, total, tuple(foreign), sentence + ".")


@dataclass(frozen=True, slots=True)
class BidAmount:
    bid: Money  # what is sent to eBay
    landed: LandedCost
    sentence: str  # what the user is told of it


def bid_for_maximum(maximum: Money, *, includes_shipping: bool, shipping: Money | None,
                    import_charges: Money | None = None, minimum_bid: Money | None = None) -> BidAmount:
    """The bid for a maximum: the maximum itself, or, when it includes shipping, the maximum less the charges.

    Raises :class:`LandedError` when the charges cannot be taken from the maximum (unknown, in another
    currency) or leave nothing, or less than the least bid eBay accepts (``minimum_bid``).
    """
    landed = landed_cost(maximum, shipping, import_charges)
    if not includes_shipping:
        return BidAmount(maximum, landed, f"Bids {maximum}; landed cost {landed.sentence}")
    if shipping is None:
        raise LandedError(f"eBay reports no shipping cost for this item, so your maximum of {maximum} cannot "
                          "include it; bid without \"my maximum includes shipping\" or wait for the cost.")
    bid = maximum
    taken: list[str] = []
    for charge, what in _charges(shipping, import_charges):
        if charge.currency != maximum.currency:
            raise LandedError(f"The {what} of {charge} {_is(what)} charged in {charge.currency} and the item is "
                              f"priced in {maximum.currency}; the app does not convert, so your maximum cannot "
                              "include it.")
        bid = bid - charge
        taken.append(f"{charge} {what}")
    less = " and ".join(taken)
    if bid.minor <= 0:
        raise LandedError(f"Your maximum of {maximum} less {less} leaves nothing to bid.")
    if minimum_bid is not None and minimum_bid.currency == bid.currency and bid < minimum_bid:
        raise LandedError(f"Your maximum of {maximum} less {less} leaves {bid}, below the least bid eBay "
                          f"accepts ({minimum_bid}).")
    return BidAmount(bid, landed, f"Bids {bid}: your maximum of {maximum} includes {less}.")


def stored_bid_minor(max_minor: int, currency: str, *, includes_shipping: bool, shipping: Money | None,
                     import_charges: Money | None) -> int:
    """The bid for a stored snipe, in minor units: never more than the maximum, and when the maximum includes
    the charges, less every one of them in the listing's currency. A charge that can no longer be taken (it
    moved to another currency) is left in, so the bid can only err low, never above what the user allowed."""
    maximum = Money(max_minor, currency)
    if not includes_shipping:
        return max_minor
    try:
        amount = bid_for_maximum(maximum, includes_shipping=True, shipping=shipping, import_charges=import_charges)
        return amount.bid.minor
    except LandedError:
        bid = max_minor - sum(c.minor for c, _ in _charges(shipping, import_charges) if c.currency == currency)
        return max(bid, 1)
