"""Done when (issue 10): "pay when it ships" on the Shopify harness, from install to the balance collected.

Install creates the purchase option; RED goes out of stock and joins it; an order bought through it
waits 75 days for a sea-freight purchase order with no capture, no authorization-expiry action and no
payment request; the stock arrives (the webhook delivered three times) and the balance is charged to
the saved card exactly once, the goods released only then; RED, in stock again, leaves the option.
And when the charge is declined: one customer email, the dashboard row, retries on the merchant's
schedule, and nothing ships under the default policy."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from connector import sweeps
from connector.domain.model import Platform
from connector.storage.tables import BalanceCollectionRow, PurchaseOptionMemberRow, PurchaseOptionRow, ShopRow
from connector.supply.purchase_orders import PurchaseOrderInput, save_purchase_order
from tests.shared_files import load_fixture
from tests.shopify_webhooks import TEST_SHOP

from .app_harness import TOKEN, ShopifyHarness

ORDER_ID = "450789469"
RED_VARIANT = 49148385
RED_ITEM = RED_VARIANT + 7
LOCATION = 905684977
CHARGES = {"OrderCapture", "OrderCreateMandatePayment", "RefundCreate"}


def catalogue() -> dict[str, Any]:
    product = load_fixture("shopify", "rest_product.json")["product"]
    for variant in product["variants"]:
        variant["inventory_item_id"] = variant["id"] + 7
    return product


def count(h: ShopifyHarness, names: set[str], since: int = 0) -> Counter:
    return Counter(op for op in h.admin.operations[since:] if op in names)


def level(available: int, at: str) -> dict[str, Any]:
    return {"inventory_item_id": RED_ITEM, "location_id": LOCATION, "available": available, "updated_at": at}


def deferred_order() -> dict[str, Any]:
    """The real order fixture, bought through the purchase option: RED only, nothing paid at checkout."""
    rest = copy.deepcopy(load_fixture("shopify", "rest_order.json")["order"])
    rest["line_items"] = [li for li in rest["line_items"] if li["sku"] == "IPOD2008RED"]
    rest.update(financial_status="pending", total_price="199.00", subtotal_price="199.00", total_tax="0.00",
                tax_lines=[], payment_terms={"payment_terms_type": "fulfillment", "payment_schedules": []},
                order_status_url=f"https://{TEST_SHOP}/6909/orders/abc/authenticate?key=k1",
                created_at="2026-11-30T09:00:00-05:00", updated_at="2026-11-30T09:00:00-05:00")
    for li in rest["line_items"]:
        li.update(tax_lines=[], discount_allocations=[])
    return rest


def set_up(h: ShopifyHarness, **settings: Any) -> dict[str, Any]:
    """Install, the shop's settings, the catalogue with RED out of stock and a 75-day purchase order."""
    h.install()
    h.admin.expected_token = TOKEN
    shop_id = h.services.shops.ref(Platform.SHOPIFY, TEST_SHOP).id
    current = h.services.shops.settings(shop_id)
    h.services.shops.update_settings(shop_id, replace(current, merchant_email="owner@shop.example", **settings))
    product = catalogue()
    h.store.add_product(product)
    h.webhook("products/update", product)
    for variant in product["variants"]:
        h.store.set_level(variant["inventory_item_id"], LOCATION, 0 if variant["id"] == RED_VARIANT else 10)
        h.webhook("inventory_levels/update", {
            "inventory_item_id": variant["inventory_item_id"], "location_id": LOCATION,
            "available": 0 if variant["id"] == RED_VARIANT else 10, "updated_at": "2026-11-30T08:00:00-05:00"})
    h.settle()
    with h.services.db.session() as s:  # sea freight: 75 days
        save_purchase_order(s, shop_id, PurchaseOrderInput("PO-SEA-1", (h.clock() + timedelta(days=75)).date(),
                                                           [("IPOD2008RED", 20)]), h.clock())
    sweeps.evaluate_all(h.services)  # the engine says RED's next unit is backordered: it joins
    h.settle()
    return {"shop_id": shop_id, "product": product}


def buy(h: ShopifyHarness) -> dict[str, Any]:
    rest = deferred_order()
    h.store.add_rest_order(rest)
    h.store.make_deferred(ORDER_ID)
    h.webhook("orders/create", rest, event_id="evt-create")
    h.webhook("inventory_levels/update", level(-1, "2026-11-30T09:00:01-05:00"))
    h.settle(wait_seconds=60)
    return rest


