"""Issue 4, "done when": connect, a signed real-payload order for a product out of stock is held
on-hold with an ETA note once (even when delivered twice), and a missed webhook is recovered by
reconciliation. Everything but the store's HTTP API is real: Flask, SQLite, inbox, engine, outbox."""

from __future__ import annotations

import copy

import pytest

from connector.domain.model import Platform
from connector.sweeps import reconcile_all
from tests.integration.woocommerce.flows import connect, deliver, work
from tests.woocommerce_support import fixture

SHOP = "shop.example.com"


def single_product(stock: int) -> dict:
    """Product 93 of order 727's first line: no SKU, stock managed."""
    return fixture("rest_v3_product_retrieve.json") | {
        "id": 93,
        "name": "Woo Single #1",
        "price": "3.00",
        "manage_stock": True,
        "stock_quantity": stock,
        "date_modified_gmt": "2026-11-02T08:00:00",
    }


def bar3(stock: int, modified: str = "2026-11-02T08:00:00") -> dict:
    """Variation 23 (SKU Bar3) of order 727's second line, as `product.updated` delivers a variation."""
    return fixture("rest_v3_product_retrieve.json") | {
        "id": 23,
        "type": "variation",
        "parent_id": 22,
        "name": "Ship Your Idea - Black, M Test",
        "sku": "Bar3",
        "price": "12.00",
        "manage_stock": True,
        "stock_quantity": stock,
        "backorders": "notify",
        "stock_status": "onbackorder" if stock <= 0 else "instock",
        "date_modified_gmt": modified,
    }


@pytest.fixture
def connected(app, store, woo_services):
    http = app.test_client()
    connect(http, store)
    assert woo_services.shops.ref(Platform.WOOCOMMERCE, SHOP).status == "active"
    return http


def customer_notes(store, order_id):
    return [n["note"] for n in store.notes.get(order_id, []) if n["customer_note"]]


def private_notes(store, order_id):
    return [n["note"] for n in store.notes.get(order_id, []) if not n["customer_note"]]


def test_connect_then_a_backordered_order_is_held_once_and_a_missed_one_is_recovered(
    connected, store, woo_services, mails
):
    http = connected
    # The store as it is: 8 of product 93 left; Bar3 sold one beyond stock (notify backorders).
    store.add_product(single_product(8))
    store.add_product(
        fixture("rest_v3_product_retrieve.json") | {"id": 22, "type": "variable", "variations": [23]},
        variations=[bar3(-1)],
    )
    order = store.add_order(fixture("rest_v3_order_retrieve.json"))  # the published order 727, as it is
    assert deliver(http, store, "product.updated", single_product(8)) == "accepted"
    assert deliver(http, store, "product.updated", bar3(-1)) == "accepted"

    # The order arrives, signed; the same delivery comes twice, and its state once more merged into an update.
    assert deliver(http, store, "order.created", order, delivery_id="wc-d-727") == "accepted"
    assert deliver(http, store, "order.created", order, delivery_id="wc-d-727") == "duplicate"
    assert deliver(http, store, "order.updated", order) == "accepted"
    work(woo_services)

    held = store.orders[727]
    assert held["status"] == "on-hold"
    assert store.meta(727, "_backorder_hold") == "processing"
    assert store.meta(727, "_backorder_tags") == "backorder"
    eta = store.meta(727, "_backorder_eta")
    assert eta and eta > "2026-11-02"
    assert customer_notes(store, 727) == [f"Backordered items are promised to ship by {eta}."]
    assert len(private_notes(store, 727)) == 1 and "on hold for backorder" in private_notes(store, 727)[0]
    confirmations = [m for m in mails if m["template"] == "backorder_confirmation"]
    assert len(confirmations) == 1 and confirmations[0]["to"] == "john.doe@example.com"
    assert [li["sku"] for li in confirmations[0]["lines"]] == ["Bar3"]

    # WooCommerce tells us about our own change (order.updated, now on-hold): nothing more is done.
    writes = len(store.writes())
    assert deliver(http, store, "order.updated", store.orders[727]) == "accepted"
    work(woo_services)
    assert len(store.writes()) == writes
    assert len(customer_notes(store, 727)) == 1

    # A second shopper buys Bar3; that order's webhook and the stock update never reach us.
    missed = copy.deepcopy(fixture("rest_v3_order_retrieve.json"))
    missed |= {
        "id": 728,
        "number": "728",
        "date_created_gmt": "2026-11-02T08:30:00",
        "date_modified_gmt": "2026-11-02T08:30:00",
        "line_items": [missed["line_items"][1] | {"id": 330}],
    }
    missed["billing"] |= {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}
    store.add_order(missed)
    store.variations[22][0]["stock_quantity"] = -2
    assert reconcile_all(woo_services) > 0
    work(woo_services)
    assert store.orders[728]["status"] == "on-hold"
    assert customer_notes(store, 728) == [
        f"Backordered items are promised to ship by {store.meta(728, '_backorder_eta')}."
    ]
    assert [m["to"] for m in mails if m["template"] == "backorder_confirmation"] == [
        "john.doe@example.com",
        "ada@example.com",
    ]
    assert len(customer_notes(store, 727)) == 1  # reconciliation re-read 727 too, and changed nothing there

    # Stock arrives (5 received): both orders can ship and go back to processing.
    store.variations[22][0]["stock_quantity"] = 3
    assert deliver(http, store, "product.updated", bar3(3, modified="2026-11-02T10:00:00")) == "accepted"
    work(woo_services)
    for order_id in (727, 728):
        assert store.orders[order_id]["status"] == "processing"
        assert store.meta(order_id, "_backorder_hold") == ""
        assert store.meta(order_id, "_backorder_tags") == ""
    assert sorted(m["to"] for m in mails if m["template"] == "on_its_way") == [
        "ada@example.com",
        "john.doe@example.com",
    ]


