"""Every GraphQL document the adapter can send validates against the real Admin schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import parse
from graphql.language import FragmentDefinitionNode, OperationDefinitionNode

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


def test_each_fragment_has_one_copy_in_its_own_file() -> None:
    used: set[str] = set()
    for name in operations.names():
        raw = (Path(operations.__file__).parent / f"{name}.graphql").read_text()
        assert not [d for d in parse(raw).definitions if isinstance(d, FragmentDefinitionNode)], (
            f"{name}.graphql defines a fragment: put it in operations/fragments/"
        )
        loaded = [d for d in parse(operations.load(name)).definitions if isinstance(d, FragmentDefinitionNode)]
        names = [d.name.value for d in loaded]
        assert len(names) == len(set(names)), f"{name}: a fragment included twice"
        used.update(names)
    for fragment in operations.fragment_names():
        definitions = parse(operations.fragment_text(fragment)).definitions
        assert [d.name.value for d in definitions if isinstance(d, FragmentDefinitionNode)] == [fragment]
        assert len(definitions) == 1, f"fragments/{fragment}.graphql: one fragment per file"
    assert used == set(operations.fragment_names()), "every fragment file is spread by some operation"


def test_fragments_are_included_with_the_fragments_they_spread() -> None:
    document = operations.load("OrdersUpdatedSince")  # spreads BackorderOrder, which spreads BackorderLineItem
    assert document.count("fragment BackorderOrder on Order") == 1
    assert document.count("fragment BackorderLineItem on LineItem") == 1
    assert "fragment BackorderOrder" not in operations.load("OrderLineItems")  # only what a document uses
    with pytest.raises(KeyError, match="NoSuchFragment"):
        operations.fragment_text("NoSuchFragment")


def test_the_validation_really_rejects_bad_documents() -> None:
    assert validation_errors("mutation X($id: ID!) { tagsAdd(id: $id) { userErrors { message } } }")
    assert validation_errors("query Y { order(id: 1) { nonsenseField } }")
    assert validation_errors("mutation Z { orderCapture(input: {id: \"1\"}) { userErrors { message } } }")
    assert admin_schema().mutation_type.fields["tagsAdd"]
