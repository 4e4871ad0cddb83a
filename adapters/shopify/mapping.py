"""Pure mapping from Shopify's shapes to the common model: REST webhook bodies here, and the
small helpers (money, times, payment status, synthetic SKUs, reseller detection) that the GraphQL
reads in `reads.py` share with them.

Ids in the model are Shopify's numeric ids as strings. Money is `Decimal`; an order's money is in
its presentment currency (what the customer paid in) whenever the payload carries it for every line,
so a capture or refund of that money is in the currency the payment was made in. A line's unit price
is what the shopper pays per unit after discounts and with tax (what refunding the unit gives back),
as for every platform.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from adapters.base import NormalisationError
from connector.domain.model import Customer, Order, OrderLine, PaymentStatus, StockLevel, Variant

DEFAULT_RESELLER_TAGS: tuple[str, ...] = ("reseller", "wholesale")
MISSING_LINES = "the payload lacks its line_items; it is not read as an order without lines (reconciliation reads \
the order from the store)"

_PAYMENT_STATUS: Mapping[str, PaymentStatus] = {
    "pending": PaymentStatus.PENDING,
    "authorized": PaymentStatus.AUTHORIZED,
    "partially_paid": PaymentStatus.PARTIALLY_PAID,
    "paid": PaymentStatus.PAID,
    "partially_refunded": PaymentStatus.PAID,  # money was collected; part of it went back
    "refunded": PaymentStatus.REFUNDED,
    "voided": PaymentStatus.VOIDED,
    "expired": PaymentStatus.VOIDED,  # the authorization lapsed: nothing can be captured
}

# Fulfillment statuses whose quantities have left (or are leaving) stock.
_COUNTED_FULFILLMENTS = {None, "pending", "open", "success"}


def payment_status(value: str | None) -> PaymentStatus:
    """Shopify's `financial_status` (REST) or `displayFinancialStatus` (GraphQL) as a `PaymentStatus`."""
    if value is None:
        return PaymentStatus.PENDING
    try:
        return _PAYMENT_STATUS[str(value).strip().lower()]
    except KeyError:
        raise NormalisationError(f"unknown Shopify financial status {value!r}") from None


def money(value: Any, what: str) -> Decimal:
    if value is None or isinstance(value, bool):
        raise NormalisationError(f"{what}: missing amount")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise NormalisationError(f"{what}: not an amount: {value!r}") from None
    if not amount.is_finite():
        raise NormalisationError(f"{what}: not an amount: {value!r}")
    return amount


