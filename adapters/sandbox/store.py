"""An in-process simulated store: catalogue, stock, orders, and the actions an app takes on them.

It behaves like the hosted stores where it matters to us: stock is decremented when an order is
placed (and goes negative when the product sells while out of stock), restocked when an order is
cancelled, tags/holds/captures/notes are kept on the order, and every change is announced by a
signed webhook (see `webhooks.py`). Its state is persisted as JSON so that a restart of the demo
continues the same store.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

Listener = Callable[[str, dict[str, Any]], None]  # (topic, payload)


class SandboxError(Exception):
    pass


@dataclass
class SandboxStore:
    domain: str
    name: str = "Demo Store"
    currency: str = "EUR"
    path: Path | None = None
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_order: int = 1001
    listeners: list[Listener] = field(default_factory=list, repr=False)
    calls: list[tuple[str, str, Any]] = field(default_factory=list, repr=False)  # (action, order, detail)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()

    # ---- persistence -------------------------------------------------------------------

    @classmethod
    def load(cls, domain: str, path: Path, **kwargs: Any) -> SandboxStore:
        store = cls(domain=domain, path=path, **kwargs)
        if path.exists():
            data = json.loads(path.read_text())
            store.name = data.get("name", store.name)
            store.currency = data.get("currency", store.currency)
            store.products = data["products"]
            store.orders = data["orders"]
            store.next_order = data["next_order"]
        return store

    def save(self) -> None:
        if self.path is None:
            return
        with self._lock:
            data = {
                "name": self.name,
                "currency": self.currency,
                "products": self.products,
                "orders": self.orders,
                "next_order": self.next_order,
            }
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # a temporary file of this process's own: two processes that start the demo at once (several
            # web processes) must not replace each other's half-written file, nor fail on a vanished one
            tmp = self.path.with_name(f"{self.path.stem}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
            tmp.replace(self.path)

    def _now(self) -> str:
        return self.clock().isoformat()

    def _emit(self, topic: str, payload: dict[str, Any]) -> None:
        self.save()
        for listener in list(self.listeners):
            listener(topic, json.loads(json.dumps(payload)))

    # ---- catalogue and stock (the merchant's side) -------------------------------------

    def add_product(
        self,
        sku: str,
        title: str,
        price: str,
        stock: int,
        *,
        sells_when_out_of_stock: bool = True,
        lead_time_days: int | None = None,
    ) -> None:
        with self._lock:
            self.products[sku] = {
                "sku": sku,
                "title": title,
                "price": str(Decimal(price)),
                "stock": stock,
                "sells_when_out_of_stock": sells_when_out_of_stock,
                "lead_time_days": lead_time_days,
                "url": f"https://{self.domain}/products/{sku.lower()}",
                "updated_at": self._now(),
            }
        self._emit("products/update", self.product_payload(sku))
        self._emit("inventory/update", self.stock_payload(sku))

    def set_stock(self, sku: str, available: int) -> None:
        with self._lock:
            self._product(sku)["stock"] = available
            self._product(sku)["updated_at"] = self._now()
        self._emit("inventory/update", self.stock_payload(sku))

    def restock(self, sku: str, quantity: int) -> None:
        self.set_stock(sku, self._product(sku)["stock"] + quantity)

    def adjust_stock(self, sku: str, delta: int, key: str) -> None:
        """An app's inventory adjustment; the same key is applied once (as Shopify's idempotent mutations)."""
        with self._lock:
            if any(c[0] == "adjust_stock" and c[2]["key"] == key for c in self.calls):
                return
            self.calls.append(("adjust_stock", sku, {"delta": delta, "key": key}))
        self.restock(sku, delta)

    def set_selling(self, sku: str, selling: bool) -> None:
        """Whether the product sells when out of stock (the merchant's switch, or an app's); announced
        by a products/update webhook like any change, and only when it changes."""
        with self._lock:
            product = self._product(sku)
            if product["sells_when_out_of_stock"] == selling:
                return
            product["sells_when_out_of_stock"] = selling
            product["updated_at"] = self._now()
            self.calls.append(("set_selling", sku, {"selling": selling}))
        self._emit("products/update", self.product_payload(sku))

    def _product(self, sku: str) -> dict[str, Any]:
        try:
            return self.products[sku]
        except KeyError:
            raise SandboxError(f"no product {sku!r}") from None

    # ---- orders (the shopper's side) ---------------------------------------------------

    def place_order(
        self, customer: dict[str, Any], items: list[tuple[str, int]], *, authorize: bool = True
    ) -> dict[str, Any]:
        with self._lock:
            number = self.next_order
            self.next_order += 1
            lines = []
            for i, (sku, qty) in enumerate(items, start=1):
                product = self._product(sku)
                if product["stock"] < qty and not product["sells_when_out_of_stock"]:
                    raise SandboxError(f"{sku} is out of stock and does not sell when out of stock")
                product["stock"] -= qty
                product["updated_at"] = self._now()
                lines.append(
                    {
                        "id": f"{number}-{i}",
                        "sku": sku,
                        "title": product["title"],
                        "quantity": qty,
                        "price": product["price"],
                        "fulfilled_quantity": 0,
                        "requires_shipping": True,
                    }
                )
            total = sum((Decimal(li["price"]) * li["quantity"] for li in lines), Decimal(0))
            now = self._now()
            order = {
                "id": str(number),
                "name": f"#{number}",
                "created_at": now,
                "updated_at": now,
                "currency": self.currency,
                "financial_status": "authorized" if authorize else "paid",
                "cancelled_at": None,
                "tags": [],
                "customer": customer,
                "total": str(total),
                "line_items": lines,
                "holds": [],
                "captured": "0",
                "refunded": "0",
                "eta": None,
                "notes": [],
            }
            self.orders[str(number)] = order
        self._emit("orders/create", self.order_payload(str(number)))
        for sku, _ in items:
            self._emit("inventory/update", self.stock_payload(sku))
        return order

    def cancel_order(self, order_id: str) -> None:
        with self._lock:
            order = self._order(order_id)
            if order["cancelled_at"]:
                return
            order["cancelled_at"] = order["updated_at"] = self._now()
            for li in order["line_items"]:
                product = self._product(li["sku"])
                product["stock"] += li["quantity"] - li["fulfilled_quantity"]
                product["updated_at"] = self._now()
        self._emit("orders/cancelled", self.order_payload(order_id))
        for li in order["line_items"]:
            self._emit("inventory/update", self.stock_payload(li["sku"]))

    def fulfil_unheld(self, min_age_seconds: float = 0.0) -> list[str]:
        """The warehouse ships the open lines that are not on hold and that it physically has units for.

        Units there = reported stock + units of open lines (the store already subtracted those).
        They go to lines in order of purchase; a line ships only when all its units are there.
        Orders younger than `min_age_seconds` wait (nobody ships the second an order arrives)."""
        shipped: list[str] = []
        with self._lock:
            open_orders = [o for o in self.orders.values() if not o["cancelled_at"]]
            open_orders.sort(key=lambda o: int(o["id"]))
            physical = {sku: p["stock"] for sku, p in self.products.items()}
            for order in open_orders:
                for li in order["line_items"]:
                    physical[li["sku"]] += li["quantity"] - li["fulfilled_quantity"]
            now = self.clock()
            for order in open_orders:
                held = {h["line_id"] for h in order["holds"]}
                young = (now - datetime.fromisoformat(order["created_at"])).total_seconds() < min_age_seconds
                changed = False
                for li in order["line_items"]:
                    remaining = li["quantity"] - li["fulfilled_quantity"]
                    if remaining <= 0:
                        continue
                    there = physical[li["sku"]] >= remaining
                    physical[li["sku"]] -= remaining  # earlier orders keep their claim, shipped or not
                    if there and not young and li["id"] not in held:
                        li["fulfilled_quantity"] = li["quantity"]
                        changed = True
                if changed:
                    order["updated_at"] = self._now()
                    shipped.append(order["id"])
        for order_id in shipped:
            self._emit("orders/updated", self.order_payload(order_id))
        return shipped

    def _order(self, order_id: str) -> dict[str, Any]:
        try:
            return self.orders[str(order_id)]
        except KeyError:
            raise SandboxError(f"no order {order_id!r}") from None

    # ---- what an app may do (StoreClient calls land here) -------------------------------

    def _touch(self, order: dict[str, Any], action: str, detail: Any) -> None:
        order["updated_at"] = self._now()
        self.calls.append((action, order["id"], detail))

    def add_tags(self, order_id: str, tags: list[str]) -> None:
        with self._lock:
            order = self._order(order_id)
            order["tags"] = sorted(set(order["tags"]) | set(tags))
            self._touch(order, "add_tags", list(tags))
        self.save()

    def remove_tags(self, order_id: str, tags: list[str]) -> None:
        with self._lock:
            order = self._order(order_id)
            order["tags"] = sorted(set(order["tags"]) - set(tags))
            self._touch(order, "remove_tags", list(tags))
        self.save()

    def hold(self, order_id: str, lines: list[dict[str, Any]], reason: str) -> None:
        with self._lock:
            order = self._order(order_id)
            known = {li["id"] for li in order["line_items"]}
            for line in lines:
                if line["line_id"] not in known:
                    raise SandboxError(f"order {order_id} has no line {line['line_id']}")
            order["holds"] = [{"line_id": li["line_id"], "quantity": li["quantity"], "reason": reason} for li in lines]
            self._touch(order, "hold", [li["line_id"] for li in lines])
        self.save()

    def release(self, order_id: str) -> None:
        with self._lock:
            order = self._order(order_id)
            order["holds"] = []
            self._touch(order, "release", None)
        self.save()

    def capture(self, order_id: str, amount: Decimal, key: str) -> None:
        with self._lock:
            order = self._order(order_id)
            if any(c[0] == "capture" and c[2]["key"] == key for c in self.calls):
                return  # the payment gateway dedupes on the idempotency key
            if order["financial_status"] not in ("authorized", "partially_paid"):
                raise SandboxError(f"order {order_id} has no open authorization ({order['financial_status']})")
            captured = Decimal(order["captured"]) + amount
            if captured > Decimal(order["total"]):
                raise SandboxError(f"capture of {amount} exceeds the authorized {order['total']}")
            order["captured"] = str(captured)
            order["financial_status"] = "paid" if captured == Decimal(order["total"]) else "partially_paid"
            self._touch(order, "capture", {"amount": str(amount), "key": key})
        self.save()

    def set_eta(self, order_id: str, eta: str | None, note: str) -> None:
        with self._lock:
            order = self._order(order_id)
            order["eta"] = eta
            if note:
                order["notes"].append({"text": note, "customer_visible": False})
            self._touch(order, "set_eta", eta)
        self.save()

    def set_storefront(self, values: dict[str, dict[str, Any]]) -> None:
        """What the product pages show per SKU (as a theme reads the app's metafield): no webhook follows."""
        with self._lock:
            known = {sku: value for sku, value in values.items() if sku in self.products}  # removed: nothing to show
            for sku, value in known.items():
                self._product(sku)["storefront"] = dict(value)
            self.calls.append(("set_storefront", "", sorted(known)))
        self.save()

    def add_note(self, order_id: str, text: str, customer_visible: bool) -> None:
        with self._lock:
            order = self._order(order_id)
            order["notes"].append({"text": text, "customer_visible": customer_visible})
            self._touch(order, "add_note", text)
        self.save()

    def refund(self, order_id: str, lines: list[dict[str, Any]], amount: Decimal, key: str) -> None:
        with self._lock:
            order = self._order(order_id)
            if any(c[0] == "refund" and c[2]["key"] == key for c in self.calls):
                return
            order["refunded"] = str(Decimal(order["refunded"]) + amount)
            by_id = {li["id"]: li for li in order["line_items"]}
            for line in lines:
                li = by_id[line["line_id"]]
                li["quantity"] -= line["quantity"]
                self._product(li["sku"])["stock"] += line["quantity"]
            self._touch(order, "refund", {"amount": str(amount), "key": key, "lines": lines})
        self._emit("orders/updated", self.order_payload(order_id))

    # ---- payloads ----------------------------------------------------------------------

    def order_payload(self, order_id: str) -> dict[str, Any]:
        order = self._order(order_id)
        keys = (
            "id",
            "name",
            "created_at",
            "updated_at",
            "currency",
            "financial_status",
            "cancelled_at",
            "tags",
            "customer",
            "total",
            "line_items",
        )
        return {k: order[k] for k in keys}

    def stock_payload(self, sku: str) -> dict[str, Any]:
        product = self._product(sku)
        return {"sku": sku, "location": "warehouse", "available": product["stock"], "updated_at": product["updated_at"]}

    def product_payload(self, sku: str) -> dict[str, Any]:
        p = self._product(sku)
        return {
            k: p[k] for k in ("sku", "title", "price", "sells_when_out_of_stock", "lead_time_days", "url", "updated_at")
        }
