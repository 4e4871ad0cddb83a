"""Done when: the whole install against mocked Shopify endpoints, then a real-payload order for an
out-of-stock variant arrives signed, and the right GraphQL mutations go out once, even when the
webhook is delivered three times. Then the stock arrives and the order is released and charged once."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

from sqlalchemy import select

from adapters.shopify.client import HOLD_HANDLE
from connector.domain.model import Platform
from connector.storage.tables import ShopRow
from tests.shared_files import load_fixture
from tests.shopify_webhooks import TEST_SHOP

from .app_harness import API_KEY, APP_URL, TOKEN, ShopifyHarness

MUTATIONS = {"TagsAdd", "OrderBackorderStart", "OrderBackorderHoldAndDate", "TagsRemove", "FulfillmentOrderHold",
             "FulfillmentOrderReleaseHold", "OrderCapture", "MetafieldsSet", "MetafieldsDelete", "OrderUpdate",
             "RefundCreate"}
ORDER_ID = "450789469"


def mutations(h: ShopifyHarness, since: int = 0) -> Counter:
    return Counter(op for op in h.admin.operations[since:] if op in MUTATIONS)


def catalogue() -> dict:
    """The real product fixture, as a products/update body of today's API (with inventory item ids)."""
    product = load_fixture("shopify", "rest_product.json")["product"]
    for variant in product["variants"]:
        variant["inventory_item_id"] = variant["id"] + 7
    return product


