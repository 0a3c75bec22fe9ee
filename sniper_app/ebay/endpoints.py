"""Where eBay lives: the base URLs of each environment, scopes and marketplace site ids."""

from __future__ import annotations

from dataclasses import dataclass

from sniper_app.domain.errors import InputError

ENVIRONMENTS = ("production", "sandbox", "simulator", "custom")

SCOPE_API = "https://api.ebay.com/oauth/api_scope"
SCOPE_BID = "https://api.ebay.com/oauth/api_scope/buy.offer.auction"
SCOPE_IDENTITY = "https://api.ebay.com/oauth/api_scope/commerce.identity.readonly"
USER_SCOPES: tuple[str, ...] = (SCOPE_API, SCOPE_BID, SCOPE_IDENTITY)
APP_SCOPES: tuple[str, ...] = (SCOPE_API,)

# Trading API X-EBAY-API-SITEID per Buy Offer marketplace.
SITE_IDS: dict[str, int] = {
    "EBAY_US": 0,
    "EBAY_GB": 3,
    "EBAY_DE": 77,
    "EBAY_AU": 15,
    "EBAY_CA": 2,
    "EBAY_FR": 71,
    "EBAY_IT": 101,
    "EBAY_ES": 186,
}

TRADING_COMPATIBILITY_LEVEL = "1355"

OFFER_BASE = "/buy/offer/v1_beta"
BROWSE_BASE = "/buy/browse/v1"
IDENTITY_USER_PATH = "/commerce/identity/v1/user/"
TOKEN_PATH = "/identity/v1/oauth2/token"  # noqa: S105 - a URL path
AUTHORIZE_PATH = "/oauth2/authorize"


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Base URLs (no trailing slash): consent host, REST host, Trading URL, Identity host."""

    environment: str
    auth_url: str
    api_url: str
    trading_url: str
    identity_url: str

    @property
    def authorize_url(self) -> str:
        return self.auth_url + AUTHORIZE_PATH

    @property
    def token_url(self) -> str:
        return self.api_url + TOKEN_PATH

    @classmethod
    def for_environment(
        cls,
        env: str,
        *,
        api_url: str | None = None,
        auth_url: str | None = None,
        trading_url: str | None = None,
    ) -> Endpoints:
        env = env.strip().lower()
        if env == "production":
            return cls(
                env,
                auth_url=_clean(auth_url) or "https://auth.ebay.com",
                api_url=_clean(api_url) or "https://api.ebay.com",
                trading_url=_clean(trading_url) or "https://api.ebay.com/ws/api.dll",
                identity_url=_clean(api_url) or "https://apiz.ebay.com",
            )
        if env == "sandbox":
            return cls(
                env,
                auth_url=_clean(auth_url) or "https://auth.sandbox.ebay.com",
                api_url=_clean(api_url) or "https://api.sandbox.ebay.com",
                trading_url=_clean(trading_url) or "https://api.sandbox.ebay.com/ws/api.dll",
                identity_url=_clean(api_url) or "https://apiz.sandbox.ebay.com",
            )
        if env in ("simulator", "custom"):
            missing = [
                name
                for name, value in (
                    ("ebay_api_url (SNIPER_EBAY_API_URL)", api_url),
                    ("ebay_auth_url (SNIPER_EBAY_AUTH_URL)", auth_url),
                    ("ebay_trading_url (SNIPER_EBAY_TRADING_URL)", trading_url),
                )
                if not _clean(value)
            ]
            if missing:
                raise InputError(
                    f"The eBay environment '{env}' needs explicit addresses; set {', '.join(missing)}."
                )
            api = _clean(api_url)
            assert api is not None
            return cls(env, auth_url=_clean(auth_url) or "", api_url=api, trading_url=_clean(trading_url) or "",
                       identity_url=api)
        raise InputError(f"Unknown eBay environment '{env}'; use one of {', '.join(ENVIRONMENTS)}.")


def _clean(url: str | None) -> str | None:
    if url is None:
        return None
    url = url.strip().rstrip("/")
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise InputError(f"'{url}' is not an http:// or https:// address.")
    return url


def site_id(marketplace: str) -> int:
    try:
        return SITE_IDS[marketplace]
    except KeyError:
        raise InputError(
            f"Marketplace '{marketplace}' is not supported; use one of {', '.join(SITE_IDS)}."
        ) from None
