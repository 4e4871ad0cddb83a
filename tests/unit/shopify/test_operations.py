"""Every GraphQL document the adapter can send validates against the real Admin schema."""

from __future__ import annotations

import pytest
from graphql import parse
from graphql.language import OperationDefinitionNode

from adapters.shopify import operations
from tests.shopify_schema import admin_schema, validation_errors


def test_there_are_operations() -> None:
    assert len(operations.names()) >= 15


@pytest.mark.parametrize("name", operations.names())
def test_operation_validates_against_the_admin_schema(name: str) -> None:
    document = operations.load(name)
    assert validation_errors(document) == []
    ops = [d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)]
    assert [op.name.value for op in ops] == [name], "one operation per file, named like the file"


def test_the_validation_really_rejects_bad_documents() -> None:
    assert validation_errors("mutation X($id: ID!) { tagsAdd(id: $id) { userErrors { message } } }")
    assert validation_errors("query Y { order(id: 1) { nonsenseField } }")
    assert validation_errors("mutation Z { orderCapture(input: {id: \"1\"}) { userErrors { message } } }")
    assert admin_schema().mutation_type.fields["tagsAdd"]
