import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from adapters.base import Delivery, NormalisationError
from adapters.woocommerce.normalise import WooNormaliser
from adapters.woocommerce.orders import NormaliseOptions
from adapters.woocommerce.products import catalogue_records
from connector.domain.model import (
    OrderCancelled,
    OrderUpserted,
    PaymentStatus,
    Platform,
    StockChanged,
    VariantChanged,
)
from tests.woocommerce_support import FIXTURE_FILES, fixture, raw

SHOP = "shop.example.com"
WHEN = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def deliver(topic, payload, **kw):
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    return Delivery(Platform.WOOCOMMERCE, SHOP, topic, kw.pop("event_id", "e1"), body, triggered_at=WHEN, **kw)


def normalise(topic, payload, options=None):
    return WooNormaliser(options).normalise(deliver(topic, payload))


def the_order(payload, options=None):
    events = normalise("order.updated", payload, options)
    assert isinstance(events[0], OrderUpserted)
    return events[0].order


# ---- the published payloads --------------------------------------------------------------


def test_every_published_woocommerce_payload_is_covered_here():
    assert FIXTURE_FILES == [
        "rest_v3_order_note_create.json",
        "rest_v3_order_retrieve.json",
        "rest_v3_orders_list.json",
        "rest_v3_product_retrieve.json",
    ]


def test_order_727_as_delivered():
    events = WooNormaliser().normalise(deliver("order.created", raw("rest_v3_order_retrieve.json")))
    assert len(events) == 1
    order = events[0].order
    assert (order.shop, order.external_id, order.name, order.currency) == (SHOP, "727", "#727", "USD")
    assert order.created_at == datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)
    assert order.updated_at == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)
    assert order.payment_status is PaymentStatus.PAID  # processing, bank transfer received
    assert not order.cancelled and order.tags == ()
    assert order.total == Decimal("29.35")  # with tax and shipping
    assert order.customer.email == "john.doe@example.com"
    assert order.customer.name == "John Doe"
    assert order.customer.external_id is None  # guest checkout: customer_id 0
    assert order.customer.locale is None and not order.customer.is_reseller
    single, variation = order.lines
    assert (single.external_id, single.sku, single.product_id) == ("315", "wc-product:93", "93")
    assert single.variant_id is None
    assert (single.quantity, single.unit_price, single.fulfilled_quantity) == (2, Decimal("3.225"), 0)  # 6.45 / 2
    assert (variation.sku, variation.product_id, variation.variant_id) == ("Bar3", "22", "23")
    assert variation.title == "Ship Your Idea – Color: Black, Size: M Test"
    assert variation.unit_price == Decimal("12.90")  # 12.00 + 0.90 tax
    assert len(order.stocked_lines) == 2


def test_the_orders_list_normalises_each_order():
    first, second = fixture("rest_v3_orders_list.json")
    assert the_order(first) == the_order(fixture("rest_v3_order_retrieve.json"))
    completed = the_order(second)
    assert completed.external_id == "723"
    assert completed.customer.name == "João Silva"
    assert completed.customer.external_id == "26"
    assert completed.payment_status is PaymentStatus.PAID  # completed, though date_paid is null
    assert [(li.sku, li.unit_price) for li in completed.lines] == [
        ("wc-product:87", Decimal("9.00")),
        ("wc-product:34", Decimal("20.00")),
    ]
    assert all(li.fulfilled_quantity == li.quantity for li in completed.lines)
    assert completed.stocked_lines == ()


def test_product_794_without_managed_stock_gives_a_variant_and_no_invented_level():
    events = normalise("product.updated", fixture("rest_v3_product_retrieve.json"))
    assert len(events) == 1 and isinstance(events[0], VariantChanged)
    (variant,) = events[0].variants
    assert variant.sku == "wc-product:794"
    assert variant.price == Decimal("21.99")
    assert variant.sells_when_out_of_stock is False
    assert variant.product_id == "794" and variant.variant_id is None
    assert variant.product_url == "https://example.com/product/premium-quality-19/"
    assert variant.updated_at == datetime(2017, 3, 23, 20, 1, 14, tzinfo=UTC)


