"""Property-based fuzzing of each platform's webhook route and normaliser (issue 15).

Payloads are derived from the real fixtures in shared/fixtures (and the sandbox's own shape):
hostile ones by mutating them (keys dropped, values of the wrong type, huge numbers, long and
odd unicode text, nested junk, bodies that are not JSON), valid ones by varying their fields within
what a store really sends (`connector.domain.store_limits`). Each is signed correctly, posted through the real
Flask route and processed by the real inbox on SQLite. Properties:

- the route never answers 500 (a signed delivery: 200);
- processing never leaves a delivery to be retried: it is done, or dead-lettered with a reason;
- no ERROR is logged by our code for bad data (no traceback);
- a valid payload is never dead-lettered.
"""

from __future__ import annotations

import copy
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from adapters.sandbox.webhooks import build_delivery
from adapters.woocommerce.verify import signature as woo_signature
from connector.domain import store_limits as limits
from connector.domain.model import Platform
from connector.storage.tables import DeliveryRow
from connector.web import create_app
from tests.conftest import SHOPIFY_API_SECRET as SHOPIFY_SECRET  # noqa: E402
from tests.sandbox_helpers import SECRET as SANDBOX_SECRET
from tests.sandbox_helpers import connect_sandbox
from tests.shared_files import load_fixture
from tests.shopify_webhooks import webhook_headers

SHOPIFY_SHOP = "fuzz-test.myshopify.com"
WOO_SHOP = "shop.example.com"
WOO_SECRET = b"woo-fuzz-webhook-secret"
FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,  # no example database written into the work tree; the seed varies per run
)
VALID = settings(FUZZ, max_examples=60)

# ---- payloads ------------------------------------------------------------------------------------


def sandbox_order() -> dict[str, Any]:
    return {
        "id": "5001",
        "name": "#5001",
        "created_at": "2026-11-02T10:00:00+00:00",
        "updated_at": "2026-11-02T10:00:00+00:00",
        "currency": "EUR",
        "financial_status": "paid",
        "customer": {"id": "c1", "email": "ada@example.com", "name": "Ada", "locale": "en", "reseller": False},
        "total": "40.00",
        "tags": [],
        "line_items": [
            {"id": "l1", "sku": "TEE", "title": "Tee", "quantity": 2, "price": "20.00", "fulfilled_quantity": 0},
            {"id": "l2", "sku": "MUG", "title": "Mug", "quantity": 1, "price": "8.00", "fulfilled_quantity": 0},
        ],
    }


def sandbox_stock() -> dict[str, Any]:
    return {"sku": "TEE", "location": "warehouse", "available": 3, "updated_at": "2026-11-02T09:00:00+00:00"}


def sandbox_product() -> dict[str, Any]:
    return {"sku": "TEE", "title": "Tee", "price": "20.00", "sells_when_out_of_stock": True, "lead_time_days": 10,
            "url": "https://shop-one.sandbox/p/tee", "updated_at": "2026-11-02T09:00:00+00:00"}


SOURCES: dict[str, list[tuple[str, Callable[[], dict[str, Any]]]]] = {
    "shopify": [
        ("orders/create", lambda: load_fixture("shopify", "rest_order.json")["order"]),
        ("orders/updated", lambda: load_fixture("shopify", "rest_order.json")["order"]),
        ("products/update", lambda: load_fixture("shopify", "rest_product.json")["product"]),
        ("inventory_levels/update", lambda: load_fixture("shopify", "rest_inventory_level.json")["inventory_level"]),
        ("customers/redact", lambda: json.loads(json.dumps(
            load_fixture("shopify", "compliance_customers_redact.json")).replace("{shop}", "fuzz-test"))),
    ],
    "woocommerce": [
        ("order.updated", lambda: load_fixture("woocommerce", "rest_v3_order_retrieve.json")),
        ("order.created", lambda: load_fixture("woocommerce", "rest_v3_order_retrieve.json")),
        ("product.updated", lambda: load_fixture("woocommerce", "rest_v3_product_retrieve.json")),
        ("order.deleted", lambda: {"id": 727}),
    ],
    "sandbox": [
        ("orders/create", sandbox_order),
        ("orders/updated", sandbox_order),
        ("orders/cancelled", sandbox_order),
        ("inventory/update", sandbox_stock),
        ("products/update", sandbox_product),
    ],
}

