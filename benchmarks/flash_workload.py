"""The flash sale's workload: one Shopify shop's catalogue and its orders, as Shopify sends them.

Payloads are the real REST fixtures (`../shared/fixtures/shopify`): each product is
`rest_product.json` with one variant, each order `rest_order.json` with its lines, customer and
times replaced, each stock report `rest_inventory_level.json`. Shopify subtracts an order's units
from `available` as the order is placed and sends `orders/create` and one `inventory_levels/update`
per line, each on its own; so each webhook here has a send time a little after its order's time,
some much later (out of order), and some are sent again with the same event id (Shopify re-sends
when it did not see our 200 in time). Times carry whole seconds, as Shopify's do.
"""

from __future__ import annotations

import copy
import json
import random
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from adapters.base import Delivery  # noqa: E402
from adapters.shopify.verify import ShopifyWebhookVerifier, sign  # noqa: E402
from connector.domain.model import Platform  # noqa: E402
from tests.shared_files import load_fixture  # noqa: E402

SHOP = "flash-sale.myshopify.com"
APP_SECRET = "flash-sale-benchmark-app-secret"
LOCATION = 905684977  # the fixtures' location
PRODUCT_BASE, VARIANT_BASE, ITEM_BASE = 7_100_000_000, 7_200_000_000, 7_300_000_000
ORDER_BASE, LINE_BASE, CUSTOMER_BASE = 5_100_000_000, 5_200_000_000, 5_300_000_000
AUTHORIZATION_BASE = 5_400_000_000
LATE_SHARE = 0.05  # webhooks delivered well after their turn (seconds late, not milliseconds)


@dataclass(frozen=True)
class Send:
    at: float  # seconds after the burst starts
    topic: str
    headers: dict[str, str]
    body: bytes
    order_id: str | None  # for orders/create: the Shopify order id
    resend: bool = False


@dataclass
class Line:
    sku: str
    quantity: int


@dataclass
class PlannedOrder:
    order_id: str
    placed_at: datetime
    email: str
    lines: list[Line]
    rest: dict  # the REST payload Shopify sends (and the fake store keeps)
    authorization: dict  # the payment's authorization (REST transaction), captured when the order ships


@dataclass
class Workload:
    skus: list[str]
    stock: dict[str, int]  # units on hand before the sale
    catalogue: list[tuple[str, dict]]  # (topic, payload) loaded before the sale
    orders: list[PlannedOrder]
    sends: list[Send] = field(default_factory=list)  # sorted by `at`, re-sends included

    items: dict[str, int] = field(default_factory=dict)  # sku -> inventory item id

    def final_levels(self) -> dict[str, tuple[int, int, int]]:
        """sku -> (inventory item, location, available) once every order is placed."""
        sold: dict[str, int] = {}
        for order in self.orders:
            for line in order.lines:
                sold[line.sku] = sold.get(line.sku, 0) + line.quantity
        return {sku: (self.items[sku], LOCATION, self.stock[sku] - sold.get(sku, 0)) for sku in self.skus}

    @property
    def resent(self) -> int:
        return sum(1 for s in self.sends if s.resend)


def signed(topic: str, payload: dict, event_id: str, triggered: datetime) -> tuple[dict[str, str], bytes]:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(body, APP_SECRET),
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-API-Version": "2026-10",
        "X-Shopify-Webhook-Id": str(uuid.UUID(int=random.getrandbits(128))),
        "X-Shopify-Event-Id": event_id,
        "X-Shopify-Triggered-At": triggered.isoformat(timespec="microseconds").replace("+00:00", "Z"),
    }, body


def _stamp(t: datetime) -> str:
    return t.replace(microsecond=0).isoformat()


def catalogue(rng: random.Random, skus: int, stock: tuple[int, int], start: datetime) -> tuple[
        list[str], dict[str, int], list[tuple[str, dict]], dict[str, dict]]:
    template = load_fixture("shopify", "rest_product.json")["product"]
    level_template = load_fixture("shopify", "rest_inventory_level.json")["inventory_level"]
    names, on_hand, loads, variants = [], {}, [], {}
    for i in range(skus):
        sku = f"DROP-{i:02d}"
        product = copy.deepcopy(template)
        variant = copy.deepcopy(template["variants"][0])
        product.update(id=PRODUCT_BASE + i, title=f"Limited drop {i:02d}", handle=f"limited-drop-{i:02d}")
        variant.update(id=VARIANT_BASE + i, product_id=PRODUCT_BASE + i, sku=sku, title=f"Drop {i:02d}",
                       inventory_item_id=ITEM_BASE + i, inventory_policy="continue",  # sells on when out
                       price=f"{rng.randint(20, 90)}.00", updated_at=_stamp(start - timedelta(days=1)))
        product["variants"] = [variant]
        product["options"] = product["options"][:1]
        product["images"] = []
        names.append(sku)
        on_hand[sku] = rng.randint(*stock)
        variants[sku] = variant
        loads.append(("products/update", product))
        loads.append(("inventory_levels/update", {**level_template, "inventory_item_id": ITEM_BASE + i,
                                                  "location_id": LOCATION, "available": on_hand[sku],
                                                  "updated_at": _stamp(start - timedelta(hours=1))}))
    return names, on_hand, loads, variants


