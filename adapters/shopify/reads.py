"""Admin GraphQL nodes -> common model (for reconciliation reads). Shares the REST mapping's rules."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any

from adapters.base import NormalisationError
from connector.domain.model import Customer, Order, OrderLine, PaymentStatus, StockLevel, Variant

from .ids import legacy_id
from .mapping import (
    DEFAULT_RESELLER_TAGS,
    deferred_terms,
    https_url,
    is_reseller,
    line_sku,
    money,
    optional_timestamp,
    payment_status,
    person_name,
    quantity,
    sells_when_out_of_stock,
    split_tags,
    timestamp,
    unit_paid,
    variant_title,
)


def line_from_graphql(node: Mapping[str, Any], taxes_included: bool = False) -> OrderLine:
    line_id = legacy_id(node["id"])
    what = f"order line {line_id}"
    variant_id = legacy_id((node.get("variant") or {}).get("id"))
    now = quantity(node.get("currentQuantity", node.get("quantity")), what)
    unfulfilled = quantity(node.get("unfulfilledQuantity", now), what)
    ordered = quantity(node.get("quantity", now), what)
    price = money(_presentment(node.get("originalUnitPriceSet")), what)
    discounts = sum((money(_presentment(d.get("allocatedAmountSet")), f"{what} discount")
                     for d in node.get("discountAllocations") or ()), Decimal(0))
    tax = Decimal(0) if taxes_included else sum(
        (money(_presentment(t.get("priceSet")), f"{what} tax") for t in node.get("taxLines") or ()), Decimal(0))
    return OrderLine(
        external_id=str(line_id),
        sku=line_sku(node.get("sku"), variant_id, line_id),
        title=str(node.get("name") or ""),
        quantity=now,
        unit_price=unit_paid(price, ordered, discounts, tax),
        product_id=legacy_id((node.get("product") or {}).get("id")),
        variant_id=variant_id,
        fulfilled_quantity=max(now - unfulfilled, 0),
        requires_shipping=bool(node.get("requiresShipping", True)) and not node.get("isGiftCard", False),
    )


def _presentment(money_bag: Mapping[str, Any] | None) -> Any:
    return ((money_bag or {}).get("presentmentMoney") or {}).get("amount")


def order_from_graphql(
    shop: str, node: Mapping[str, Any], line_nodes: list[Mapping[str, Any]],
    reseller_tags: Collection[str] = DEFAULT_RESELLER_TAGS,
) -> Order:
    order_id = legacy_id(node.get("id"))
    if not order_id:
        raise NormalisationError("order without id")
    customer = node.get("customer") or {}
    entity = node.get("purchasingEntity") or {}
    tags = split_tags(customer.get("tags"))
    created = timestamp(node.get("createdAt"), f"order {order_id} createdAt")
    status = payment_status(node.get("displayFinancialStatus"))
    total = ((node.get("totalPriceSet") or {}).get("presentmentMoney") or {}).get("amount")  # original, as REST
    return Order(
        shop=shop,
        external_id=order_id,
        name=str(node.get("name") or order_id),
        customer=Customer(
            email=node.get("email") or None,
            name=person_name(customer.get("firstName"), customer.get("lastName")),
            locale=node.get("customerLocale") or customer.get("locale") or None,
            is_reseller=is_reseller(entity.get("__typename") == "PurchasingCompany", tags, reseller_tags),
            external_id=legacy_id(customer.get("id")),
        ),
        currency=str(node.get("presentmentCurrencyCode") or node.get("currencyCode")),
        created_at=created,
        updated_at=optional_timestamp(node.get("updatedAt"), f"order {order_id} updatedAt") or created,
        payment_status=status,
        lines=tuple(line_from_graphql(n, bool(node.get("taxesIncluded"))) for n in line_nodes),
        cancelled=bool(node.get("cancelledAt")),
        tags=split_tags(node.get("tags")),
        total=money(total, f"order {order_id} total") if total is not None else None,
        authorized_at=(
            optional_timestamp(node.get("processedAt"), f"order {order_id} processedAt") or created
            if status is PaymentStatus.AUTHORIZED else None
        ),
        deferred_payment=deferred_terms(
            (node.get("paymentTerms") or {}).get("paymentTermsType") if isinstance(node.get("paymentTerms"), dict)
            else None),
        payment_url=https_url(node.get("statusPageUrl")),
    )


def stock_level_from_graphql(shop: str, location_id: str, level: Mapping[str, Any]) -> StockLevel | None:
    """One inventory level at a location; None for untracked items (no stock to count)."""
    item = level.get("item") or {}
    if not item.get("tracked", True):
        return None
    available = next((q["quantity"] for q in level.get("quantities") or () if q.get("name") == "available"), None)
    if available is None:
        return None
    item_ref = legacy_id(item["id"])
    variant_id = legacy_id((item.get("variant") or {}).get("id"))
    return StockLevel(
        shop=shop,
        sku=line_sku(item.get("sku"), variant_id, None) if (item.get("sku") or variant_id) else "",
        location=location_id,
        available=int(available),
        item_ref=item_ref,
        updated_at=optional_timestamp(level.get("updatedAt"), f"inventory item {item_ref}"),
    )


def variant_from_graphql(shop: str, node: Mapping[str, Any]) -> Variant:
    variant_id = legacy_id(node["id"])
    what = f"variant {variant_id}"
    product = node.get("product") or {}
    handle = product.get("handle")
    return Variant(
        shop=shop,
        sku=line_sku(node.get("sku"), variant_id, None),
        title=variant_title(product.get("title"), node.get("title")),
        price=money(node.get("price"), what),
        sells_when_out_of_stock=sells_when_out_of_stock(node.get("inventoryPolicy"), what),
        product_id=legacy_id(product.get("id")),
        variant_id=variant_id,
        item_ref=legacy_id((node.get("inventoryItem") or {}).get("id")),
        product_url=f"https://{shop}/products/{handle}?variant={variant_id}" if handle else None,
        updated_at=optional_timestamp(node.get("updatedAt"), what),
    )
