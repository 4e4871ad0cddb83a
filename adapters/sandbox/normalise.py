"""Sandbox payloads -> common-model events."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.base import Delivery, NormalisationError
from connector.domain.model import (
    Customer,
    Event,
    Order,
    OrderCancelled,
    OrderLine,
    OrderUpserted,
    PaymentStatus,
    StockChanged,
    StockLevel,
    Variant,
    VariantChanged,
)


def _time(value: str, field: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise NormalisationError(f"{field} is not an ISO time: {value!r}") from None
    if parsed.tzinfo is None:
        raise NormalisationError(f"{field} has no time zone: {value!r}")
    return parsed


def _money(value: Any, field: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise NormalisationError(f"{field} is not an amount: {value!r}") from None


def _order(shop: str, data: dict[str, Any]) -> Order:
    customer = data.get("customer") or {}
    lines = []
    items = data.get("line_items")
    if not isinstance(items, list):
        raise NormalisationError(
            f"order {data.get('id')!s:.64}: the payload lacks its 'line_items' list; it is not read as an order "
            "without lines"
        )
    for li in items:
        if not isinstance(li, dict):
            raise NormalisationError("a line item is not an object")
        quantity = int(li["quantity"])
        if quantity < 0:
            raise NormalisationError(f"line {li['id']} has a negative quantity")
        lines.append(
            OrderLine(
                external_id=str(li["id"]),
                sku=str(li["sku"]),
                title=str(li.get("title", "")),
                quantity=quantity,
                unit_price=_money(li["price"], "price"),
                fulfilled_quantity=int(li.get("fulfilled_quantity", 0)),
                requires_shipping=bool(li.get("requires_shipping", True)),
            )
        )
    return Order(
        shop=shop,
        external_id=str(data["id"]),
        name=str(data.get("name") or data["id"]),
        customer=Customer(
            email=customer.get("email"),
            name=customer.get("name"),
            locale=customer.get("locale"),
            is_reseller=bool(customer.get("reseller")),
            external_id=customer.get("id"),
        ),
        currency=data["currency"],
        created_at=_time(data["created_at"], "created_at"),
        updated_at=_time(data["updated_at"], "updated_at"),
        payment_status=PaymentStatus(data["financial_status"]),
        lines=tuple(lines),
        cancelled=bool(data.get("cancelled_at")),
        tags=tuple(data.get("tags", ())),
        total=_money(data["total"], "total") if data.get("total") is not None else None,
    )


class SandboxNormaliser:
    def normalise(self, delivery: Delivery) -> list[Event]:
        try:
            data = json.loads(delivery.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise NormalisationError(f"body is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise NormalisationError("body is not a JSON object")
        try:
            return self._events(delivery, data)
        except KeyError as exc:
            raise NormalisationError(f"{delivery.topic} payload has no {exc.args[0]!r}") from None

    def _events(self, delivery: Delivery, data: dict[str, Any]) -> list[Event]:
        shop = delivery.shop
        match delivery.topic:
            case "orders/create" | "orders/updated":
                return [OrderUpserted(_order(shop, data))]
            case "orders/cancelled":
                order = _order(shop, data)
                return [OrderUpserted(order), OrderCancelled(shop, order.external_id, order.updated_at)]
            case "inventory/update":
                level = StockLevel(
                    shop=shop,
                    sku=str(data["sku"]),
                    location=str(data["location"]),
                    available=int(data["available"]),
                    updated_at=_time(data["updated_at"], "updated_at"),
                )
                return [StockChanged((level,))]
            case "products/update":
                variant = Variant(
                    shop=shop,
                    sku=str(data["sku"]),
                    title=str(data["title"]),
                    price=_money(data["price"], "price"),
                    sells_when_out_of_stock=bool(data["sells_when_out_of_stock"]),
                    lead_time_days=data.get("lead_time_days"),
                    product_url=data.get("url"),
                    updated_at=_time(data["updated_at"], "updated_at"),
                )
                return [VariantChanged((variant,))]
            case _:
                raise NormalisationError(f"unknown topic {delivery.topic!r}")