def test_an_order_note_delivered_as_an_order_goes_to_the_dead_letter_with_a_reason():
    with pytest.raises(NormalisationError, match=r"order 281: cannot read the payload: no status"):
        normalise("order.updated", fixture("rest_v3_order_note_create.json"))


# ---- statuses and payment ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "changes", "payment", "cancelled", "also_cancelled_event"),
    [
        ("pending", {"date_paid_gmt": None}, PaymentStatus.PENDING, False, False),
        ("processing", {}, PaymentStatus.PAID, False, False),
        (
            "processing",
            {"payment_method": "cod", "date_paid_gmt": None, "date_paid": None},
            PaymentStatus.PENDING,
            False,
            False,
        ),
        ("on-hold", {"date_paid_gmt": None, "date_paid": None}, PaymentStatus.PENDING, False, False),
        ("on-hold", {}, PaymentStatus.PAID, False, False),  # paid, then held by us
        (
            "on-hold",
            {
                "date_paid_gmt": None,
                "date_paid": None,
                "payment_method": "stripe",
                "meta_data": [{"id": 1, "key": "_stripe_charge_captured", "value": "no"}],
            },
            PaymentStatus.AUTHORIZED,
            False,
            False,
        ),
        (
            "on-hold",
            {"date_paid_gmt": None, "date_paid": None, "transaction_id": "pi_123"},
            PaymentStatus.AUTHORIZED,
            False,
            False,
        ),
        ("completed", {"date_paid_gmt": None, "date_paid": None}, PaymentStatus.PAID, False, False),
        ("cancelled", {"date_paid_gmt": None, "date_paid": None}, PaymentStatus.VOIDED, True, True),
        ("cancelled", {}, PaymentStatus.PAID, True, True),  # paid and cancelled: money still to return
        ("refunded", {}, PaymentStatus.REFUNDED, True, True),
        ("trash", {}, PaymentStatus.PAID, True, True),
        ("failed", {"date_paid_gmt": None, "date_paid": None}, PaymentStatus.VOIDED, True, False),
        ("shipped-to-partner", {}, PaymentStatus.PAID, False, False),  # a plugin's custom status
    ],
)
def test_status_mapping(status, changes, payment, cancelled, also_cancelled_event):
    payload = fixture("rest_v3_order_retrieve.json") | {"status": status} | changes
    events = normalise("order.updated", payload)
    order = events[0].order
    assert order.payment_status is payment
    assert order.cancelled is cancelled
    extra = [e for e in events[1:] if isinstance(e, OrderCancelled)]
    assert bool(extra) is also_cancelled_event
    if extra:
        assert extra[0] == OrderCancelled(SHOP, "727", datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC))


def test_checkout_drafts_are_carts_not_orders():
    assert normalise("order.updated", fixture("rest_v3_order_retrieve.json") | {"status": "checkout-draft"}) == []


def test_order_deleted_carries_only_the_id():
    assert normalise("order.deleted", {"id": 727}) == [OrderCancelled(SHOP, "727", WHEN)]


def test_a_restored_order_is_an_order_again():
    assert isinstance(normalise("order.restored", fixture("rest_v3_order_retrieve.json"))[0], OrderUpserted)


# ---- merged deliveries -------------------------------------------------------------------


def test_the_same_state_delivered_under_two_topics_and_ids_gives_identical_events():
    body = raw("rest_v3_order_retrieve.json")
    created = WooNormaliser().normalise(deliver("order.created", body, event_id="a"))
    updated = WooNormaliser().normalise(deliver("order.updated", body, event_id="b"))
    assert created == updated


def test_an_order_created_payload_built_after_a_later_cancel_is_read_as_cancelled():
    later = {"status": "cancelled", "date_modified_gmt": "2017-03-23T10:00:00"}
    payload = fixture("rest_v3_order_retrieve.json") | later
    events = normalise("order.created", payload)
    assert [type(e) for e in events] == [OrderUpserted, OrderCancelled]
    assert events[0].order.cancelled


