"""Reconciliation, uninstall, re-install and scope changes, compliance, refused installs — through the app."""

from __future__ import annotations

import json
import time
from collections import Counter
from urllib.parse import parse_qs, urlparse

from sqlalchemy import select

from adapters.shopify.config import DEFAULT_SCOPES
from connector.domain.model import Platform
from connector.storage.tables import ComplianceRequestRow, DeliveryRow, OrderRow, ShopRow
from connector.sweeps import reconcile_all
from tests.shared_files import load_fixture
from tests.shopify_webhooks import TEST_SHOP, compliance_body

from .app_harness import TOKEN, ShopifyHarness, signed_query
from .test_install_to_backorder import ORDER_ID, catalogue, mutations


def out_of_stock_shop(h: ShopifyHarness) -> dict:
    """The fake shop holds the catalogue, RED oversold by the real order: none of it was sent by webhook."""
    product = catalogue()
    h.store.add_product(product)
    for variant in product["variants"]:
        h.store.set_level(variant["inventory_item_id"], 905684977, -1 if variant["sku"] == "IPOD2008RED" else 9)
    rest_order = load_fixture("shopify", "rest_order.json")["order"]
    h.store.add_rest_order(rest_order, [load_fixture("shopify", "rest_transaction.json")["transaction"]])
    return product


def test_reconciliation_catches_missed_webhooks_once(harness: ShopifyHarness) -> None:
    h = harness
    h.install()
    h.admin.expected_token = TOKEN
    out_of_stock_shop(h)
    before = len(h.admin.operations)
    reconcile_all(h.services)
    h.settle()
    assert {"ProductVariants", "Locations", "LocationInventoryLevels", "OrdersUpdatedSince"} <= set(
        h.admin.operations[before:])
    # the start of the order's wait (the tag, then the hold with its ETA's metafield and note), and the
    # storefront values of the variants reconciliation found (MetafieldsSet)
    assert mutations(h, before) == Counter({"OrderBackorderStart": 1, "OrderBackorderHoldAndDate": 1,
                                           "MetafieldsSet": 1})
    since = h.admin.called("OrdersUpdatedSince")[0]["query"]
    assert since.startswith("updated_at:>='") and since.endswith("Z'")
    # the next interval reads again and, the facts being the same, does nothing more
    before = len(h.admin.operations)
    reconcile_all(h.services)
    h.settle()
    assert mutations(h, before) == Counter()
    # and the webhook that finally arrives changes nothing either
    h.webhook("orders/create", json.dumps(h.store.order(ORDER_ID)["rest"]).encode())
    h.settle()
    assert mutations(h, before) == Counter()


def test_uninstall_stops_all_work_and_forgets_the_token(harness: ShopifyHarness) -> None:
    h = harness
    h.install()
    h.admin.expected_token = TOKEN
    out_of_stock_shop(h)
    shop_resource = load_fixture("shopify", "rest_shop.json")["shop"]
    assert h.webhook("app/uninstalled", shop_resource).status_code == 200
    h.settle()
    ref = h.services.shops.ref(Platform.SHOPIFY, TEST_SHOP)
    assert ref.status == "uninstalled"
    assert h.services.shops.credentials(Platform.SHOPIFY, TEST_SHOP) is None
    before = len(h.admin.operations)
    h.webhook("orders/create", json.dumps(h.store.order(ORDER_ID)["rest"]).encode())
    h.settle()
    reconcile_all(h.services)
    h.settle()
    assert h.admin.operations[before:] == [], "nothing may be sent to an uninstalled shop"
    with h.services.db.session() as s:
        assert s.scalar(select(OrderRow.id)) is None

    # re-install: OAuth again, a new token, the shop active with its settings kept
    h.rsps.replace("POST", f"https://{TEST_SHOP}/admin/oauth/access_token",
                   json={"access_token": "shpat_second_token", "scope": ",".join(DEFAULT_SCOPES)})
    h.admin.expected_token = "shpat_second_token"
    _, done = h.install()
    assert done.status_code == 302
    assert h.services.shops.ref(Platform.SHOPIFY, TEST_SHOP).status == "active"
    assert h.services.shops.credentials(Platform.SHOPIFY, TEST_SHOP)["access_token"] == "shpat_second_token"
    assert len(h.store.subscriptions) == 7  # subscribed again only where missing: none were


def launch(h: ShopifyHarness):  # type: ignore[no-untyped-def]
    return h.http.get("/shopify/install?" + signed_query({"shop": TEST_SHOP, "timestamp": str(int(time.time()))}))


