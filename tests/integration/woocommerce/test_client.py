from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import responses

from adapters.base import AuthRevoked, BackorderStarter, LineQuantity, StoreClient, StoreError, UserError
from adapters.woocommerce.client import WooStoreClient
from adapters.woocommerce.rest import WooRest
from connector.domain.model import PaymentStatus
from tests.fake_woocommerce import FakeWooStore
from tests.woocommerce_support import fixture

SHOP = "shop.example.com"


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def store(rsps):
    store = FakeWooStore(rsps)
    store.add_order(fixture("rest_v3_order_retrieve.json"))  # 727: processing, paid by bank transfer
    return store


@pytest.fixture
def client(store):
    return WooStoreClient(SHOP, WooRest(store.url, store.key, store.secret, sleep=lambda s: None))


def test_it_is_a_store_client(client):
    assert isinstance(client, StoreClient)


# ---- tags ------------------------------------------------------------------------------------


def test_tags_live_in_order_meta_and_repeat_without_writes(client, store):
    client.add_tags("727", ["backorder", "eta-2026-12-01"])
    assert store.meta(727, "_backorder_tags") == "backorder,eta-2026-12-01"
    writes = len(store.writes())
    client.add_tags("727", ["backorder"])
    assert len(store.writes()) == writes
    client.remove_tags("727", ["eta-2026-12-01", "not-there"])
    assert store.meta(727, "_backorder_tags") == "backorder"


def test_a_tag_with_a_comma_is_refused(client):
    with pytest.raises(UserError, match="comma"):
        client.add_tags("727", ["a,b"])


# ---- hold and release --------------------------------------------------------------------------


def test_hold_puts_a_processing_order_on_hold_once_with_one_private_note(client, store):
    lines = [LineQuantity("316", 1)]
    client.hold_fulfillment("727", lines, "Bar3 is out of stock until 1 Dec")
    client.hold_fulfillment("727", lines, "Bar3 is out of stock until 1 Dec")
    assert store.orders[727]["status"] == "on-hold"
    assert store.meta(727, "_backorder_hold") == "processing"
    assert [n["note"] for n in store.notes[727]] == [
        "Backorder Connector: on hold for backorder (line 316 × 1): Bar3 is out of stock until 1 Dec"
    ]
    assert not store.notes[727][0]["customer_note"]
    assert [c for c in store.writes() if c[1] == "orders/727"] == [("PUT", "orders/727")]


def test_release_restores_the_status_we_held_from(client, store):
    client.hold_fulfillment("727", [LineQuantity("316", 1)], "waiting")
    client.release_fulfillment("727")
    client.release_fulfillment("727")
    assert store.orders[727]["status"] == "processing"
    assert store.meta(727, "_backorder_hold") == ""
    released = "Backorder Connector: backorder hold released (back to processing)."
    assert store.notes[727][-1]["note"] == released
    assert len(store.notes[727]) == 2


def test_an_order_waiting_for_a_bank_transfer_is_not_moved(client, store):
    store.orders[727] |= {"status": "on-hold", "date_paid": None, "date_paid_gmt": None}
    client.hold_fulfillment("727", [LineQuantity("316", 1)], "waiting")
    client.release_fulfillment("727")
    assert store.orders[727]["status"] == "on-hold"
    assert [c for c in store.writes() if c[1] == "orders/727"] == []


def test_release_respects_a_status_the_merchant_set_meanwhile(client, store):
    client.hold_fulfillment("727", [LineQuantity("316", 1)], "waiting")
    store.orders[727]["status"] = "completed"
    client.release_fulfillment("727")
    assert store.orders[727]["status"] == "completed"
    assert store.meta(727, "_backorder_hold") == ""


@pytest.mark.parametrize("status", ["completed", "cancelled", "refunded", "failed"])
def test_nothing_to_hold_on_a_finished_order(client, store, status):
    store.orders[727]["status"] = status
    with pytest.raises(UserError, match=f"is {status}"):
        client.hold_fulfillment("727", [LineQuantity("316", 1)], "waiting")
    assert store.writes() == []


# ---- the start of a wait ------------------------------------------------------------------------


