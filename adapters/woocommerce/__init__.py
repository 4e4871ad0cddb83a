"""The WooCommerce adapter: wc-auth connect, webhook signature and ping, normalise, REST v3 client.

Credentials (decrypted, as the core hands them to the client factory):
``{"url": "https://shop.example.com", "consumer_key": "ck_…", "consumer_secret": "cs_…"}``.

Configuration read by `make_adapter` (all optional):

- ``WOOCOMMERCE_RESELLER_ROLES`` / ``WOOCOMMERCE_RESELLER_META_KEYS`` / ``WOOCOMMERCE_LOCALE_META_KEYS``
  (lists or comma-separated);
- ``WOOCOMMERCE_TIMEOUT`` (seconds per request, 20), ``WOOCOMMERCE_ATTEMPTS`` (4),
  ``WOOCOMMERCE_MAX_WAIT`` (longest back-off between retries, seconds, 30);
- ``WOOCOMMERCE_REFUND_VIA_GATEWAY`` (true), ``WOOCOMMERCE_ETA_NOTE_TO_CUSTOMER`` (true);
- ``WOOCOMMERCE_QUERY_STRING_AUTH`` (false; for hosts that strip the Authorization header);
- ``ALLOW_PRIVATE_STORE_ADDRESSES`` (false; development only: let store addresses be loopback or
  private-network hosts — see `adapters.netguard`);
- ``WOOCOMMERCE_APP_NAME`` (shown to the merchant when approving) and ``APP_URL`` (the service's
  public https address: key callback and webhook delivery URLs are built from it).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from adapters.base import PlatformAdapter, StoreClient, UpkeepContext
from adapters.netguard import AddressPolicy
from adapters.woocommerce.client import WooStoreClient
from adapters.woocommerce.connect import WebhookReport, ensure_webhooks
from adapters.woocommerce.normalise import WooNormaliser
from adapters.woocommerce.orders import NormaliseOptions
from adapters.woocommerce.privacy_requests import TOPICS as PRIVACY_TOPICS
from adapters.woocommerce.privacy_requests import export_request
from adapters.woocommerce.rest import WooRest
from adapters.woocommerce.verify import WooWebhookVerifier
from adapters.woocommerce.web import DEFAULT_APP_NAME, make_blueprint
from connector.domain.model import Platform, Shop

log = logging.getLogger(__name__)

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
    roles = _names(config.get("WOOCOMMERCE_RESELLER_ROLES"))
    return NormaliseOptions(
        reseller_roles=frozenset(roles) if roles is not None else defaults.reseller_roles,
        reseller_meta_keys=_names(config.get("WOOCOMMERCE_RESELLER_META_KEYS")) or defaults.reseller_meta_keys,
        locale_meta_keys=_names(config.get("WOOCOMMERCE_LOCALE_META_KEYS")) or defaults.locale_meta_keys,
    )


def address_policy(config: Mapping[str, Any]) -> AddressPolicy:
    """Which store addresses may be called: public hosts only, unless development allows private ones."""
    return AddressPolicy(allow_private=_flag(config.get("ALLOW_PRIVATE_STORE_ADDRESSES"), False))


def rest_from_credentials(credentials: Mapping[str, Any], config: Mapping[str, Any]) -> WooRest:
    try:
        url, key, secret = credentials["url"], credentials["consumer_key"], credentials["consumer_secret"]
    except KeyError as exc:
        raise ValueError(f"WooCommerce credentials lack {exc}") from exc
    return WooRest(
        url,
        key,
        secret,
        timeout=float(config.get("WOOCOMMERCE_TIMEOUT", 20)),
        attempts=int(config.get("WOOCOMMERCE_ATTEMPTS", 4)),
        max_wait=float(config.get("WOOCOMMERCE_MAX_WAIT", 30)),
        query_string_auth=_flag(config.get("WOOCOMMERCE_QUERY_STRING_AUTH"), False),
        policy=address_policy(config),
    )


def make_adapter(config: Mapping[str, Any]) -> PlatformAdapter:
    options = options_from_config(config)
    refund_via_gateway = _flag(config.get("WOOCOMMERCE_REFUND_VIA_GATEWAY"), True)
    eta_note_to_customer = _flag(config.get("WOOCOMMERCE_ETA_NOTE_TO_CUSTOMER"), True)

    def client_factory(shop: Shop, credentials: Mapping[str, Any]) -> StoreClient:
        return WooStoreClient(
            shop.domain,
            rest_from_credentials(credentials, config),
            options=options,
            refund_via_gateway=refund_via_gateway,
            eta_note_to_customer=eta_note_to_customer,
        )

    def rest_factory(credentials: Mapping[str, Any]) -> WooRest:
        return rest_from_credentials(credentials, config)

    def upkeep(context: UpkeepContext) -> WebhookReport | None:
        """Re-create our webhooks the store disabled (WooCommerce does so after repeated failed deliveries)."""
        if not context.webhook_secret:
            log.warning("WooCommerce store %s has no webhook secret: re-connect it", context.shop.domain)
            return None
        report = ensure_webhooks(
            rest_factory(context.credentials),
            delivery_url=context.webhook_url,
            secret=context.webhook_secret.decode(),
            app_name=str(config.get("WOOCOMMERCE_APP_NAME") or DEFAULT_APP_NAME),
            connecting=False,
        )
        if report.changed or report.paused:
            log.warning("WooCommerce store %s webhooks repaired: %s", context.shop.domain, report)
        return report

    return PlatformAdapter(
        platform=Platform.WOOCOMMERCE,
        verifier=WooWebhookVerifier(),
        normaliser=WooNormaliser(options),
        client_factory=client_factory,
        blueprint=make_blueprint(config, rest_factory, address_policy(config)),
        upkeep=upkeep,
        privacy_topics=PRIVACY_TOPICS,
        export_request=export_request,
    )
