"""The spending cap and the typo guard: money the user said they will not spend, checked before it is bid.

Pure: the caller hands in the cap, the wins (with their instants) and the snipes; ``now`` is an argument.
A cap is per currency and never converted: a snipe in a currency without a cap is not counted against any.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sniper_app.domain.errors import InputError
from sniper_app.domain.exposure import (
    ExposurePart,
    SnipeCost,
    added_by,
    exposure,
    exposure_parts,
    snipe_charges,
    snipe_cost,
    with_snipe,
)
from sniper_app.domain.money import CURRENCY_EXPONENTS, Money, MoneyError
from sniper_app.domain.status import SnipeStatus

DEFAULT_PERIOD_DAYS = 30
MIN_PERIOD_DAYS = 1
# A year and a day: longer than that a cap stops describing a budget anyone tracks.
MAX_PERIOD_DAYS = 366

# Separators between the amounts of a cap: a comma or semicolon next to a currency code, so the thousands
# comma of "1,000.00 USD" stays inside its amount.
_PART_SPLIT = re.compile(r"(?<=[A-Za-z])\s*[,;]\s*|\s*[,;]\s*(?=[A-Za-z])")
_CODE = re.compile(r"(?<![A-Za-z])[A-Za-z]{3}(?![A-Za-z])")
_EXAMPLE = "e.g. 300.00 USD, 250.00 GBP"
_LIKE = "300.00 USD, 250.00 GBP"


class SpendingCapError(InputError):
    """A spending cap or period that cannot be accepted; the message names the bad part."""


def parse_spending_cap(text: str) -> dict[str, Money]:
    """Read ``spending_cap`` ("300.00 USD", "300 usd, 250.00 GBP"); empty text is no cap at all."""
    if not isinstance(text, str):
        raise SpendingCapError(f"The spending cap must be text like {_LIKE}.")
    caps: dict[str, Money] = {}
    if not text.strip():
        return caps
    for part in (p.strip() for chunk in _PART_SPLIT.split(text.strip()) for p in _split_between_digits(chunk)):
        if not part:
            raise SpendingCapError(f"The spending cap {text.strip()!r} has an empty part; write it like {_LIKE}.")
        amount = _read_part(part)
        if amount.currency in caps:
            raise SpendingCapError(f"The spending cap names {amount.currency} twice; give one amount per currency.")
        caps[amount.currency] = amount
    return caps


def _codes(text: str) -> set[str]:
    return {c.upper() for c in _CODE.findall(text) if c.upper() in CURRENCY_EXPONENTS}


def _split_between_digits(chunk: str) -> list[str]:
    """Split "USD 300,250 GBP", where the comma between two amounts sits between digits, at the one comma
    that leaves a readable amount with one currency on its left, the last such one: "USD 1,000.00,250 GBP" is
    1,000 dollars and 250 pounds."""
    if len(_codes(chunk)) < 2:
        return [chunk]
    for i in reversed(range(len(chunk))):
        if chunk[i] in ",;" and len(_codes(chunk[:i])) == 1:
            try:
                Money.parse(chunk[:i])
            except MoneyError:
                continue
            return [chunk[:i], *_split_between_digits(chunk[i + 1 :])]
    return [chunk]


def _read_part(part: str) -> Money:
    codes = _CODE.findall(part)
    known = _codes(part)
    if not codes:
        raise SpendingCapError(f"Add a currency code to {part!r} in the spending cap, {_EXAMPLE}.")
    if not known:
        raise SpendingCapError(f"{codes[0]!r} in the spending cap is not a currency this app knows ({_EXAMPLE}).")
    if len(known) > 1:
        raise SpendingCapError(f"{part!r} in the spending cap names more than one currency; separate amounts with "
                               "commas.")
    try:
        return Money.parse(part)
    except MoneyError as err:
        reason = str(err).split(". ")[0].rstrip(".")
        if reason.startswith("Could not read"):
            message = f"{part!r} in the spending cap is not an amount; write it like 300.00 USD."
        else:
            message = f"{part!r} in the spending cap cannot be used: {reason[:1].lower()}{reason[1:]}."
        raise SpendingCapError(message) from None


def format_spending_cap(caps: Mapping[str, Money]) -> str:
    """The canonical text of a cap, which ``parse_spending_cap`` reads back to the same amounts."""
    return ", ".join(f"{m.to_decimal():f} {m.currency}" for _, m in sorted(caps.items()))


def validate_period_days(value: object = None) -> int:
    """``spending_period_days`` as whole days (None: the default of 30)."""
    if value is None:
        return DEFAULT_PERIOD_DAYS
    days: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        days = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        days = int(value.strip())
    if days is None or not MIN_PERIOD_DAYS <= days <= MAX_PERIOD_DAYS:
        raise SpendingCapError(
            f"The spending period must be a whole number of days from {MIN_PERIOD_DAYS} to {MAX_PERIOD_DAYS}, "
            f"not {value!r}."
        )
    return days


# --- the cap check ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Win:
    """A won auction: when it ended and what it cost in one currency (the final price with the shipping and
    import charges recorded; a charge in another currency is a Win of its own)."""

    ended_at: datetime  # aware UTC
    amount: Money


def wins_in_period(wins: Iterable[Win], *, now: datetime, period_days: int, since: datetime | None = None) \
        -> dict[str, Money]:
    """What was won in the ``period_days`` up to ``now`` (and not before ``since``), per currency."""
    start = now - timedelta(days=period_days)
    if since is not None and since > start:
        start = since
    totals: dict[str, int] = {}
    for win in wins:
        if start < win.ended_at <= now:
            totals[win.amount.currency] = totals.get(win.amount.currency, 0) + win.amount.minor
    return {c: Money(totals[c], c) for c in sorted(totals)}


@dataclass(frozen=True, slots=True)
class CapCheck:
    """The cap check's answer; ``sentence`` is for the user (empty when there is no cap to speak of)."""

    ok: bool
    sentence: str
    cap: Money | None = None  # the cap of the currency that decided (the refused one, or the snipe's)
    won: Money | None = None
    pending: Money | None = None
    room: Money | None = None  # cap − won − pending, never below zero
    needed: Money | None = None  # what the snipe adds
    uncapped: tuple[str, ...] = ()  # the snipe's currencies no cap covers
    pending_charges: Money | None = None  # the shipping and import charges inside ``pending``


