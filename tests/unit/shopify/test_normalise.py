"""The normaliser against every real Shopify payload in shared/fixtures, and the edge cases."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from adapters.base import Delivery, NormalisationError
from adapters.shopify.normalise import ShopifyNormaliser
from adapters.shopify.verify import ShopifyWebhookVerifier
from connector.domain.model import (
    AppUninstalled,
    CustomerDataRequested,
    CustomerRedactRequested,
    OrderCancelled,
    OrderUpserted,
    PaymentStatus,
    ShopRedactRequested,
    StockChanged,
    VariantChanged,
)
from tests.shared_files import fixtures_dir, load_fixture
from tests.shopify_webhooks import TEST_SECRET, TEST_SHOP, body_bytes, compliance_body, webhook_headers

SHOP = TEST_SHOP


def deliver(topic: str, payload: Any) -> Delivery:
    """Sign and verify, so every body goes through the same path as a real delivery."""
    body = payload if isinstance(payload, bytes) else body_bytes(payload)
    return ShopifyWebhookVerifier(TEST_SECRET).verify(webhook_headers(topic, body), body, lambda s: None)


def normalise(topic: str, payload: Any, **kwargs: Any) -> list:
    return ShopifyNormaliser(**kwargs).normalise(deliver(topic, payload))


def only_order(events: list):
    upserts = [e for e in events if isinstance(e, OrderUpserted)]
    assert len(upserts) == 1
    return upserts[0].order


def real_order() -> dict[str, Any]:
    return load_fixture("shopify", "rest_order.json")["order"]


# ---- every fixture file is covered --------------------------------------------------------

COVERED = {
    "rest_order.json", "rest_orders.json", "rest_product.json", "rest_variant.json", "rest_inventory_level.json",
    "rest_inventory_levels.json", "rest_location_inventory_levels.json", "rest_fulfillment.json", "rest_refund.json",
    "rest_transaction.json", "rest_transactions.json", "rest_shop.json", "compliance_customers_data_request.json",
    "compliance_customers_redact.json", "compliance_shop_redact.json",
}


def test_every_shopify_fixture_has_a_test() -> None:
    assert {p.name for p in fixtures_dir("shopify").glob("*.json")} <= COVERED


@pytest.mark.parametrize("topic", ["orders/create", "orders/updated", "orders/paid"])
def test_real_order_fixture(topic: str) -> None:
    events = normalise(topic, real_order())
    assert len(events) == 1
    order = only_order(events)
    assert order.shop == SHOP and order.external_id == "450789469" and order.name == "#1001"
    assert order.payment_status is PaymentStatus.AUTHORIZED
    assert order.currency == "USD" and not order.cancelled and order.tags == ()
    assert order.created_at == datetime(2008, 1, 10, 16, 0, tzinfo=UTC)
    assert order.customer.email == "bob.norman@hostmail.com" and order.customer.name == "Bob Norman"
    assert order.customer.external_id == "207119551" and not order.customer.is_reseller
    assert [(li.external_id, li.sku, li.variant_id, li.quantity, li.unit_price) for li in order.lines] == [
        ("466157049", "IPOD2008GREEN", "39072856", 1, Decimal("199.00")),
        ("518995019", "IPOD2008RED", "49148385", 1, Decimal("199.00")),
        ("703073504", "IPOD2008BLACK", "457924702", 1, Decimal("199.00")),
    ]
    # the fixture's only fulfillment has status "failure": nothing has shipped
    assert all(li.fulfilled_quantity == 0 and li.requires_shipping for li in order.lines)
    assert order.lines[0].product_id == "632910392" and order.lines[0].title == "IPod Nano - 8gb - green"
    assert order.total == Decimal("409.94") and order.authorized_at == order.created_at
    assert len(order.stocked_lines) == 3


def test_real_orders_list_fixture_each_order_without_lines_is_not_read_as_having_none() -> None:
    # The list endpoint's orders come without `line_items`. Read as "no lines", an orders/updated
    # body like that would delete every stored line of the order (issue 15): it is refused instead.
    for raw in load_fixture("shopify", "rest_orders.json")["orders"]:
        assert "line_items" not in raw or raw["line_items"] is None
        with pytest.raises(NormalisationError, match="lacks its line_items"):
            normalise("orders/updated", raw)
        with_lines = raw | {"line_items": real_order()["line_items"]}
        order = only_order(normalise("orders/updated", with_lines))
        assert order.external_id == "450789469" and len(order.lines) == 3
        assert order.payment_status is PaymentStatus.PAID  # partially_refunded: money was collected
        assert order.customer.email == "bob.norman@hostmail.com"


def test_real_fulfillment_fixture_counts_as_shipped_when_embedded_in_the_order() -> None:
    raw = real_order()
    fulfillment = load_fixture("shopify", "rest_fulfillment.json")["fulfillment"]  # status "pending"
    raw["fulfillments"] = [fulfillment]
    order = only_order(normalise("orders/updated", raw))
    shipped = {li.sku: li.fulfilled_quantity for li in order.lines}
    assert shipped == {"IPOD2008GREEN": 1, "IPOD2008RED": 0, "IPOD2008BLACK": 0}
    assert [li.sku for li in order.stocked_lines] == ["IPOD2008RED", "IPOD2008BLACK"]
    fulfillment["status"] = "cancelled"
    assert all(li.fulfilled_quantity == 0 for li in only_order(normalise("orders/updated", raw)).lines)


def test_real_refund_fixture_reduces_the_quantities_it_refunds() -> None:
    raw = real_order()
    raw["refunds"] = [load_fixture("shopify", "rest_refund.json")["refund"]]
    order = only_order(normalise("orders/updated", raw))
    assert {li.sku: li.quantity for li in order.lines} == {"IPOD2008GREEN": 0, "IPOD2008RED": 1, "IPOD2008BLACK": 0}
    assert [li.sku for li in order.stocked_lines] == ["IPOD2008RED"]


@pytest.mark.parametrize("name", ["rest_fulfillment.json", "rest_refund.json", "rest_transaction.json",
                                  "rest_shop.json"])
def test_topics_the_service_does_not_act_on_give_no_events(name: str) -> None:
    topic = {"rest_fulfillment.json": "fulfillments/create", "rest_refund.json": "refunds/create",
             "rest_transaction.json": "order_transactions/create", "rest_shop.json": "shop/update"}[name]
    (payload,) = load_fixture("shopify", name).values()
    assert normalise(topic, payload) == []


def test_real_transactions_list_is_not_an_object_webhook_but_is_ignored_by_topic() -> None:
    assert normalise("order_transactions/create", load_fixture("shopify", "rest_transactions.json")) == []


def test_real_product_fixture() -> None:
    (event,) = normalise("products/update", load_fixture("shopify", "rest_product.json")["product"])
    assert isinstance(event, VariantChanged)
    assert [(v.sku, v.variant_id, v.price, v.sells_when_out_of_stock) for v in event.variants] == [
        ("IPOD2008PINK", "808950810", Decimal("199.00"), True),
        ("IPOD2008RED", "49148385", Decimal("199.00"), True),
        ("IPOD2008GREEN", "39072856", Decimal("199.00"), True),
        ("IPOD2008BLACK", "457924702", Decimal("199.00"), True),
    ]
    pink = event.variants[0]
    assert pink.title == "IPod Nano - 8GB - Pink" and pink.product_id == "632910392"
    assert pink.product_url == f"https://{SHOP}/products/ipod-nano?variant=808950810"
    assert pink.item_ref is None  # this old payload carries no inventory_item_id


def test_real_variant_fixture_with_inventory_item_and_deny_policy() -> None:
    from adapters.shopify.mapping import variant_from_rest

    variant = load_fixture("shopify", "rest_variant.json")["variant"]
    assert variant_from_rest(SHOP, variant).sells_when_out_of_stock is True
    product = {"id": 632910392, "title": "IPod Nano", "handle": "ipod-nano", "variants": [
        {**variant, "inventory_policy": "deny", "inventory_item_id": 808950810, "product_id": 632910392}]}
    (event,) = normalise("products/update", product)
    (pink,) = event.variants
    assert pink.sells_when_out_of_stock is False and pink.item_ref == "808950810" and pink.title == "IPod Nano - Pink"


@pytest.mark.parametrize("name", ["rest_inventory_level.json", "rest_inventory_levels.json",
                                  "rest_location_inventory_levels.json"])
def test_real_inventory_level_fixtures(name: str) -> None:
    (payload,) = load_fixture("shopify", name).values()
    levels = payload if isinstance(payload, list) else [payload]
    for raw in levels:
        (event,) = normalise("inventory_levels/update", raw)
        assert isinstance(event, StockChanged)
        (level,) = event.levels
        assert level.sku == "" and level.shop == SHOP
        assert (level.item_ref, level.location, level.available) == (
            str(raw["inventory_item_id"]), str(raw["location_id"]), raw["available"])
        assert level.updated_at is not None and level.updated_at.tzinfo is not None


def test_reports_of_one_second_are_ordered_by_the_instant_shopify_triggered_them() -> None:
    """A sale sends several levels of one item stamped with the same whole second; the fraction of
    the second in X-Shopify-Triggered-At orders them, so the later one wins in whatever order they
    arrive. A trigger time outside that second, or an unreadable one, leaves `updated_at` as sent."""
    raw = {"inventory_item_id": 808950810, "location_id": 905684977, "available": 4,
           "updated_at": "2026-11-30T11:00:05-05:00"}
    body = body_bytes(raw)

    def level_at(triggered: str) -> datetime | None:
        headers = webhook_headers("inventory_levels/update", body, triggered_at=triggered)
        delivery = ShopifyWebhookVerifier(TEST_SECRET).verify(headers, body, lambda s: None)
        (event,) = ShopifyNormaliser().normalise(delivery)
        return event.levels[0].updated_at

    second = datetime(2026, 11, 30, 16, 0, 5, tzinfo=UTC)
    early, late = level_at("2026-11-30T16:00:05.200Z"), level_at("2026-11-30T16:00:05.877041743Z")
    assert second < early < late < datetime(2026, 11, 30, 16, 0, 6, tzinfo=UTC)
    assert level_at("2026-11-30T16:00:09.500Z") == second  # another second: not this report's instant
    assert level_at("not a time") == second


@pytest.mark.parametrize(("name", "topic"), [
    ("compliance_customers_data_request.json", "customers/data_request"),
    ("compliance_customers_redact.json", "customers/redact"),
    ("compliance_shop_redact.json", "shop/redact"),
])
def test_real_compliance_fixtures(name: str, topic: str) -> None:
    (event,) = normalise(topic, compliance_body(load_fixture("shopify", name)))
    assert event.shop == SHOP
    if isinstance(event, CustomerDataRequested):
        assert event == CustomerDataRequested(SHOP, "john@example.com", "191167", ("299938", "280263", "220458"),
                                              request_id="9999")
    elif isinstance(event, CustomerRedactRequested):
        assert event == CustomerRedactRequested(SHOP, "john@example.com", "191167", ("299938", "280263", "220458"))
    else:
        assert event == ShopRedactRequested(SHOP)


def test_compliance_body_naming_another_shop_is_refused() -> None:
    body = compliance_body(load_fixture("shopify", "compliance_shop_redact.json"), shop="someone-else.myshopify.com")
    with pytest.raises(NormalisationError, match="someone-else"):
        normalise("shop/redact", body)


def test_app_uninstalled() -> None:
    shop = load_fixture("shopify", "rest_shop.json")["shop"]  # app/uninstalled sends the shop resource
    assert normalise("app/uninstalled", shop) == [AppUninstalled(SHOP)]


# ---- edge cases ------------------------------------------------------------------------------


def test_cancelled_order_gives_upsert_and_cancel() -> None:
    raw = real_order() | {"cancelled_at": "2008-01-11T09:00:00-05:00", "cancel_reason": "customer"}
    upsert, cancel = normalise("orders/cancelled", raw)
    assert upsert.order.cancelled is True
    assert cancel == OrderCancelled(SHOP, "450789469", datetime(2008, 1, 11, 14, 0, tzinfo=UTC))


def test_deleted_order_is_a_cancellation() -> None:
    (event,) = normalise("orders/delete", {"id": 450789469})
    assert isinstance(event, OrderCancelled) and event.external_id == "450789469"


def test_lines_without_sku_deleted_product_gift_card_and_digital() -> None:
    raw = real_order()
    green, red, black = raw["line_items"]
    green["sku"] = ""  # no SKU: keyed by variant
    red.update(sku=None, variant_id=None, product_id=None, product_exists=False)  # product deleted
    black.update(gift_card=True, requires_shipping=True)
    raw["line_items"].append({"id": 9, "title": "E-book", "quantity": 2, "price": "5.00", "sku": "EBOOK",
                              "variant_id": 77, "requires_shipping": False})
    order = only_order(normalise("orders/create", raw))
    assert [li.sku for li in order.lines] == ["shopify-variant:39072856", "shopify-line:518995019", "IPOD2008BLACK",
                                              "EBOOK"]
    assert order.lines[1].product_id is None and order.lines[1].variant_id is None
    assert [li.requires_shipping for li in order.lines] == [True, True, False, False]
    assert [li.sku for li in order.stocked_lines] == ["shopify-variant:39072856", "shopify-line:518995019"]


def test_multi_currency_uses_the_presentment_money() -> None:
    raw = real_order() | {"currency": "USD", "presentment_currency": "EUR"}
    for item in raw["line_items"]:
        item["price_set"] = {"shop_money": {"amount": "199.00", "currency_code": "USD"},
                             "presentment_money": {"amount": "183.17", "currency_code": "EUR"}}
    raw["total_price_set"] = {"shop_money": {"amount": "409.94", "currency_code": "USD"},
                              "presentment_money": {"amount": "377.31", "currency_code": "EUR"}}
    raw["current_total_price_set"] = {"shop_money": {"amount": "210.94", "currency_code": "USD"},
                                      "presentment_money": {"amount": "194.14", "currency_code": "EUR"}}
    order = only_order(normalise("orders/create", raw))
    assert order.currency == "EUR" and {li.unit_price for li in order.lines} == {Decimal("183.17")}
    assert order.total == Decimal("377.31")  # the original total (not the current one), in the customer's money
    # without presentment prices on every line, stay in shop money rather than mix currencies
    del raw["line_items"][0]["price_set"]
    order = only_order(normalise("orders/create", raw))
    assert order.currency == "USD" and {li.unit_price for li in order.lines} == {Decimal("199.00")}
    assert order.total == Decimal("409.94")


def test_unicode_names_titles_and_tags_survive() -> None:
    raw = real_order()
    raw["customer"].update(first_name="Zoë", last_name="Łukasiewicz 日本")
    raw["line_items"][0].update(name="Ciondolo «cuore» – oro 18ct 💛", sku="CUORE-Ø")
    raw["tags"] = "spedizione, 優先 ,"
    raw["customer_locale"] = "it-IT"
    order = only_order(normalise("orders/create", body_bytes(raw)))
    assert order.customer.name == "Zoë Łukasiewicz 日本" and order.customer.locale == "it-IT"
    assert order.lines[0].title == "Ciondolo «cuore» – oro 18ct 💛" and order.lines[0].sku == "CUORE-Ø"
    assert order.tags == ("spedizione", "優先")


def test_huge_quantities_and_prices_are_exact() -> None:
    raw = real_order()
    raw["line_items"][0].update(quantity=10**12, price="12345678901234.5678")
    line = only_order(normalise("orders/create", raw)).lines[0]
    assert line.quantity == 10**12 and line.open_quantity == 10**12
    assert line.unit_price == Decimal("12345678901234.5678")


def test_fulfilled_quantity_from_fulfillable_when_no_fulfillments_list() -> None:
    raw = real_order()
    del raw["fulfillments"]
    raw["line_items"][0].update(quantity=5, fulfillable_quantity=2)
    raw["line_items"][1].update(quantity=3, current_quantity=2, fulfillable_quantity=2)
    raw["line_items"][2].update(fulfillment_status="fulfilled")
    lines = only_order(normalise("orders/updated", raw)).lines
    assert [(li.quantity, li.fulfilled_quantity, li.open_quantity) for li in lines] == [(5, 3, 2), (2, 0, 2), (1, 1, 0)]


@pytest.mark.parametrize(("status", "expected"), [
    ("pending", PaymentStatus.PENDING), ("authorized", PaymentStatus.AUTHORIZED),
    ("partially_paid", PaymentStatus.PARTIALLY_PAID), ("paid", PaymentStatus.PAID),
    ("partially_refunded", PaymentStatus.PAID), ("refunded", PaymentStatus.REFUNDED),
    ("voided", PaymentStatus.VOIDED), ("expired", PaymentStatus.VOIDED), (None, PaymentStatus.PENDING),
])
def test_financial_status_mapping(status: str | None, expected: PaymentStatus) -> None:
    raw = real_order() | {"financial_status": status, "processed_at": "2008-01-10T11:05:00-05:00"}
    order = only_order(normalise("orders/paid", raw))
    assert order.payment_status is expected
    if expected is PaymentStatus.AUTHORIZED:
        assert order.authorized_at == datetime(2008, 1, 10, 16, 5, tzinfo=UTC)
    else:
        assert order.authorized_at is None


def test_b2b_company_and_reseller_tags_mark_resellers() -> None:
    b2b = real_order() | {"company": {"id": 123, "location_id": 456}}
    assert only_order(normalise("orders/create", b2b)).customer.is_reseller
    tagged = real_order()
    tagged["customer"]["tags"] = "VIP, Wholesale"
    assert only_order(normalise("orders/create", tagged)).customer.is_reseller
    assert not only_order(normalise("orders/create", tagged, reseller_tags=["trade"])).customer.is_reseller
    tagged["customer"]["tags"] = "Trade"
    assert only_order(normalise("orders/create", tagged, reseller_tags=["trade"])).customer.is_reseller


def test_guest_checkout_without_customer_uses_billing_name() -> None:
    raw = real_order() | {"customer": None}
    customer = only_order(normalise("orders/create", raw)).customer
    assert customer.name == "Bob Norman" and customer.email == "bob.norman@hostmail.com"
    assert customer.external_id is None


def test_untracked_inventory_gives_no_stock_event_and_negative_is_kept() -> None:
    raw = load_fixture("shopify", "rest_inventory_level.json")["inventory_level"]
    assert normalise("inventory_levels/update", raw | {"available": None}) == []
    (event,) = normalise("inventory_levels/update", raw | {"available": -4})
    assert event.levels[0].available == -4


def test_product_without_sku_and_default_title() -> None:
    product = {"id": 1, "title": "Poster", "handle": "poster", "variants": [
        {"id": 2, "sku": None, "title": "Default Title", "price": "10.00", "inventory_policy": "deny",
         "inventory_item_id": 3}]}
    (event,) = normalise("products/update", product)
    (variant,) = event.variants
    assert (variant.sku, variant.title, variant.item_ref) == ("shopify-variant:2", "Poster", "3")


def test_unknown_topics_are_ignored() -> None:
    assert normalise("collections/update", {"id": 1}) == []


@pytest.mark.parametrize(("topic", "payload", "reason"), [
    ("orders/create", b"not json", "not JSON"),
    ("orders/create", b"[1, 2]", "not a JSON object"),
    ("orders/create", {"id": None}, "missing id"),
    ("orders/create", "line_quantity", "quantity"),
    ("orders/create", "negative", "negative"),
    ("orders/create", "price", "not an amount"),
    ("orders/create", "status", "financial status"),
    ("orders/create", "created", "created_at"),
    ("orders/create", "lines_shape", "line_items"),
    ("products/update", {"id": 1, "variants": [{"id": 2, "price": "1", "inventory_policy": "maybe"}]},
     "inventory_policy"),
    ("inventory_levels/update", {"inventory_item_id": 1, "location_id": 2, "available": "lots"}, "whole number"),
    ("inventory_levels/update", {"location_id": 2, "available": 1}, "missing id"),
])
def test_bad_payloads_give_a_readable_normalisation_error(topic: str, payload: Any, reason: str) -> None:
    if isinstance(payload, str):
        raw = real_order()
        if payload == "line_quantity":
            raw["line_items"][0]["quantity"] = 1.5
        elif payload == "negative":
            raw["line_items"][0]["quantity"] = -1
        elif payload == "price":
            raw["line_items"][0]["price"] = "abc"
        elif payload == "status":
            raw["financial_status"] = "bartered"
        elif payload == "created":
            raw["created_at"] = "yesterday"
        elif payload == "lines_shape":
            raw["line_items"] = {"a": 1}
        payload = raw
    with pytest.raises(NormalisationError, match=reason) as info:
        normalise(topic, payload)
    assert str(info.value).startswith(topic)


def test_normalising_does_not_mutate_or_depend_on_key_order() -> None:
    raw = real_order()
    before = copy.deepcopy(raw)
    shuffled = json.loads(json.dumps(dict(reversed(list(raw.items())))))
    assert only_order(normalise("orders/create", raw)) == only_order(normalise("orders/create", shuffled))
    assert raw == before


def test_deleted_order_as_stored_by_the_inbox_keeps_the_trigger_time() -> None:
    """The inbox rebuilds a delivery from its row: the time comes from the kept headers then."""
    stored = deliver("orders/delete", {"id": 7})
    rebuilt = Delivery(stored.platform, stored.shop, stored.topic, stored.event_id, stored.body, stored.headers)
    (event,) = ShopifyNormaliser().normalise(rebuilt)
    assert event.cancelled_at == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def test_unit_price_is_what_the_shopper_pays_per_unit_after_discounts_with_tax() -> None:
    raw = real_order()
    line = raw["line_items"][0]
    line.update(quantity=3, price="199.00",
                discount_allocations=[{"amount": "30.00", "discount_application_index": 0}],
                tax_lines=[{"price": "34.02", "rate": 0.06, "title": "State Tax"},
                           {"price": "5.67", "rate": 0.01, "title": "City Tax"}])
    order = only_order(normalise("orders/create", raw))
    assert order.lines[0].unit_price == Decimal("202.2300")  # (597 - 30 + 39.69) / 3
    assert order.lines[0].unit_price * 3 == Decimal("606.69")
    # prices that include tax already: the tax lines are not added again
    assert only_order(normalise("orders/create", raw | {"taxes_included": True})).lines[0].unit_price == Decimal("189")
    # an awkward division is kept to 4 places
    line.update(quantity=7, discount_allocations=[{"amount": "10.00"}], tax_lines=[])
    assert only_order(normalise("orders/create", raw)).lines[0].unit_price == Decimal("197.5714")


def test_unit_price_in_presentment_money_uses_the_presentment_discounts_and_taxes() -> None:
    raw = real_order() | {"currency": "USD", "presentment_currency": "EUR"}
    for item in raw["line_items"]:
        item["price_set"] = {"shop_money": {"amount": "199.00", "currency_code": "USD"},
                             "presentment_money": {"amount": "180.00", "currency_code": "EUR"}}
    raw["line_items"][0]["discount_allocations"] = [{"amount": "11.00", "amount_set": {
        "shop_money": {"amount": "11.00", "currency_code": "USD"},
        "presentment_money": {"amount": "10.00", "currency_code": "EUR"}}}]
    raw["line_items"][0]["tax_lines"] = [{"price": "11.34", "price_set": {
        "shop_money": {"amount": "11.34", "currency_code": "USD"},
        "presentment_money": {"amount": "10.20", "currency_code": "EUR"}}}]
    order = only_order(normalise("orders/create", raw))
    assert order.currency == "EUR" and order.lines[0].unit_price == Decimal("180.20")
    del raw["line_items"][0]["tax_lines"][0]["price_set"]
    with pytest.raises(NormalisationError, match="tax: missing amount"):
        normalise("orders/create", raw)
