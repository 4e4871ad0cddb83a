"""Enqueue actions for one order, and what every email about an order carries.

Shared by the lifecycle (decisions on evaluation), the timers (promises and authorizations that
run out) and refunds (the customer's answer to an offer). Keys are namespaced by platform, shop
and order, so the same decision made twice enqueues nothing new. Also turns an order's rows into
the plain values the pure decisions (`connector.domain.backorder_decision`) take.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from connector.dispatch.outbox import Kind, enqueue
from connector.domain import backorder_decision as decision
from connector.domain.backorder_decision import email_locale as email_locale  # where callers have always found it
from connector.shops.shop_settings import ShopSettings
from connector.storage.tables import OrderRow, ShopRow

ZERO = Decimal(0)


# --- rows as the plain values pure decisions take -----------------------------------------------


def shop_values(shop: ShopRow) -> decision.Shop:
    return decision.Shop(shop.name, shop.domain, shop.timezone, shop.locale, shop.platform)


def settings_values(settings: ShopSettings) -> decision.Settings:
    return decision.Settings(**{f.name: getattr(settings, f.name) for f in fields(decision.Settings)})


def order_values(order: OrderRow) -> decision.Order:
    return decision.Order(
        order.external_id,
        order.name,
        order.currency,
        order.customer_email,
        order.customer_name,
        order.customer_locale,
        bool(order.is_reseller),
        bool(order.cancelled),
        order.ships_partial,
    )


def line_values(order: OrderRow) -> tuple[decision.Line, ...]:
    return tuple(
        decision.Line(
            li.id,
            li.external_id,
            li.sku,
            li.title,
            li.quantity,
            li.fulfilled_quantity or 0,
            li.unit_price,
            bool(li.requires_shipping),
        )
        for li in order.lines
    )


def payment_values(order: OrderRow) -> decision.Payment:
    return decision.Payment(
        order.payment_status,
        order.total_price,
        order.captured_amount or ZERO,
        order.refunded_amount or ZERO,
        order.authorized_at,
        bool(order.deferred_payment),
    )


def flag_values(order: OrderRow) -> decision.Flags:
    return decision.Flags(
        order.bo_generation or 0,
        bool(order.bo_tagged),
        bool(order.bo_held),
        order.bo_promised_on,
        order.bo_hold_signature,
        order.bo_promise_version or 0,
    )


class OrderActions:
    """Adds outbox actions for one order; counts how many were new."""

    def __init__(
        self, session: Session, shop: ShopRow, order: OrderRow, now: datetime, known_keys: set[str] | None = None
    ) -> None:
        """`known_keys`: see `outbox.enqueue` (`existing_keys` reads them for a batch of decisions)."""
        self.session, self.shop, self.order, self.now = session, shop, order, now
        self.known_keys = known_keys
        self.added = 0

    @staticmethod
    def full_key(shop: ShopRow, order: OrderRow, key: str) -> str:
        return f"{shop.platform}:{shop.domain}:order:{order.external_id}:{key}"

    def add(self, kind: Kind, key: str, payload: Mapping[str, Any], waits_for_store: bool = True) -> bool:
        full_key = self.full_key(self.shop, self.order, key)
        new = enqueue(
            self.session,
            shop_id=self.shop.id,
            order_id=self.order.id,
            kind=kind,
            key=full_key,
            payload={"order": self.order.external_id, **payload},
            now=self.now,
            known_keys=self.known_keys,
            waits_for_store=waits_for_store,
        )
        self.added += new
        return new

    def put(self, action: decision.Action) -> bool:
        """Enqueue a decided action; a new capture counts as captured from now on."""
        new = self.add(action.kind, action.key, action.payload, action.waits_for_store)
        if new and action.captures is not None:
            self.order.captured_amount = (self.order.captured_amount or ZERO) + action.captures
        return new


def email_payload(
    template: str,
    shop: ShopRow,
    order: OrderRow,
    settings: ShopSettings,
    lines: list[dict[str, Any]],
    **context: Any,
) -> dict[str, Any]:
    """Everything an email needs, frozen at decision time (the send may happen later)."""
    values = shop_values(shop), settings_values(settings), order_values(order)
    picture = decision.OrderPicture(
        values[0], values[1], values[2], line_values(order), payment=payment_values(order)
    )
    return decision.email_payload(template, *values, lines, **{**decision.charge_context(picture), **context})
