"""`WooStoreClient.publish_storefront`: storefront values into product and variation meta, in batches."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
import responses

from adapters.base import AuthRevoked, StoreError, UserError
from adapters.woocommerce.client import WooStoreClient
from adapters.woocommerce.rest import WooRest
from adapters.woocommerce.storefront import BATCH_LIMIT
from connector.domain.model import StorefrontValue
from tests.fake_woocommerce import FakeWooStore
from tests.woocommerce_support import fixture

SHOP = "shop.example.com"
KEY = "_backorder_connector_eta"
NOW = datetime(2026, 11, 30, 11, 0, tzinfo=UTC)


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def store(rsps):
    store = FakeWooStore(rsps)
    product = fixture("rest_v3_product_retrieve.json")
    store.add_product(product | {"id": 93, "sku": "MUG", "manage_stock": True, "stock_quantity": -2})
    store.add_product(
        product | {"id": 22, "sku": "", "type": "variable", "variations": [23, 24]},
        variations=[{"id": 23, "sku": "Bar3", "manage_stock": True, "stock_quantity": 0}, {"id": 24, "sku": ""}],
    )
    return store


@pytest.fixture
def client(store):
    return WooStoreClient(SHOP, WooRest(store.url, store.key, store.secret, sleep=lambda s: None), clock=lambda: NOW)


def backordered(sku: str, product_id: str | None, variant_id: str | None = None) -> StorefrontValue:
    return StorefrontValue(
        sku=sku,
        product_id=product_id,
        variant_id=variant_id,
        status="backorder",
        ships_by=date(2026, 12, 15),
        ships_p50=date(2026, 12, 10),
        ships_p90=date(2026, 12, 18),
        message="Ships by 15 December — “soon”",
    )


def in_stock(sku: str, product_id: str | None, variant_id: str | None = None) -> StorefrontValue:
    return StorefrontValue(sku, product_id, variant_id, "in_stock", None, None, None, "In stock")


def stored(store: FakeWooStore, item_id: int) -> dict:
    return json.loads(store.product_meta(item_id, KEY))


def test_simple_products_and_variations_go_to_their_batch_endpoints(client, store):
    client.publish_storefront([backordered("MUG", "93"), in_stock("Bar3", "22", "23")])
    assert store.writes() == [("PUT", "products/22/variations/batch"), ("PUT", "products/batch")]
    assert stored(store, 93) == {
        "v": 1,
        "status": "backorder",
        "ships_by": "2026-12-15",
        "p50": "2026-12-10",
        "p90": "2026-12-18",
        "message": "Ships by 15 December — “soon”",
        "updated": "2026-11-30T11:00:00Z",
    }
    assert stored(store, 23)["status"] == "in_stock" and stored(store, 23)["ships_by"] is None
    assert store.product_meta(22, KEY) is None  # the variable parent carries nothing


def test_writing_the_same_values_again_changes_nothing(client, store):
    values = [backordered("MUG", "93"), backordered("Bar3", "22", "23")]
    client.publish_storefront(values)
    first = (store.product_meta(93, KEY), store.product_meta(23, KEY))
    client.publish_storefront(values)
    assert (store.product_meta(93, KEY), store.product_meta(23, KEY)) == first
    assert len([m for m in store.products[93]["meta_data"] if m["key"] == KEY]) == 1


def test_batches_hold_at_most_a_hundred_items(client, store):
    base = fixture("rest_v3_product_retrieve.json")
    for number in range(1, 251):
        store.add_product(base | {"id": 5000 + number, "sku": f"S{number}"})
    client.publish_storefront([backordered(f"S{n}", str(5000 + n)) for n in range(1, 251)])
    assert store.writes() == [("PUT", "products/batch")] * 3
    assert all(stored(store, 5000 + n)["ships_by"] == "2026-12-15" for n in range(1, 251))
    assert BATCH_LIMIT == 100


def test_values_without_ids_are_found_by_sku(client, store):
    values = [backordered("MUG", None), backordered("Bar3", None), backordered("wc-variation:24", None)]
    client.publish_storefront(values)
    assert stored(store, 93)["status"] == stored(store, 23)["status"] == stored(store, 24)["status"] == "backorder"


def test_an_unknown_product_is_refused_and_the_others_are_still_written(client, store):
    with pytest.raises(UserError, match="item 404: Invalid ID") as raised:
        client.publish_storefront([backordered("GONE", "404"), backordered("MUG", "93"), backordered("NOPE", None)])
    assert "no product or variation with SKU 'NOPE'" in str(raised.value)
    assert stored(store, 93)["status"] == "backorder"


def test_a_variation_under_the_wrong_parent_is_refused(client, store):
    with pytest.raises(UserError, match="Invalid ID"):
        client.publish_storefront([backordered("Bar3", "93", "23")])
    assert store.product_meta(23, KEY) is None


def test_an_unknown_status_is_refused_before_anything_is_sent(client, store):
    odd = StorefrontValue("MUG", "93", None, "maybe", None, None, None, "?")
    with pytest.raises(UserError, match="unknown storefront status"):
        client.publish_storefront([odd])
    assert store.writes() == []


def test_a_store_that_keeps_failing_gives_a_retryable_error(client, store):
    store.failures = [503] * 8
    with pytest.raises(StoreError) as raised:
        client.publish_storefront([backordered("MUG", "93")])
    assert raised.value.retryable


def test_a_passing_failure_is_retried_within_the_call(client, store):
    store.failures = [502]
    client.publish_storefront([backordered("MUG", "93")])
    assert stored(store, 93)["status"] == "backorder"


def test_revoked_keys_stop_the_call(store, client):
    store.secret = "rotated"
    with pytest.raises(AuthRevoked):
        client.publish_storefront([backordered("MUG", "93")])


def test_an_item_the_store_could_not_process_is_retryable(client, store):
    store.batch_item_errors = {93: 500}
    with pytest.raises(StoreError, match="item 93: injected 500") as raised:
        client.publish_storefront([backordered("MUG", "93"), backordered("Bar3", "22", "23")])
    assert raised.value.retryable
    assert stored(store, 23)["status"] == "backorder"