def wait_days(h: ShopifyHarness, days: int, step: int = 1) -> None:
    for _ in range(0, days, step):
        h.clock.advance(days=step)
        sweeps.timers_all(h.services)
        sweeps.evaluate_all(h.services)
        h.settle()


def paid_webhooks(h: ShopifyHarness, rest: dict[str, Any]) -> None:
    """Shopify announces the charge: orders/paid (and orders/updated), each delivered three times."""
    paid = {**rest, "financial_status": "paid", "updated_at": h.clock().isoformat()}
    for _ in range(3):
        h.webhook("orders/paid", paid, event_id="evt-paid")
        h.webhook("orders/updated", paid, event_id="evt-updated-paid")
        h.settle(wait_seconds=60)


def test_pay_when_it_ships_from_install_to_the_balance_collected_once(harness: ShopifyHarness) -> None:
    h = harness
    setup = set_up(h, balance_collection="when_stock_arrives")
    # ---- install created the purchase option, in the shop's language (Italian) -------------------------
    (group,) = h.store.groups.values()
    plan = group["input"]["sellingPlansToCreate"][0]
    assert group["input"]["name"] == "Preordine — paghi alla spedizione"
    assert plan["category"] == "PRE_ORDER" and plan["inventoryPolicy"] == {"reserve": "ON_SALE"}
    assert plan["billingPolicy"]["fixed"] == {"checkoutCharge": {"type": "PERCENTAGE", "value": {"percentage": 0.0}},
                                              "remainingBalanceChargeTrigger": "ON_FULFILLMENT"}
    assert plan["deliveryPolicy"] == {"fixed": {"fulfillmentTrigger": "ASAP"}}
    with h.services.db.session() as s:
        assert s.scalar(select(PurchaseOptionRow.external_id)) == group["id"]
    # ---- RED is out of stock and sells on backorder: it joined (and only it) -------------------------------
    assert h.store.group_variants() == {RED_VARIANT}
    sweeps.reconcile_all(h.services)  # the sweep reads the option back: it agrees, nothing is sent again
    h.settle()
    assert count(h, {"SellingPlanGroupAddProductVariants"}) == Counter({"SellingPlanGroupAddProductVariants": 1})

    # ---- bought through the plan; 75 days of waiting: no capture, no expiry action, no payment request ----
    rest = buy(h)
    order = h.store.order(ORDER_ID)
    assert order["tags"] == {"backorder"} and order["fulfillmentOrders"][0]["status"] == "ON_HOLD"
    before = len(h.admin.operations)
    wait_days(h, 74, step=2)
    assert count(h, CHARGES, before) == Counter()
    templates = [m[0]["template"] for m in h.mails]
    assert templates == ["backorder_confirmation"], templates  # no payment request, no authorization warning
    assert "authorization" not in (order["note"] or "").lower()

    # ---- the stock arrives, the webhook delivered three times: the balance is charged once -----------------
    before = len(h.admin.operations)
    for _ in range(3):
        h.webhook("inventory_levels/update", level(19, h.clock().isoformat()), event_id="evt-sea-freight")
        h.settle(wait_seconds=60)
    assert count(h, CHARGES | {"FulfillmentOrderReleaseHold"}, before) == Counter({"OrderCreateMandatePayment": 1})
    assert order["fulfillmentOrders"][0]["status"] == "ON_HOLD", "the goods wait for the payment"
    assert order["outstanding"] == 0 and [t["kind"] for t in order["transactions"]] == ["SALE"]
    paid_webhooks(h, rest)
    sweeps.timers_all(h.services)
    h.settle()
    assert count(h, CHARGES | {"FulfillmentOrderReleaseHold", "TagsRemove"}, before) == Counter(
        {"OrderCreateMandatePayment": 1, "FulfillmentOrderReleaseHold": 1, "TagsRemove": 1})
    assert order["fulfillmentOrders"][0]["status"] == "OPEN" and order["tags"] == set()
    assert [m[0]["template"] for m in h.mails] == ["backorder_confirmation", "on_its_way"]
    with h.services.db.session() as s:
        (collection,) = s.scalars(select(BalanceCollectionRow)).all()
        assert (collection.state, collection.attempts) == ("paid", 1)

    # ---- RED is in stock again: it leaves the purchase option ---------------------------------------------
    sweeps.evaluate_all(h.services)
    h.settle()
    assert h.store.group_variants() == set()
    assert count(h, {"SellingPlanGroupRemoveProductVariants"}) == Counter({"SellingPlanGroupRemoveProductVariants": 1})
    with h.services.db.session() as s:
        assert s.scalars(select(PurchaseOptionMemberRow)).all() == []
    assert setup["shop_id"]


