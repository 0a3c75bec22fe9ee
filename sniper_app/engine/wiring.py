"""Builds the eBay client from the settings: the one place that turns configuration into a connection."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from sniper_app.config import Settings
from sniper_app.domain.errors import InputError
from sniper_app.ebay import EbayClient, Endpoints, SecretStore, Timing


class NotConfigured(InputError):
    """The eBay application keys are missing: nothing can talk to eBay until they are set."""


def endpoints_for(settings: Settings) -> Endpoints:
    return Endpoints.for_environment(
        settings.ebay_env,
        api_url=settings.ebay_api_url,
        auth_url=settings.ebay_auth_url,
        trading_url=settings.ebay_trading_url,
    )


def build_client(
    settings: Settings,
    *,
    account: str | None = None,
    secrets: SecretStore | None = None,
    http: httpx.AsyncClient | None = None,
    on_timing: Callable[[str, Timing], None] | None = None,
) -> EbayClient:
    """An :class:`EbayClient` for the configured environment and marketplace, acting for ``account``."""
    if not settings.ebay_client_id or not settings.ebay_runame:
        raise NotConfigured(
            "No eBay application keys are set. Set them with 'sniper-app config set ebay_client_id …' and "
            "'sniper-app config set ebay_runame …' (see the README), or try the app with 'sniper-app --demo'."
        )
    endpoints = endpoints_for(settings)
    return EbayClient(
        endpoints=endpoints,
        client_id=settings.ebay_client_id,
        runame=settings.ebay_runame,
        secrets=secrets or SecretStore(endpoints.environment),
        account=account,
        marketplace=settings.marketplace,
        http=http,
        on_timing=on_timing,
    )