def cap_sentence(cap: Money, period_days: int, won: Money, pending: Money, *,
                 pending_charges: Money | None = None) -> str:
    """The cap's numbers in words: "your spending cap of $300.00 for 30 days: $120.00 won and $150.00 pending
    including $12.50 shipping leave $30.00". Pending is the landed cost (maxima plus the shipping and import
    charges on top of them), and the sentence says how much of it is shipping when any is."""
    room = Money(max(cap.minor - won.minor - pending.minor, 0), cap.currency)
    days = "1 day" if period_days == 1 else f"{period_days} days"
    shipping = ""
    if pending_charges is not None and pending_charges.minor > 0 and pending_charges.currency == pending.currency:
        shipping = f" including {pending_charges} shipping"
    return f"your spending cap of {cap} for {days}: {won} won and {pending} pending{shipping} leave {room}"


def _needs(need: Money, candidate: SnipeCost) -> str:
    """What a snipe needs, with its shipping named when the whole landed cost is what it needs (a group member
    that only displaces a smaller one needs less than its own cost, and the split would not add up)."""
    charges = snipe_charges(candidate).get(need.currency, 0)
    if charges <= 0 or need.minor != snipe_cost(candidate)[need.currency]:
        return need.format()
    if need.currency != candidate.maximum.currency:
        return f"{need} of shipping charged in {need.currency}"
    return f"{need} ({candidate.maximum} + {Money(charges, need.currency)} shipping)"


def check_cap(caps: Mapping[str, Money], period_days: int, *, wins: Iterable[Win], snipes: Iterable[SnipeCost],
              candidate: SnipeCost, now: datetime) -> CapCheck:
    """Whether adding ``candidate`` (or editing the snipe of its id to it) keeps wins in the period plus the
    exposure within the cap, in every currency the candidate touches."""
    snipes = list(snipes)
    pending = exposure_parts(s for s in snipes if s.snipe_id != candidate.snipe_id)
    # An edit that does not raise the exposure passes even over the cap (one lowered since), so it can be made.
    current, after = exposure(snipes), exposure(with_snipe(snipes, candidate))
    raises = {c for c, m in after.items() if m.minor > _minor(current, c)}
    return _judge(caps, period_days, won=wins_in_period(wins, now=now, period_days=period_days), pending=pending,
                  needed=added_by(snipes, candidate), raises=raises, candidate=candidate, verb="This would pass")


@dataclass(frozen=True, slots=True)
class CapRow:
    """One currency of ``sniper-app exposure``: what is won in the period, pending, and the room under its cap."""

    currency: str
    won: Money
    pending: Money  # the exposure
    cap: Money | None  # None: no cap for this currency
    room: Money | None  # cap − won − pending, never below zero; None without a cap
    pending_charges: Money | None = None  # the shipping and import charges inside ``pending``


def cap_overview(caps: Mapping[str, Money], period_days: int, *, wins: Iterable[Win], snipes: Iterable[SnipeCost],
                 now: datetime) -> list[CapRow]:
    """Every currency with a cap, a win in the period or an active snipe, ordered by code."""
    won = wins_in_period(wins, now=now, period_days=period_days)
    pending = exposure_parts(snipes)
    rows = []
    for currency in sorted(set(caps) | set(won) | set(pending)):
        part = pending.get(currency, ExposurePart(Money(0, currency), Money(0, currency)))
        got, owed, cap = won.get(currency, Money(0, currency)), part.total, caps.get(currency)
        room = None if cap is None else Money(max(cap.minor - got.minor - owed.minor, 0), currency)
        rows.append(CapRow(currency, got, owed, cap, room, part.charges))
    return rows