def test_revoked_keys_mark_the_store_for_reconnection(connected, store, woo_services):
    store.add_product(single_product(8))
    store.add_product(
        fixture("rest_v3_product_retrieve.json") | {"id": 22, "type": "variable", "variations": [23]},
        variations=[bar3(-1)],
    )
    store.add_order(fixture("rest_v3_order_retrieve.json"))
    store.secret = "cs_rotated"  # the merchant revoked our key in WordPress
    reconcile_all(woo_services)
    shop = woo_services.shops.get(Platform.WOOCOMMERCE, SHOP)
    ref = woo_services.shops.ref(Platform.WOOCOMMERCE, SHOP)
    assert ref.status == "needs_reconnect" and shop is not None
    store.secret = "cs_live_1"
    connect(connected, store)  # re-connecting makes it active again
    assert woo_services.shops.ref(Platform.WOOCOMMERCE, SHOP).status == "active"


def test_hooks_the_store_disabled_are_recreated_before_reconciling(connected, store, woo_services):
    hook = next(h for h in store.webhooks.values() if h["topic"] == "order.updated")
    hook["status"] = "disabled"  # WooCommerce did this after five failed deliveries
    reconcile_all(woo_services)
    active = sorted(h["topic"] for h in store.webhooks.values() if h["status"] == "active")
    assert active == sorted(["order.created", "order.updated", "order.deleted", "product.updated"])
    assert hook["id"] not in store.webhooks
    new = next(h for h in store.webhooks.values() if h["topic"] == "order.updated")
    assert store.webhook_secrets[new["id"]].encode() == woo_services.shops.webhook_secret(Platform.WOOCOMMERCE, SHOP)


def test_a_delivery_signed_with_another_secret_is_refused_and_nothing_stored(connected, store, woo_services):
    body, headers = store.delivery("order.created", fixture("rest_v3_order_retrieve.json"))
    headers["X-WC-Webhook-Signature"] = "AAAA" + headers["X-WC-Webhook-Signature"][4:]
    assert connected.post("/webhooks/woocommerce", data=body, headers=headers).status_code == 401
    assert woo_services.inbox.depth() == {}


def test_the_ping_woocommerce_sends_when_a_hook_is_saved_is_answered(connected):
    answer = connected.post(
        "/webhooks/woocommerce", data=b"webhook_id=1001", content_type="application/x-www-form-urlencoded"
    )
    assert answer.status_code == 200


def test_a_store_action_refused_with_401_marks_the_store_and_runs_after_reconnecting(connected, store, woo_services):
    store.add_product(single_product(8))
    order = store.add_order(fixture("rest_v3_order_retrieve.json"))
    deliver(connected, store, "product.updated", single_product(8))
    deliver(connected, store, "product.updated", bar3(-1))
    store.secret = "cs_rotated"  # revoked in WordPress after the webhooks were made
    deliver(connected, store, "order.created", order)
    work(woo_services)
    ref = woo_services.shops.ref(Platform.WOOCOMMERCE, SHOP)
    assert ref.status == "needs_reconnect"
    assert store.orders[727]["status"] == "processing"  # nothing could be done yet
    store.secret = "cs_live_1"
    connect(connected, store)
    work(woo_services)
    assert store.orders[727]["status"] == "on-hold"
    assert len(customer_notes(store, 727)) == 1