def test_a_declined_balance_email_once_dashboard_row_retries_on_schedule_nothing_ships(
        harness: ShopifyHarness) -> None:
    h = harness
    set_up(h, balance_collection="when_stock_arrives", balance_retry_hours=(24, 72))
    rest = buy(h)
    declined = ("ERROR", "Your card was declined.")
    h.store.mandate_outcomes[ORDER_ID] = [declined, declined, declined]
    order = h.store.order(ORDER_ID)
    h.clock.advance(days=10)
    h.webhook("inventory_levels/update", level(19, h.clock().isoformat()), event_id="evt-stock")
    h.settle(wait_seconds=60)
    sweeps.timers_all(h.services)  # the failure is seen: reason, one email, the next attempt in 24 h
    h.settle()
    assert count(h, {"OrderCreateMandatePayment"}) == Counter({"OrderCreateMandatePayment": 1})
    requests = [m for m in h.mails if m[0]["template"] == "payment_request"]
    assert len(requests) == 1 and requests[0][0]["to"] == "bob.norman@hostmail.com"
    assert requests[0][0]["situation"] == "balance_failed" and requests[0][0]["reason"] == "declined"
    assert requests[0][0]["payment_url"] == rest["order_status_url"]
    page = _dashboard(h)
    assert "Payments to collect" in page and "the card was declined" in page and "#1001" in page
    # retries follow the schedule: not before 24 h, then 72 h later, then the merchant decides
    for hours, attempts in ((23, 1), (1, 2), (71, 2), (1, 3), (24 * 30, 3)):
        h.clock.advance(hours=hours)
        sweeps.timers_all(h.services)
        h.settle()
        sweeps.timers_all(h.services)
        assert count(h, {"OrderCreateMandatePayment"})["OrderCreateMandatePayment"] == attempts
    with h.services.db.session() as s:
        (collection,) = s.scalars(select(BalanceCollectionRow)).all()
        assert (collection.state, collection.attempts, collection.next_attempt_at) == ("gave_up", 3, None)
    assert len([m for m in h.mails if m[0]["template"] == "payment_request"]) == 1, "one email, not one per attempt"
    assert count(h, {"FulfillmentOrderReleaseHold", "TagsRemove"}) == Counter(), "nothing ships before payment"
    assert order["fulfillmentOrders"][0]["status"] == "ON_HOLD"
    assert "Balance not charged (attempt 3)" in order["note"]
    assert "no attempt left" in _dashboard(h)


def test_a_deleted_option_is_created_again_and_the_dashboard_says_so(harness: ShopifyHarness) -> None:
    h = harness
    set_up(h)
    (old,) = h.store.groups
    h.store.delete_group(old)
    sweeps.reconcile_all(h.services)
    h.settle()
    (new,) = h.store.groups
    assert new != old and h.store.group_variants() == {RED_VARIANT}  # its members sent again
    with h.services.db.session() as s:
        row = s.scalar(select(PurchaseOptionRow))
        assert (row.external_id, row.recreated_count) == (new, 1)
    assert "was deleted in your store and created again" in _dashboard(h)


def test_a_shop_installed_with_older_scopes_is_asked_to_reauthorize(harness: ShopifyHarness) -> None:
    h = harness
    set_up(h)
    creds = h.services.shops.credentials(Platform.SHOPIFY, TEST_SHOP)
    old = "write_orders,read_customers,read_products,write_inventory,read_locations,read_locales"
    with h.services.db.session() as s:
        shop = s.scalar(select(ShopRow))
        shop.credentials = h.services.box.seal({**creds, "scopes": old})
        s.execute(PurchaseOptionRow.__table__.delete())
    sweeps.reconcile_all(h.services)
    with h.services.db.session() as s:
        row = s.scalar(select(PurchaseOptionRow))
        assert row.status == "needs_scopes" and "write_purchase_options" in row.last_error
    page = _dashboard(h)
    assert "Re-authorize" in page and f"/shopify/install?shop={TEST_SHOP}" in page


