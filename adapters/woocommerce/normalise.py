"""WooCommerce REST v3 payloads -> common-model events.

A webhook body is the REST v3 resource *as it is when WooCommerce delivers it*, not as it was
when the event happened: several saves can arrive merged as one delivery, and an
``order.created`` may already show a later status. We therefore treat every payload as "the
current state of this resource" and never infer transitions from it.

Orders
  status -> (cancelled flag, extra events); payment status from status, ``date_paid`` and the
  gateway's authorisation markers:

  ==============  ======================================================  ==================
  status          payment status                                          events
  ==============  ======================================================  ==================
  pending         pending (awaiting payment)                              upsert
  on-hold         paid if ``date_paid``; authorized if the gateway left   upsert
                  an uncaptured charge (Stripe ``_stripe_charge_captured``
                  = no, WooPayments ``_intention_status`` =
                  requires_capture, or a ``transaction_id``); else
                  pending (bacs / cheque awaiting the money)
  processing      paid; pending for cash on delivery without ``date_paid``  upsert
  completed       paid                                                    upsert (fulfilled)
  cancelled       paid if ``date_paid`` (money still to return) else      upsert(cancelled),
                  voided                                                  OrderCancelled
  refunded        refunded                                                upsert(cancelled),
                                                                          OrderCancelled
  trash           as cancelled                                            as cancelled
  failed          voided                                                  upsert(cancelled)
  checkout-draft  (a cart, not an order)                                  none
  other (plugin)  paid if ``date_paid`` else pending                      upsert
  ==============  ======================================================  ==================

  A failed order is marked cancelled (it holds no stock) but gets no `OrderCancelled`: the
  shopper may still pay it, and the next delivery then brings it back. WooCommerce has no
  partial fulfilment, so a completed order's lines are fully fulfilled and others not at all.
  The unit price is what the shopper pays per unit after discounts, before tax
  (line ``total`` / ``quantity``).

Backorders are decided from stock, never from the per-line "Backordered" meta: WooCommerce
writes it only when the product's backorders setting is "notify", under a label translated
into the store's language. Line meta is not read at all.

SKUs: WooCommerce allows products without one; such lines and products are keyed
``wc-variation:<variation id>`` or ``wc-product:<product id>``, and a line whose product was
deleted ``wc-line:<line id>``.

Products
  ``manage_stock`` true -> a `StockLevel` at location "default" with ``stock_quantity``
  (negative when sold beyond stock on backorder). Unmanaged stock has no quantity, so no level
  is invented: only the `Variant` (``backorders`` notify/yes -> sells when out of stock).
  A variation whose stock is managed by its parent (``manage_stock`` = "parent") gets no level
  of its own; its parent's level is keyed by the parent. Variable products' payloads list only
  variation ids: the parent gives a level only when it manages stock; the variations arrive in
  their own ``product.updated`` deliveries or through the client's catalogue reads.
  Grouped and external products hold no stock and are ignored.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from adapters.base import Delivery, NormalisationError
from adapters.woocommerce import meta
from connector.model import (
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

LOCATION = "default"  # WooCommerce core keeps one stock figure per product

TERMINAL_STATUSES = frozenset({"cancelled", "refunded", "trash"})
CANCELLED_STATUSES = TERMINAL_STATUSES | {"failed"}
IGNORED_STATUSES = frozenset({"checkout-draft"})
CASH_ON_DELIVERY = "cod"

_FLAG_TRUE = frozenset({"1", "yes", "true", "on", "y"})
_LOCALE = re.compile(r"\A[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*\Z")


@dataclass(frozen=True, slots=True)
class NormaliseOptions:
    """How a store's conventions map onto the model; the defaults fit common plugins."""

    # Customer roles that make an order a reseller (B2B) order.
    reseller_roles: frozenset[str] = frozenset({"wholesale_customer", "reseller"})
    # Order meta holding the buyer's role (Wholesale Suite writes ``wwp_wholesale_role``) or a
    # yes/no reseller flag.
    reseller_meta_keys: tuple[str, ...] = ("wwp_wholesale_role", "customer_role", "_customer_role", "is_reseller")
    # Order meta holding the shopper's language (WPML, Polylang, TranslatePress, custom).
    locale_meta_keys: tuple[str, ...] = ("wpml_language", "pll_language", "trp_language", "customer_locale")


