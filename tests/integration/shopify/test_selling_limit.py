"""Selling only what we can promise, on Shopify: the store stops selling a variant whose next unit would
ship after the shop's longest wait (inventory policy DENY), selling resumes when a purchase order is
approved, a variant the merchant set to deny is never switched on, our own switch coming back by
webhook is not taken for the merchant's, and the merchant switching selling back on is respected."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from adapters.base import UserError
from connector.domain.model import Platform
from connector.storage.tables import PurchaseOrderLineRow, PurchaseOrderRow, SellingStopRow, ShopRow
from tests.integration.app.helpers import post, sign_in
from tests.shared_files import load_fixture
from tests.shopify_webhooks import TEST_SHOP

from .app_harness import TOKEN, ShopifyHarness

LOCATION = 905684977
RED, BLACK = "IPOD2008RED", "IPOD2008BLACK"


def _product() -> dict:
    product = load_fixture("shopify", "rest_product.json")["product"]
    for variant in product["variants"]:
        variant["inventory_item_id"] = variant["id"] + 7
        if variant["sku"] == BLACK:
            variant["inventory_policy"] = "deny"  # the merchant does not sell BLACK when out of stock
    return product


def _installed(h: ShopifyHarness, **settings: object) -> tuple[dict, int]:
    h.install()
    h.admin.expected_token = TOKEN
    shop = h.services.shops.ref(Platform.SHOPIFY, TEST_SHOP)
    with h.services.db.session() as s:
        row = s.get(ShopRow, shop.id)
        row.settings = {**(row.settings or {}), **settings}
    product = _product()
    h.store.add_product(product)
    for variant in product["variants"]:
        h.store.set_level(variant["inventory_item_id"], LOCATION, 0 if variant["sku"] in (RED, BLACK) else 10)
    assert h.webhook("products/update", product).status_code == 200
    for variant in product["variants"]:
        h.webhook("inventory_levels/update", {
            "inventory_item_id": variant["inventory_item_id"], "location_id": LOCATION,
            "available": 0 if variant["sku"] in (RED, BLACK) else 10, "updated_at": "2026-11-25T08:00:00-05:00"})
    h.settle()
    return product, shop.id


def _policy(h: ShopifyHarness, product: dict, sku: str) -> str:
    variant = next(v for v in product["variants"] if v["sku"] == sku)
    return h.store.variant(variant["id"])["inventory_policy"]


def _echo(h: ShopifyHarness, event_id: str) -> None:
    """Shopify's products/update for the product as it is now (after our own switch, say)."""
    product = h.store.products[0]
    h.webhook("products/update", product, event_id=event_id)
    h.settle()


def _stops(h: ShopifyHarness) -> dict[str, tuple[str, str]]:
    with h.services.db.session() as s:
        return {r.sku: (r.state, r.reason) for r in s.scalars(select(SellingStopRow))}


def _bulk_updates(h: ShopifyHarness) -> Counter:
    return Counter((u["variants"][0]["id"].rsplit("/", 1)[1], u["variants"][0]["inventoryPolicy"])
                   for u in h.store.policy_updates)


