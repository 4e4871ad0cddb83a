"""WooCommerce orders -> `Order` and order events.

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

  A pending order (awaiting payment) has not reduced stock yet: it is stored with
  ``reserves_stock=False`` and claims no stock until it is paid or put on hold.
  A failed order is marked cancelled (it holds no stock) but gets no `OrderCancelled`: the
  shopper may still pay it. WooCommerce has no
  partial fulfilment, so a completed order's lines are fully fulfilled and others not at all.
  The unit price is what the shopper pays per unit, after discounts and with tax
  ((line ``total`` + ``total_tax``) / ``quantity``, to 4 places as stored): what refunding the
  unit gives back. WooCommerce keeps line totals before tax even in stores whose prices
  include tax.

Backorders are decided from stock, never from the per-line "Backordered" meta: WooCommerce
writes it only when the product's backorders setting is "notify", under a label translated
into the store's language. Line meta is not read at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from adapters.base import NormalisationError
from adapters.woocommerce import meta
from adapters.woocommerce.values import ident, meta_text, money, parse_gmt, product_key, text, whole
from connector.domain.model import Customer, Event, Order, OrderCancelled, OrderLine, OrderUpserted, PaymentStatus

TERMINAL_STATUSES = frozenset({"cancelled", "refunded", "trash"})
CANCELLED_STATUSES = TERMINAL_STATUSES | {"failed"}
IGNORED_STATUSES = frozenset({"checkout-draft"})
# WooCommerce takes an order's units off stock when it is paid or put on hold, not while it awaits payment.
AWAITING_PAYMENT = frozenset({"pending"})
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
            meta_text(md, "_stripe_charge_captured") == "no"
            or meta_text(md, "_intention_status") == "requires_capture"
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
        value = meta_text(order.get("meta_data"), key)
        if value and _LOCALE.match(value):
            parts = value.replace("_", "-").split("-")
            return "-".join([parts[0].lower(), *[p.upper() if len(p) == 2 else p for p in parts[1:]]])
    return None


def _customer(order: Mapping[str, Any], options: NormaliseOptions) -> Customer:
    billing = order.get("billing") if isinstance(order.get("billing"), dict) else {}
    name = " ".join(p for p in (text(billing.get("first_name")), text(billing.get("last_name"))) if p)
    customer_id = order.get("customer_id") or 0
    return Customer(
        email=(billing.get("email") or "").strip() or None,
        name=name or text(billing.get("company")) or None,
        locale=customer_locale(order, options),
        is_reseller=is_reseller(order, options),
        external_id=str(customer_id) if customer_id else None,
    )


UNIT_PRICE_PLACES = Decimal("0.0001")


def _unit_price(item: Mapping[str, Any], quantity: int) -> Decimal:
    paid = money(item.get("total")) + money(item.get("total_tax"))
    return (paid / max(quantity, 1)).quantize(UNIT_PRICE_PLACES, rounding=ROUND_HALF_UP)


def _line(item: Mapping[str, Any], completed: bool) -> OrderLine:
    line_id = ident(item["id"])
    product_id = ident(item.get("product_id") or 0)
    variation_id = ident(item.get("variation_id") or 0)
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
        title=text(item.get("name")) or sku,
        quantity=quantity,
        unit_price=_unit_price(item, quantity),
        product_id=str(product_id) if product_id else None,
        variant_id=str(variation_id) if variation_id else None,
        fulfilled_quantity=quantity if completed else 0,
    )


def order_from_payload(shop: str, order: Mapping[str, Any], options: NormaliseOptions) -> Order:
    """One REST v3 order resource -> `Order`. Raises ValueError/KeyError/TypeError on bad data."""
    order_id = ident(order["id"])
    status = order.get("status")
    if not isinstance(status, str) or not status:
        raise ValueError("no status")
    items = order.get("line_items")
    if items is None:
        # An empty list is an order whose lines were all removed; a missing one is an incomplete body.
        raise ValueError(
            "the payload lacks its line_items; it is not read as an order without lines "
            "(reconciliation reads the order from the store)"
        )
    if not isinstance(items, list):
        raise ValueError("line_items is not a list")
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
        reserves_stock=status not in AWAITING_PAYMENT,
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
