"""The customer's page for a real Shopify order (issue 16), with Shopify's Admin API mocked.

The fixture order's `customer_locale` is null, so the page speaks the shop's language (Italian);
a `customer_locale` of "de-DE" makes it German. Cancelling the waiting line sends Shopify's
`refundCreate` once, however often the confirmation is posted."""

from __future__ import annotations

import json
import re

from connector.bootstrap import order_link_maker
from connector.mail.payload import with_order_link
from tests.shared_files import load_fixture

from .app_harness import TOKEN, ShopifyHarness
from .test_install_to_backorder import ORDER_ID, catalogue, mutations

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def backordered(h: ShopifyHarness, locale: str | None) -> str:
    """Install, stock RED at 0, and the real order waiting for it; the page link of its confirmation email."""
    h.install()
    h.admin.expected_token = TOKEN
    product = catalogue()
    h.webhook("products/update", product)
    for variant in product["variants"]:
        h.webhook("inventory_levels/update", {
            "inventory_item_id": variant["inventory_item_id"], "location_id": 905684977,
            "available": 0 if variant["sku"] == "IPOD2008RED" else 10, "updated_at": "2026-11-25T08:00:00-05:00"})
    h.settle()
    order = load_fixture("shopify", "rest_order.json")["order"]
    assert order.get("customer_locale") is None  # what the fixture has: the shop's language applies
    order["customer_locale"] = locale
    h.store.add_rest_order(order, [load_fixture("shopify", "rest_transaction.json")["transaction"]])
    h.webhook("orders/create", json.dumps(order).encode(), event_id="evt-order-create-page")
    sold = {li["variant_id"] for li in order["line_items"]}
    for variant in product["variants"]:  # Shopify commits the sold units: RED goes to -1
        if variant["id"] in sold:
            h.webhook("inventory_levels/update", {
                "inventory_item_id": variant["inventory_item_id"], "location_id": 905684977,
                "available": -1 if variant["sku"] == "IPOD2008RED" else 9, "updated_at": "2026-11-25T09:00:00-05:00"})
    h.settle()
    h.settle(wait_seconds=60)  # stock drops settle before they are decided on
    payload, _ = next(m for m in h.mails if m[0]["template"] == "backorder_confirmation")
    url = with_order_link(payload, order_link_maker(h.services.config, h.services.clock))["order_url"]
    return url.removeprefix(h.services.config.app_url)


def test_the_fixture_order_gets_the_shops_language(harness: ShopifyHarness) -> None:
    link = backordered(harness, None)
    html = harness.http.get(link).get_data(as_text=True)
    assert 'lang="it"' in html and "Il tuo ordine #1001" in html and "In attesa di disponibilità" in html


def test_cancel_sends_refund_create_once(harness: ShopifyHarness) -> None:
    h = harness
    link = backordered(h, "de-DE")
    page = h.http.get(link).get_data(as_text=True)
    assert 'lang="de-DE"' in page and "Ihre Bestellung" in page
    token = _CSRF.search(page).group(1)
    confirm = h.http.post(f"{link}/confirm", data={"csrf_token": token, "choice": "cancel_waiting"})
    assert "data-confirm" in confirm.get_data(as_text=True)
    before = len(h.admin.operations)
    for _ in range(3):  # posted three times
        h.http.post(f"{link}/choose", data={"csrf_token": token, "choice": "cancel_waiting"})
        h.settle(wait_seconds=60)
    assert mutations(h, before)["RefundCreate"] == 1
    assert h.store.order(ORDER_ID)["tags"] == set()  # nothing waits any more: untagged, released