def test_selling_stops_past_the_longest_wait_and_resumes_when_a_purchase_order_is_approved(
    harness: ShopifyHarness,
) -> None:
    h = harness
    # goods come by sea: 60 days from the supplier; the shop sells no wait longer than 30 days
    product, shop_id = _installed(h, longest_wait_days=30, default_lead_time_days=60)
    red_id = next(str(v["id"]) for v in product["variants"] if v["sku"] == RED)
    assert _policy(h, product, RED) == "deny"
    assert _bulk_updates(h) == Counter({(red_id, "DENY"): 1})
    assert _policy(h, product, BLACK) == "deny" and _policy(h, product, "IPOD2008PINK") == "continue"
    assert _stops(h) == {RED: ("stopped", "wait_too_long")}

    # our own switch comes back as products/update (RED: deny): not the merchant's doing
    _echo(h, "evt-echo-1")
    h.settle(wait_seconds=60)
    assert _stops(h) == {RED: ("stopped", "wait_too_long")}
    assert sum(_bulk_updates(h).values()) == 1

    # the dashboard says which SKU is stopped and why
    sign_in(h.http, h.services, shop_id)
    page = h.http.get("/app/").get_data(as_text=True)
    assert f'data-stopped-sku="{RED}"' in page and "Not sold on backorder" in page and "longest wait of 30" in page

    # a purchase order for RED and BLACK, arriving in 10 days, is approved: RED sells again, BLACK stays off
    today = h.clock().date()
    with h.services.db.session() as s:
        po = PurchaseOrderRow(shop_id=shop_id, reference="PO-SEA-1", expected_on=today + timedelta(days=10),
                              draft=True, created_at=h.clock())
        po.lines = [PurchaseOrderLineRow(sku=RED, quantity=20), PurchaseOrderLineRow(sku=BLACK, quantity=20)]
        s.add(po)
        s.flush()
        po_id = po.id
    assert post(h.http, f"/app/purchase-orders/{po_id}/approve").status_code == 302
    h.settle()
    assert _policy(h, product, RED) == "continue"
    assert _policy(h, product, BLACK) == "deny", "a variant the merchant set to deny is never switched on"
    assert _bulk_updates(h) == Counter({(red_id, "DENY"): 1, (red_id, "CONTINUE"): 1})
    assert _stops(h) == {RED: ("resumed", "within_limits")}
    _echo(h, "evt-echo-2")
    assert sum(_bulk_updates(h).values()) == 2
    assert f'data-stopped-sku="{RED}"' not in h.http.get("/app/").get_data(as_text=True)


def test_the_merchant_switching_selling_back_on_is_respected(harness: ShopifyHarness) -> None:
    h = harness
    product, shop_id = _installed(h, longest_wait_days=30, default_lead_time_days=60)
    assert _stops(h) == {RED: ("stopped", "wait_too_long")}
    h.settle(wait_seconds=5)
    # the merchant sets RED to "continue selling when out of stock" in the Shopify admin, after our stop
    red = next(v for v in h.store.products[0]["variants"] if v["sku"] == RED)
    red["inventory_policy"] = "continue"
    red["updated_at"] = (h.clock() + timedelta(minutes=5)).isoformat()
    _echo(h, "evt-merchant-1")
    h.services.work_once()
    h.settle(wait_seconds=3600)
    assert _policy(h, product, RED) == "continue"
    assert _stops(h) == {RED: ("overridden", "merchant_resumed")}
    assert Counter(u["variants"][0]["inventoryPolicy"] for u in h.store.policy_updates) == Counter({"DENY": 1})


def test_shopify_refuses_an_unknown_variant_with_user_errors(harness: ShopifyHarness) -> None:
    h = harness
    product, _ = _installed(h)
    client = h.services.client_for(h.services.shops.ref(Platform.SHOPIFY, TEST_SHOP).id)
    try:
        client.set_backorder_selling("NOPE", None, "1234", False)
    except UserError as exc:
        assert "not found" in str(exc)
    else:
        raise AssertionError("an unknown variant must be refused")
    # the mutation's userErrors (a variant of another product) surface as UserError, nothing changed
    black = next(v for v in product["variants"] if v["sku"] == BLACK)
    try:
        client.gql.mutate("ProductVariantsBulkUpdate", {
            "productId": "gid://shopify/Product/1",
            "variants": [{"id": f"gid://shopify/ProductVariant/{black['id']}", "inventoryPolicy": "CONTINUE"}],
        }, "productVariantsBulkUpdate")
    except UserError as exc:
        assert "Product does not exist" in str(exc)
    else:
        raise AssertionError("userErrors must be raised")
    assert black["inventory_policy"] == "deny"
    # already as wanted: read first, no mutation
    client.set_backorder_selling(BLACK, str(product["id"]), str(black["id"]), False)
    assert h.store.policy_updates == []