# ---- hostile mutations ---------------------------------------------------------------------------

HUGE = st.sampled_from([10**18, 10**20, -(10**18), 2**63, 2**31, -(2**31) - 1, 10**400])
ODD_TEXT = st.sampled_from(["", " ", "\x00", "S" * 256, "€" * 4000, "x" * 70, "NaN", "Infinity", "-1", "1e999",
                            "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "ｔｅｅ", "\u202e\u200b",
                            "javascript:alert(1)", "<script>x</script>", "🙂" * 300])
LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30), HUGE,
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40), ODD_TEXT,
)
JUNK = st.recursive(
    LEAF, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node[:4]):
            found += paths(value, (*prefix, i))
    return found


def mutate(doc: Any, path: tuple[Any, ...], op: str, value: Any) -> None:
    parent = doc
    for step in path[:-1]:
        try:
            parent = parent[step]
        except (KeyError, IndexError, TypeError):
            return
    last = path[-1]
    try:
        if op == "drop":
            del parent[last]
        else:
            parent[last] = value
    except (KeyError, IndexError, TypeError):
        return


@st.composite
def hostile(draw: st.DrawFn, platform: str) -> tuple[str, bytes]:
    topic, make = draw(st.sampled_from(SOURCES[platform]))
    if draw(st.integers(0, 9)) == 0:  # now and then not even JSON
        return topic, draw(st.binary(max_size=64) | st.sampled_from([b"", b"[]", b"null", b"{", b"1" * 5000,
                                                                      b"[" * 5000 + b"]" * 5000]))
    doc = copy.deepcopy(make())
    targets = paths(doc)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(targets))
        mutate(doc, path, draw(st.sampled_from(["drop", "replace", "replace"])), draw(JUNK))
    return topic, json.dumps(doc, ensure_ascii=draw(st.booleans()), allow_nan=True).encode()


# ---- valid variations ----------------------------------------------------------------------------

QUANTITY = st.integers(min_value=1, max_value=limits.MAX_LINE_QUANTITY)
PRICE = st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False).map(str)
SKU = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=limits.SKU_LENGTH).filter(
    lambda s: s.strip() == s and s.strip())
TITLE = st.text(st.characters(blacklist_categories=("Cs",)), max_size=700)
STOCK = st.integers(min_value=-limits.MAX_STOCK, max_value=limits.MAX_STOCK)
CURRENCY = st.sampled_from(["USD", "EUR", "JPY", "GBP", "CHF"])


@st.composite
def valid(draw: st.DrawFn, platform: str) -> tuple[str, bytes]:
    topic, make = draw(st.sampled_from([s for s in SOURCES[platform] if s[0] not in ("customers/redact",)]))
    doc = copy.deepcopy(make())
    if platform == "shopify" and topic.startswith("orders/"):
        doc["currency"] = doc["presentment_currency"] = draw(CURRENCY)
        for item in doc["line_items"]:
            q = draw(QUANTITY)
            price = draw(PRICE)
            item.update(quantity=q, fulfillable_quantity=q, sku=draw(SKU), name=draw(TITLE), price=price)
            item.pop("current_quantity", None)
            item["price_set"] = {"shop_money": {"amount": price, "currency_code": doc["currency"]},
                                 "presentment_money": {"amount": price, "currency_code": doc["currency"]}}
        doc.pop("refunds", None)
        doc.pop("fulfillments", None)
        doc["updated_at"] = f"2026-11-{draw(st.integers(3, 28)):02d}T10:00:00Z"
    elif platform == "shopify" and topic == "products/update":
        for variant in doc["variants"]:
            variant.update(sku=draw(SKU), price=draw(PRICE), title=draw(TITLE))
    elif platform == "shopify":
        doc["available"] = draw(STOCK)
    elif platform == "woocommerce" and topic.startswith("order.") and topic != "order.deleted":
        doc["currency"] = draw(CURRENCY)
        keep = draw(st.integers(0, len(doc["line_items"])))
        doc["line_items"] = doc["line_items"][:keep]  # lines removed in the editor: still a valid order
        for item in doc["line_items"]:
            q = draw(QUANTITY)
            item.update(quantity=q, sku=draw(SKU), name=draw(TITLE), total=draw(PRICE), total_tax="0.00")
        doc["date_modified_gmt"] = f"2026-11-{draw(st.integers(3, 28)):02d}T10:00:00"
    elif platform == "woocommerce" and topic.startswith("product."):
        doc.update(manage_stock=True, stock_quantity=draw(STOCK), sku=draw(SKU), price=draw(PRICE),
                   name=draw(TITLE))
    elif platform == "sandbox" and topic.startswith("orders/"):
        doc["currency"] = draw(CURRENCY)
        for item in doc["line_items"]:
            item.update(quantity=draw(QUANTITY), price=draw(PRICE), sku=draw(SKU), title=draw(TITLE))
        doc["updated_at"] = f"2026-11-{draw(st.integers(3, 28)):02d}T10:00:00+00:00"
    elif platform == "sandbox" and topic == "inventory/update":
        doc.update(available=draw(STOCK), sku=draw(SKU))
    elif platform == "sandbox":
        doc.update(sku=draw(SKU), title=draw(TITLE), price=draw(PRICE),
                   lead_time_days=draw(st.integers(0, limits.MAX_LEAD_TIME_DAYS)))
    return topic, json.dumps(doc, ensure_ascii=draw(st.booleans())).encode()


