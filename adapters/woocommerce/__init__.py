"""The WooCommerce adapter: wc-auth connect, webhook signature and ping, normalise, REST v3 client.

Credentials (decrypted, as the core hands them to the client factory):
``{"url": "https://shop.example.com", "consumer_key": "ck_…", "consumer_secret": "cs_…"}``.

Configuration read by `make_adapter` (all optional):
``WOO_RESELLER_ROLES`` / ``WOO_RESELLER_META_KEYS`` / ``WOO_LOCALE_META_KEYS`` (lists or
comma-separated), ``WOO_TIMEOUT`` (seconds per request, 20), ``WOO_ATTEMPTS`` (4),
``WOO_REFUND_VIA_GATEWAY`` (true), ``WOO_QUERY_STRING_AUTH`` (false; for hosts that strip the
Authorization header).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.base import PlatformAdapter, StoreClient
from adapters.woocommerce.client import WooStoreClient
from adapters.woocommerce.normalise import NormaliseOptions, WooNormaliser
from adapters.woocommerce.rest import WooRest
from adapters.woocommerce.verify import WooWebhookVerifier
from connector.model import Platform, Shop

_TRUE = {"1", "true", "yes", "on"}


def _names(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    parts = value.split(",") if isinstance(value, str) else list(value)
    return tuple(p.strip() for p in parts if str(p).strip())


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    return value if isinstance(value, bool) else str(value).strip().lower() in _TRUE


def options_from_config(config: Mapping[str, Any]) -> NormaliseOptions:
    defaults = NormaliseOptions()
    roles = _names(config.get("WOO_RESELLER_ROLES"))
    return NormaliseOptions(
        reseller_roles=frozenset(roles) if roles is not None else defaults.reseller_roles,
        reseller_meta_keys=_names(config.get("WOO_RESELLER_META_KEYS")) or defaults.reseller_meta_keys,
        locale_meta_keys=_names(config.get("WOO_LOCALE_META_KEYS")) or defaults.locale_meta_keys,
    )


def rest_from_credentials(credentials: Mapping[str, Any], config: Mapping[str, Any]) -> WooRest:
    try:
        url, key, secret = credentials["url"], credentials["consumer_key"], credentials["consumer_secret"]
    except KeyError as exc:
        raise ValueError(f"WooCommerce credentials lack {exc}") from exc
    return WooRest(
        url,
        key,
        secret,
        timeout=float(config.get("WOO_TIMEOUT", 20)),
        attempts=int(config.get("WOO_ATTEMPTS", 4)),
        query_string_auth=_flag(config.get("WOO_QUERY_STRING_AUTH"), False),
    )


def make_adapter(config: Mapping[str, Any]) -> PlatformAdapter:
    options = options_from_config(config)
    refund_via_gateway = _flag(config.get("WOO_REFUND_VIA_GATEWAY"), True)

    def client_factory(shop: Shop, credentials: Mapping[str, Any]) -> StoreClient:
        return WooStoreClient(
            shop.domain,
            rest_from_credentials(credentials, config),
            options=options,
            refund_via_gateway=refund_via_gateway,
        )

    return PlatformAdapter(
        platform=Platform.WOOCOMMERCE,
        verifier=WooWebhookVerifier(),
        normaliser=WooNormaliser(options),
        client_factory=client_factory,
    )