def test_install_then_backordered_order_delivered_three_times(harness: ShopifyHarness) -> None:
    h = harness
    # ---- install: redirect to Shopify, callback, token exchange, webhook subscriptions ----------
    start, done = h.install()
    authorize = urlparse(start.headers["Location"])
    assert (authorize.netloc, authorize.path) == (TEST_SHOP, "/admin/oauth/authorize")
    assert parse_qs(authorize.query)["redirect_uri"] == [f"{APP_URL}/shopify/callback"]
    assert done.status_code == 302, done.get_data(as_text=True)
    assert done.headers["Location"] == f"https://{TEST_SHOP}/admin/apps/{API_KEY}"
    token_calls = [c for c in h.rsps.calls if c.request.url.endswith("/admin/oauth/access_token")]
    assert len(token_calls) == 1 and json.loads(token_calls[0].request.body)["code"] == "oauth-code-1"
    assert {s["topic"] for s in h.store.subscriptions} == {
        "ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED", "ORDERS_PAID", "INVENTORY_LEVELS_UPDATE",
        "PRODUCTS_UPDATE", "APP_UNINSTALLED"}
    assert {s["uri"] for s in h.store.subscriptions} == {f"{APP_URL}/webhooks/shopify"}
    shop = h.services.shops.get(Platform.SHOPIFY, TEST_SHOP)
    assert (shop.name, shop.timezone, shop.locale) == ("Backorder Test Shop", "Europe/Rome", "it")
    assert h.services.shops.credentials(Platform.SHOPIFY, TEST_SHOP)["access_token"] == TOKEN
    with h.services.db.session() as s:
        sealed = s.scalar(select(ShopRow.credentials).where(ShopRow.domain == TEST_SHOP))
    assert TOKEN.encode() not in sealed, "the token must be stored encrypted"
    h.admin.expected_token = TOKEN  # from now on every Admin call must carry the installed token

    # ---- the catalogue and stock arrive by webhook: RED is out of stock ----------------------
    product = catalogue()
    h.store.add_product(product)  # the shop has it (storefront values are written onto its variants)
    assert h.webhook("products/update", product).status_code == 200
    for variant in product["variants"]:
        level = {"inventory_item_id": variant["inventory_item_id"], "location_id": 905684977,
                 "available": 0 if variant["sku"] == "IPOD2008RED" else 10,
                 "updated_at": "2026-11-25T08:00:00-05:00"}
        assert h.webhook("inventory_levels/update", level).status_code == 200
    h.settle()

    # ---- the real order, signed, delivered three times (Shopify retries keep the event id) ----
    # Shopify commits the sold units at once: available drops by one for each line, RED goes to -1,
    # and those inventory webhooks arrive along with the order's.
    rest_order = load_fixture("shopify", "rest_order.json")["order"]
    h.store.add_rest_order(rest_order, [load_fixture("shopify", "rest_transaction.json")["transaction"]])
    body = json.dumps(rest_order).encode()
    before = len(h.admin.operations)
    answers = [h.webhook("orders/create", body, event_id="evt-order-create-1").get_json()["status"]]
    sold = {li["variant_id"] for li in rest_order["line_items"]}
    for variant in product["variants"]:
        if variant["id"] in sold:
            h.webhook("inventory_levels/update", {
                "inventory_item_id": variant["inventory_item_id"], "location_id": 905684977,
                "available": -1 if variant["sku"] == "IPOD2008RED" else 9, "updated_at": "2026-11-25T09:00:00-05:00"})
    h.settle()
    for _ in range(2):  # Shopify did not see our 200 in time and delivers again, later
        h.settle(wait_seconds=60)
        answers.append(h.webhook("orders/create", body, event_id="evt-order-create-1").get_json()["status"])
        h.settle()
    assert answers == ["accepted", "duplicate", "duplicate"]
    # the start of the wait: the tag (answering with the order), then the hold with the ETA's metafield and note
    expected = Counter({"OrderBackorderStart": 1, "OrderBackorderHoldAndDate": 1})
    assert mutations(h, before) == expected
    assert not {"OrderFulfillmentOrders", "OrderEta"} & set(h.admin.operations[before:])  # no read of its own
    # the same order again under another topic (a new event): decisions are idempotent too
    assert h.webhook("orders/updated", body, event_id="evt-order-updated-1").status_code == 200
    h.settle(wait_seconds=60)
    assert mutations(h, before) == expected
    order = h.store.order(ORDER_ID)
    assert order["tags"] == {"backorder"}
    (held,) = order["fulfillmentOrders"]  # retail orders ship complete: the whole order waits
    assert held["status"] == "ON_HOLD" and [x["handle"] for x in held["holds"]] == [HOLD_HANDLE]
    eta = order["metafields"][("backorder_connector", "eta")]
    assert order["note"].startswith("Backorder ETA: ") and eta in order["note"]
    assert [m[0]["template"] for m in h.mails] == ["backorder_confirmation"]
    assert h.mails[0][0]["to"] == "bob.norman@hostmail.com"

    # ---- RED arrives (delivered three times too): release, untag, capture the authorization once ----
    before = len(h.admin.operations)
    red = next(v for v in product["variants"] if v["sku"] == "IPOD2008RED")
    restock = {"inventory_item_id": red["inventory_item_id"], "location_id": 905684977, "available": 4,  # 5 came
               "updated_at": "2026-11-26T08:00:00-05:00"}
    for _ in range(3):
        h.webhook("inventory_levels/update", restock, event_id="evt-restock-red")
        h.settle(wait_seconds=60)
    assert mutations(h, before) == Counter({"FulfillmentOrderReleaseHold": 1, "TagsRemove": 1, "OrderCapture": 1,
                                            "MetafieldsSet": 3})  # the capture journal: pending, then done;
    # and RED's storefront value, once although the restock came three times
    red_fields = h.store.variant_metafields[f"gid://shopify/ProductVariant/{red['id']}"]
    red_eta = json.loads(red_fields[("$app", "backorder_eta")])
    assert red_eta["status"] == "in_stock" and red_eta["ships_by"] is None
    assert held["status"] == "OPEN" and held["holds"] == [] and order["tags"] == set()
    captures = [t for t in order["transactions"] if t["kind"] == "CAPTURE"]
    assert [Decimal(t["amountSet"]["presentmentMoney"]["amount"]) for t in captures] == [Decimal("409.94")]
    assert captures[0]["parentTransaction"]["id"] == "gid://shopify/OrderTransaction/389404469"


def test_bad_signature_is_401_and_nothing_is_stored(harness: ShopifyHarness) -> None:
    h = harness
    h.install()
    body = json.dumps(load_fixture("shopify", "rest_order.json")["order"]).encode()
    assert h.webhook("orders/create", body, secret="not-the-app-secret").status_code == 401
    assert h.services.inbox.depth() == {}
    for name in ("compliance_customers_data_request.json", "compliance_customers_redact.json",
                 "compliance_shop_redact.json"):
        topic = {"compliance_customers_data_request.json": "customers/data_request",
                 "compliance_customers_redact.json": "customers/redact",
                 "compliance_shop_redact.json": "shop/redact"}[name]
        assert h.webhook(topic, load_fixture("shopify", name), secret="wrong").status_code == 401
    assert h.services.inbox.depth() == {}