def test_launch_of_an_installed_shop_skips_oauth_unless_scopes_changed(harness: ShopifyHarness) -> None:
    h = harness
    h.install()
    h.admin.expected_token = TOKEN
    h.store.subscriptions = [s for s in h.store.subscriptions if s["topic"] != "ORDERS_CREATE"]  # dropped by Shopify
    opened = launch(h)
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/app")  # the merchant app, signed in
    assert "ORDERS_CREATE" in {s["topic"] for s in h.store.subscriptions}, "the launch repairs the subscriptions"
    page = h.http.get(opened.headers["Location"])
    assert page.status_code == 200 and "Backorder Test Shop" in page.get_data(as_text=True)
    status = h.http.get(f"/shopify/installed?shop={TEST_SHOP}")
    assert status.status_code == 200 and "active" in status.get_data(as_text=True)
    # the service now asks for one more scope: the next launch goes through OAuth again
    h.app.extensions["connector"].shops.connect(
        Platform.SHOPIFY, TEST_SHOP, name="Backorder Test Shop",
        credentials={"access_token": TOKEN, "scopes": "write_orders,read_products"})
    again = launch(h)
    location = urlparse(again.headers["Location"])
    assert location.path == "/admin/oauth/authorize" and "write_inventory" in parse_qs(location.query)["scope"][0]


def test_refused_installs_store_nothing(harness: ShopifyHarness) -> None:
    h = harness
    start = launch(h)
    state = parse_qs(urlparse(start.headers["Location"]).query)["state"][0]
    now = str(int(time.time()))
    bad_state = h.http.get("/shopify/callback?" + signed_query(
        {"code": "c", "shop": TEST_SHOP, "state": "forged", "timestamp": now}))
    assert bad_state.status_code == 400 and "state" in bad_state.get_data(as_text=True)
    # the state was used up by the failed attempt: even the right one no longer works
    replay = h.http.get("/shopify/callback?" + signed_query(
        {"code": "c", "shop": TEST_SHOP, "state": state, "timestamp": now}))
    assert replay.status_code == 400
    forged = h.http.get(f"/shopify/callback?code=c&shop={TEST_SHOP}&state={state}&timestamp={now}&hmac=00")
    assert forged.status_code == 400
    foreign = h.http.get("/shopify/install?shop=evil.example.com")
    assert foreign.status_code == 400
    assert not [c for c in h.rsps.calls if "access_token" in c.request.url]
    assert h.services.shops.ref(Platform.SHOPIFY, TEST_SHOP) is None


def test_compliance_webhooks_export_and_redact_what_is_stored(harness: ShopifyHarness) -> None:
    h = harness
    h.install()
    h.admin.expected_token = TOKEN
    rest_order = load_fixture("shopify", "rest_order.json")["order"]
    h.webhook("orders/create", rest_order)
    h.settle()
    request = compliance_body(load_fixture("shopify", "compliance_customers_data_request.json"))
    request["customer"]["email"] = "bob.norman@hostmail.com"
    assert h.webhook("customers/data_request", request).status_code == 200
    h.settle()
    with h.services.db.session() as s:
        export = s.scalar(select(ComplianceRequestRow).where(ComplianceRequestRow.kind == "customer_export"))
        assert [o["id"] for o in export.export["orders"]] == [ORDER_ID]
        assert export.export["orders"][0]["email"] == "bob.norman@hostmail.com"
        # the webhook kept as it came, with what the order rows do not hold (addresses, phone)
        assert [(w["topic"], w["body"]) for w in export.export["stored_webhooks"]] == [("orders/create", rest_order)]
        assert "1 stored webhook(s)" in export.summary

    redact = compliance_body(load_fixture("shopify", "compliance_customers_redact.json"))
    redact["customer"]["email"] = "bob.norman@hostmail.com"
    h.webhook("customers/redact", redact)
    h.settle()
    with h.services.db.session() as s:
        order = s.scalar(select(OrderRow))
        assert order.customer_email is None and order.customer_name == "redacted"
        # the webhooks kept as they came (the order, both requests) and the export name Bob no more
        stored = {d.topic: d for d in s.scalars(select(DeliveryRow))}
        assert {t for t, d in stored.items() if d.body == b""} == {
            "orders/create", "customers/data_request", "customers/redact"}
        assert not [t for t, d in stored.items() if b"hostmail" in d.body.lower()]
        assert all(d.status == "done" for d in stored.values())
        export = s.scalar(select(ComplianceRequestRow).where(ComplianceRequestRow.kind == "customer_export"))
        assert export.export is None and export.customer_email is None
        assert "erased them from 3 stored webhook(s)" in s.scalar(
            select(ComplianceRequestRow.summary).where(ComplianceRequestRow.kind == "customer_redact"))

    h.webhook("shop/redact", compliance_body(load_fixture("shopify", "compliance_shop_redact.json")))
    h.settle()
    with h.services.db.session() as s:
        assert s.scalar(select(ShopRow.id)) is None and s.scalar(select(OrderRow.id)) is None
        assert list(s.scalars(select(DeliveryRow.topic))) == ["shop/redact"]  # its own: the shop's id only