def _dashboard(h: ShopifyHarness) -> str:
    response = h.http.get("/app")  # the install signed this browser in
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)



def test_shopify_charges_on_fulfilment_by_default_and_the_service_records_what_it_sees(
        harness: ShopifyHarness) -> None:
    h = harness
    set_up(h)  # default: balance_collection = on_fulfillment
    rest = buy(h)
    order = h.store.order(ORDER_ID)
    before = len(h.admin.operations)
    h.clock.advance(days=20)
    h.webhook("inventory_levels/update", level(19, h.clock().isoformat()), event_id="evt-stock")
    h.settle(wait_seconds=60)
    # released at once, nothing charged by us: Shopify charges the balance when the order is fulfilled
    assert count(h, CHARGES | {"FulfillmentOrderReleaseHold"}, before) == Counter({"FulfillmentOrderReleaseHold": 1})
    assert order["fulfillmentOrders"][0]["status"] == "OPEN"
    with h.services.db.session() as s:
        assert s.scalar(select(BalanceCollectionRow.state)) == "by_store"
    paid_webhooks(h, rest)  # fulfilled and charged by Shopify: orders/paid, orders/updated
    sweeps.timers_all(h.services)
    with h.services.db.session() as s:
        (row,) = s.scalars(select(BalanceCollectionRow)).all()
        assert row.state == "paid" and row.paid_at is not None
    assert count(h, CHARGES, before) == Counter()


def test_when_goods_ship_before_payment_the_balance_is_still_charged_once(harness: ShopifyHarness) -> None:
    """`unpaid_balance_shipping = ship`: the release and the charge are decided together, and the
    charge is not superseded as part of the wait that just ended (it was, before: money never asked)."""
    h = harness
    set_up(h, balance_collection="when_stock_arrives", unpaid_balance_shipping="ship")
    buy(h)
    order = h.store.order(ORDER_ID)
    wait_days(h, 3)
    before = len(h.admin.operations)
    h.webhook("inventory_levels/update", level(19, h.clock().isoformat()), event_id="evt-stock-in")
    h.settle(wait_seconds=60)
    assert count(h, CHARGES | {"FulfillmentOrderReleaseHold"}, before) == Counter(
        {"OrderCreateMandatePayment": 1, "FulfillmentOrderReleaseHold": 1})
    assert order["fulfillmentOrders"][0]["status"] == "OPEN" and order["outstanding"] == 0
    with h.services.db.session() as s:
        (collection,) = s.scalars(select(BalanceCollectionRow)).all()
        assert collection.state in ("charging", "paid") and collection.attempts == 1


def test_a_refusal_that_is_not_the_customers_card_emails_no_one_and_tries_no_second_key(
        harness: ShopifyHarness, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The call fails for good for a reason that is not the customer's card (here: the store still reports
    the payment as processing after every check): the customer is not told their payment failed, no new
    attempt (a new idempotency key, which could charge twice) is made, the merchant sees why."""
    from adapters.base import UserError
    from adapters.shopify.client import ShopifyStoreClient

    h = harness
    set_up(h, balance_collection="when_stock_arrives")
    buy(h)
    order = h.store.order(ORDER_ID)

    def refused(self, order_id: str, currency: str, idempotency_key: str):  # type: ignore[no-untyped-def]
        raise UserError("the mandate payment is still processing")

    monkeypatch.setattr(ShopifyStoreClient, "collect_balance", refused)
    h.clock.advance(days=10)
    h.webhook("inventory_levels/update", level(19, h.clock().isoformat()), event_id="evt-stock")
    h.settle(wait_seconds=60)
    for _ in range(3):
        h.clock.advance(days=2)
        sweeps.timers_all(h.services)
        h.settle()
    assert [m for m in h.mails if m[0]["template"] == "payment_request"] == []
    with h.services.db.session() as s:
        (collection,) = s.scalars(select(BalanceCollectionRow)).all()
        assert (collection.state, collection.attempts) == ("gave_up", 1)
        assert "not because of the customer's card" in collection.last_reason
    assert "Check the app's permissions" in order["note"]
    assert order["fulfillmentOrders"][0]["status"] == "ON_HOLD"