# The statuses of a snipe whose bid is out: it cannot be taken back, so a firing snipe has to fit beside it.
_COMMITTED = frozenset({SnipeStatus.PLACING, SnipeStatus.PLACED})


def check_cap_at_fire(caps: Mapping[str, Money], period_days: int, *, wins: Iterable[Win],
                      snipes: Iterable[SnipeCost], firing: SnipeCost, now: datetime) -> CapCheck:
    """Whether ``firing`` may still bid: wins in the period, the bids already out and this one within the cap.

    Snipes not fired yet are left out on purpose: each meets this check at its own fire, so wins since a snipe
    was added (the case the check exists for) skip it rather than an earlier one that fits.
    """
    snipes = list(snipes)
    out = [s for s in snipes if s.status in _COMMITTED and s.snipe_id != firing.snipe_id]
    # WON members of a group still take up its wins.
    out += [s for s in snipes if s.status is SnipeStatus.WON and s.group_id is not None]
    return _judge(caps, period_days, won=wins_in_period(wins, now=now, period_days=period_days),
                  pending=exposure_parts(out), needed=added_by(out, firing), raises=None, candidate=firing,
                  verb="Skipped: this bid would pass")


def _judge(caps: Mapping[str, Money], period_days: int, *, won: Mapping[str, Money],
           pending: Mapping[str, ExposurePart],
           needed: Mapping[str, Money], raises: set[str] | None, candidate: SnipeCost, verb: str) -> CapCheck:
    currencies = sorted(snipe_cost(candidate))
    uncapped = tuple(c for c in currencies if c not in caps)
    note = ""
    if caps and uncapped:
        note = f" No spending cap is set for {' or '.join(uncapped)}, so this snipe is not counted against one."
    first: CapCheck | None = None
    for currency in currencies:
        cap = caps.get(currency)
        if cap is None:
            continue
        got = won.get(currency, Money(0, currency))
        part = pending.get(currency, ExposurePart(Money(0, currency), Money(0, currency)))
        owed, charges = part.total, part.charges
        need = needed.get(currency, Money(0, currency))
        room = Money(max(cap.minor - got.minor - owed.minor, 0), currency)
        numbers = cap_sentence(cap, period_days, got, owed, pending_charges=charges)
        needs = _needs(need, candidate)
        rising = raises is None or currency in raises
        if rising and need.minor > 0 and got.minor + owed.minor + need.minor > cap.minor:
            return CapCheck(False, f"{verb} {numbers}, and it needs {needs}.{note}", cap, got, owed, room, need,
                            uncapped, charges)
        if first is None:
            first = CapCheck(True, f"Within {numbers}; this snipe needs {needs}.{note}", cap, got, owed, room, need,
                             uncapped, charges)
    if first is not None:
        return first
    return CapCheck(True, note.strip(), uncapped=uncapped)


# --- the typo guard -----------------------------------------------------------------------------------------

TYPO_RATIO = 5
# Below these (about 20 US dollars, rounded to a plain figure in each currency) a maximum five times the price
# costs little and is usually meant: a 3.00 item is worth a 15.00 maximum. The typo that hurts ("4000" for
# "40.00") lands far above any of them. Plain figures rather than tracked rates: the floor only has to be small.
TYPO_FLOOR_MINOR: dict[str, int] = {
    "USD": 20_00, "GBP": 20_00, "EUR": 20_00, "CHF": 20_00, "AUD": 30_00, "CAD": 30_00, "NZD": 30_00,
    "SGD": 30_00, "ILS": 70_00, "PLN": 80_00, "MYR": 100_00, "HKD": 150_00, "CNY": 150_00, "DKK": 150_00,
    "SEK": 200_00, "NOK": 200_00, "MXN": 400_00, "CZK": 500_00, "TWD": 600_00, "PHP": 1_000_00,
    "INR": 1_500_00, "HUF": 7_000_00, "JPY": 3_000,
}


@dataclass(frozen=True, slots=True)
class TypoWarning:
    maximum: Money
    price: Money
    sentence: str


def typo_warning(maximum: Money, price: Money | None) -> TypoWarning | None:
    """A warning when ``maximum`` is more than 5 times the current ``price`` and above the currency's floor;
    None when it looks meant (or there is no price in the same currency to compare with)."""
    if price is None or price.currency != maximum.currency:
        return None
    if maximum.minor <= TYPO_FLOOR_MINOR[maximum.currency] or maximum.minor <= TYPO_RATIO * price.minor:
        return None
    return TypoWarning(maximum, price, f"Your maximum of {maximum} is more than {TYPO_RATIO} times the current "
                                       f"price of {price}; check it is the amount you meant.")


def _minor(totals: Mapping[str, Money], currency: str) -> int:
    found = totals.get(currency)
    return 0 if found is None else found.minor