# ---- lines -------------------------------------------------------------------------------


def test_the_translated_backordered_line_meta_is_ignored():
    plain = fixture("rest_v3_order_retrieve.json")
    with_meta = fixture("rest_v3_order_retrieve.json")
    with_meta["line_items"][0]["meta_data"] = [{"id": 9, "key": "In arretrato", "value": "2"}]
    with_meta["line_items"][1]["meta_data"].append({"id": 10, "key": "Backordered", "value": "1"})
    assert the_order(with_meta) == the_order(plain)


def test_lines_without_sku_are_keyed_by_variation_then_product_then_line():
    payload = fixture("rest_v3_order_retrieve.json")
    payload["line_items"][1]["sku"] = "  "
    payload["line_items"].append(payload["line_items"][0] | {"id": 400, "product_id": 0, "variation_id": 0, "sku": ""})
    skus = [li.sku for li in the_order(payload).lines]
    assert skus == ["wc-product:93", "wc-variation:23", "wc-line:400"]


def test_unit_price_is_what_the_shopper_pays_per_unit_after_discount_with_tax():
    payload = fixture("rest_v3_order_retrieve.json")
    payload["line_items"][0] |= {"quantity": 3, "subtotal": "12.00", "total": "10.00", "total_tax": "0.50"}
    assert the_order(payload).lines[0].unit_price == Decimal("3.5000")
    payload["line_items"][0] |= {"total_tax": "0.00"}
    assert the_order(payload).lines[0].unit_price == Decimal("3.3333")


def test_huge_and_stringly_quantities():
    payload = fixture("rest_v3_order_retrieve.json")
    payload["line_items"][0] |= {"quantity": 10**12, "total": "3000000000000.00", "total_tax": "0.00"}
    payload["line_items"][1] |= {"quantity": "4"}
    line, other = the_order(payload).lines
    assert (line.quantity, line.unit_price, other.quantity) == (10**12, Decimal("3.00"), 4)


@pytest.mark.parametrize("quantity", [1.5, -1, None, "many", True])
def test_impossible_quantities_are_refused_with_the_line(quantity):
    payload = fixture("rest_v3_order_retrieve.json")
    payload["line_items"][0]["quantity"] = quantity
    with pytest.raises(NormalisationError, match="order 727"):
        normalise("order.updated", payload)


def test_unicode_names_and_skus_survive():
    payload = fixture("rest_v3_order_retrieve.json")
    payload["line_items"][1] |= {"sku": "ТШ-чёрный-M", "name": "Футболка &amp; 東京"}
    payload["billing"] |= {"first_name": "Zoë", "last_name": "Ångström"}
    order = the_order(payload)
    assert order.lines[1].sku == "ТШ-чёрный-M"
    assert order.lines[1].title == "Футболка & 東京"
    assert order.customer.name == "Zoë Ångström"


# ---- customers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meta_data", "reseller"),
    [
        ([], False),
        ([{"id": 1, "key": "wwp_wholesale_role", "value": "wholesale_customer"}], True),
        ([{"id": 1, "key": "customer_role", "value": "Reseller"}], True),
        ([{"id": 1, "key": "customer_role", "value": "customer"}], False),
        ([{"id": 1, "key": "is_reseller", "value": "yes"}], True),
        ([{"id": 1, "key": "is_reseller", "value": "no"}], False),
        ([{"id": 1, "key": "_customer_role", "value": ["subscriber", "reseller"]}], True),
    ],
)
def test_reseller_by_role_or_flag_in_order_meta(meta_data, reseller):
    payload = fixture("rest_v3_order_retrieve.json") | {"meta_data": meta_data}
    assert the_order(payload).customer.is_reseller is reseller


