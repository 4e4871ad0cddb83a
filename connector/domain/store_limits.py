"""What a store can really send: the bounds every event is checked against before it is stored.

One place for the limits, so that every platform's payloads are held to the same figures and the
database columns (see `connector.storage.tables`) can always take what passed: PostgreSQL refuses
a string longer than its column and an integer beyond 32 bits, SQLite stores either silently, so
without these checks the two would behave differently.

`check_events` returns the events with free text (names, titles) cut to the column sizes, and
raises `OutOfBounds` for anything else outside the limits: a quantity of 10^18 is not an order a
shopper placed, and storing it would make a 10^18-unit backorder and a purchase order to match.
An out-of-bounds delivery is dead-lettered at once with the reason; retrying cannot fix it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from connector.domain.model import (
    AppUninstalled,
    CustomerDataRequested,
    CustomerRedactRequested,
    Event,
    Order,
    OrderCancelled,
    OrderLine,
    OrderUpserted,
    PaymentStatus,
    ShopRedactRequested,
    StockChanged,
    StockLevel,
    Variant,
    VariantChanged,
)

# Counts. Shopify caps inventory quantities at 1,000,000,000 and a cart line far below; both fit the
# 32-bit INTEGER columns with room for sums of a few lines.
MAX_LINE_QUANTITY = 1_000_000  # units of one order line
MAX_STOCK = 1_000_000_000  # units of one SKU at one location, either sign (negative: sold beyond stock)
MAX_LINES = 5_000  # lines of one order
MAX_LEAD_TIME_DAYS = 3_650
MAX_TAGS = 250  # Shopify's own limit per order
MAX_TAG_LENGTH = 255
# Money: NUMERIC(18, 4) holds below 10^14; no store sells a unit or an order for 10^12.
MAX_AMOUNT = Decimal(10) ** 12
# Times: a store's clock, not year 1 or 9999 (which overflow on converting time zones).
MIN_YEAR, MAX_YEAR = 1970, 2200

# String columns (connector.storage.tables): identifiers beyond them are refused, free text is cut.
ID_LENGTH = 64  # external ids, product / variant / inventory item ids, locations
SKU_LENGTH = 255
ORDER_NAME_LENGTH = 100
EMAIL_LENGTH = 320
PERSON_NAME_LENGTH = 255
LOCALE_LENGTH = 20
TITLE_LENGTH = 500
URL_LENGTH = 1000
SHOP_DOMAIN_LENGTH = 255
_CURRENCY = re.compile(r"\A[A-Z]{3}\Z")


class OutOfBounds(ValueError):
    """A value no store sends: the delivery is dead-lettered with this message, never retried."""


def _text(value: str, limit: int, what: str) -> str:
    if not isinstance(value, str):
        raise OutOfBounds(f"{what} is not text but {type(value).__name__}")
    if len(value) > limit:
        raise OutOfBounds(f"{what} is {len(value)} characters long (at most {limit})")
    if "\x00" in value:  # PostgreSQL's text cannot hold NUL; SQLite's can
        raise OutOfBounds(f"{what} contains a NUL character")
    return value


def _optional(value: str | None, limit: int, what: str) -> str | None:
    return None if value is None else _text(value, limit, what)


def _cut(value: str | None, limit: int) -> str | None:
    """Free text to the column's size, without NUL (which PostgreSQL refuses)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise OutOfBounds(f"a text field is {type(value).__name__}")
    return value.replace("\x00", "")[:limit]


def _flag(value: bool, what: str) -> None:
    if not isinstance(value, bool):
        raise OutOfBounds(f"{what} is not true or false but {type(value).__name__}")


def _optional_text(value: str | None) -> str | None:
    """An optional free-text value kept only when it is text."""
    return value if isinstance(value, str) else None


