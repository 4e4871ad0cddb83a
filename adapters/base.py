"""The ports between the core and a platform.

An adapter is three things: a `WebhookVerifier` (raw request -> authenticated `Delivery`),
a `Normaliser` (`Delivery` -> common-model events) and a `StoreClient` (the actions the core
asks of a store, and the reads that reconciliation needs). The core never imports a platform
package; it receives a `PlatformAdapter` from `adapters.registry`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from connector.domain.model import (
    CustomerDataRequested,
    Event,
    Order,
    Platform,
    Shop,
    StockLevel,
    StorefrontValue,
    Variant,
)

# ---- errors ---------------------------------------------------------------------------


class AdapterError(Exception):
    """Base of every error an adapter raises on purpose."""


class SignatureInvalid(AdapterError):
    """The webhook's signature does not match its raw body: answer 401, store nothing."""


class UnknownShop(AdapterError):
    """The webhook names a shop we have no connection (or no secret) for."""


class NormalisationError(AdapterError):
    """A verified payload that cannot be turned into events: it goes to the dead letter."""


class StoreError(AdapterError):
    """A store API call failed. `retryable` says whether trying again later can help."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


class AuthRevoked(StoreError):
    """The store refused our credentials (401/403): the shop needs re-connecting."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message, retryable=False, status=status)


class UserError(StoreError):
    """The store understood the call and refused it (GraphQL `userErrors`, REST 400/422)."""

    def __init__(self, message: str, status: int | None = None, details: Any = None) -> None:
        super().__init__(message, retryable=False, status=status)
        self.details = details


class PaymentFailed(UserError):
    """A charge the store refused (declined, card expired, authentication required, no saved method).

    Not retried by the outbox: the core's balance collection retries on the merchant's schedule.
    `str()` carries the reason and amount in a form `payment_failure` reads back from a stored error."""

    REASONS = ("declined", "card_expired", "authentication_required", "no_payment_method", "failed")

    def __init__(self, reason: str, message: str, amount: Decimal | None = None, currency: str | None = None) -> None:
        self.reason = reason if reason in self.REASONS else "failed"
        money = f" {amount} {currency}" if amount is not None and currency else ""
        super().__init__(f"payment failed [{self.reason}{money}]: {message}")
        self.amount, self.currency, self.store_message = amount, currency, message


_PAYMENT_FAILURE = re.compile(r"payment failed \[(\w+)(?: (\d+(?:\.\d+)?) ([A-Z]{3}))?\]: (.*)", re.S)


def payment_failure(text: str | None) -> tuple[str, Decimal | None, str | None, str] | None:
    """(reason, amount, currency, store message) from a stored `PaymentFailed` error; None for other errors."""
    match = _PAYMENT_FAILURE.search(text or "")
    if match is None:
        return None
    reason, amount, currency, message = match.groups()
    return reason, Decimal(amount) if amount else None, currency, message.strip()


class ScopesMissing(AdapterError):
    """The store's grant lacks permissions a feature needs: the merchant must approve the app again."""

    def __init__(self, scopes: Sequence[str]) -> None:
        super().__init__("the app needs more permissions: " + ", ".join(scopes))
        self.scopes = tuple(scopes)


# ---- webhooks -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    """One authenticated webhook delivery, as stored in the inbox."""

    platform: Platform
    shop: str  # shop domain
    topic: str  # platform topic, e.g. "orders/create" or "order.updated"
    event_id: str  # dedupe key: same event delivered twice has the same id
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    triggered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Ping:
    """An unsigned liveness ping (WooCommerce's `webhook_id=N`): answer 200, store nothing."""

    detail: str = ""


SecretLookup = Callable[[str], bytes | None]
"""Given a shop domain, that shop's webhook signing secret, or None when unknown."""


class WebhookVerifier(Protocol):
    def verify(self, headers: Mapping[str, str], body: bytes, secret_for: SecretLookup) -> Delivery | Ping:
        """Authenticate a raw request. Raises `SignatureInvalid` or `UnknownShop`."""
        ...


class Normaliser(Protocol):
    def normalise(self, delivery: Delivery) -> list[Event]:
        """Turn a delivery into common-model events (possibly none, for topics we ignore).

        Raises `NormalisationError` with a reason a merchant can read."""
        ...


# ---- store actions --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineQuantity:
    line_id: str
    quantity: int


@runtime_checkable
class StoreClient(Protocol):
    """What the core asks of a store. Every call is safe to repeat with the same arguments."""

    def add_tags(self, order_id: str, tags: Sequence[str]) -> None: ...

    def remove_tags(self, order_id: str, tags: Sequence[str]) -> None: ...

    def hold_fulfillment(self, order_id: str, lines: Sequence[LineQuantity], reason: str) -> None:
        """Hold the fulfillment of exactly these lines: lines held before and not named here are released.

        Called again when the waiting lines change (part of the order can ship), so moving a hold
        must not release the whole order in between. WooCommerce: the order stays on-hold."""
        ...

    def release_fulfillment(self, order_id: str) -> None:
        """Release every hold we placed on the order (WooCommerce: back to processing)."""
        ...

    def capture_payment(self, order_id: str, amount: Decimal, currency: str, idempotency_key: str) -> None:
        """Capture part of an authorized charge. Never captures twice for one key."""
        ...

    def set_eta(self, order_id: str, eta: date | None, note: str) -> None:
        """Write the promised ship date to the order (metafield / meta) and a note."""
        ...

    def add_note(self, order_id: str, text: str, customer_visible: bool) -> None: ...

    def refund_lines(
        self,
        order_id: str,
        lines: Sequence[LineQuantity],
        amount: Decimal,
        currency: str,
        reason: str,
        idempotency_key: str,
    ) -> None: ...

    def adjust_stock(self, sku: str, delta: int, location: str | None, reason: str, idempotency_key: str) -> None:
        """Add (or remove) units of a SKU at a location (None: the store's default): goods received.

        Shopify: `inventoryAdjustQuantities` (reason "received"); WooCommerce: the product's stock
        quantity. The store then announces the new level by webhook like any other change."""
        ...

    def set_backorder_selling(self, sku: str, product_id: str | None, variant_id: str | None, selling: bool) -> None:
        """Let the store sell the item when it is out of stock (True), or stop it (False): the selling limit.

        Shopify: the variant's inventory policy CONTINUE / DENY; WooCommerce: the product's or
        variation's `backorders` back to what it was / `no`. Called only for items the merchant had
        selling on backorder; safe to repeat."""

    def publish_storefront(self, values: Sequence[StorefrontValue]) -> None:
        """Write these values where the storefront reads them; the adapter batches within its platform's limits.

        A capability: the outbox publishes only through a client that has it (`hasattr`), and
        completes the action with nothing sent for one that has not."""
        ...

    def orders_updated_since(self, since: datetime) -> Iterable[Order]: ...

    def stock_levels(self) -> Iterable[StockLevel]: ...

    def variants(self) -> Iterable[Variant]: ...


