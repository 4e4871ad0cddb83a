"""`ShopifyStoreClient` actions against a stateful fake shop behind the schema-enforcing mock."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from adapters.base import BackorderStarter, LineQuantity, StoreClient, UserError
from adapters.shopify.client import FO_LINE_PAGE, HOLD_HANDLE, ShopifyStoreClient
from adapters.shopify.graphql import GraphQLClient
from tests.shared_files import load_fixture
from tests.shopify_fake_store import FakeShopifyStore
from tests.shopify_schema import ShopifyAdminMock
from tests.shopify_webhooks import TEST_SHOP

ORDER = "450789469"
GREEN, RED, BLACK = "466157049", "518995019", "703073504"


@pytest.fixture
def client(gql: GraphQLClient) -> ShopifyStoreClient:
    return ShopifyStoreClient(TEST_SHOP, gql)


@pytest.fixture
def order(store: FakeShopifyStore) -> dict:
    rest = load_fixture("shopify", "rest_order.json")["order"]
    return store.add_rest_order(rest, transactions=[load_fixture("shopify", "rest_transaction.json")["transaction"]])


def test_it_is_a_store_client(client: ShopifyStoreClient) -> None:
    assert isinstance(client, StoreClient)


def test_tags_add_and_remove(client: ShopifyStoreClient, order: dict, admin: ShopifyAdminMock) -> None:
    client.add_tags(ORDER, ["backorder", "backorder:partial"])
    client.add_tags(ORDER, ["backorder"])
    assert order["tags"] == {"backorder", "backorder:partial"}
    client.remove_tags(ORDER, ["backorder:partial"])
    assert order["tags"] == {"backorder"}
    client.add_tags(ORDER, [])
    assert admin.called("TagsAdd")[0] == {"id": "gid://shopify/Order/450789469",
                                          "tags": ["backorder", "backorder:partial"]}
    assert admin.operations.count("TagsAdd") == 2


def test_hold_only_the_backordered_lines_once(client: ShopifyStoreClient, order: dict, admin: ShopifyAdminMock) -> None:
    client.hold_fulfillment(ORDER, [LineQuantity(RED, 1), LineQuantity(BLACK, 1)], "Waiting for stock: ETA 12 Dec")
    (hold,) = admin.called("FulfillmentOrderHold")
    assert hold["fulfillmentHold"]["handle"] == HOLD_HANDLE
    assert hold["fulfillmentHold"]["reason"] == "INVENTORY_OUT_OF_STOCK"
    assert hold["fulfillmentHold"]["reasonNotes"] == "Waiting for stock: ETA 12 Dec"
    assert len(hold["fulfillmentHold"]["fulfillmentOrderLineItems"]) == 2
    held, free = order["fulfillmentOrders"]
    assert held["status"] == "ON_HOLD" and {i["lineItem"]["id"][-9:] for i in held["items"]} == {RED, BLACK}
    assert free["status"] == "OPEN" and [i["lineItem"]["id"][-9:] for i in free["items"]] == [GREEN]

    client.hold_fulfillment(ORDER, [LineQuantity(RED, 1), LineQuantity(BLACK, 1)], "Waiting for stock: ETA 12 Dec")
    assert len(admin.called("FulfillmentOrderHold")) == 1, "a repeated hold must not hold again"


def test_hold_lines_beyond_the_first_page_of_a_large_order(client: ShopifyStoreClient, store: FakeShopifyStore,
                                                          admin: ShopifyAdminMock) -> None:
    """A reseller's order of 25 lines: the first read asks for FO_LINE_PAGE lines per fulfillment
    order (its requested cost fits a bucket), the rest are paged in, and lines on every page are held."""
    rest = load_fixture("shopify", "rest_order.json")["order"]
    template = rest["line_items"][0]
    rest["line_items"] = [{**template, "id": 9_000 + i, "quantity": 1} for i in range(25)]
    order = store.add_rest_order(rest)
    wanted = [LineQuantity(str(9_000 + i), 1) for i in (0, 12, 24)]  # pages one, two and three
    client.hold_fulfillment(ORDER, wanted, "waiting for stock")
    assert admin.called("OrderFulfillmentOrders")[0]["lines"] == FO_LINE_PAGE < 25
    assert len(admin.called("FulfillmentOrderLineItems")) == 1  # lines 11-25 in one further page of 100
    held = [fo for fo in order["fulfillmentOrders"] if fo["status"] == "ON_HOLD"]
    assert [sorted(i["lineItem"]["id"][-4:] for i in fo["items"]) for fo in held] == [["9000", "9012", "9024"]]
    client.hold_fulfillment(ORDER, wanted, "waiting for stock")
    assert len(admin.called("FulfillmentOrderHold")) == 1, "a repeated hold must not hold again"


def order_in_twelve_locations(store: FakeShopifyStore) -> dict:
    """An order of 12 lines split into 12 fulfillment orders (a line per location): two pages of them."""
    rest = load_fixture("shopify", "rest_order.json")["order"]
    template = rest["line_items"][0]
    rest["line_items"] = [{**template, "id": 8_000 + i, "quantity": 1} for i in range(12)]
    order = store.add_rest_order(rest)
    (single,) = order["fulfillmentOrders"]
    order["fulfillmentOrders"] = [store._fo([item]) for item in single["items"]]
    return order


def test_hold_a_line_on_the_second_page_of_fulfillment_orders(client: ShopifyStoreClient, store: FakeShopifyStore,
                                                             admin: ShopifyAdminMock) -> None:
    """An order split into 12 fulfillment orders (a line per location): the twelfth is read on the
    second page and held; a first page alone would never have held it."""
    order = order_in_twelve_locations(store)
    client.hold_fulfillment(ORDER, [LineQuantity("8011", 1)], "waiting for stock")
    assert [call["after"] for call in admin.called("OrderFulfillmentOrders")] == [None, "10"]
    assert [fo["status"] for fo in order["fulfillmentOrders"]] == ["OPEN"] * 11 + ["ON_HOLD"]


def test_hold_part_of_a_line_quantity(client: ShopifyStoreClient, store: FakeShopifyStore,
                                      admin: ShopifyAdminMock) -> None:
    rest = load_fixture("shopify", "rest_order.json")["order"]
    rest["line_items"][0]["quantity"] = 5
    order = store.add_rest_order(rest)
    client.hold_fulfillment(ORDER, [LineQuantity(GREEN, 3)], "3 of 5 on backorder")
    held, free = order["fulfillmentOrders"]
    assert [i["remainingQuantity"] for i in held["items"]] == [3]
    assert sorted(i["remainingQuantity"] for i in free["items"]) == [1, 1, 2]
    client.hold_fulfillment(ORDER, [LineQuantity(GREEN, 4)], "one more on backorder")
    second = admin.called("FulfillmentOrderHold")[1]
    assert [i["quantity"] for i in second["fulfillmentHold"]["fulfillmentOrderLineItems"]] == [1]


def test_hold_of_lines_that_cannot_be_held_is_a_user_error(client: ShopifyStoreClient, order: dict) -> None:
    order["fulfillmentOrders"][0]["status"] = "IN_PROGRESS"
    with pytest.raises(UserError, match="no open fulfillment order to hold 1 of line 518995019"):
        client.hold_fulfillment(ORDER, [LineQuantity(RED, 1)], "waiting")


def test_release_lifts_only_our_holds(client: ShopifyStoreClient, order: dict, admin: ShopifyAdminMock) -> None:
    client.hold_fulfillment(ORDER, [LineQuantity(RED, 1)], "waiting")
    held = order["fulfillmentOrders"][0]
    held["holds"].append({"id": "gid://shopify/FulfillmentHold/1", "handle": "merchant", "reason": "OTHER"})
    client.release_fulfillment(ORDER)
    (release,) = admin.called("FulfillmentOrderReleaseHold")
    assert release["id"] == held["id"] and len(release["holdIds"]) == 1
    assert [h["handle"] for h in held["holds"]] == ["merchant"]
    client.release_fulfillment(ORDER)
    assert len(admin.called("FulfillmentOrderReleaseHold")) == 1


def captures(order: dict) -> list[Decimal]:
    return [Decimal(t["amountSet"]["presentmentMoney"]["amount"]) for t in order["transactions"]
            if t["kind"] == "CAPTURE"]


def test_capture_from_the_authorization_once_per_key(client: ShopifyStoreClient, order: dict,
                                                     admin: ShopifyAdminMock) -> None:
    order["transactions"][0]["multiCapturable"] = True  # Shopify Plus: partial captures as lines ship
    client.capture_payment(ORDER, Decimal("199.00"), "USD", "capture:450789469:1")
    (capture,) = admin.called("OrderCapture")
    assert capture["input"] == {"id": "gid://shopify/Order/450789469",
                                "parentTransactionId": "gid://shopify/OrderTransaction/389404469",
                                "amount": "199.00", "currency": "USD"}
    client.capture_payment(ORDER, Decimal("199.00"), "USD", "capture:450789469:1")
    assert len(admin.called("OrderCapture")) == 1
    client.capture_payment(ORDER, Decimal("210.94"), "USD", "capture:450789469:2")
    assert captures(order) == [Decimal("199.00"), Decimal("210.94")]
    journal = json.loads(order["metafields"][("backorder_connector", "captures")])
    assert {k: v["state"] for k, v in journal.items()} == {"capture:450789469:1": "done", "capture:450789469:2": "done"}


def test_capture_interrupted_after_shopify_took_it_is_not_repeated(client: ShopifyStoreClient, order: dict,
                                                                   admin: ShopifyAdminMock) -> None:
    """The process died between `orderCapture` and marking the journal: the retry must see the capture."""
    original = admin.handlers["OrderCapture"][0]

    def capture_then_crash(variables: dict) -> dict:
        original(variables)  # Shopify took the money, then the answer never arrived
        admin.on("OrderCapture", original)
        raise ConnectionResetError("process killed")

    admin.on("OrderCapture", capture_then_crash)
    with pytest.raises(ConnectionResetError):
        client.capture_payment(ORDER, Decimal("199.00"), "USD", "k1")
    assert captures(order) == [Decimal("199.00")]
    client.capture_payment(ORDER, Decimal("199.00"), "USD", "k1")
    assert captures(order) == [Decimal("199.00")], "captured twice"
    assert json.loads(order["metafields"][("backorder_connector", "captures")])["k1"]["state"] == "done"


def test_capture_that_failed_before_shopify_took_it_is_retried(client: ShopifyStoreClient, order: dict,
                                                               admin: ShopifyAdminMock) -> None:
    original = admin.handlers["OrderCapture"][0]
    admin.on("OrderCapture", {"orderCapture": {"transaction": None, "userErrors": [
        {"field": None, "message": "Gateway timeout, try again"}]}}, original)
    with pytest.raises(UserError, match="Gateway timeout"):
        client.capture_payment(ORDER, Decimal("50.00"), "USD", "k2")
    assert captures(order) == []
    client.capture_payment(ORDER, Decimal("50.00"), "USD", "k2")
    assert captures(order) == [Decimal("50.00")]


def test_capture_beyond_the_authorization_or_in_another_currency_is_refused(client: ShopifyStoreClient,
                                                                            order: dict) -> None:
    order["transactions"][0]["amountSet"] = {"presentmentMoney": {"amount": "100.00", "currencyCode": "USD"},
                                             "shopMoney": {"amount": "100.00", "currencyCode": "USD"}}
    with pytest.raises(UserError, match="300.00 USD cannot be captured, 100.00 is left authorized"):
        client.capture_payment(ORDER, Decimal("300.00"), "USD", "too-much")
    with pytest.raises(UserError, match="paid in USD"):
        client.capture_payment(ORDER, Decimal("10.00"), "EUR", "wrong-currency")
    assert captures(order) == []


def test_set_eta_writes_metafield_and_one_note_line(client: ShopifyStoreClient, order: dict,
                                                    admin: ShopifyAdminMock) -> None:
    order["note"] = "Gift wrap please"
    client.set_eta(ORDER, date(2026, 12, 12), "Ships by 12 December 2026")
    assert order["metafields"][("backorder_connector", "eta")] == "2026-12-12"
    assert order["note"] == "Gift wrap please\nBackorder ETA: Ships by 12 December 2026"
    (written,) = admin.called("OrderUpdate")  # the note and the metafield in one call
    assert written["input"]["metafields"] == [
        {"namespace": "backorder_connector", "key": "eta", "type": "date", "value": "2026-12-12"}]
    client.set_eta(ORDER, date(2026, 12, 12), "Ships by 12 December 2026")
    assert len(admin.called("OrderUpdate")) == 1, "what is already there is not written again"
    client.set_eta(ORDER, date(2026, 12, 19), "Ships by 19 December 2026")
    assert order["note"] == "Gift wrap please\nBackorder ETA: Ships by 19 December 2026"
    assert order["metafields"][("backorder_connector", "eta")] == "2026-12-19"
    client.set_eta(ORDER, date(2026, 12, 20), "Ships by 19 December 2026")  # the date moved, not the text
    assert admin.called("OrderUpdate")[-1]["input"].keys() == {"id", "metafields"}
    client.set_eta(ORDER, None, "")
    assert ("backorder_connector", "eta") not in order["metafields"]
    assert order["note"] == "Gift wrap please"
    assert admin.called("MetafieldsSet") == [] and len(admin.called("MetafieldsDelete")) == 1
    client.set_eta(ORDER, None, "")
    assert len(admin.called("MetafieldsDelete")) == 1 and len(admin.called("OrderUpdate")) == 4


def test_the_start_of_a_wait_tags_holds_and_dates_in_two_calls(client: ShopifyStoreClient, order: dict,
                                                               admin: ShopifyAdminMock) -> None:
    """tagsAdd answers with what the hold and the date are decided on, and the hold and the date go in
    one document: two calls where the parts apart take five (tagsAdd; a read and the hold; a read and
    orderUpdate), with the same outcome."""
    assert isinstance(client, BackorderStarter)
    order["note"] = "Gift wrap please"
    wait = [LineQuantity(RED, 1), LineQuantity(BLACK, 1)]
    client.start_backorder(ORDER, ["backorder"], wait, "awaiting stock", date(2026, 12, 12), "Ships by 12 Dec")
    assert admin.operations == ["OrderBackorderStart", "OrderBackorderHoldAndDate"]
    assert admin.called("OrderBackorderStart")[0]["lines"] == FO_LINE_PAGE
    (second,) = admin.called("OrderBackorderHoldAndDate")
    assert second["fulfillmentHold"]["handle"] == HOLD_HANDLE
    assert second["order"]["metafields"][0]["value"] == "2026-12-12"
    assert order["tags"] == {"backorder"}
    held, free = order["fulfillmentOrders"]
    assert held["status"] == "ON_HOLD" and {i["lineItem"]["id"][-9:] for i in held["items"]} == {RED, BLACK}
    assert [h["handle"] for h in held["holds"]] == [HOLD_HANDLE]
    assert free["status"] == "OPEN" and [i["lineItem"]["id"][-9:] for i in free["items"]] == [GREEN]
    assert order["metafields"][("backorder_connector", "eta")] == "2026-12-12"
    assert order["note"] == "Gift wrap please\nBackorder ETA: Ships by 12 Dec"
    client.start_backorder(ORDER, ["backorder"], wait, "awaiting stock", date(2026, 12, 12), "Ships by 12 Dec")
    assert admin.operations[2:] == ["OrderBackorderStart"], "made again, it finds everything done and writes nothing"
    assert order["tags"] == {"backorder"} and len(held["holds"]) == 1


def test_the_start_of_a_wait_pages_in_fulfillment_orders_beyond_the_first_page(
        client: ShopifyStoreClient, store: FakeShopifyStore, admin: ShopifyAdminMock) -> None:
    order = order_in_twelve_locations(store)
    client.start_backorder(ORDER, ["backorder"], [LineQuantity("8011", 1)], "waiting", date(2026, 12, 12), "")
    assert [call["after"] for call in admin.called("OrderFulfillmentOrders")] == ["10"]  # the first came with the tag
    assert [fo["status"] for fo in order["fulfillmentOrders"]] == ["OPEN"] * 11 + ["ON_HOLD"]


def test_the_start_of_a_wait_over_two_fulfillment_orders_holds_each_then_dates(
        client: ShopifyStoreClient, order: dict, store: FakeShopifyStore, admin: ShopifyAdminMock) -> None:
    """Lines waiting in two locations: a hold per fulfillment order, then the date, one call each."""
    (single,) = order["fulfillmentOrders"]
    order["fulfillmentOrders"] = [store._fo([item]) for item in single["items"]]
    client.start_backorder(ORDER, ["backorder"], [LineQuantity(RED, 1), LineQuantity(BLACK, 1)], "waiting",
                           date(2026, 12, 12), "Ships by 12 Dec")
    assert admin.operations == ["OrderBackorderStart", "FulfillmentOrderHold", "FulfillmentOrderHold", "OrderUpdate"]
    assert sorted(fo["status"] for fo in order["fulfillmentOrders"]) == ["ON_HOLD", "ON_HOLD", "OPEN"]
    assert order["metafields"][("backorder_connector", "eta")] == "2026-12-12"


def test_the_start_of_a_wait_made_again_after_its_hold_writes_only_what_is_missing(
        client: ShopifyStoreClient, order: dict, admin: ShopifyAdminMock) -> None:
    """A retry that finds our hold (the first attempt got that far): no second hold, the date written."""
    client.hold_fulfillment(ORDER, [LineQuantity(RED, 1)], "waiting")
    before = len(admin.operations)
    client.start_backorder(ORDER, ["backorder"], [LineQuantity(RED, 1)], "waiting", date(2026, 12, 12), "")
    assert admin.operations[before:] == ["OrderBackorderStart", "OrderUpdate"]
    assert len(admin.called("FulfillmentOrderHold")) == 1
    assert order["metafields"][("backorder_connector", "eta")] == "2026-12-12"


def test_the_start_of_a_wait_with_lines_that_cannot_be_held_says_so_as_the_hold_does(
        client: ShopifyStoreClient, order: dict, admin: ShopifyAdminMock) -> None:
    order["fulfillmentOrders"][0]["status"] = "IN_PROGRESS"
    with pytest.raises(UserError, match="no open fulfillment order to hold 1 of line 518995019"):
        client.start_backorder(ORDER, ["backorder"], [LineQuantity(RED, 1)], "waiting", date(2026, 12, 12), "")
    assert admin.operations == ["OrderBackorderStart"]  # the merchant sees why; the date waits for the hold


def test_the_start_of_a_wait_of_an_unknown_order_is_a_user_error(client: ShopifyStoreClient, store: FakeShopifyStore,
                                                                 admin: ShopifyAdminMock) -> None:
    with pytest.raises(UserError, match="Order does not exist"):
        client.start_backorder("1", ["backorder"], [LineQuantity("2", 1)], "x", None, "")
    assert admin.operations == ["OrderBackorderStart"]


def test_add_note_appends_once(client: ShopifyStoreClient, order: dict, admin: ShopifyAdminMock) -> None:
    client.add_note(ORDER, "Customer accepted a partial shipment", customer_visible=True)
    client.add_note(ORDER, "Customer accepted a partial shipment", customer_visible=True)
    client.add_note(ORDER, "Stock arrived — 日本 ✓", customer_visible=False)
    assert order["note"] == "Backorder: Customer accepted a partial shipment\nBackorder: Stock arrived — 日本 ✓"
    assert len(admin.called("OrderUpdate")) == 2


def test_refund_of_an_authorized_only_order_cancels_lines_without_money(client: ShopifyStoreClient, order: dict,
                                                                        admin: ShopifyAdminMock) -> None:
    client.refund_lines(ORDER, [LineQuantity(RED, 1)], Decimal("199.00"), "USD", "Customer chose a refund", "r1")
    (call,) = admin.called("RefundCreate")
    assert call["idempotencyKey"] == "r1"
    assert call["input"]["refundLineItems"] == [
        {"lineItemId": "gid://shopify/LineItem/518995019", "quantity": 1, "restockType": "CANCEL"}]
    assert call["input"]["transactions"] == []


def test_refund_after_capture_pays_back_from_the_capture_once(client: ShopifyStoreClient, order: dict,
                                                              store: FakeShopifyStore,
                                                              admin: ShopifyAdminMock) -> None:
    client.capture_payment(ORDER, Decimal("409.94"), "USD", "all")
    client.refund_lines(ORDER, [LineQuantity(BLACK, 1)], Decimal("199.00"), "USD", "refund", "r2")
    client.refund_lines(ORDER, [LineQuantity(BLACK, 1)], Decimal("199.00"), "USD", "refund", "r2")
    (first, second) = admin.called("RefundCreate")
    (money,) = first["input"]["transactions"]
    assert money["kind"] == "REFUND" and money["amount"] == "199.00" and money["gateway"] == "bogus"
    refunds = [t for t in order["transactions"] if t["kind"] == "REFUND"]
    assert len(refunds) == 1 and len(store.refund_keys) == 1


def test_unknown_order_is_a_user_error(client: ShopifyStoreClient, store: FakeShopifyStore) -> None:
    with pytest.raises(UserError, match="not found"):
        client.hold_fulfillment("1", [LineQuantity("2", 1)], "x")
    with pytest.raises(UserError, match="not found"):
        client.capture_payment("1", Decimal("1"), "USD", "k")


def test_a_single_capture_authorization_is_closed_by_its_first_capture(client: ShopifyStoreClient, order: dict,
                                                                      admin: ShopifyAdminMock) -> None:
    client.capture_payment(ORDER, Decimal("199.00"), "USD", "first")
    with pytest.raises(UserError, match="0 is left authorized"):
        client.capture_payment(ORDER, Decimal("10.00"), "USD", "second")
    assert len(admin.called("OrderCapture")) == 1


def test_a_voided_authorization_cannot_be_captured(client: ShopifyStoreClient, order: dict) -> None:
    auth = order["transactions"][0]
    order["transactions"].append({**auth, "id": "gid://shopify/OrderTransaction/5", "kind": "VOID",
                                  "parentTransaction": {"id": auth["id"]}})
    with pytest.raises(UserError, match="cannot be captured"):
        client.capture_payment(ORDER, Decimal("1.00"), "USD", "k")


@pytest.fixture
def catalogue(store: FakeShopifyStore) -> dict:
    product = load_fixture("shopify", "rest_product.json")["product"]
    for variant in product["variants"]:
        variant["inventory_item_id"] = variant["id"] + 7
        store.set_level(variant["inventory_item_id"], 905684977, 0)
    product["variants"][1]["sku"] = 'RED "special" \\ edition'
    product["variants"][2]["sku"] = ""
    store.add_product(product)
    return product


def test_goods_received_adjust_available_once_per_key(client: ShopifyStoreClient, store: FakeShopifyStore,
                                                      catalogue: dict, admin: ShopifyAdminMock) -> None:
    pink = catalogue["variants"][0]
    client.adjust_stock("IPOD2008PINK", 12, None, "received on purchase order PO-7", "shopify:x:po:7:line:1")
    client.adjust_stock("IPOD2008PINK", 12, None, "received on purchase order PO-7", "shopify:x:po:7:line:1")
    assert store.levels[(pink["inventory_item_id"], 905684977)] == 12
    (call, _) = admin.called("InventoryAdjustQuantities")
    change = call["input"]["changes"][0]
    assert change == {"inventoryItemId": f"gid://shopify/InventoryItem/{pink['inventory_item_id']}",
                      "locationId": "gid://shopify/Location/905684977", "delta": 12, "changeFromQuantity": None}
    assert call["input"]["reason"] == "received"
    assert call["input"]["referenceDocumentUri"].startswith("gid://backorder-connector/StockAdjustment/")


def test_goods_received_for_awkward_and_missing_skus(client: ShopifyStoreClient, store: FakeShopifyStore,
                                                     catalogue: dict) -> None:
    red, green = catalogue["variants"][1], catalogue["variants"][2]
    client.adjust_stock('RED "special" \\ edition', 3, "487838322", "received", "k-red")
    assert store.levels[(red["inventory_item_id"], 487838322)] == 3
    client.adjust_stock(f"shopify-variant:{green['id']}", 2, None, "received", "k-green")
    assert store.levels[(green["inventory_item_id"], 905684977)] == 2
    with pytest.raises(UserError, match="no inventory item with SKU 'NOPE'"):
        client.adjust_stock("NOPE", 1, None, "received", "k-nope")
    long_key = "shopify:backorder-test.myshopify.com:po:123456:line:987654:received:" + "9" * 80
    client.adjust_stock("IPOD2008PINK", 1, None, "received", long_key)
    assert all(len(k) <= 64 for k in store.adjustments)


def test_capture_never_takes_more_than_the_customer_owes(client: ShopifyStoreClient, order: dict,
                                                         admin: ShopifyAdminMock) -> None:
    """The backordered RED line was refunded (cancelled, nothing charged yet). Asked for the total less the
    line's price before tax (409.94 - 199.00), the capture takes only what is owed: 409.94 - 199.00 * 1.06."""
    client.refund_lines(ORDER, [LineQuantity(RED, 1)], Decimal("199.00"), "USD", "customer chose a refund", "r")
    client.capture_payment(ORDER, Decimal("210.94"), "USD", "final")
    assert captures(order) == [Decimal("409.94") - Decimal("199.00") * Decimal("1.06")] == [Decimal("199.00")]
    client.capture_payment(ORDER, Decimal("5.00"), "USD", "more")  # nothing is owed any more
    assert len(admin.called("OrderCapture")) == 1
    journal = json.loads(order["metafields"][("backorder_connector", "captures")])
    assert journal["more"] == {"state": "done", "amount": "0", "captured_before": "199.00"}