def _count(value: int, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise OutOfBounds(f"{what} is not a whole number: {value!r}")
    if not low <= value <= high:
        raise OutOfBounds(f"{what} {value} is outside {low}..{high}")
    return value


def _amount(value: Decimal | None, what: str) -> None:
    if value is None:
        return
    if not isinstance(value, Decimal):
        raise OutOfBounds(f"{what} is not an amount but {type(value).__name__}")
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        raise OutOfBounds(f"{what} {value} is beyond {MAX_AMOUNT:,}")


def _time(value: datetime | None, what: str) -> None:
    if value is not None and not isinstance(value, datetime):
        raise OutOfBounds(f"{what} is not a time but {type(value).__name__}")
    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        raise OutOfBounds(f"{what} {value.isoformat()} is not a plausible time")


def check_line(line: OrderLine, where: str) -> OrderLine:
    _text(line.external_id, ID_LENGTH, f"{where} line id")
    what = f"{where} line {line.external_id}"
    _text(line.sku, SKU_LENGTH, f"{what} SKU")
    _optional(line.product_id, ID_LENGTH, f"{what} product id")
    _optional(line.variant_id, ID_LENGTH, f"{what} variant id")
    _optional(line.location, ID_LENGTH, f"{what} location")
    _count(line.quantity, 0, MAX_LINE_QUANTITY, f"{what} quantity")
    _count(line.fulfilled_quantity, 0, MAX_LINE_QUANTITY, f"{what} fulfilled quantity")
    _amount(line.unit_price, f"{what} unit price")
    if line.unit_price is None:
        raise OutOfBounds(f"{what} has no unit price")
    _flag(line.requires_shipping, f"{what} requires_shipping")
    return replace(line, title=_cut(line.title, TITLE_LENGTH) or "")


def check_order(order: Order) -> Order:
    _text(order.external_id, ID_LENGTH, "order id")
    where = f"order {order.external_id}"
    _text(order.name, ORDER_NAME_LENGTH, f"{where} name")
    if not isinstance(order.currency, str) or not _CURRENCY.match(order.currency):
        raise OutOfBounds(f"{where} currency {str(order.currency)[:20]!r} is not a 3-letter ISO 4217 code")
    if len(order.lines) > MAX_LINES:
        raise OutOfBounds(f"{where} has {len(order.lines)} lines (at most {MAX_LINES})")
    if len(order.tags) > MAX_TAGS:
        raise OutOfBounds(f"{where} has {len(order.tags)} tags (at most {MAX_TAGS})")
    for tag in order.tags:
        _text(tag, MAX_TAG_LENGTH, f"{where} tag")
    if not isinstance(order.payment_status, PaymentStatus):
        raise OutOfBounds(f"{where} payment status {order.payment_status!r} is unknown")
    _flag(order.cancelled, f"{where} cancelled")
    _flag(order.reserves_stock, f"{where} reserves_stock")
    _flag(order.customer.is_reseller, f"{where} reseller")
    if order.created_at is None or order.updated_at is None:
        raise OutOfBounds(f"{where} has no time")
    _time(order.created_at, f"{where} created_at")
    _time(order.updated_at, f"{where} updated_at")
    _time(order.authorized_at, f"{where} authorized_at")
    _amount(order.total, f"{where} total")
    customer = order.customer
    _optional(customer.email, EMAIL_LENGTH, f"{where} customer email")
    _optional(customer.external_id, ID_LENGTH, f"{where} customer id")
    locale = _optional_text(customer.locale)
    locale = locale if locale and len(locale) <= LOCALE_LENGTH else None
    if locale is not None and "\x00" in locale:
        locale = None
    customer = replace(customer, name=_cut(customer.name, PERSON_NAME_LENGTH), locale=locale)
    lines = tuple(check_line(line, where) for line in order.lines)
    return replace(order, customer=customer, lines=lines)


def check_stock(level: StockLevel) -> StockLevel:
    _text(level.sku, SKU_LENGTH, "stock SKU")
    what = f"stock of {level.sku or level.item_ref}"
    _text(level.location, ID_LENGTH, f"{what} location")
    _optional(level.item_ref, ID_LENGTH, f"{what} inventory item")
    _count(level.available, -MAX_STOCK, MAX_STOCK, f"{what} available")
    _time(level.updated_at, f"{what} updated_at")
    return level


def check_variant(variant: Variant) -> Variant:
    _text(variant.sku, SKU_LENGTH, "variant SKU")
    what = f"variant {variant.sku}"
    _optional(variant.product_id, ID_LENGTH, f"{what} product id")
    _optional(variant.variant_id, ID_LENGTH, f"{what} variant id")
    _optional(variant.item_ref, ID_LENGTH, f"{what} inventory item")
    _amount(variant.price, f"{what} price")
    if variant.price is None:
        raise OutOfBounds(f"{what} has no price")
    _flag(variant.sells_when_out_of_stock, f"{what} sells_when_out_of_stock")
    if variant.lead_time_days is not None:
        _count(variant.lead_time_days, 0, MAX_LEAD_TIME_DAYS, f"{what} lead time")
    _time(variant.updated_at, f"{what} updated_at")
    url = _optional_text(variant.product_url)
    url = url if url and len(url) <= URL_LENGTH else None
    if url is not None and "\x00" in url:
        url = None
    return replace(variant, title=_cut(variant.title, TITLE_LENGTH) or "", product_url=url)


def check_event(event: Event) -> Event:
    """One event within bounds (free text cut to size), or `OutOfBounds`."""
    match event:
        case OrderUpserted(order=order):
            return OrderUpserted(check_order(order))
        case OrderCancelled():
            _text(event.external_id, ID_LENGTH, "cancelled order id")
            _time(event.cancelled_at, f"order {event.external_id} cancelled_at")
            return event
        case StockChanged(levels=levels):
            return StockChanged(tuple(check_stock(level) for level in levels))
        case VariantChanged(variants=variants):
            return VariantChanged(tuple(check_variant(v) for v in variants))
        case CustomerDataRequested() | CustomerRedactRequested():
            # Privacy requests are honoured whatever they look like: only what is stored is bounded.
            email, customer_id = event.customer_email, event.customer_id
            email = email if isinstance(email, str) and len(email) <= EMAIL_LENGTH and "\x00" not in email else None
            customer_id = customer_id if isinstance(customer_id, str) and len(customer_id) <= ID_LENGTH else None
            order_ids = tuple(o for o in event.order_ids if isinstance(o, str) and len(o) <= ID_LENGTH)
            return replace(event, customer_email=email, customer_id=customer_id, order_ids=order_ids)
        case AppUninstalled() | ShopRedactRequested():
            return event
        case _:
            raise TypeError(f"unknown event {type(event).__name__}")


def check_events(events: Iterable[Event]) -> list[Event]:
    return [check_event(e) for e in events]