def test_the_start_of_a_wait_reads_and_writes_the_order_once(client, store):
    """Tag, hold and date in one read and one update of the order, where the three parts apart read it
    three times and update it three times; the same notes; nothing written when made again."""
    assert isinstance(client, BackorderStarter)
    lines = [LineQuantity("316", 1)]
    client.start_backorder("727", ["backorder"], lines, "Bar3 is out of stock", date(2026, 12, 1), "Ships by 1 Dec")
    assert store.orders[727]["status"] == "on-hold"
    assert store.meta(727, "_backorder_hold") == "processing"
    assert store.meta(727, "_backorder_tags") == "backorder"
    assert store.meta(727, "_backorder_eta") == "2026-12-01"
    assert [(n["note"], n["customer_note"]) for n in store.notes[727]] == [
        ("Backorder Connector: on hold for backorder (line 316 × 1): Bar3 is out of stock", False),
        ("Ships by 1 Dec", True),
    ]
    order_calls = [c for c in store.calls if c[1] == "orders/727"]
    assert order_calls == [("GET", "orders/727"), ("PUT", "orders/727")]
    writes = len(store.writes())
    client.start_backorder("727", ["backorder"], lines, "Bar3 is out of stock", date(2026, 12, 1), "Ships by 1 Dec")
    assert len(store.writes()) == writes


def test_the_start_of_a_wait_leaves_an_order_not_ours_to_move_and_refuses_a_finished_one(client, store):
    store.orders[727] |= {"status": "on-hold", "date_paid": None, "date_paid_gmt": None}  # a bank transfer
    client.start_backorder("727", ["backorder"], [LineQuantity("316", 1)], "waiting", date(2026, 12, 1), "")
    assert store.orders[727]["status"] == "on-hold" and store.meta(727, "_backorder_hold") in (None, "")
    assert store.meta(727, "_backorder_tags") == "backorder"
    store.orders[727]["status"] = "completed"
    writes = len(store.writes())
    with pytest.raises(UserError, match="is completed"):
        client.start_backorder("727", ["backorder"], [LineQuantity("316", 1)], "waiting", None, "")
    with pytest.raises(UserError, match="comma"):
        client.start_backorder("727", ["a,b"], [LineQuantity("316", 1)], "waiting", None, "")
    assert len(store.writes()) == writes


def test_the_start_made_again_adds_no_note_twice_when_both_notes_are_private(store):
    """The hold's note and a private date note are the order's two latest private notes after a start:
    made again (a retry), the start adds neither; after a crash between the two, only the second."""
    client = WooStoreClient(SHOP, WooRest(store.url, store.key, store.secret), eta_note_to_customer=False)
    lines = [LineQuantity("316", 1)]
    hold = "Backorder Connector: on hold for backorder (line 316 × 1): waiting"
    client.hold_fulfillment("727", lines, "waiting")  # as far as a first attempt got
    client.start_backorder("727", ["backorder"], lines, "waiting", date(2026, 12, 1), "Ships by 1 Dec")
    client.start_backorder("727", ["backorder"], lines, "waiting", date(2026, 12, 1), "Ships by 1 Dec")
    assert [(n["note"], n["customer_note"]) for n in store.notes[727]] == [(hold, False), ("Ships by 1 Dec", False)]
    client.release_fulfillment("727")  # the wait ends; a new one starts with the same words
    client.start_backorder("727", ["backorder"], lines, "waiting", date(2026, 12, 1), "Ships by 1 Dec")
    assert [n["note"] for n in store.notes[727]][-2:] == [hold, "Ships by 1 Dec"]
    assert len(store.notes[727]) == 5


# ---- notes and ETA ---------------------------------------------------------------------------------


def test_set_eta_writes_meta_and_one_customer_note(client, store):
    client.set_eta("727", date(2026, 12, 1), "Your Ship Your Idea ships by 1 December 2026.")
    client.set_eta("727", date(2026, 12, 1), "Your Ship Your Idea ships by 1 December 2026.")
    assert store.meta(727, "_backorder_eta") == "2026-12-01"
    assert [(n["note"], n["customer_note"]) for n in store.notes[727]] == [
        ("Your Ship Your Idea ships by 1 December 2026.", True)
    ]
    client.set_eta("727", None, "")
    assert store.meta(727, "_backorder_eta") == ""


def test_the_eta_note_can_stay_private(store):
    client = WooStoreClient(SHOP, WooRest(store.url, store.key, store.secret), eta_note_to_customer=False)
    client.set_eta("727", date(2026, 12, 1), "Ships by 1 Dec")
    assert [(n["note"], n["customer_note"]) for n in store.notes[727]] == [("Ships by 1 Dec", False)]