@dataclass(frozen=True, slots=True)
class PurchaseOptionSpec:
    """The "pay when it ships" purchase option as the core wants it in the store."""

    name: str  # buyer-facing, in the shop's language
    description: str
    deposit_percent: int  # charged at checkout; the rest when the goods ship


@runtime_checkable
class BackorderStarter(Protocol):
    """A store that begins an order's wait in fewer calls than its three parts apart.

    The outbox runs a `start_backorder` action through this when the client offers it, and as
    `add_tags`, `hold_fulfillment` and `set_eta` in that order when not: the outcome in the store
    must be the same either way, and as safe to repeat."""

    def start_backorder(
        self, order_id: str, tags: Sequence[str], lines: Sequence[LineQuantity], reason: str, eta: date | None,
        note: str,
    ) -> None:
        """Tag the order, hold exactly these lines (as `hold_fulfillment`), write the date (as `set_eta`)."""
        ...


@runtime_checkable
class DeferredPaymentClient(Protocol):
    """What a store that sells with deferred payment offers (Shopify: selling plans and mandates)."""

    def create_purchase_option(self, spec: PurchaseOptionSpec) -> str:
        """Create the purchase option; its store id. Raises `ScopesMissing` without the permissions."""
        ...

    def purchase_option_variants(self, option_id: str) -> set[str] | None:
        """The variant ids in the option as the store has it; None when the option no longer exists."""
        ...

    def add_to_purchase_option(self, option_id: str, variant_ids: Sequence[str]) -> None:
        """Variants join (joining twice changes nothing)."""
        ...

    def remove_from_purchase_option(self, option_id: str, variant_ids: Sequence[str]) -> None:
        """Variants leave (leaving twice changes nothing)."""
        ...

    def collect_balance(self, order_id: str, currency: str, idempotency_key: str) -> Decimal:
        """Charge what the order still owes to the customer's saved payment method, once per key, and
        follow the payment to its result: the amount charged (0 when nothing was owed). Raises
        `PaymentFailed` when refused, a retryable `StoreError` while the payment is still processing."""
        ...


ClientFactory = Callable[[Shop, Mapping[str, Any]], StoreClient]
"""Builds a client from the shop and its decrypted credentials."""


class ConnectShop(Protocol):
    def __call__(
        self,
        platform: Platform,
        domain: str,
        *,
        name: str,
        credentials: Mapping[str, Any] | None = None,
        webhook_secret: bytes | str | None = None,
        currency: str | None = None,
        locale: str | None = None,
        timezone: str | None = None,
    ) -> Any: ...


@dataclass(frozen=True)
class StartContext:
    """What the core hands an adapter that runs something in the background (the sandbox's simulator)."""

    connect_shop: ConnectShop
    webhook_url: str  # where this platform's webhooks are received
    instance_path: str


@dataclass(frozen=True)
class UpkeepContext:
    """What the core hands an adapter's periodic upkeep of one shop's connection."""

    shop: Shop
    credentials: Mapping[str, Any]  # decrypted
    webhook_secret: bytes | None
    webhook_url: str  # where this platform's webhooks are received


@dataclass(frozen=True)
class PlatformAdapter:
    platform: Platform
    verifier: WebhookVerifier
    normaliser: Normaliser
    client_factory: ClientFactory
    blueprint: Any = None  # optional Flask blueprint for install/connect, registered by web
    start: Callable[[StartContext], Any] | None = None  # optional background start (sandbox demo)
    # optional periodic care of a shop's connection, run before each reconciliation (WooCommerce:
    # re-create the webhooks a store disabled after failed deliveries). May raise AuthRevoked.
    upkeep: Callable[[UpkeepContext], Any] | None = None
    # optional storefront proxy (Shopify's app proxy): (query pairs, now as epoch seconds) -> the
    # verified request (`.shop`, `.path_prefix`, `.params`); raises SignatureInvalid
    proxy_verifier: Callable[[Sequence[tuple[str, str]], float], Any] | None = None
    # the topics of privacy requests (a customer's data asked for or erased, a shop erased): stored
    # and honoured whatever the shop's state, each applied on its own
    privacy_topics: frozenset[str] = frozenset()
    # optional: a signed request for a customer's data that the store waits for the answer of
    # (WordPress's export tool through the WooCommerce plugin): (the verified request, now as epoch
    # seconds) -> the request; raises NormalisationError when it is not one, or too old to answer
    export_request: Callable[[Delivery, float], CustomerDataRequested] | None = None
