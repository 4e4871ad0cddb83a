"""The Shopify app's settings, read from the application's configuration mapping."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .graphql import DEFAULT_API_VERSION
from .mapping import DEFAULT_RESELLER_TAGS

# What the service does with each: orders (read, tag, note, metafields, capture, refund), customers
# (name, locale, reseller tags), products (read; and written: the selling limit switches a variant's
# inventory policy, and variants join and leave the "pay when it ships" selling plan group),
# inventory (stock, goods received) and locations, locales (the shop's language), fulfillment orders
# (hold and release the backordered lines); purchase options (the group itself), payment mandates
# (charge the balance to the customer's vaulted card) and payment terms (read which orders are
# deferred-payment orders). A shop installed with fewer scopes is sent through OAuth again (web.py)
# and asked on the dashboard.
DEFAULT_SCOPES: tuple[str, ...] = (
    "write_orders", "read_customers", "write_products", "write_inventory", "read_locations", "read_locales",
    "write_merchant_managed_fulfillment_orders", "write_third_party_fulfillment_orders",
    "write_purchase_options", "write_payment_mandate", "read_payment_terms",
    "write_app_proxy",  # the storefront through the shop's domain (/apps/backorders)
)


def _list(value: Any, default: tuple[str, ...]) -> tuple[str, ...]:
    if value is None or value == "":
        return default
    items = value.split(",") if isinstance(value, str) else value
    return tuple(s for s in (str(i).strip() for i in items) if s)


@dataclass(frozen=True)
class ShopifyConfig:
    api_key: str
    api_secret: str
    app_url: str  # public https base URL of the service, e.g. "https://backorders.example.com"
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    api_version: str = DEFAULT_API_VERSION
    previous_secrets: tuple[str, ...] = ()
    reseller_tags: tuple[str, ...] = DEFAULT_RESELLER_TAGS
    webhook_path: str = "/webhooks/shopify"
    callback_path: str = "/shopify/callback"

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> ShopifyConfig:
        return cls(
            api_key=str(config.get("SHOPIFY_API_KEY") or ""),
            api_secret=str(config.get("SHOPIFY_API_SECRET") or ""),
            app_url=str(config.get("APP_URL") or "").rstrip("/"),
            scopes=_list(config.get("SHOPIFY_SCOPES"), DEFAULT_SCOPES),
            api_version=str(config.get("SHOPIFY_API_VERSION") or DEFAULT_API_VERSION),
            previous_secrets=_list(config.get("SHOPIFY_API_SECRET_PREVIOUS"), ()),
            reseller_tags=_list(config.get("SHOPIFY_RESELLER_TAGS"), DEFAULT_RESELLER_TAGS),
            webhook_path=str(config.get("SHOPIFY_WEBHOOK_PATH") or "/webhooks/shopify"),
        )

    @property
    def redirect_uri(self) -> str:
        return self.app_url + self.callback_path

    @property
    def webhook_url(self) -> str:
        return self.app_url + self.webhook_path