def test_a_note_is_not_repeated_but_an_eta_that_moves_back_is_told_again(client, store):
    store.notes[727].append(fixture("rest_v3_order_note_create.json"))  # "Order ok!!!", private
    client.add_note("727", "Order ok!!!", customer_visible=False)
    assert len(store.notes[727]) == 1
    for text in ("Ships by 1 Dec", "Ships by 8 Dec", "Ships by 1 Dec"):
        client.add_note("727", text, customer_visible=True)
    assert [n["note"] for n in store.notes[727] if n["customer_note"]] == [
        "Ships by 1 Dec",
        "Ships by 8 Dec",
        "Ships by 1 Dec",
    ]


def test_a_note_whose_html_the_store_reformatted_still_counts_as_sent(client, store):
    store.notes[727].append(
        {
            "id": 1,
            "note": "<p>We&#8217;ll ship by 1 Dec</p>\n",
            "customer_note": True,
            "date_created_gmt": "2026-11-25T08:00:00",
        }
    )
    client.add_note("727", "We'll ship by 1 Dec", customer_visible=True)
    assert len(store.notes[727]) == 1


# ---- money -----------------------------------------------------------------------------------------


def stripe_order(store, **changes):
    store.orders[727] |= {
        "payment_method": "stripe",
        "payment_method_title": "Credit card (Stripe)",
        "transaction_id": "ch_1",
    } | changes
    return store


def test_refund_through_the_gateway_once_per_key(client, store):
    stripe_order(store)
    lines = [LineQuantity("316", 1)]
    client.refund_lines("727", lines, Decimal("12.90"), "USD", "Customer took the refund offer", "refund-727-316")
    client.refund_lines("727", lines, Decimal("12.90"), "USD", "Customer took the refund offer", "refund-727-316")
    (refund,) = store.refunds[727]
    assert refund["amount"] == "12.90" and refund["refunded_payment"] is True
    assert refund["line_items"] == [{"id": 316, "quantity": 1, "refund_total": "12.90"}]
    assert refund["meta_data"][0]["value"] == "refund-727-316"
    assert store.notes[727] == []


def test_a_refund_whose_answer_was_lost_is_not_made_twice(client, store):
    stripe_order(store).lose_answer_to = ("POST", "/refunds")  # the store refunds, its answer never arrives
    with pytest.raises(StoreError) as caught:
        client.refund_lines("727", [LineQuantity("316", 1)], Decimal("12.90"), "USD", "r", "refund-key")
    assert caught.value.retryable and len(store.refunds[727]) == 1
    client.refund_lines("727", [LineQuantity("316", 1)], Decimal("12.90"), "USD", "r", "refund-key")  # the retry
    assert len(store.refunds[727]) == 1


def test_a_note_whose_answer_was_lost_is_not_added_twice(client, store):
    store.lose_answer_to = ("POST", "/notes")
    with pytest.raises(StoreError):
        client.add_note("727", "Ships by 1 Dec", customer_visible=True)
    client.add_note("727", "Ships by 1 Dec", customer_visible=True)
    assert [n["note"] for n in store.notes[727]] == ["Ships by 1 Dec"]


def test_refund_spreads_the_amount_over_lines_by_what_they_cost(client, store):
    stripe_order(store)
    client.refund_lines("727", [LineQuantity("315", 2), LineQuantity("316", 1)], Decimal("19.35"), "USD", "r", "k")
    shares = [li["refund_total"] for li in store.refunds[727][0]["line_items"]]
    assert shares == ["6.45", "12.90"]
    assert sum(Decimal(s) for s in shares) == Decimal("19.35")


def test_a_bank_transfer_refund_is_recorded_and_the_merchant_asked_to_pay_it(client, store):
    client.refund_lines("727", [LineQuantity("316", 1)], Decimal("12.90"), "USD", "refund offer", "k1")
    assert store.refunds[727][0]["refunded_payment"] is False
    assert "pay it back by hand (Direct Bank Transfer)" in store.notes[727][0]["note"]


def test_a_gateway_that_cannot_refund_is_a_final_error_and_records_nothing(client, store):
    stripe_order(store).gateway_refuses_refunds = True
    with pytest.raises(UserError, match="does not support automatic refunds"):
        client.refund_lines("727", [LineQuantity("316", 1)], Decimal("12.90"), "USD", "r", "k")
    assert store.refunds[727] == []


