"""WooCommerce deliveries -> common-model events (orders in `orders`, products in `products`).

A webhook body is the REST v3 resource *as it is when WooCommerce delivers it*, not as it was
when the event happened: several saves can arrive merged as one delivery, and an
``order.created`` may already show a later status. We therefore treat every payload as "the
current state of this resource" and never infer transitions from it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import InvalidOperation
from typing import Any

from adapters.base import Delivery, NormalisationError
from adapters.woocommerce.orders import NormaliseOptions, order_events
from adapters.woocommerce.privacy_requests import TOPICS as PRIVACY_TOPICS
from adapters.woocommerce.privacy_requests import privacy_events
from adapters.woocommerce.products import product_events
from adapters.woocommerce.values import ident, parse_gmt
from connector.domain.model import Event, OrderCancelled


def _deleted_order(delivery: Delivery, payload: Mapping[str, Any]) -> list[Event]:
    when = parse_gmt(payload.get("date_modified_gmt")) or delivery.triggered_at or datetime.now(UTC)
    return [OrderCancelled(shop=delivery.shop, external_id=str(ident(payload["id"])), cancelled_at=when)]


class WooNormaliser:
    """`adapters.base.Normaliser` for WooCommerce deliveries."""

    ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.restored"})
    PRODUCT_TOPICS = frozenset({"product.created", "product.updated", "product.restored"})

    def __init__(self, options: NormaliseOptions | None = None) -> None:
        self.options = options or NormaliseOptions()

    def normalise(self, delivery: Delivery) -> list[Event]:
        topic = delivery.topic
        if not topic:
            raise NormalisationError("the delivery names no topic (no X-WC-Webhook-Topic header)")
        handled = self.ORDER_TOPICS | self.PRODUCT_TOPICS | PRIVACY_TOPICS | {"order.deleted"}
        if topic not in handled:
            return []
        try:
            payload = json.loads(delivery.body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise NormalisationError(f"{topic}: the body is not JSON ({exc})") from exc
        if not isinstance(payload, dict):
            raise NormalisationError(f"{topic}: the body is not a JSON object")
        try:
            if topic in PRIVACY_TOPICS:
                return privacy_events(delivery.shop, topic, payload)
            if topic == "order.deleted":
                return _deleted_order(delivery, payload)
            if topic in self.ORDER_TOPICS:
                return order_events(delivery.shop, payload, self.options)
            return product_events(delivery.shop, payload)
        except (KeyError, ValueError, TypeError, AttributeError, InvalidOperation) as exc:
            what = f"{topic.split('.')[0]} {payload.get('id', '?')}"
            detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            raise NormalisationError(f"{what}: cannot read the payload: {detail}") from exc