def _order_payload(template: dict, i: int, placed: datetime, lines: list[Line], variants: dict[str, dict]) -> dict:
    order = copy.deepcopy(template)
    line_template = template["line_items"][0]
    items = []
    for n, line in enumerate(lines):
        v = variants[line.sku]
        items.append({**copy.deepcopy(line_template), "id": LINE_BASE + i * 10 + n, "sku": line.sku,
                      "variant_id": v["id"], "product_id": v["product_id"], "quantity": line.quantity,
                      "price": v["price"], "title": f"Limited drop {line.sku[-2:]}", "variant_title": v["title"],
                      "name": f"Limited drop {line.sku[-2:]} - {v['title']}", "properties": [],
                      "tax_lines": [], "discount_allocations": []})
    total = sum(float(li["price"]) * li["quantity"] for li in items)
    email = f"shopper{i}@example.test"
    customer = {**template["customer"], "id": CUSTOMER_BASE + i, "email": email, "first_name": "Shopper",
                "last_name": str(i), "tags": "", "orders_count": 1}
    order.update(id=ORDER_BASE + i, name=f"#{10001 + i}", number=10000 + i, order_number=10001 + i,
                 created_at=_stamp(placed), updated_at=_stamp(placed), processed_at=_stamp(placed),
                 email=email, contact_email=email, customer=customer, line_items=items, fulfillments=[],
                 refunds=[], tags="", note=None, financial_status="authorized", tax_lines=[],
                 discount_codes=[], total_discounts="0.00", total_tax="0.00",
                 subtotal_price=f"{total:.2f}", total_line_items_price=f"{total:.2f}", total_price=f"{total:.2f}",
                 total_price_usd=f"{total:.2f}", token=uuid.UUID(int=i).hex, cart_token=None,
                 checkout_token=None, checkout_id=None)
    return order


def make_workload(orders: int, seconds: float, skus: int, stock: tuple[int, int], resend_share: float,
                  seed: int, start: datetime | None = None) -> Workload:
    """`orders` orders placed over `seconds`, each announced by its webhooks (see the module's doc)."""
    rng = random.Random(seed)
    random.seed(seed)  # webhook ids
    start = (start or datetime.now(UTC)).replace(microsecond=0)
    names, on_hand, loads, variants = catalogue(rng, skus, stock, start)
    order_template = load_fixture("shopify", "rest_order.json")["order"]
    transaction_template = load_fixture("shopify", "rest_transaction.json")["transaction"]
    level_template = load_fixture("shopify", "rest_inventory_level.json")["inventory_level"]
    popular = [1.0 / (k + 1) ** 0.6 for k in range(skus)]  # a few SKUs are what everyone wants
    available = dict(on_hand)
    planned: list[PlannedOrder] = []
    sends: list[Send] = []
    for i in range(orders):
        offset = seconds * i / orders
        placed = start + timedelta(seconds=offset)
        wanted = rng.choices(names, popular, k=1 if rng.random() < 0.8 else 2)
        lines = [Line(sku, 1 if rng.random() < 0.9 else 2) for sku in dict.fromkeys(wanted)]
        rest = _order_payload(order_template, i, placed, lines, variants)
        authorization = {**transaction_template, "id": AUTHORIZATION_BASE + i, "order_id": rest["id"],
                         "amount": rest["total_price"], "created_at": rest["created_at"]}
        planned.append(PlannedOrder(str(ORDER_BASE + i), placed, rest["email"], lines, rest, authorization))

        def late() -> float:
            return rng.uniform(0.5, 3.0) if rng.random() < LATE_SHARE else 0.0

        instant = start + timedelta(seconds=offset)  # Shopify's trigger times carry the fraction of a second
        headers, body = signed("orders/create", rest, str(uuid.UUID(int=rng.getrandbits(128))), instant)
        sends.append(Send(offset + rng.uniform(0.0, 0.3) + late(), "orders/create", headers, body, rest["id"]
                          and str(rest["id"])))
        for n, line in enumerate(lines):
            available[line.sku] -= line.quantity
            level = {**level_template, "inventory_item_id": variants[line.sku]["inventory_item_id"],
                     "location_id": LOCATION, "available": available[line.sku], "updated_at": _stamp(placed)}
            headers, body = signed("inventory_levels/update", level, str(uuid.UUID(int=rng.getrandbits(128))),
                                   instant + timedelta(microseconds=100 + n))
            sends.append(Send(offset + rng.uniform(0.0, 0.3) + late(), "inventory_levels/update", headers, body,
                              None))
    firsts = list(sends)
    for original in rng.sample(firsts, round(len(firsts) * resend_share)):
        sends.append(Send(original.at + rng.uniform(1.0, 5.0), original.topic, original.headers, original.body,
                          original.order_id, resend=True))
    sends.sort(key=lambda s: s.at)
    items = {sku: v["inventory_item_id"] for sku, v in variants.items()}
    return Workload(names, on_hand, loads, planned, sends, items)


def store_in_process(services: Any, workload: Workload, clock: Any, *, timezone: str, pace: float = 1.0) -> None:
    """The sale in one process, without a web tier: its shop connected to `services`, the catalogue
    applied, then every webhook verified and stored in arrival order with `clock` at its arrival
    (`pace` stretches the arrivals: a web tier that falls behind). Nothing after that is processed."""
    services.shops.connect(Platform.SHOPIFY, SHOP, name="Flash sale", credentials={"access_token": "t"},
                           currency="USD", locale="en", timezone=timezone)
    for i, (topic, payload) in enumerate(workload.catalogue):
        services.inbox.store(Delivery(Platform.SHOPIFY, SHOP, topic, f"setup-{i}", json.dumps(payload).encode()))
    while services.inbox.process_pending(limit=500).done:
        pass
    start = workload.orders[0].placed_at
    verifier = ShopifyWebhookVerifier(APP_SECRET)
    for send in sorted(workload.sends, key=lambda s: s.at):
        clock.now = start + timedelta(seconds=send.at * pace)
        services.inbox.store(verifier.verify(send.headers, send.body, lambda _domain: None))

