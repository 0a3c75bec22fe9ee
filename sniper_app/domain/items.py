"""eBay item references: what a user pastes (number, link, RESTful id) reduced to one exact identity."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from sniper_app.domain.errors import InputError

ITEM_REF_HELP = (
    "Expected an eBay item number (e.g. 123456789012), an item link (https://www.ebay.com/itm/…) "
    "or an id like v1|123456789012|0."
)

# eBay item numbers are 9 to 19 digits (12 in practice today).
_LEGACY_RE = re.compile(r"^[0-9]{9,19}$")
_VARIATION_RE = re.compile(r"^[0-9]{1,19}$")
_REST_RE = re.compile(r"^v1\|([0-9]{9,19})\|([0-9]{1,19})$")

# Registrable eBay domains; a host matches when it is one of these or a subdomain of one
# (www., m., cgi., benl./befr. on ebay.be ...). Anything else, lookalikes included, is refused.
EBAY_DOMAINS: frozenset[str] = frozenset(
    {
        "ebay.com",
        "ebay.co.uk",
        "ebay.de",
        "ebay.com.au",
        "ebay.fr",
        "ebay.ca",
        "ebay.it",
        "ebay.es",
        "ebay.at",
        "ebay.ch",
        "ebay.ie",
        "ebay.nl",
        "ebay.be",
        "ebay.pl",
        "ebay.com.hk",
        "ebay.com.sg",
        "ebay.com.my",
        "ebay.ph",
        "ebay.in",
    }
)

_ITM_PATH_RE = re.compile(r"^/itm/(?:[^/]+/)?([0-9]{9,19})/?$")
# Query keys that carry the item number on old-style and product pages
# (eBayISAPI.dll?ViewItem&item=…, /p/…?iid=…).
_ITEM_QUERY_KEYS = ("item", "iid", "itemid", "itm")


@dataclass(frozen=True, slots=True)
class ItemRef:
    """One eBay listing, and for a multi-variation listing one variation of it."""

    legacy_id: str
    variation_id: str = "0"

    def __post_init__(self) -> None:
        if not isinstance(self.legacy_id, str) or not _LEGACY_RE.match(self.legacy_id):
            raise InputError(ITEM_REF_HELP)
        if not isinstance(self.variation_id, str) or not _VARIATION_RE.match(self.variation_id):
            raise InputError(ITEM_REF_HELP)

    @property
    def rest_id(self) -> str:
        """The RESTful id the Browse and Offer APIs take: ``v1|<legacy>|<variation or 0>``."""
        return f"v1|{self.legacy_id}|{self.variation_id}"

    @property
    def url(self) -> str:
        return f"https://www.ebay.com/itm/{self.legacy_id}"

    def __str__(self) -> str:
        return self.legacy_id if self.variation_id == "0" else self.rest_id


def is_ebay_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host == domain or host.endswith("." + domain) for domain in EBAY_DOMAINS)


def parse_item_ref(text: str) -> ItemRef:
    """Turn a pasted item number, eBay item link or RESTful id into an :class:`ItemRef`."""
    if not isinstance(text, str):
        raise InputError(ITEM_REF_HELP)
    s = text.strip()
    if not s or len(s) > 2048:
        raise InputError(ITEM_REF_HELP)
    if _LEGACY_RE.match(s):
        return ItemRef(s)
    rest = _REST_RE.match(unquote(s)) if s.lower().startswith("v1") else None
    if rest is not None:
        return ItemRef(rest.group(1), str(int(rest.group(2))))
    ref = _from_url(s)
    if ref is None:
        raise InputError(ITEM_REF_HELP)
    return ref


def _from_url(s: str) -> ItemRef | None:
    if any(ch.isspace() for ch in s):
        return None
    if "://" not in s:
        s = "https://" + s
    try:
        parts = urlsplit(s)
        host = parts.hostname
        _ = parts.port  # a malformed port raises here
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host or parts.username or parts.password:
        return None
    if not is_ebay_host(host):
        return None

    query = {key.lower(): value for key, value in parse_qsl(parts.query, keep_blank_values=True)}
    variation = query.get("var", "0")
    if not _VARIATION_RE.match(variation):
        variation = "0"
    variation = str(int(variation))

    path_match = _ITM_PATH_RE.match(unquote(parts.path))
    if path_match is not None:
        return ItemRef(path_match.group(1), variation)
    for key in _ITEM_QUERY_KEYS:
        value = query.get(key)
        if value is not None and _LEGACY_RE.match(value):
            return ItemRef(value, variation)
    return None


# Trading's ListingType values of an auction; "FixedPriceItem" and "StoresFixedPrice" are bought outright.
AUCTION_LISTING_TYPES = frozenset({"Chinese", "Auction"})


def is_auction_listing(listing_type: str | None) -> bool:
    """Whether a watched listing can be sniped; an unknown type is not held against it (Browse decides)."""
    return listing_type is None or listing_type in AUCTION_LISTING_TYPES