@pytest.mark.parametrize(
    ("lines", "currency", "message"),
    [
        ([LineQuantity("999", 1)], "USD", "no line 999"),
        ([LineQuantity("316", 2)], "USD", "cannot refund 2"),
        ([LineQuantity("316", 1)], "EUR", "in USD, not EUR"),
    ],
)
def test_impossible_refunds_are_refused_before_writing(client, store, lines, currency, message):
    with pytest.raises(UserError, match=message):
        client.refund_lines("727", lines, Decimal("1.00"), currency, "r", "k")
    assert store.writes() == []


def test_capture_on_a_paid_order_is_nothing_to_do_and_says_so(client, store):
    client.capture_payment("727", Decimal("12.90"), "USD", "cap-1")
    client.capture_payment("727", Decimal("12.90"), "USD", "cap-1")
    assert [n["note"] for n in store.notes[727]] == [
        "Backorder Connector: 12.90 USD due for the backordered items; the order is already paid."
    ]


def test_capture_of_an_authorised_charge_asks_the_merchant(client, store):
    stripe_order(
        store,
        status="on-hold",
        date_paid=None,
        date_paid_gmt=None,
        meta_data=[{"id": 1, "key": "_stripe_charge_captured", "value": "no"}],
    )
    with pytest.raises(UserError, match=r"capture 12.90 USD by hand with Credit card \(Stripe\)") as caught:
        client.capture_payment("727", Decimal("12.90"), "USD", "cap-1")
    assert not caught.value.retryable
    assert "please capture 12.90 USD" in store.notes[727][0]["note"]


def test_capture_of_an_unpaid_order_is_refused(client, store):
    store.orders[727] |= {"status": "pending", "date_paid": None, "date_paid_gmt": None}
    with pytest.raises(UserError, match="payment is pending"):
        client.capture_payment("727", Decimal("12.90"), "USD", "cap-1")


# ---- reconciliation reads -----------------------------------------------------------------------


def test_orders_updated_since_reads_every_page_from_one_second_earlier(client, store, rsps):
    first, second = fixture("rest_v3_orders_list.json")
    for n in range(150):
        store.add_order(first | {"id": 2000 + n, "number": str(2000 + n), "date_modified_gmt": "2026-11-25T08:00:00"})
    store.add_order(second)  # modified in 2017: not wanted
    store.add_order(first | {"id": 3000, "status": "checkout-draft", "date_modified_gmt": "2026-11-25T08:00:00"})
    orders = list(client.orders_updated_since(datetime(2026, 11, 25, 8, 0, tzinfo=UTC)))
    assert [o.external_id for o in orders] == [str(2000 + n) for n in range(150)]
    assert all(o.shop == SHOP and o.payment_status is PaymentStatus.PAID for o in orders)
    listed = [c.request.url for c in rsps.calls if "/orders?" in c.request.url]
    assert len(listed) == 2 and "modified_after=2026-11-25T07%3A59%3A59" in listed[0]
    assert "dates_are_gmt=true" in listed[0]


def test_one_unreadable_order_or_product_does_not_stop_reconciliation(client, store, caplog):
    first, _ = fixture("rest_v3_orders_list.json")
    recent = {"date_modified_gmt": "2026-11-25T08:00:00"}
    store.add_order(first | recent | {"id": 1})
    store.add_order(first | recent | {"id": 2, "line_items": [first["line_items"][0] | {"quantity": 1.5}]})
    store.add_order(first | recent | {"id": 3})
    orders = list(client.orders_updated_since(datetime(2026, 11, 25, 8, 0, tzinfo=UTC)))
    assert [o.external_id for o in orders] == ["1", "3"]
    assert "order 2" in caplog.text
    product = fixture("rest_v3_product_retrieve.json") | {"manage_stock": True}
    store.add_product(product | {"id": 1, "stock_quantity": 2.5})
    store.add_product(product | {"id": 2, "stock_quantity": 4})
    assert [(lv.sku, lv.available) for lv in client.stock_levels()] == [("wc-product:2", 4)]
    assert "product 1" in caplog.text


def test_orders_updated_since_wants_an_aware_time(client):
    with pytest.raises(ValueError, match="timezone-aware"):
        list(client.orders_updated_since(datetime(2026, 11, 25)))


