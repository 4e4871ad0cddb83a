"""A GraphQL answer read straight off plain data, for the fake shop behind HTTP (issue 13).

graphql-core's executor resolves every field through its general machinery (resolvers, info
objects, incremental delivery), about a millisecond of CPU for one of the adapter's answers; in a
flash sale the fake shop makes tens of thousands of them on the machine under test. The fake
shop's data are plain dicts and lists shaped like the schema's types, read by graphql-core's
default resolver (the value under the field's name). `answer_of` makes the same answer for such
data: it collects fields as the executor does (aliases, fragments and inline fragments by type
condition, `@include`/`@skip`, merged selections of one response key), serialises leaves with the
schema's own scalars and enums, and takes an abstract type's object type from `__typename`.

Whatever it cannot answer as the executor would (a null where the schema says non-null, a
callable value, an abstract value without `__typename`, another directive, a leaf that does not
serialise) raises `Unfit`, and the executor answers instead, reporting the fault as it always did.
`tests/shopify_store_server.py` also compares the two on a sample of every operation's answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graphql import (
    BooleanValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    VariableNode,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
)
from graphql.language import DocumentNode


class Unfit(Exception):
    """The fast answer cannot be made as the executor would make it."""


def answer_of(schema: GraphQLSchema, document: DocumentNode, data: Any, variables: Mapping[str, Any]) -> dict[str, Any]:
    """The `data` of the answer to `document`'s one operation, `data` as its root value."""
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    root = schema.mutation_type if operation.operation == OperationType.MUTATION else schema.query_type
    if root is None:
        raise Unfit(f"the schema has no {operation.operation.value} type")
    return _Reader(schema, fragments, variables).object(root, (operation.selection_set,), data)


def answer_or_none(schema: GraphQLSchema, document: DocumentNode, data: Any,
                   variables: Mapping[str, Any]) -> dict[str, Any] | None:
    """`answer_of`, or None where it declines (`Unfit`): the executor is then to answer."""
    try:
        return answer_of(schema, document, data, variables)
    except Unfit:
        return None


class _Reader:
    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode],
                 variables: Mapping[str, Any]) -> None:
        self.schema, self.fragments, self.variables = schema, fragments, variables

    def object(self, runtime: GraphQLObjectType, selections: Iterable[SelectionSetNode], data: Any) -> dict[str, Any]:
        fields: dict[str, list[FieldNode]] = {}
        for selection_set in selections:
            self._collect(runtime, selection_set, fields)
        out: dict[str, Any] = {}
        for key, nodes in fields.items():
            name = nodes[0].name.value
            if name == "__typename":
                out[key] = runtime.name
                continue
            definition = runtime.fields.get(name)
            if definition is None:
                raise Unfit(f"{runtime.name} has no field {name}")
            value = data.get(name) if isinstance(data, Mapping) else getattr(data, name, None)
            if callable(value):
                raise Unfit(f"{runtime.name}.{name} is resolved by a function")
            out[key] = self._complete(definition.type, nodes, value)
        return out

    def _complete(self, of_type: Any, nodes: list[FieldNode], value: Any) -> Any:
        if is_non_null_type(of_type):
            if value is None:
                raise Unfit("null for a non-null field")
            return self._complete(of_type.of_type, nodes, value)
        if value is None:
            return None
        if is_list_type(of_type):
            if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
                raise Unfit("a list field's value is not a list")
            return [self._complete(of_type.of_type, nodes, item) for item in value]
        if is_leaf_type(of_type):
            serialized = of_type.serialize(value)
            if serialized is None or serialized is Undefined:
                raise Unfit(f"{of_type.name} does not serialise {value!r}")
            return serialized
        runtime = of_type
        if is_abstract_type(of_type):
            typename = value.get("__typename") if isinstance(value, Mapping) else None
            runtime = self.schema.get_type(typename) if isinstance(typename, str) else None
            if not isinstance(runtime, GraphQLObjectType) or not self.schema.is_sub_type(of_type, runtime):
                raise Unfit(f"no object type of {of_type.name} for {typename!r}")
        return self.object(runtime, [node.selection_set for node in nodes if node.selection_set], value)

    def _collect(self, runtime: GraphQLObjectType, selection_set: SelectionSetNode,
                 into: dict[str, list[FieldNode]]) -> None:
        for node in selection_set.selections:
            if not self._included(node):
                continue
            if isinstance(node, FieldNode):
                into.setdefault(node.alias.value if node.alias else node.name.value, []).append(node)
            elif isinstance(node, InlineFragmentNode):
                if node.type_condition is None or self._applies(node.type_condition.name.value, runtime):
                    self._collect(runtime, node.selection_set, into)
            elif isinstance(node, FragmentSpreadNode):
                fragment = self.fragments.get(node.name.value)
                if fragment is None:
                    raise Unfit(f"no fragment {node.name.value}")
                if self._applies(fragment.type_condition.name.value, runtime):
                    self._collect(runtime, fragment.selection_set, into)

    def _applies(self, condition: str, runtime: GraphQLObjectType) -> bool:
        if condition == runtime.name:
            return True
        target = self.schema.get_type(condition)
        return target is not None and is_abstract_type(target) and self.schema.is_sub_type(target, runtime)

    def _included(self, node: Any) -> bool:
        for directive in node.directives or ():
            name = directive.name.value
            if name not in ("include", "skip"):
                raise Unfit(f"directive @{name}")
            argument = next((a.value for a in directive.arguments or () if a.name.value == "if"), None)
            if isinstance(argument, VariableNode):
                condition = self.variables.get(argument.name.value)
            elif isinstance(argument, BooleanValueNode):
                condition = argument.value
            else:
                raise Unfit(f"@{name} without a condition")
            if not isinstance(condition, bool):
                raise Unfit(f"@{name} on a condition that is not a boolean")
            if condition != (name == "include"):
                return False
        return True
