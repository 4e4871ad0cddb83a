"""Authenticated Shopify deliveries -> common-model events, by topic."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.base import Delivery, NormalisationError
from connector.domain.model import (
    AppUninstalled,
    CustomerDataRequested,
    CustomerRedactRequested,
    Event,
    OrderCancelled,
    OrderUpserted,
    ShopRedactRequested,
    StockChanged,
    StockLevel,
    VariantChanged,
)

from .ids import InvalidShopDomain, shop_domain
from .mapping import (
    DEFAULT_RESELLER_TAGS,
    ident,
    optional_timestamp,
    order_from_rest,
    required_id,
    stock_level_from_rest,
    variants_from_rest_product,
)
from .verify import TRIGGERED_AT_HEADER, header

ORDER_TOPICS = frozenset({
    "orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/fulfilled",
    "orders/partially_fulfilled",
})
PRODUCT_TOPICS = frozenset({"products/create", "products/update"})
INVENTORY_TOPICS = frozenset({"inventory_levels/update", "inventory_levels/connect"})
COMPLIANCE_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})

# The topics the service subscribes every shop to after install (compliance topics are declared
# in the app's configuration, Shopify does not let them be subscribed through the API).
SUBSCRIBED_TOPICS: tuple[str, ...] = (
    "orders/create", "orders/updated", "orders/cancelled", "orders/paid",
    "inventory_levels/update", "products/update", "app/uninstalled",
)


class ShopifyNormaliser:
    """Implements `adapters.base.Normaliser` for Shopify webhook topics.

    `reseller_tags`: customer tags that mark a reseller (B2B orders with a company always do)."""

    def __init__(self, reseller_tags: Collection[str] = DEFAULT_RESELLER_TAGS) -> None:
        self.reseller_tags = tuple(reseller_tags)
        self._handlers: Mapping[str, Callable[[Delivery, Mapping[str, Any]], list[Event]]] = {
            **{t: self._order for t in ORDER_TOPICS},
            **{t: self._product for t in PRODUCT_TOPICS},
            **{t: self._inventory for t in INVENTORY_TOPICS},
            "orders/delete": self._order_deleted,
            "app/uninstalled": self._uninstalled,
            "customers/data_request": self._data_request,
            "customers/redact": self._customer_redact,
            "shop/redact": self._shop_redact,
        }

    def normalise(self, delivery: Delivery) -> list[Event]:
        handler = self._handlers.get(delivery.topic)
        if handler is None:
            return []  # a topic the service does not act on
        try:
            body = json.loads(delivery.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise NormalisationError(f"{delivery.topic}: body is not JSON ({exc})") from None
        if not isinstance(body, dict):
            raise NormalisationError(f"{delivery.topic}: body is not a JSON object")
        try:
            return handler(delivery, body)
        except NormalisationError as exc:
            raise NormalisationError(f"{delivery.topic}: {exc}") from None
        except (AttributeError, TypeError) as exc:  # a field of an unexpected shape
            raise NormalisationError(f"{delivery.topic}: unexpected payload shape ({exc})") from None

    # ---- topics ---------------------------------------------------------------------------

    def _order(self, delivery: Delivery, body: Mapping[str, Any]) -> list[Event]:
        order = order_from_rest(delivery.shop, body, self.reseller_tags)
        events: list[Event] = [OrderUpserted(order)]
        cancelled_at = optional_timestamp(body.get("cancelled_at"), f"order {order.external_id} cancelled_at")
        if cancelled_at is not None:
            events.append(OrderCancelled(delivery.shop, order.external_id, cancelled_at))
        return events

    def _order_deleted(self, delivery: Delivery, body: Mapping[str, Any]) -> list[Event]:
        order_id = required_id(body.get("id"), "deleted order")
        when = delivery.triggered_at or optional_timestamp(
            header(delivery.headers, TRIGGERED_AT_HEADER), "X-Shopify-Triggered-At")
        return [OrderCancelled(delivery.shop, order_id, when or datetime.now(UTC))]

    def _product(self, delivery: Delivery, body: Mapping[str, Any]) -> list[Event]:
        variants = variants_from_rest_product(delivery.shop, body)
        return [VariantChanged(variants)] if variants else []

    def _inventory(self, delivery: Delivery, body: Mapping[str, Any]) -> list[Event]:
        level = stock_level_from_rest(delivery.shop, body)
        if level is None:
            return []
        return [StockChanged((_to_the_instant(level, delivery),))]

    def _uninstalled(self, delivery: Delivery, body: Mapping[str, Any]) -> list[Event]:
        return [AppUninstalled(delivery.shop)]

    def _data_request(self, delivery: Delivery, body: Mapping[str, Any]) -> list[Event]:
        customer = body.get("customer") or {}
        return [CustomerDataRequested(
            shop=self._body_shop(delivery, body),
            customer_email=customer.get("email") or None,
            customer_id=ident(customer.get("id")),
            order_ids=tuple(str(o) for o in body.get("orders_requested") or ()),
            request_id=ident((body.get("data_request") or {}).get("id")),
        )]

    def _customer_redact(self, delivery: Delivery, body: Mapping[str, Any]) -> list[Event]:
        customer = body.get("customer") or {}
        return [CustomerRedactRequested(
            shop=self._body_shop(delivery, body),
            customer_email=customer.get("email") or None,
            customer_id=ident(customer.get("id")),
            order_ids=tuple(str(o) for o in body.get("orders_to_redact") or ()),
        )]

    def _shop_redact(self, delivery: Delivery, body: Mapping[str, Any]) -> list[Event]:
        return [ShopRedactRequested(self._body_shop(delivery, body))]

    @staticmethod
    def _body_shop(delivery: Delivery, body: Mapping[str, Any]) -> str:
        """Compliance bodies name the shop too; it must be the one that signed the header."""
        named = body.get("shop_domain")
        if named is None:
            return delivery.shop
        try:
            domain = shop_domain(str(named))
        except InvalidShopDomain as exc:
            raise NormalisationError(str(exc)) from None
        if domain != delivery.shop:
            raise NormalisationError(f"body names shop {domain} but the delivery came from {delivery.shop}")
        return domain


def _to_the_instant(level: StockLevel, delivery: Delivery) -> StockLevel:
    """The level's time to the instant Shopify triggered the webhook, when that falls within the whole
    second `updated_at` names. In a sale several reports of one item share a second; the later one
    must win whatever order they arrive in (a newer level is never overwritten by an older one), and
    `X-Shopify-Triggered-At` carries the fraction of the second. A missing or unreadable header, or
    one outside that second, changes nothing."""
    if level.updated_at is None:
        return level
    try:
        triggered = delivery.triggered_at or optional_timestamp(
            header(delivery.headers, TRIGGERED_AT_HEADER), "X-Shopify-Triggered-At")
    except NormalisationError:
        return level
    if triggered is not None and level.updated_at <= triggered < level.updated_at + timedelta(seconds=1):
        return replace(level, updated_at=triggered)
    return level