def timestamp(value: Any, what: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise NormalisationError(f"{what}: missing time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise NormalisationError(f"{what}: not an ISO 8601 time: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def optional_timestamp(value: Any, what: str) -> datetime | None:
    return None if value in (None, "") else timestamp(value, what)


def quantity(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        else:
            raise NormalisationError(f"{what}: quantity is not a whole number: {value!r}")
    if value < 0:
        raise NormalisationError(f"{what}: negative quantity {value}")
    return value


def ident(value: Any) -> str | None:
    """A numeric id as the model's string, None when absent."""
    if value is None or value == "":
        return None
    return str(value)


def required_id(value: Any, what: str) -> str:
    text = ident(value)
    if text is None:
        raise NormalisationError(f"{what}: missing id")
    return text


def line_sku(sku: Any, variant_id: str | None, line_id: str | None) -> str:
    """The SKU, or a stable synthetic key when the merchant left it empty."""
    text = sku.strip() if isinstance(sku, str) else ""
    if text:
        return text
    if variant_id:
        return f"shopify-variant:{variant_id}"
    if line_id:
        return f"shopify-line:{line_id}"
    raise NormalisationError("a line with no SKU, no variant and no id")


def split_tags(value: Any) -> tuple[str, ...]:
    """REST sends tags as one comma-separated string, GraphQL as a list."""
    if value is None:
        return ()
    items: Iterable[Any] = value.split(",") if isinstance(value, str) else value
    return tuple(t for t in (str(item).strip() for item in items) if t)


def is_reseller(has_company: bool, customer_tags: Iterable[str], reseller_tags: Collection[str]) -> bool:
    """B2B orders (placed for a company) and customers tagged as resellers buy to resell."""
    if has_company:
        return True
    wanted = {t.strip().lower() for t in reseller_tags}
    return any(t.lower() in wanted for t in customer_tags)


def person_name(first: Any, last: Any) -> str | None:
    text = " ".join(str(p).strip() for p in (first, last) if p and str(p).strip())
    return text or None


# ---- REST webhook bodies -----------------------------------------------------------------


def _presentment_amount(item: Mapping[str, Any], key: str) -> Any:
    money_set = item.get(key)
    if isinstance(money_set, Mapping):
        presentment = money_set.get("presentment_money")
        if isinstance(presentment, Mapping):
            return presentment.get("amount")
    return None


def _refunded_quantities(order: Mapping[str, Any]) -> dict[str, int]:
    refunded: dict[str, int] = {}
    for refund in order.get("refunds") or ():
        for item in refund.get("refund_line_items") or ():
            line_id = ident(item.get("line_item_id"))
            if line_id is not None:
                refunded[line_id] = refunded.get(line_id, 0) + quantity(item.get("quantity", 0), "refund line")
    return refunded


def _fulfilled_quantities(order: Mapping[str, Any]) -> dict[str, int] | None:
    fulfillments = order.get("fulfillments")
    if fulfillments is None:
        return None
    fulfilled: dict[str, int] = {}
    for fulfillment in fulfillments:
        if fulfillment.get("status") not in _COUNTED_FULFILLMENTS:
            continue
        for item in fulfillment.get("line_items") or ():
            line_id = ident(item.get("id"))
            if line_id is not None:
                fulfilled[line_id] = fulfilled.get(line_id, 0) + quantity(item.get("quantity", 0), "fulfilled line")
    return fulfilled


UNIT_PRICE_PLACES = Decimal("0.0001")


def unit_paid(price: Decimal, ordered: int, discounts: Decimal, tax: Decimal) -> Decimal:
    """What the shopper pays per unit after discounts, with tax: what refunding one unit gives back.

    `price` is the list price per unit, `discounts` and `tax` are the line's totals (tax 0 when the
    shop's prices include it). To 4 places, so that quantity x unit price matches the line's total."""
    paid = price * ordered - discounts + tax
    return (paid / max(ordered, 1)).quantize(UNIT_PRICE_PLACES, rounding=ROUND_HALF_UP)


def _line_money(entries: Any, plain_key: str, set_key: str, use_presentment: bool, what: str) -> Decimal:
    """The sum of a line's discount allocations or tax lines, in the order's model currency."""
    total = Decimal(0)
    for entry in entries or ():
        raw = _presentment_amount(entry, set_key) if use_presentment else entry.get(plain_key)
        total += money(raw, what)
    return total


def rest_line(
    item: Mapping[str, Any], *, use_presentment: bool, refunded: Mapping[str, int],
    fulfilled: Mapping[str, int] | None, taxes_included: bool = False,
) -> OrderLine:
    line_id = required_id(item.get("id"), "order line")
    what = f"order line {line_id}"
    variant_id = ident(item.get("variant_id"))
    ordered = quantity(item.get("quantity"), what)
    current = item.get("current_quantity")
    now = quantity(current, what) if current is not None else max(ordered - refunded.get(line_id, 0), 0)

    shipped = 0
    if fulfilled is not None:
        shipped = fulfilled.get(line_id, 0)
    elif item.get("fulfillable_quantity") is not None:
        shipped = max(now - quantity(item["fulfillable_quantity"], what), 0)
    if item.get("fulfillment_status") == "fulfilled":
        shipped = now
    raw_price = _presentment_amount(item, "price_set") if use_presentment else None
    price = money(raw_price if raw_price is not None else item.get("price"), what)
    discounts = _line_money(item.get("discount_allocations"), "amount", "amount_set", use_presentment,
                            f"{what} discount")
    tax = Decimal(0) if taxes_included else _line_money(item.get("tax_lines"), "price", "price_set",
                                                        use_presentment, f"{what} tax")
    requires_shipping = bool(item.get("requires_shipping", True)) and not item.get("gift_card", False)
    return OrderLine(
        external_id=line_id,
        sku=line_sku(item.get("sku"), variant_id, line_id),
        title=str(item.get("name") or item.get("title") or ""),
        quantity=now,
        unit_price=unit_paid(price, ordered, discounts, tax),
        product_id=ident(item.get("product_id")),
        variant_id=variant_id,
        fulfilled_quantity=min(shipped, now),
        requires_shipping=requires_shipping,
    )


def rest_customer(order: Mapping[str, Any], reseller_tags: Collection[str]) -> Customer:
    customer = order.get("customer") or {}
    billing = order.get("billing_address") or {}
    email = order.get("email") or order.get("contact_email") or customer.get("email") or None
    name = person_name(customer.get("first_name"), customer.get("last_name")) or billing.get("name") or None
    return Customer(
        email=email,
        name=name,
        locale=order.get("customer_locale") or customer.get("locale") or None,
        is_reseller=is_reseller(bool(order.get("company")), split_tags(customer.get("tags")), reseller_tags),
        external_id=ident(customer.get("id")),
    )


def order_from_rest(
    shop: str, order: Mapping[str, Any], reseller_tags: Collection[str] = DEFAULT_RESELLER_TAGS,
) -> Order:
    """An `orders/*` webhook body (the REST order resource) as a model `Order`."""
    order_id = required_id(order.get("id"), "order")
    items = order.get("line_items")
    if items is None or items == []:
        # Every Shopify order has lines (a removed one stays, with current_quantity 0): a body without
        # them is incomplete, and reading it as "no lines" would drop every stored line of the order.
        raise NormalisationError(f"order {order_id}: {MISSING_LINES}")
    if not isinstance(items, list):
        raise NormalisationError(f"order {order_id}: line_items is not a list")
    presentment = order.get("presentment_currency")
    use_presentment = bool(presentment) and all(_presentment_amount(i, "price_set") is not None for i in items)
    currency = (presentment if use_presentment else order.get("currency")) or presentment
    if not currency:
        raise NormalisationError(f"order {order_id}: no currency")
    refunded = _refunded_quantities(order)
    fulfilled = _fulfilled_quantities(order)
    created = timestamp(order.get("created_at"), f"order {order_id} created_at")
    updated = optional_timestamp(order.get("updated_at"), f"order {order_id} updated_at") or created
    name = order.get("name") or (f"#{order['order_number']}" if order.get("order_number") else order_id)
    status = payment_status(order.get("financial_status"))
    return Order(
        shop=shop,
        external_id=order_id,
        name=str(name),
        customer=rest_customer(order, reseller_tags),
        currency=str(currency).upper(),
        created_at=created,
        updated_at=updated,
        payment_status=status,
        lines=tuple(
            rest_line(i, use_presentment=use_presentment, refunded=refunded, fulfilled=fulfilled,
                      taxes_included=bool(order.get("taxes_included"))) for i in items
        ),
        cancelled=bool(order.get("cancelled_at")),
        tags=split_tags(order.get("tags")),
        total=_order_total(order, use_presentment, order_id),
        authorized_at=(
            optional_timestamp(order.get("processed_at"), f"order {order_id} processed_at") or created
            if status is PaymentStatus.AUTHORIZED else None
        ),
        deferred_payment=deferred_terms(_terms_type(order.get("payment_terms"), "payment_terms_type")),
        payment_url=https_url(order.get("order_status_url")),
    )


DEFERRED_TERMS = {"FULFILLMENT"}  # payment terms of a "pay when it ships" purchase (selling plan ON_FULFILLMENT)


def deferred_terms(terms_type: Any) -> bool:
    """Whether an order's payment terms type (REST `payment_terms.payment_terms_type`, GraphQL
    `paymentTerms.paymentTermsType`) makes it a deferred-payment order: due when it is fulfilled."""
    return isinstance(terms_type, str) and terms_type.strip().upper() in DEFERRED_TERMS


def _terms_type(terms: Any, key: str) -> Any:
    return terms.get(key) if isinstance(terms, Mapping) else None


def https_url(value: Any, limit: int = 2000) -> str | None:
    """An https address from the store (the order status page), or None: never another scheme."""
    if not isinstance(value, str) or len(value) > limit or any(c.isspace() or ord(c) < 32 for c in value):
        return None
    return value if value.lower().startswith("https://") and len(value) > len("https://") else None


def _order_total(order: Mapping[str, Any], use_presentment: bool, order_id: str) -> Decimal | None:
    """What the customer was to pay in all when ordering, in the order's model currency.

    The original total, not `current_total_price`: the core subtracts what it captured and refunded."""
    what = f"order {order_id} total"
    amount = _presentment_amount(order, "total_price_set") if use_presentment else order.get("total_price")
    return money(amount, what) if amount is not None else None


_POLICIES = {"continue": True, "deny": False}


def sells_when_out_of_stock(policy: Any, what: str) -> bool:
    if policy is None:
        return False  # Shopify's default policy is "deny"
    try:
        return _POLICIES[str(policy).strip().lower()]
    except KeyError:
        raise NormalisationError(f"{what}: unknown inventory_policy {policy!r}") from None


def variant_title(product_title: Any, variant_title_: Any) -> str:
    product = str(product_title or "").strip()
    variant = str(variant_title_ or "").strip()
    if not variant or variant == "Default Title":
        return product or variant
    return f"{product} - {variant}" if product else variant


def variant_from_rest(shop: str, variant: Mapping[str, Any], product: Mapping[str, Any] | None = None) -> Variant:
    """A REST variant (inside a `products/*` body, or on its own) as a model `Variant`."""
    product = product or {}
    variant_id = required_id(variant.get("id"), "variant")
    what = f"variant {variant_id}"
    handle = product.get("handle")
    updated = variant.get("updated_at") or product.get("updated_at")
    return Variant(
        shop=shop,
        sku=line_sku(variant.get("sku"), variant_id, None),
        title=variant_title(product.get("title"), variant.get("title")),
        price=money(variant.get("price"), what),
        sells_when_out_of_stock=sells_when_out_of_stock(variant.get("inventory_policy"), what),
        product_id=ident(variant.get("product_id") or product.get("id")),
        variant_id=variant_id,
        item_ref=ident(variant.get("inventory_item_id")),
        product_url=f"https://{shop}/products/{handle}?variant={variant_id}" if handle else None,
        updated_at=optional_timestamp(updated, what),
    )


def variants_from_rest_product(shop: str, product: Mapping[str, Any]) -> tuple[Variant, ...]:
    variants = product.get("variants") or []
    if not isinstance(variants, list):
        raise NormalisationError(f"product {product.get('id')}: variants is not a list")
    return tuple(variant_from_rest(shop, v, product) for v in variants)


def stock_level_from_rest(shop: str, level: Mapping[str, Any]) -> StockLevel | None:
    """An `inventory_levels/update` body. None when the item is not tracked (`available` null)."""
    item = required_id(level.get("inventory_item_id"), "inventory level item")
    location = required_id(level.get("location_id"), "inventory level location")
    available = level.get("available")
    if available is None:
        return None
    if isinstance(available, bool) or not isinstance(available, int):
        raise NormalisationError(f"inventory item {item}: available is not a whole number: {available!r}")
    return StockLevel(
        shop=shop,
        sku="",
        location=location,
        available=available,  # may be negative: sold beyond on-hand
        item_ref=item,
        updated_at=optional_timestamp(level.get("updated_at"), f"inventory item {item}"),
    )
