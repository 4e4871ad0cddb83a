"""The common model every platform adapter produces and the core consumes.

Frozen dataclasses and enums only: no I/O, no framework. Quantities are ints, money is
`Decimal` in the order's currency, times are timezone-aware `datetime` (UTC unless the
platform said otherwise), dates are plain `date`.

Stock is keyed by `sku`. Platforms allow products without a SKU; the adapter then gives a
stable synthetic key (for example ``wc-variation:123`` or ``shopify-variant:456``) so that
every line and stock level still has one key to meet on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class Platform(StrEnum):
    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"
    SANDBOX = "sandbox"


class PaymentStatus(StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    REFUNDED = "refunded"
    VOIDED = "voided"


class ActionKind(StrEnum):
    """What the core asks of a store or a mail server (an outbox action's kind)."""

    ADD_TAGS = "add_tags"
    # An order's wait begins: tag it, hold its waiting lines, write its promised date. One action, so a
    # store that can do the three in fewer calls does (`adapters.base.BackorderStarter`).
    START_BACKORDER = "start_backorder"
    REMOVE_TAGS = "remove_tags"
    HOLD = "hold_fulfillment"
    RELEASE = "release_fulfillment"
    CAPTURE = "capture_payment"
    SET_ETA = "set_eta"
    NOTE = "add_note"
    REFUND = "refund_lines"
    EMAIL = "send_email"
    ADJUST_STOCK = "adjust_stock"
    SET_SELLING = "set_backorder_selling"  # selling limits: the store sells an item on backorder, or not
    # deferred payment (issue 10)
    COLLECT_BALANCE = "collect_balance"  # charge a deferred-payment order's balance to the customer's saved method
    OPTION_ADD = "purchase_option_add"  # variants join the shop's "pay when it ships" purchase option
    OPTION_REMOVE = "purchase_option_remove"  # ... and leave it
    PUBLISH_STOREFRONT = "publish_storefront"  # no order: what the storefront shows per variant


class BackorderState(StrEnum):
    WAITING = "waiting"  # no stock yet: held, promised a date
    RELEASED = "released"  # stock allocated: hold released, charge captured, shipping
    REFUNDED = "refunded"  # the customer took the refund offer
    CANCELLED = "cancelled"  # the order or line was cancelled


EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Customer:
    email: str | None
    name: str | None = None
    locale: str | None = None  # BCP 47, e.g. "en", "it-IT"
    is_reseller: bool = False
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class OrderLine:
    external_id: str
    sku: str
    title: str
    quantity: int
    unit_price: Decimal
    product_id: str | None = None
    variant_id: str | None = None
    fulfilled_quantity: int = 0
    location: str | None = None  # requested location, if the platform says
    requires_shipping: bool = True  # gift cards and digital goods never backorder

    @property
    def open_quantity(self) -> int:
        return max(self.quantity - self.fulfilled_quantity, 0)


@dataclass(frozen=True, slots=True)
class Order:
    shop: str  # the shop's domain, as the platform names it
    external_id: str
    name: str
    customer: Customer
    currency: str
    created_at: datetime
    updated_at: datetime
    payment_status: PaymentStatus
    lines: tuple[OrderLine, ...]
    cancelled: bool = False
    tags: tuple[str, ...] = ()
    total: Decimal | None = None  # what the customer pays in all (taxes, shipping); None when unknown
    authorized_at: datetime | None = None  # when an authorization (to capture later) was made
    # Whether the store has taken the order's units off its stock. False while a WooCommerce order
    # awaits payment ("pending"): not a sale yet, so it claims no stock and waits for nothing.
    reserves_stock: bool = True
    # Bought through a deferred-payment purchase option (Shopify: payment terms due on fulfilment, from
    # the "pay when it ships" selling plan): nothing was authorized, so nothing can lapse; the balance
    # is collected when the goods ship. `payment_url`: where the customer can pay it themselves.
    deferred_payment: bool = False
    payment_url: str | None = None

    @property
    def stocked_lines(self) -> tuple[OrderLine, ...]:
        """Lines that draw on stock: shippable, with something still to fulfil."""
        return tuple(li for li in self.lines if li.requires_shipping and li.open_quantity > 0)


@dataclass(frozen=True, slots=True)
class StockLevel:
    shop: str
    sku: str  # may be "" when the platform only sent `item_ref`; the core resolves it
    location: str
    available: int  # may be negative: committed sales beyond on-hand
    item_ref: str | None = None  # platform inventory item id (Shopify inventory_item_id)
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Variant:
    shop: str
    sku: str
    title: str
    price: Decimal
    sells_when_out_of_stock: bool
    product_id: str | None = None
    variant_id: str | None = None
    item_ref: str | None = None
    lead_time_days: int | None = None  # merchant override
    product_url: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StorefrontValue:
    """What the store shows shoppers for one variant, written by this service into the store itself.

    Shopify: a variant metafield in the app's reserved namespace, read by the theme app extension;
    WooCommerce: product (or variation) meta, read by the plugin. The store's pages never call us."""

    sku: str
    product_id: str | None  # the platform's product id (WooCommerce: the parent of a variation)
    variant_id: str | None  # Shopify variant GID; WooCommerce variation id (None for a simple product)
    status: str  # "in_stock" | "backorder" | "sold_out" | "untracked"
    ships_by: date | None  # the promised date (the shop's promise percentile), backorder only
    ships_p50: date | None
    ships_p90: date | None
    message: str  # the sentence shown to shoppers, in the shop's language

    def fields(self) -> dict[str, str | None]:
        """The JSON form the store holds and its storefront reads: dates as ISO strings."""
        return {
            "status": self.status,
            "ships_by": self.ships_by.isoformat() if self.ships_by else None,
            "ships_p50": self.ships_p50.isoformat() if self.ships_p50 else None,
            "ships_p90": self.ships_p90.isoformat() if self.ships_p90 else None,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class Shop:
    platform: Platform
    domain: str
    name: str
    currency: str = "USD"
    locale: str = "en"
    timezone: str = "UTC"
    settings: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    credentials: bytes | None = None  # encrypted at rest; decrypted only inside storage


# ---- core-owned ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UrgentTerms:
    unit_price_premium: Decimal  # extra cost per unit for an expedited order
    lead_time_days: float


@dataclass(frozen=True, slots=True)
class Supplier:
    id: int | None
    shop: str
    name: str
    email: str | None = None
    phone: str | None = None
    lead_time_mean_days: float = 14.0
    lead_time_spread_days: float = 3.0  # standard deviation
    dropship_capable: bool = False
    local: bool = False
    urgent: UrgentTerms | None = None


@dataclass(frozen=True, slots=True)
class SupplierOffer:
    supplier_id: int
    sku: str
    cost: Decimal
    lead_time_days: float | None = None  # overrides the supplier's mean for this SKU
    primary: bool = True


@dataclass(frozen=True, slots=True)
class PurchaseOrderLine:
    sku: str
    quantity: int
    received_quantity: int = 0

    @property
    def incoming_quantity(self) -> int:
        return max(self.quantity - self.received_quantity, 0)


@dataclass(frozen=True, slots=True)
class PurchaseOrder:
    id: int | None
    shop: str
    supplier_id: int | None
    reference: str
    expected_on: date
    lines: tuple[PurchaseOrderLine, ...]
    received_on: date | None = None
    draft: bool = False


@dataclass(frozen=True, slots=True)
class Promise:
    p50: date
    p90: date
    promised: date  # what the customer was told (P90 by default)
    made_at: datetime


@dataclass(frozen=True, slots=True)
class Backorder:
    shop: str
    order_id: str
    line_id: str
    sku: str
    quantity: int
    state: BackorderState
    promise: Promise | None
    history: tuple[Promise, ...] = ()


# ---- events adapters emit ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderUpserted:
    order: Order


@dataclass(frozen=True, slots=True)
class OrderCancelled:
    shop: str
    external_id: str
    cancelled_at: datetime


@dataclass(frozen=True, slots=True)
class StockChanged:
    levels: tuple[StockLevel, ...]


@dataclass(frozen=True, slots=True)
class VariantChanged:
    variants: tuple[Variant, ...]


@dataclass(frozen=True, slots=True)
class AppUninstalled:
    shop: str


@dataclass(frozen=True, slots=True)
class CustomerDataRequested:
    shop: str
    customer_email: str | None
    customer_id: str | None
    order_ids: tuple[str, ...] = ()
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerRedactRequested:
    shop: str
    customer_email: str | None
    customer_id: str | None
    order_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ShopRedactRequested:
    shop: str


Event = (
    OrderUpserted
    | OrderCancelled
    | StockChanged
    | VariantChanged
    | AppUninstalled
    | CustomerDataRequested
    | CustomerRedactRequested
    | ShopRedactRequested
)