# ---- small parsers -----------------------------------------------------------------------


def parse_gmt(value: object) -> datetime | None:
    """A REST ``*_gmt`` field (naive, UTC) or an ISO time with offset -> aware UTC datetime."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(f"not a date-time: {value!r}")
    text = value.strip().replace("Z", "+00:00")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def money(value: object) -> Decimal:
    if value in (None, ""):
        return Decimal("0")
    if isinstance(value, bool):
        raise ValueError(f"not an amount: {value!r}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount


def whole(value: object, what: str) -> int:
    """An integer count; WooCommerce may send 3, "3" or 3.0."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{what} is not a number: {value!r}")
    if isinstance(value, int):
        return value
    number = money(value)
    if number != number.to_integral_value():
        raise ValueError(f"{what} is not a whole number: {value!r}")
    return int(number)


def _id(value: object) -> int:
    number = whole(value, "id")
    if number < 0:
        raise ValueError(f"negative id {value!r}")
    return number


def _text(value: object) -> str:
    return html.unescape(value).strip() if isinstance(value, str) else ""


def product_key(sku: object, product_id: int, variation_id: int = 0) -> str:
    """The stock key of a product or variation: its SKU, or a synthetic id-based key."""
    if isinstance(sku, str) and sku.strip():
        return sku.strip()
    if variation_id:
        return f"wc-variation:{variation_id}"
    if product_id:
        return f"wc-product:{product_id}"
    raise ValueError("no SKU and no product id")


def _meta_text(meta_data: object, key: str) -> str | None:
    value = meta.meta_value(meta_data, key)
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value).strip()
    return None


# ---- orders ------------------------------------------------------------------------------


def payment_status(order: Mapping[str, Any]) -> PaymentStatus:
    status = order.get("status")
    paid = bool(order.get("date_paid_gmt") or order.get("date_paid"))
    if status == "refunded":
        return PaymentStatus.REFUNDED
    if status == "failed":
        return PaymentStatus.VOIDED
    if status in ("cancelled", "trash"):
        return PaymentStatus.PAID if paid else PaymentStatus.VOIDED
    if status == "completed":
        return PaymentStatus.PAID
    if status == "processing":
        if not paid and order.get("payment_method") == CASH_ON_DELIVERY:
            return PaymentStatus.PENDING
        return PaymentStatus.PAID
    if status == "on-hold":
        if paid:
            return PaymentStatus.PAID
        md = order.get("meta_data")
        if (
            _meta_text(md, "_stripe_charge_captured") == "no"
            or _meta_text(md, "_intention_status") == "requires_capture"
            or (order.get("transaction_id") or "").strip()
        ):
            return PaymentStatus.AUTHORIZED
        return PaymentStatus.PENDING
    if status == "pending":
        return PaymentStatus.PENDING
    return PaymentStatus.PAID if paid else PaymentStatus.PENDING


def is_reseller(order: Mapping[str, Any], options: NormaliseOptions) -> bool:
    roles = {r.lower() for r in options.reseller_roles}
    candidates: list[object] = [meta.meta_value(order.get("meta_data"), key) for key in options.reseller_meta_keys]
    for value in candidates:
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, bool):
                if item:
                    return True
                continue
            if isinstance(item, str | int):
                text = str(item).strip().lower()
                if text in roles or text in _FLAG_TRUE:
                    return True
    return False


def customer_locale(order: Mapping[str, Any], options: NormaliseOptions) -> str | None:
    for key in options.locale_meta_keys:
        value = _meta_text(order.get("meta_data"), key)
        if value and _LOCALE.match(value):
            parts = value.replace("_", "-").split("-")
            return "-".join([parts[0].lower(), *[p.upper() if len(p) == 2 else p for p in parts[1:]]])
    return None


