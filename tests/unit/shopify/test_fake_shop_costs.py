"""The fake shop the flash sale runs against prices each call as Shopify's published rules do
(`tests/shopify_store_server.py`): the benchmark's Admin API figures per order come from it."""

from __future__ import annotations

import pytest

from adapters.shopify import operations
from adapters.shopify.client import FO_LINE_PAGE
from tests.shopify_store_server import _actual_connections, _document, requested_cost


def cost(name: str) -> int:
    document, _, _ = _document(operations.load(name))
    return requested_cost(document, {"lines": FO_LINE_PAGE})


@pytest.mark.parametrize("name", ["TagsAdd", "FulfillmentOrderHold", "OrderUpdate", "MetafieldsSet"])
def test_a_mutation_answering_with_objects_costs_ten(name: str) -> None:
    assert cost(name) == 10


def test_a_query_prices_its_objects_and_connections() -> None:
    assert cost("OrderEta") == 2  # the order and its metafield
    # the order (1) and 10 fulfillment orders, each with its holds, actions and a page of line items
    assert cost("OrderFulfillmentOrders") == 253


def test_a_mutation_pays_for_the_connections_its_answer_selects_as_a_query_would() -> None:
    """OrderBackorderStart is tagsAdd answering with the order's fulfillment orders: priced as the
    mutation and the read it replaces, less the order object."""
    assert cost("OrderBackorderStart") == 10 + cost("OrderFulfillmentOrders") - 1
    answer = {"node": {"id": "o", "note": None, "fulfillmentOrders": {
        "pageInfo": {"hasNextPage": False}, "nodes": [{"id": "fo", "lineItems": {"nodes": [{"id": "li"}]}}]}},
        "userErrors": []}
    assert _actual_connections(answer) == 2 + 1 + 2 + 1  # two connections, a node each
