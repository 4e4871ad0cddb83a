"""Reading REST v3 values: GMT times, money, counts, ids, text and the stock key of a product.

SKUs: WooCommerce allows products without one; such lines and products are keyed
``wc-variation:<variation id>`` or ``wc-product:<product id>``, and a line whose product was
deleted ``wc-line:<line id>``.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from adapters.woocommerce import meta


def parse_gmt(value: object) -> datetime | None:
    """A REST ``*_gmt`` field (naive, UTC) or an ISO time with offset -> aware UTC datetime."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(f"not a date-time: {value!r}")
    moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
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


def ident(value: object) -> int:
    number = whole(value, "id")
    if number < 0:
        raise ValueError(f"negative id {value!r}")
    return number


def text(value: object) -> str:
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


def meta_text(meta_data: object, key: str) -> str | None:
    value = meta.meta_value(meta_data, key)
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value).strip()
    return None