def _customer(order: Mapping[str, Any], options: NormaliseOptions) -> Customer:
    billing = order.get("billing") if isinstance(order.get("billing"), dict) else {}
    name = " ".join(p for p in (_text(billing.get("first_name")), _text(billing.get("last_name"))) if p)
    customer_id = order.get("customer_id") or 0
    return Customer(
        email=(billing.get("email") or "").strip() or None,
        name=name or _text(billing.get("company")) or None,
        locale=customer_locale(order, options),
        is_reseller=is_reseller(order, options),
        external_id=str(customer_id) if customer_id else None,
    )


def _unit_price(item: Mapping[str, Any], quantity: int) -> Decimal:
    total = money(item.get("total"))
    if quantity <= 0:
        return total
    places = max(-total.as_tuple().exponent, 2) if isinstance(total.as_tuple().exponent, int) else 2
    return (total / quantity).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _line(item: Mapping[str, Any], completed: bool) -> OrderLine:
    line_id = _id(item["id"])
    product_id = _id(item.get("product_id") or 0)
    variation_id = _id(item.get("variation_id") or 0)
    quantity = whole(item.get("quantity"), f"line {line_id} quantity")
    if quantity < 0:
        raise ValueError(f"line {line_id} has a negative quantity {quantity}")
    try:
        sku = product_key(item.get("sku"), product_id, variation_id)
    except ValueError:
        sku = f"wc-line:{line_id}"
    return OrderLine(
        external_id=str(line_id),
        sku=sku,
        title=_text(item.get("name")) or sku,
        quantity=quantity,
        unit_price=_unit_price(item, quantity),
        product_id=str(product_id) if product_id else None,
        variant_id=str(variation_id) if variation_id else None,
        fulfilled_quantity=quantity if completed else 0,
    )


def order_from_payload(shop: str, order: Mapping[str, Any], options: NormaliseOptions) -> Order:
    """One REST v3 order resource -> `Order`. Raises ValueError/KeyError/TypeError on bad data."""
    order_id = _id(order["id"])
    status = order.get("status")
    if not isinstance(status, str) or not status:
        raise ValueError("no status")
    items = order.get("line_items")
    if not isinstance(items, list):
        raise ValueError("no line_items list")
    created = parse_gmt(order.get("date_created_gmt")) or parse_gmt(order.get("date_created"))
    updated = parse_gmt(order.get("date_modified_gmt")) or parse_gmt(order.get("date_modified")) or created
    if created is None or updated is None:
        raise ValueError("no creation date")
    currency = (order.get("currency") or "").strip().upper()
    if not currency:
        raise ValueError("no currency")
    number = order.get("number") or order_id
    return Order(
        shop=shop,
        external_id=str(order_id),
        name=f"#{number}",
        customer=_customer(order, options),
        currency=currency,
        created_at=created,
        updated_at=updated,
        payment_status=payment_status(order),
        lines=tuple(_line(item, status == "completed") for item in items),
        cancelled=status in CANCELLED_STATUSES,
        tags=meta.split_tags(meta.meta_value(order.get("meta_data"), meta.TAGS)),
        total=money(order["total"]) if order.get("total") not in (None, "") else None,
    )


def order_events(shop: str, order: Mapping[str, Any], options: NormaliseOptions) -> list[Event]:
    if order.get("status") in IGNORED_STATUSES:
        return []
    normalised = order_from_payload(shop, order, options)
    events: list[Event] = [OrderUpserted(normalised)]
    if order.get("status") in TERMINAL_STATUSES:
        events.append(OrderCancelled(shop=shop, external_id=normalised.external_id, cancelled_at=normalised.updated_at))
    return events


# ---- products ----------------------------------------------------------------------------


def _variation_title(parent: Mapping[str, Any] | None, variation: Mapping[str, Any]) -> str:
    name = _text(variation.get("name"))
    if name:
        return name
    base = _text(parent.get("name")) if parent else ""
    options = [
        _text(a.get("option")) for a in variation.get("attributes") or [] if isinstance(a, dict) and a.get("option")
    ]
    return " – ".join(p for p in (base, ", ".join(options)) if p) or f"Variation {variation.get('id')}"