def test_catalogue_reads_products_and_variations(client, store):
    store.add_product(fixture("rest_v3_product_retrieve.json"))  # 794, stock not managed
    store.add_product(
        fixture("rest_v3_product_retrieve.json")
        | {"id": 93, "name": "Woo Single #1", "manage_stock": True, "stock_quantity": -2, "backorders": "notify"}
    )
    store.add_product(
        fixture("rest_v3_product_retrieve.json")
        | {"id": 22, "name": "Ship Your Idea", "type": "variable", "variations": [23, 24]},
        variations=[
            {
                "id": 23,
                "sku": "Bar3",
                "price": "12.00",
                "manage_stock": True,
                "stock_quantity": 0,
                "backorders": "yes",
                "attributes": [{"name": "Color", "option": "Black"}],
            },
            {
                "id": 24,
                "sku": "",
                "price": "12.00",
                "manage_stock": False,
                "stock_quantity": None,
                "backorders": "no",
                "attributes": [{"name": "Color", "option": "White"}],
            },
        ],
    )
    levels = {lv.sku: lv.available for lv in client.stock_levels()}
    assert levels == {"wc-product:93": -2, "Bar3": 0}
    variants = {v.sku: v for v in client.variants()}
    assert set(variants) == {"wc-product:93", "wc-product:794", "Bar3", "wc-variation:24"}
    assert variants["Bar3"].title == "Ship Your Idea – Black" and variants["Bar3"].product_id == "22"
    assert variants["Bar3"].sells_when_out_of_stock and not variants["wc-variation:24"].sells_when_out_of_stock


def test_revoked_keys_surface_as_auth_revoked(store):
    client = WooStoreClient(SHOP, WooRest(store.url, store.key, "cs_revoked", sleep=lambda s: None))
    with pytest.raises(AuthRevoked):
        client.add_note("727", "hello", customer_visible=False)


def test_a_store_that_hiccups_is_retried_inside_one_call(client, store):
    store.failures = [503, 429]
    client.set_eta("727", date(2026, 12, 1), "Ships by 1 Dec")
    assert store.meta(727, "_backorder_eta") == "2026-12-01"


# ---- stock received ------------------------------------------------------------------------------


def stocked_catalogue(store):
    base = fixture("rest_v3_product_retrieve.json") | {"manage_stock": True}
    store.add_product(base | {"id": 93, "sku": "", "stock_quantity": -2})
    store.add_product(base | {"id": 50, "sku": "MUG-1", "stock_quantity": 0})
    store.add_product(base | {"id": 51, "sku": "CAP-1", "manage_stock": False, "stock_quantity": None})
    store.add_product(
        base | {"id": 22, "type": "variable", "sku": "", "stock_quantity": 10},
        variations=[
            {"id": 23, "sku": "Bar3", "manage_stock": True, "stock_quantity": -1},
            {"id": 24, "sku": "Bar4", "manage_stock": "parent", "stock_quantity": 10},
        ],
    )


@pytest.mark.parametrize(
    ("sku", "where"),
    [
        ("MUG-1", ("products", 50)),
        ("wc-product:93", ("products", 93)),
        ("Bar3", ("variation", 23)),
        ("wc-variation:23", ("variation", 23)),
        ("Bar4", ("products", 22)),
    ],
)
def test_received_stock_is_added_once_per_key(client, store, sku, where):
    stocked_catalogue(store)

    def stock():
        if where[0] == "products":
            return store.products[where[1]]["stock_quantity"]
        return next(v for v in store.variations[22] if v["id"] == where[1])["stock_quantity"]

    before = stock()
    client.adjust_stock(sku, 5, None, "PO-7 received", "po-7:line-1")
    client.adjust_stock(sku, 5, None, "PO-7 received", "po-7:line-1")
    assert stock() == before + 5
    client.adjust_stock(sku, 2, "default", "PO-8 received", "po-8:line-1")
    assert stock() == before + 7


@pytest.mark.parametrize(
    ("sku", "location", "message"),
    [
        ("CAP-1", None, "does not track its stock"),
        ("NOPE", None, "no product or variation with SKU 'NOPE'"),
        ("MUG-1", "warehouse-2", "one stock figure"),
    ],
)
def test_stock_that_cannot_be_adjusted_says_why(client, store, sku, location, message):
    stocked_catalogue(store)
    with pytest.raises(UserError, match=message):
        client.adjust_stock(sku, 5, location, "r", "k")
    assert [c for c in store.writes() if c[1].startswith("products")] == []