def test_install_from_inside_the_admin_iframe_breaks_out_to_the_top_window(harness: ShopifyHarness) -> None:
    h = harness
    page = h.http.get("/shopify/install?" + signed_query(
        {"shop": TEST_SHOP, "timestamp": str(int(time.time())), "embedded": "1"}))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "window.top.location.href" in html
    assert f'"https://{TEST_SHOP}/admin/oauth/authorize?' in html


def test_unconfigured_app_answers_503() -> None:
    from flask import Flask

    from adapters.shopify.config import ShopifyConfig
    from adapters.shopify.web import make_blueprint

    app = Flask(__name__)
    app.secret_key = "x"
    app.register_blueprint(make_blueprint(ShopifyConfig.from_mapping({})))
    assert app.test_client().get(f"/shopify/install?shop={TEST_SHOP}").status_code == 503
    assert app.test_client().get("/shopify/callback").status_code == 503


def test_receiving_a_purchase_order_adds_the_stock_in_shopify_once(harness: ShopifyHarness) -> None:
    from datetime import date

    from connector.storage.tables import PurchaseOrderLineRow, PurchaseOrderRow
    from connector.supply.receiving import receive_purchase_order

    h = harness
    h.install()
    h.admin.expected_token = TOKEN
    product = out_of_stock_shop(h)
    reconcile_all(h.services)
    h.settle()
    red = next(v for v in product["variants"] if v["sku"] == "IPOD2008RED")
    with h.services.db.session() as s:
        shop = s.scalar(select(ShopRow))
        po = PurchaseOrderRow(shop_id=shop.id, reference="PO-7", expected_on=date(2026, 12, 1),
                              created_at=h.clock(), lines=[PurchaseOrderLineRow(sku="IPOD2008RED", quantity=5)])
        s.add(po)
        s.flush()
        receive_purchase_order(s, shop, po.id, h.clock())
    before = len(h.admin.operations)
    h.settle()
    assert h.store.levels[(red["inventory_item_id"], 905684977)] == 4  # -1 oversold + 5 received
    assert h.admin.operations[before:].count("InventoryAdjustQuantities") == 1
    assert h.admin.operations[before:].count("OrderCapture") == 1  # the order ships: charged once
    # Shopify then announces the new level by webhook: nothing more happens
    before = len(h.admin.operations)
    h.webhook("inventory_levels/update", {"inventory_item_id": red["inventory_item_id"], "location_id": 905684977,
                                          "available": 4, "updated_at": "2026-11-26T08:00:00-05:00"})
    h.settle(wait_seconds=60)
    assert mutations(h, before) == Counter() and "InventoryAdjustQuantities" not in h.admin.operations[before:]


def test_launch_with_a_revoked_token_goes_through_oauth_again(harness: ShopifyHarness) -> None:
    from tests.shopify_schema import Raw

    h = harness
    h.install()
    h.admin.on("WebhookSubscriptions", Raw(401, {"errors": "[API] Invalid API key or access token"}))
    again = launch(h)
    assert urlparse(again.headers["Location"]).path == "/admin/oauth/authorize"


def test_reconciliation_upkeep_puts_back_dropped_webhook_subscriptions(harness: ShopifyHarness) -> None:
    from tests.shopify_schema import Raw

    h = harness
    h.install()
    h.admin.expected_token = TOKEN
    h.store.subscriptions = [s for s in h.store.subscriptions if s["topic"] != "INVENTORY_LEVELS_UPDATE"]
    reconcile_all(h.services)
    assert "INVENTORY_LEVELS_UPDATE" in {s["topic"] for s in h.store.subscriptions}
    assert {s["uri"] for s in h.store.subscriptions} == {"https://backorders.example.com/webhooks/shopify"}
    # a refused token marks the shop for re-connecting, and nothing is read with it
    h.admin.on("WebhookSubscriptions", Raw(401, {"errors": "[API] Invalid API key or access token"}))
    before = len(h.admin.operations)
    reconcile_all(h.services)
    assert h.services.shops.ref(Platform.SHOPIFY, TEST_SHOP).status == "needs_reconnect"
    assert h.admin.operations[before:] == ["WebhookSubscriptions"]
