"""The fake shop's fast answers (`tests.graphql_answers`) are graphql-core's executor's answers, or
declined. Every Shopify test's answer is compared as well (`tests.shopify_schema`); these pin the
cases the adapter's documents rarely reach."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import execute_sync, parse

from tests.graphql_answers import Unfit, answer_of
from tests.shopify_schema import admin_schema

ORDER = {"__typename": "Order", "id": "gid://shopify/Order/1", "name": "#1001", "note": None,
         "tags": ["a", "b"], "displayFinancialStatus": "AUTHORIZED",
         "lineItems": {"pageInfo": {"hasNextPage": False, "endCursor": None},
                       "nodes": [{"id": "gid://shopify/LineItem/9", "quantity": 2, "sku": "SKU-1"}]}}


def both(query: str, data: Any, variables: dict[str, Any] | None = None) -> tuple[Any, Any]:
    document = parse(query)
    executed = execute_sync(admin_schema(), document, root_value=data, variable_values=variables or {})
    assert not executed.errors, executed.errors
    return answer_of(admin_schema(), document, data, variables or {}), executed.data


def test_aliases_fragments_typename_enums_and_merged_selections_read_as_the_executor_reads_them() -> None:
    query = """
    query Q($id: ID!, $more: Boolean!) {
      first: node(id: $id) { __typename ...Head ... on Order { lineItems(first: 5) { nodes { id } } } }
      node(id: $id) {
        id ... on Order { status: displayFinancialStatus tags @include(if: $more) note @skip(if: $more) }
      }
    }
    fragment Head on Order { id name lineItems(first: 5) { pageInfo { hasNextPage } nodes { quantity sku } } }
    """
    for more in (True, False):
        fast, executed = both(query, {"node": ORDER}, {"id": ORDER["id"], "more": more})
        assert fast == executed
        assert list(fast["first"]) == list(executed["first"])  # the same keys in the same order
    assert fast["first"]["lineItems"]["nodes"] == [{"id": "gid://shopify/LineItem/9", "quantity": 2, "sku": "SKU-1"}]


def test_a_fragment_on_another_type_adds_nothing_and_null_objects_stay_null() -> None:
    query = "query Q($id: ID!) { node(id: $id) { id ... on Product { title } } order(id: $id) { id } }"
    fast, executed = both(query, {"node": ORDER, "order": None}, {"id": ORDER["id"]})
    assert fast == executed == {"node": {"id": ORDER["id"]}, "order": None}


@pytest.mark.parametrize(("data", "why"), [
    ({"node": {**ORDER, "__typename": None}}, "no object type"),  # an abstract value without its type
    ({"node": {**ORDER, "id": None}}, "non-null"),  # the executor reports this as an error
    ({"node": {**ORDER, "name": lambda *_: "#1"}}, "function"),  # a resolver, which the executor calls
])
def test_what_it_cannot_answer_as_the_executor_would_is_declined(data: Any, why: str) -> None:
    with pytest.raises(Unfit, match=why):
        answer_of(admin_schema(), parse('query Q { node(id: "x") { id ... on Order { name } } }'), data, {})