def test_reseller_roles_and_meta_keys_are_configurable():
    options = NormaliseOptions(reseller_roles=frozenset({"b2b"}), reseller_meta_keys=("_b2b_group",))
    payload = fixture("rest_v3_order_retrieve.json") | {"meta_data": [{"id": 1, "key": "_b2b_group", "value": "B2B"}]}
    assert the_order(payload, options).customer.is_reseller
    payload["meta_data"] = [{"id": 1, "key": "wwp_wholesale_role", "value": "wholesale_customer"}]
    assert not the_order(payload, options).customer.is_reseller


@pytest.mark.parametrize(
    ("meta_data", "locale"),
    [
        ([{"id": 1, "key": "wpml_language", "value": "it"}], "it"),
        ([{"id": 1, "key": "trp_language", "value": "pt_BR"}], "pt-BR"),
        ([{"id": 1, "key": "pll_language", "value": "<script>"}], None),
        ([], None),
    ],
)
def test_customer_locale_from_language_plugin_meta(meta_data, locale):
    payload = fixture("rest_v3_order_retrieve.json") | {"meta_data": meta_data}
    assert the_order(payload).customer.locale == locale


def test_our_tags_come_back_from_order_meta():
    payload = fixture("rest_v3_order_retrieve.json")
    payload["meta_data"].append({"id": 5, "key": "_backorder_tags", "value": "backorder, backorder,eta-2026-12-01"})
    assert the_order(payload).tags == ("backorder", "eta-2026-12-01")


# ---- products ----------------------------------------------------------------------------


def managed(**changes):
    return fixture("rest_v3_product_retrieve.json") | {"manage_stock": True} | changes


def test_negative_stock_on_backorder_is_kept_negative():
    payload = managed(
        sku="TEE-1",
        stock_quantity=-3,
        stock_status="onbackorder",
        backorders="notify",
        backorders_allowed=True,
        backordered=True,
    )
    variant_event, stock_event = normalise("product.updated", payload)
    assert isinstance(variant_event, VariantChanged) and isinstance(stock_event, StockChanged)
    assert variant_event.variants[0].sells_when_out_of_stock
    (level,) = stock_event.levels
    assert (level.shop, level.sku, level.location, level.available) == (SHOP, "TEE-1", "default", -3)
    assert level.updated_at == datetime(2017, 3, 23, 20, 1, 14, tzinfo=UTC)


@pytest.mark.parametrize(("backorders", "sells"), [("no", False), ("notify", True), ("yes", True)])
def test_backorders_setting_says_whether_it_sells_when_out_of_stock(backorders, sells):
    (event, _) = normalise("product.updated", managed(stock_quantity=0, backorders=backorders))
    assert event.variants[0].sells_when_out_of_stock is sells


@pytest.mark.parametrize(("quantity", "expected"), [("7", 7), (7.0, 7), (-(10**9), -(10**9))])
def test_stock_quantity_forms(quantity, expected):
    assert normalise("product.updated", managed(stock_quantity=quantity))[1].levels[0].available == expected


def test_fractional_stock_is_refused():
    with pytest.raises(NormalisationError, match="product 794"):
        normalise("product.updated", managed(stock_quantity=2.5))


def test_a_variation_delivered_through_product_updated():
    payload = managed(
        id=23, type="variation", parent_id=22, sku="", name="Ship Your Idea - Black, M", stock_quantity=0, price="12.00"
    )
    variant_event, stock_event = normalise("product.updated", payload)
    variant = variant_event.variants[0]
    assert (variant.sku, variant.product_id, variant.variant_id) == ("wc-variation:23", "22", "23")
    assert stock_event.levels[0].sku == "wc-variation:23"


def test_a_variation_stocked_by_its_parent_has_no_level_of_its_own():
    parent = {"id": 22, "name": "Ship Your Idea", "type": "variable"}
    variation = {
        "id": 23,
        "sku": "",
        "price": "12",
        "manage_stock": "parent",
        "stock_quantity": 4,
        "backorders": "no",
        "attributes": [{"name": "Color", "option": "Black"}],
    }
    variants, levels = catalogue_records(SHOP, variation, parent)
    assert levels == []
    assert variants[0].title == "Ship Your Idea – Black"