def catalogue_records(
    shop: str, product: Mapping[str, Any], parent: Mapping[str, Any] | None = None
) -> tuple[list[Variant], list[StockLevel]]:
    """A product or variation resource -> its `Variant` and, when it manages stock, its `StockLevel`.

    `parent` is given for items of the ``/products/<id>/variations`` endpoint, which do not
    always say whose variations they are."""
    kind = product.get("type") or ("variation" if parent is not None else "simple")
    if kind in ("grouped", "external"):
        return [], []
    item_id = _id(product["id"])
    if kind == "variation":
        parent_id = _id((parent or {}).get("id") or product.get("parent_id") or 0)
        key = product_key(product.get("sku"), parent_id, item_id)
        product_id, variant_id = (str(parent_id) if parent_id else None), str(item_id)
        title = _variation_title(parent, product)
    else:
        key = product_key(product.get("sku"), item_id)
        product_id, variant_id = str(item_id), None
        title = _text(product.get("name")) or key
    updated = parse_gmt(product.get("date_modified_gmt")) or parse_gmt(product.get("date_modified"))
    backorders = product.get("backorders")
    sells = backorders in ("notify", "yes") or product.get("backorders_allowed") is True
    variants: list[Variant] = []
    if kind != "variable" or product.get("manage_stock") is True:
        variants.append(
            Variant(
                shop=shop,
                sku=key,
                title=title,
                price=money(product.get("price") or product.get("regular_price")),
                sells_when_out_of_stock=sells,
                product_id=product_id,
                variant_id=variant_id,
                product_url=product.get("permalink") or None,
                updated_at=updated,
            )
        )
    levels: list[StockLevel] = []
    if product.get("manage_stock") is True and product.get("stock_quantity") is not None:
        levels.append(
            StockLevel(
                shop=shop,
                sku=key,
                location=LOCATION,
                available=whole(product.get("stock_quantity"), f"product {item_id} stock_quantity"),
                updated_at=updated,
            )
        )
    return variants, levels


def product_events(shop: str, product: Mapping[str, Any]) -> list[Event]:
    variants, levels = catalogue_records(shop, product)
    events: list[Event] = []
    if variants:
        events.append(VariantChanged(tuple(variants)))
    if levels:
        events.append(StockChanged(tuple(levels)))
    return events


# ---- deliveries --------------------------------------------------------------------------


def _deleted_order(delivery: Delivery, payload: Mapping[str, Any]) -> list[Event]:
    when = parse_gmt(payload.get("date_modified_gmt")) or delivery.triggered_at or datetime.now(UTC)
    return [OrderCancelled(shop=delivery.shop, external_id=str(_id(payload["id"])), cancelled_at=when)]


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
        handled = self.ORDER_TOPICS | self.PRODUCT_TOPICS | {"order.deleted"}
        if topic not in handled:
            return []
        try:
            payload = json.loads(delivery.body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise NormalisationError(f"{topic}: the body is not JSON ({exc})") from exc
        if not isinstance(payload, dict):
            raise NormalisationError(f"{topic}: the body is not a JSON object")
        try:
            if topic == "order.deleted":
                return _deleted_order(delivery, payload)
            if topic in self.ORDER_TOPICS:
                return order_events(delivery.shop, payload, self.options)
            return product_events(delivery.shop, payload)
        except (KeyError, ValueError, TypeError, AttributeError, InvalidOperation) as exc:
            what = f"{topic.split('.')[0]} {payload.get('id', '?')}"
            detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            raise NormalisationError(f"{what}: cannot read the payload: {detail}") from exc


def orders_from_payloads(shop: str, payloads: Iterable[Mapping[str, Any]], options: NormaliseOptions) -> list[Order]:
    """REST order resources -> Orders (drafts skipped). Raises NormalisationError on bad data."""
    orders = []
    for payload in payloads:
        if payload.get("status") in IGNORED_STATUSES:
            continue
        try:
            orders.append(order_from_payload(shop, payload, options))
        except (KeyError, ValueError, TypeError, AttributeError, InvalidOperation) as exc:
            raise NormalisationError(f"order {payload.get('id', '?')}: cannot read the payload: {exc}") from exc
    return orders
