"""The adapter's deferred-payment calls against the fake shop behind the schema-enforcing mock:
the purchase option's create/read/add/remove (user errors included) and charging a balance once."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from adapters.base import (
    DeferredPaymentClient,
    PaymentFailed,
    PurchaseOptionSpec,
    ScopesMissing,
    StoreError,
    UserError,
    payment_failure,
)
from adapters.shopify.client import ShopifyStoreClient
from adapters.shopify.graphql import GraphQLClient
from adapters.shopify.mapping import order_from_rest
from adapters.shopify.purchase_options import DeferredPayments, group_input
from tests.shared_files import load_fixture
from tests.shopify_fake_store import FakeShopifyStore
from tests.shopify_schema import ShopifyAdminMock
from tests.shopify_webhooks import TEST_SHOP

ORDER = "450789469"
SPEC = PurchaseOptionSpec("Backorder — pay when it ships", "Nothing is charged today.", 20)


@pytest.fixture
def client(gql: GraphQLClient) -> ShopifyStoreClient:
    client = ShopifyStoreClient(TEST_SHOP, gql)
    client.deferred.sleep = lambda _seconds: None
    return client


@pytest.fixture
def deferred(store: FakeShopifyStore) -> dict:
    rest = copy.deepcopy(load_fixture("shopify", "rest_order.json")["order"])
    order = store.add_rest_order({**rest, "financial_status": "pending"})
    store.make_deferred(ORDER)
    store.add_product(load_fixture("shopify", "rest_product.json")["product"])
    return order


def test_it_offers_deferred_payment(client: ShopifyStoreClient) -> None:
    assert isinstance(client, DeferredPaymentClient)


def test_the_group_input_is_a_pre_order_with_the_deposit_and_the_balance_on_fulfilment() -> None:
    plan = group_input(SPEC)["sellingPlansToCreate"][0]
    assert plan["billingPolicy"]["fixed"]["checkoutCharge"]["value"] == {"percentage": 20.0}
    assert plan["billingPolicy"]["fixed"]["remainingBalanceChargeTrigger"] == "ON_FULFILLMENT"


def test_option_create_read_add_remove(client: ShopifyStoreClient, store: FakeShopifyStore, deferred: dict,
                                       admin: ShopifyAdminMock) -> None:
    option = client.create_purchase_option(SPEC)
    assert client.purchase_option_variants(option) == set()
    client.add_to_purchase_option(option, ["49148385", "39072856"])
    client.add_to_purchase_option(option, ["49148385"])  # again: nothing changes
    assert client.purchase_option_variants(option) == {"49148385", "39072856"}
    client.remove_from_purchase_option(option, ["39072856"])
    assert client.purchase_option_variants(option) == {"49148385"}
    with pytest.raises(UserError, match="PRODUCT_VARIANT_DOES_NOT_EXIST"):
        client.add_to_purchase_option(option, ["1"])
    store.delete_group(option)
    assert client.purchase_option_variants(option) is None
    with pytest.raises(UserError, match="GROUP_DOES_NOT_EXIST"):
        client.add_to_purchase_option(option, ["49148385"])
    with pytest.raises(UserError, match="BLANK"):
        client.create_purchase_option(PurchaseOptionSpec(" ", "", 0))


def test_a_balance_is_charged_once_per_key_and_never_when_nothing_is_owed(
        client: ShopifyStoreClient, store: FakeShopifyStore, deferred: dict, admin: ShopifyAdminMock) -> None:
    assert client.collect_balance(ORDER, "USD", "order:1:g1:balance:a1") == Decimal("409.94")
    assert deferred["outstanding"] == 0 and [t["kind"] for t in deferred["transactions"]] == ["SALE"]
    assert client.collect_balance(ORDER, "USD", "order:1:g1:balance:a1") == 0  # retried: owes nothing
    assert client.collect_balance(ORDER, "USD", "order:1:g1:balance:a2") == 0  # another key: still nothing owed
    assert len(admin.called("OrderCreateMandatePayment")) == 1
    (call,) = admin.called("OrderCreateMandatePayment")
    assert call["amount"] == {"amount": "409.94", "currencyCode": "USD"} and len(call["idempotencyKey"]) <= 32


def test_a_replayed_key_is_answered_with_the_same_payment(
        client: ShopifyStoreClient, store: FakeShopifyStore, deferred: dict) -> None:
    gateway = DeferredPayments(TEST_SHOP, client.gql, sleep=lambda _s: None)
    client.collect_balance(ORDER, "USD", "k1")
    deferred["outstanding"] = Decimal("409.94")  # as if read before the first charge landed
    gateway.collect(ORDER, "USD", "k1")
    assert [t["kind"] for t in deferred["transactions"]] == ["SALE"], "no second charge for the same key"


@pytest.mark.parametrize(("error", "reason"), [
    ("Your card was declined.", "declined"),
    ("The card has expired.", "card_expired"),
    ("Authentication required by the issuer", "authentication_required"),
    ("Processor unavailable", "failed"),
])
def test_a_refused_payment_says_why(client: ShopifyStoreClient, store: FakeShopifyStore, deferred: dict,
                                    error: str, reason: str) -> None:
    store.mandate_outcomes[ORDER] = [("ERROR", error)]
    with pytest.raises(PaymentFailed) as info:
        client.collect_balance(ORDER, "USD", f"k-{reason}")
    assert info.value.reason == reason and not info.value.retryable
    assert payment_failure(str(info.value)) == (reason, Decimal("409.94"), "USD", error)
    assert deferred["outstanding"] == Decimal("409.94")


def test_no_saved_method_and_a_payment_still_processing(client: ShopifyStoreClient, store: FakeShopifyStore,
                                                         deferred: dict) -> None:
    store.make_deferred(ORDER, mandate=False)
    with pytest.raises(PaymentFailed) as info:
        client.collect_balance(ORDER, "USD", "k-none")
    assert info.value.reason == "no_payment_method"
    store.make_deferred(ORDER)
    store.mandate_outcomes[ORDER] = [("PROCESSING", None)]
    with pytest.raises(StoreError) as slow:
        client.collect_balance(ORDER, "USD", "k-slow")
    assert slow.value.retryable and not isinstance(slow.value, PaymentFailed)


def test_missing_scopes_are_named(gql: GraphQLClient) -> None:
    client = ShopifyStoreClient(TEST_SHOP, gql, missing_scopes=["write_purchase_options"])
    with pytest.raises(ScopesMissing, match="write_purchase_options"):
        client.create_purchase_option(SPEC)


def test_deferred_orders_are_recognised_from_their_payment_terms() -> None:
    rest = load_fixture("shopify", "rest_order.json")["order"]
    assert order_from_rest(TEST_SHOP, rest).deferred_payment is False
    terms = {**rest, "payment_terms": {"payment_terms_type": "fulfillment"},
             "order_status_url": "https://shop.example/orders/1/authenticate?key=x"}
    order = order_from_rest(TEST_SHOP, terms)
    assert order.deferred_payment and order.payment_url == terms["order_status_url"]
    net = {**rest, "payment_terms": {"payment_terms_type": "net"}, "order_status_url": "javascript:alert(1)"}
    assert (order_from_rest(TEST_SHOP, net).deferred_payment, order_from_rest(TEST_SHOP, net).payment_url) == (
        False, None)
    assert order_from_rest(TEST_SHOP, {**rest, "payment_terms": "fulfillment"}).deferred_payment is False


def test_a_shop_without_read_payment_terms_is_still_reconciled(gql: GraphQLClient, store: FakeShopifyStore,
                                                                deferred: dict, admin: ShopifyAdminMock) -> None:
    """Until the merchant re-authorizes, orders are read without their payment terms, not refused."""
    old = ShopifyStoreClient(TEST_SHOP, gql, missing_scopes=["read_payment_terms"])
    from datetime import UTC, datetime

    (order,) = list(old.orders_updated_since(datetime(2026, 1, 1, tzinfo=UTC)))
    assert admin.called("OrdersUpdatedSince")[-1]["withPaymentTerms"] is False
    assert order.external_id == ORDER
