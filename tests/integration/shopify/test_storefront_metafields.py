"""Storefront values reach Shopify as the `$app` variant metafield: the definition at install, then
each variant's value written once per change (not per evaluation), at most 25 per `metafieldsSet`."""

from __future__ import annotations

import json

from adapters.shopify.graphql import GraphQLClient
from adapters.shopify.storefront import ensure_definition
from connector.sweeps import evaluate_all
from tests.shopify_webhooks import TEST_SHOP

from .app_harness import TOKEN, ShopifyHarness

KEY = ("$app", "backorder_eta")


def big_catalogue(variants: int) -> dict:
    return {"id": 7001, "title": "Sock", "handle": "sock", "updated_at": "2026-11-25T09:00:00-05:00",
            "variants": [{"id": 80000 + i, "product_id": 7001, "title": f"Size {i}", "sku": f"SOCK-{i:03d}",
                          "price": "9.00", "inventory_policy": "continue", "inventory_item_id": 90000 + i,
                          "updated_at": "2026-11-25T09:00:00-05:00"} for i in range(variants)]}


def value_of(h: ShopifyHarness, variant_id: int) -> dict:
    return json.loads(h.store.variant_metafields[f"gid://shopify/ProductVariant/{variant_id}"][KEY])


def test_the_definition_is_created_at_install_with_storefront_access(harness: ShopifyHarness) -> None:
    harness.install()
    definition = harness.store.definitions[("PRODUCTVARIANT", "$app", "backorder_eta")]
    assert definition["type"] == "json" and definition["access"] == {"storefront": "PUBLIC_READ"}
    again = GraphQLClient(TEST_SHOP, TOKEN, "2026-10", sleep=lambda s: None)
    assert ensure_definition(again) is False  # the upkeep asks again: it exists (TAKEN), which is fine
    assert len(harness.store.definitions) == 1


def test_values_are_written_once_per_change_in_batches_of_25(harness: ShopifyHarness) -> None:
    h = harness
    h.install()
    product = big_catalogue(60)
    h.store.add_product(product)
    assert h.webhook("products/update", product).status_code == 200
    h.settle(wait_seconds=60)
    calls = list(h.store.metafields_set_calls)
    assert sum(calls) == 60 and max(calls) <= 25 and len(calls) == 3  # 60 variants: 25 + 25 + 10
    first = value_of(h, 80000)
    assert first["status"] == "untracked" and first["message"] == "Disponibile"  # the shop's language: Italian

    # evaluating again, by webhook and by the periodic sweep, changes nothing: nothing is written
    assert h.webhook("products/update", product, event_id="evt-again").status_code == 200
    h.settle(wait_seconds=60)
    evaluate_all(h.services)
    h.settle()
    assert h.store.metafields_set_calls == calls

    # one variant goes out of stock (sells on backorder): exactly that variant is written, once
    level = {"inventory_item_id": 90007, "location_id": 905684977, "available": 0,
             "updated_at": "2026-11-25T10:00:00-05:00"}
    for _ in range(3):  # delivered three times
        assert h.webhook("inventory_levels/update", level, event_id="evt-level-7").status_code == 200
        h.settle(wait_seconds=60)
    evaluate_all(h.services)
    h.settle()
    assert h.store.metafields_set_calls == [*calls, 1]
    seven = value_of(h, 80007)
    assert seven["status"] == "backorder" and seven["ships_by"] >= seven["ships_p90"] >= seven["ships_p50"]
    assert seven["message"].startswith("Spedizione entro il ")
    assert value_of(h, 80006)["status"] == "untracked"
