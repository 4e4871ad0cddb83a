"""The Shopify adapter: OAuth install, webhook HMAC, normalisation, Admin GraphQL client.

`make_adapter(config)` builds the `PlatformAdapter` the core's registry hands out. Config keys:
SHOPIFY_API_KEY, SHOPIFY_API_SECRET, SHOPIFY_SCOPES, SHOPIFY_API_VERSION, APP_URL (and optionally
SHOPIFY_API_SECRET_PREVIOUS, SHOPIFY_RESELLER_TAGS, SHOPIFY_WEBHOOK_PATH).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import shopify

from adapters.base import AuthRevoked, ClientFactory, PlatformAdapter, UpkeepContext
from connector.domain.model import Platform, Shop

from . import storefront
from .client import ShopifyStoreClient
from .config import ShopifyConfig
from .graphql import GraphQLClient
from .install import SubscriptionReport, ensure_webhooks
from .normalise import COMPLIANCE_TOPICS, ShopifyNormaliser
from .proxy import ProxyRequest, verify_proxy
from .purchase_options import OPTION_SCOPES
from .verify import ShopifyWebhookVerifier
from .web import make_blueprint


def client_factory_for(config: ShopifyConfig) -> ClientFactory:
    def client_factory(shop: Shop, credentials: Mapping[str, Any]) -> ShopifyStoreClient:
        token = credentials.get("access_token")
        if not token:
            raise AuthRevoked(f"{shop.domain}: no Shopify access token stored")
        gql = GraphQLClient(shop.domain, str(token), config.api_version)
        granted = shopify.ApiAccess(str(credentials.get("scopes") or ""))
        missing = [s for s in OPTION_SCOPES if not granted.covers(shopify.ApiAccess(s))]
        return ShopifyStoreClient(shop.domain, gql, reseller_tags=config.reseller_tags, missing_scopes=missing)

    return client_factory


def upkeep_for(config: ShopifyConfig) -> Callable[[UpkeepContext], SubscriptionReport]:
    def upkeep(context: UpkeepContext) -> SubscriptionReport:
        """Before each reconciliation: put back webhook subscriptions Shopify dropped after failed
        deliveries (or that point at an old address). Raises AuthRevoked when the token is refused."""
        token = context.credentials.get("access_token")
        if not token:
            raise AuthRevoked(f"{context.shop.domain}: no Shopify access token stored")
        gql = GraphQLClient(context.shop.domain, str(token), config.api_version)
        report = ensure_webhooks(gql, context.webhook_url)
        storefront.ensure_definition(gql)  # shops installed before the theme app extension existed
        return report

    return upkeep


def make_adapter(config: Mapping[str, Any]) -> PlatformAdapter:
    settings = ShopifyConfig.from_mapping(config)
    return PlatformAdapter(
        platform=Platform.SHOPIFY,
        verifier=ShopifyWebhookVerifier(settings.api_secret or None, settings.previous_secrets),
        normaliser=ShopifyNormaliser(settings.reseller_tags),
        client_factory=client_factory_for(settings),
        blueprint=make_blueprint(settings),
        upkeep=upkeep_for(settings),
        proxy_verifier=proxy_verifier_for(settings),
        privacy_topics=COMPLIANCE_TOPICS,
    )


def proxy_verifier_for(config: ShopifyConfig) -> Callable[[Sequence[tuple[str, str]], float], ProxyRequest]:
    secrets = tuple(s for s in (config.api_secret, *config.previous_secrets) if s)

    def verify(pairs: Sequence[tuple[str, str]], now: float) -> ProxyRequest:
        return verify_proxy(pairs, secrets, now)

    return verify


__all__ = ["ShopifyConfig", "ShopifyStoreClient", "make_adapter"]