# ---- the service under test ----------------------------------------------------------------------


def signed(platform: str, topic: str, body: bytes) -> dict[str, str]:
    if platform == "shopify":
        return webhook_headers(topic, body, shop=SHOPIFY_SHOP, secret=SHOPIFY_SECRET)
    if platform == "woocommerce":
        resource, _, event = topic.partition(".")
        return {
            "Content-Type": "application/json",
            "X-WC-Webhook-Source": f"https://{WOO_SHOP}/",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": woo_signature(WOO_SECRET, body),
            "X-WC-Webhook-ID": "1",
            "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex,
        }
    headers, _ = build_delivery("shop-one.sandbox", SANDBOX_SECRET, topic, {})
    from adapters.sandbox.webhooks import sign

    return headers | {"X-Sandbox-Hmac-Sha256": sign(SANDBOX_SECRET, body)}


@pytest.fixture
def service(config, services, clock):  # type: ignore[no-untyped-def]
    app = create_app(config, services, background=False)
    client = app.test_client()
    connect_sandbox(services, client, clock)
    services.shops.connect(Platform.SHOPIFY, SHOPIFY_SHOP, name="Fuzz", credentials={"access_token": "shpat_x"},
                           currency="USD")
    services.shops.connect(Platform.WOOCOMMERCE, WOO_SHOP, name="Woo", credentials={"url": f"https://{WOO_SHOP}"},
                           webhook_secret=WOO_SECRET, currency="USD")
    return services, client


def run_one(service, caplog, platform: str, topic: str, body: bytes) -> DeliveryRow | None:  # type: ignore[no-untyped-def]
    services, client = service
    caplog.clear()
    answer = client.post(f"/webhooks/{platform}", data=body, headers=signed(platform, topic, body))
    assert answer.status_code == 200, (answer.status_code, answer.get_data(as_text=True)[:500])
    services.inbox.process_pending()
    ours = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.split(".")[0] in ("connector",
                                                                                                 "adapters")]
    assert ours == [], [r.getMessage() for r in ours]
    with services.db.session() as s:
        row = s.scalar(select(DeliveryRow).order_by(DeliveryRow.id.desc()).limit(1))
        if row is not None:
            s.expunge(row)
    assert row is not None
    assert row.status in ("done", "dead"), (row.status, row.error)  # never left to retry as transient
    if row.status == "dead":
        assert row.error and len(row.error) > 10
    return row


PLATFORMS = ["shopify", "woocommerce", "sandbox"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_hostile_payloads_never_500_never_a_traceback_and_are_done_or_dead_lettered_with_a_reason(
    service, caplog, platform
) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.WARNING)

    @FUZZ
    @given(case=hostile(platform))
    def check(case: tuple[str, bytes]) -> None:
        run_one(service, caplog, platform, *case)

    check()


@pytest.mark.parametrize("platform", PLATFORMS)
def test_valid_payloads_are_never_dead_lettered(service, caplog, platform) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.WARNING)

    @VALID
    @given(case=valid(platform))
    def check(case: tuple[str, bytes]) -> None:
        row = run_one(service, caplog, platform, *case)
        assert row is not None and row.status == "done", row.error

    check()