def test_a_variable_parent_speaks_only_when_it_holds_the_stock():
    base = managed(type="variable", variations=[23, 24], manage_stock=False, stock_quantity=None)
    assert normalise("product.updated", base) == []
    events = normalise("product.updated", base | {"manage_stock": True, "stock_quantity": 5, "sku": "PARENT"})
    assert events[1].levels[0].sku == "PARENT" and events[1].levels[0].available == 5


@pytest.mark.parametrize("kind", ["grouped", "external"])
def test_products_that_hold_no_stock_are_ignored(kind):
    assert normalise("product.updated", managed(type=kind, stock_quantity=3)) == []


# ---- what cannot be read -----------------------------------------------------------------


@pytest.mark.parametrize(
    "topic", ["coupon.created", "customer.updated", "action.woocommerce_add_to_cart", "product.deleted"]
)
def test_topics_we_do_not_use_give_no_events(topic):
    assert normalise(topic, {"id": 1}) == []


def test_a_delivery_without_topic_is_dead_lettered():
    with pytest.raises(NormalisationError, match="topic"):
        normalise("", fixture("rest_v3_order_retrieve.json"))


@pytest.mark.parametrize("body", [b"\xff\xfe", b"not json", b"[1, 2]", b"null"])
def test_bodies_that_are_not_a_json_object_are_dead_lettered(body):
    with pytest.raises(NormalisationError, match="order.updated"):
        normalise("order.updated", body)


def test_an_order_without_dates_says_so():
    payload = fixture("rest_v3_order_retrieve.json")
    for key in ("date_created", "date_created_gmt", "date_modified", "date_modified_gmt"):
        payload.pop(key)
    with pytest.raises(NormalisationError, match="order 727: .*creation date"):
        normalise("order.updated", payload)


@pytest.mark.parametrize(
    ("status", "reserves"),
    [("pending", False), ("processing", True), ("on-hold", True), ("completed", True), ("failed", True)],
)
def test_an_order_awaiting_payment_has_not_taken_stock(status: str, reserves: bool) -> None:
    payload = dict(fixture("rest_v3_order_retrieve.json"), status=status)
    [upserted, *_] = normalise("order.updated", payload)
    assert upserted.order.reserves_stock is reserves


# ---- privacy requests the plugin passes on (adapters/woocommerce/privacy_requests.py) -------------------


def test_the_plugins_privacy_requests_read_as_the_core_honours_them() -> None:
    from adapters.woocommerce.privacy_requests import ERASE_TOPIC, EXPORT_TOPIC
    from connector.domain.model import CustomerDataRequested, CustomerRedactRequested

    body = {"email": "Jane@Example.com", "customer_id": 12, "order_ids": [727, "728", 727], "sent_at": 1.8e9}
    assert normalise(EXPORT_TOPIC, body) == [CustomerDataRequested(SHOP, "Jane@Example.com", "12", ("727", "728"))]
    assert normalise(ERASE_TOPIC, body | {"customer_id": None, "order_ids": []}) == [
        CustomerRedactRequested(SHOP, "Jane@Example.com", None, ())]


@pytest.mark.parametrize(
    "change",
    [
        {"email": "not an address"},
        {"email": "two@@example.com"},
        {"email": "a@example.com\nBcc: b@example.com"},
        {"email": "a" * 250 + "@example.com"},
        {"email": None},
        {"customer_id": -3},
        {"customer_id": "12 OR 1=1"},
        {"order_ids": "727"},
        {"order_ids": [727, {"id": 1}]},
        {"order_ids": list(range(1, 10_002))},
    ],
)
def test_a_privacy_request_that_is_not_what_the_plugin_sends_is_refused(change) -> None:
    from adapters.woocommerce.privacy_requests import ERASE_TOPIC

    with pytest.raises(NormalisationError):
        normalise(ERASE_TOPIC, {"email": "a@example.com", "customer_id": None, "order_ids": []} | change)
