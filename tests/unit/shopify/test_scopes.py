"""The default scopes grant every type and field our documents touch (per Shopify's own access table)."""

from __future__ import annotations

import pytest
import shopify
from graphql import TypeInfo, TypeInfoVisitor, Visitor, get_named_type, parse, visit

from adapters.shopify import operations
from adapters.shopify.config import DEFAULT_SCOPES
from tests.shopify_schema import access_requirements, admin_schema


def touched(document: str) -> set[tuple[str, str | None]]:
    schema = admin_schema()
    info = TypeInfo(schema)
    seen: set[tuple[str, str | None]] = set()

    class Collect(Visitor):
        def enter_field(self, node, *_args):
            parent = info.get_parent_type()
            field = info.get_field_def()
            if parent is not None and field is not None:
                seen.add((parent.name, node.name.value))
                seen.add((get_named_type(field.type).name, None))

    visit(parse(document), TypeInfoVisitor(info, Collect()))
    return seen


def granted(scope_options: tuple[str, ...]) -> bool:
    have = shopify.ApiAccess(",".join(DEFAULT_SCOPES))
    return any(have.covers(shopify.ApiAccess(s)) for s in scope_options)


def test_the_access_table_is_there() -> None:
    assert access_requirements()[("Order", None)]


@pytest.mark.parametrize("name", operations.names())
def test_default_scopes_cover_the_operation(name: str) -> None:
    needs = access_requirements()
    missing = {f"{t}.{f}" if f else t: needs[(t, f)] for t, f in touched(operations.load(name))
               if (t, f) in needs and not granted(needs[(t, f)])}
    assert missing == {}


def test_env_example_asks_for_the_default_scopes() -> None:
    from tests.shared_files import REPO

    lines = (REPO / ".env.example").read_text().splitlines()
    (value,) = [line.split("=", 1)[1] for line in lines if line.startswith("SHOPIFY_SCOPES=")]
    assert tuple(value.split(",")) == DEFAULT_SCOPES