def held_lines(order: dict) -> dict[str, int]:
    held: dict[str, int] = {}
    for fo in order["fulfillmentOrders"]:
        if any(h["handle"] == HOLD_HANDLE for h in fo["holds"]):
            for item in fo["items"]:
                line = item["lineItem"]["id"].rsplit("/", 1)[1]
                held[line] = held.get(line, 0) + item["remainingQuantity"]
    return held


def test_a_moved_hold_holds_exactly_the_lines_named(client: ShopifyStoreClient, order: dict,
                                                    admin: ShopifyAdminMock) -> None:
    client.hold_fulfillment(ORDER, [LineQuantity(RED, 1), LineQuantity(BLACK, 1)], "waiting")
    assert held_lines(order) == {RED: 1, BLACK: 1}
    # RED's stock arrived: only BLACK waits now; GREEN and RED may ship
    client.hold_fulfillment(ORDER, [LineQuantity(BLACK, 1)], "waiting")
    assert held_lines(order) == {BLACK: 1}
    assert admin.operations.count("FulfillmentOrderReleaseHold") == 1
    assert admin.operations.count("FulfillmentOrderHold") == 2
    client.hold_fulfillment(ORDER, [LineQuantity(BLACK, 1)], "waiting")  # repeated: nothing more
    assert admin.operations.count("FulfillmentOrderHold") == 2
    # GREEN runs out too: it is added to the hold without releasing BLACK
    client.hold_fulfillment(ORDER, [LineQuantity(BLACK, 1), LineQuantity(GREEN, 1)], "waiting")
    assert held_lines(order) == {BLACK: 1, GREEN: 1}
    assert admin.operations.count("FulfillmentOrderReleaseHold") == 1


def test_a_hold_shrinks_to_part_of_a_line(client: ShopifyStoreClient, store: FakeShopifyStore) -> None:
    rest = load_fixture("shopify", "rest_order.json")["order"]
    rest["line_items"][0]["quantity"] = 5
    order = store.add_rest_order(rest)
    client.hold_fulfillment(ORDER, [LineQuantity(GREEN, 4), LineQuantity(RED, 1)], "waiting")
    client.hold_fulfillment(ORDER, [LineQuantity(GREEN, 2), LineQuantity(RED, 1)], "two arrived")
    assert held_lines(order) == {GREEN: 2, RED: 1}
    free = sum(i["remainingQuantity"] for fo in order["fulfillmentOrders"] if fo["status"] == "OPEN"
               for i in fo["items"] if i["lineItem"]["id"].endswith(GREEN))
    assert free == 3
