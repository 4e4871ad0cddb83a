"""The `StoreClient` for the sandbox store: every call lands on the simulated store."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from adapters.base import LineQuantity, StoreError
from adapters.sandbox.normalise import _order
from adapters.sandbox.store import SandboxError, SandboxStore
from connector.domain.model import Order, StockLevel, StorefrontValue, Variant


class SandboxStoreClient:
    def __init__(self, store: SandboxStore) -> None:
        self.store = store

    def _call(self, fn, *args):  # type: ignore[no-untyped-def]
        try:
            return fn(*args)
        except SandboxError as exc:
            raise StoreError(str(exc), retryable=False) from exc

    def add_tags(self, order_id: str, tags: Sequence[str]) -> None:
        self._call(self.store.add_tags, order_id, list(tags))

    def remove_tags(self, order_id: str, tags: Sequence[str]) -> None:
        self._call(self.store.remove_tags, order_id, list(tags))

    def hold_fulfillment(self, order_id: str, lines: Sequence[LineQuantity], reason: str) -> None:
        payload = [{"line_id": li.line_id, "quantity": li.quantity} for li in lines]
        self._call(self.store.hold, order_id, payload, reason)

    def release_fulfillment(self, order_id: str) -> None:
        self._call(self.store.release, order_id)

    def capture_payment(self, order_id: str, amount: Decimal, currency: str, idempotency_key: str) -> None:
        self._call(self.store.capture, order_id, amount, idempotency_key)

    def set_eta(self, order_id: str, eta: date | None, note: str) -> None:
        self._call(self.store.set_eta, order_id, eta.isoformat() if eta else None, note)

    def add_note(self, order_id: str, text: str, customer_visible: bool) -> None:
        self._call(self.store.add_note, order_id, text, customer_visible)

    def refund_lines(
        self,
        order_id: str,
        lines: Sequence[LineQuantity],
        amount: Decimal,
        currency: str,
        reason: str,
        idempotency_key: str,
    ) -> None:
        payload = [{"line_id": li.line_id, "quantity": li.quantity} for li in lines]
        self._call(self.store.refund, order_id, payload, amount, idempotency_key)

    def adjust_stock(self, sku: str, delta: int, location: str | None, reason: str, idempotency_key: str) -> None:
        self._call(self.store.adjust_stock, sku, delta, idempotency_key)

    def set_backorder_selling(self, sku: str, product_id: str | None, variant_id: str | None, selling: bool) -> None:
        self._call(self.store.set_selling, sku, selling)

    def publish_storefront(self, values: Sequence[StorefrontValue]) -> None:
        """Onto each product of the simulated store, in one write (it has no call limit)."""
        self._call(self.store.set_storefront, {v.sku: v.fields() for v in values})

    def orders_updated_since(self, since: datetime) -> Iterable[Order]:
        for order_id in list(self.store.orders):
            payload = self.store.order_payload(order_id)
            if datetime.fromisoformat(payload["updated_at"]) >= since:
                yield _order(self.store.domain, payload)

    def stock_levels(self) -> Iterable[StockLevel]:
        for sku in list(self.store.products):
            p = self.store.stock_payload(sku)
            yield StockLevel(
                self.store.domain,
                sku,
                p["location"],
                p["available"],
                updated_at=datetime.fromisoformat(p["updated_at"]),
            )

    def variants(self) -> Iterable[Variant]:
        for sku in list(self.store.products):
            p = self.store.product_payload(sku)
            yield Variant(
                shop=self.store.domain,
                sku=sku,
                title=p["title"],
                price=Decimal(p["price"]),
                sells_when_out_of_stock=p["sells_when_out_of_stock"],
                lead_time_days=p["lead_time_days"],
                product_url=p["url"],
                updated_at=datetime.fromisoformat(p["updated_at"]),
            )
