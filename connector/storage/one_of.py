"""`one_of(column, values)`: `column IN (values)` as a statement whose text does not change with the values.

SQLAlchemy's `column.in_(values)` renders one placeholder per value at every execution, so the
statement's text differs with each list's length and psycopg converts its placeholders afresh in
Python each time (it caches only short statements with few parameters): for the shop's serial
decision stage, whose lookups are lists of hundreds of SKUs, order numbers or ids, a few per cent
of its CPU, plus SQLAlchemy's own re-rendering. Here the list travels as one parameter:

- PostgreSQL: `column = ANY(CAST(:values AS <column type>[]))`, the list bound as an array;
- SQLite: `column IN (SELECT value FROM json_each(:values))`, the list bound as JSON text.

Each statement is then compiled and converted once and cached (by SQLAlchemy and by psycopg), and
no list length reaches a bound-parameter limit. Values are strings or integers (what the keys and
SKUs compared this way are); anything else is refused when bound.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import NullType, TypeDecorator


class ValueList(TypeDecorator[list[Any]]):
    """A list of strings or integers bound as one parameter: an array on PostgreSQL (typed by the
    statement's CAST), JSON text elsewhere."""

    impl = NullType  # never a column's type: only bound, with no cast of its own
    cache_ok = True

    def process_bind_param(self, value: list[Any] | None, dialect: Dialect) -> Any:
        values = list(value or ())
        for item in values:
            if type(item) not in (str, int):
                raise TypeError(f"one_of compares strings or integers, not {type(item).__name__}: {item!r}")
        return values if dialect.name == "postgresql" else json.dumps(values)


class OneOf(ColumnElement[bool]):
    """`column IN (values)` whose statement text is the same for any list (see the module)."""

    inherit_cache = True
    type = NullType()  # a predicate of its own making: no "= 1" added where booleans are integers
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("values", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any], values: Iterable[str | int]) -> None:
        self.column = column
        self.values = bindparam(None, list(values), type_=ValueList())


def one_of(column: Any, values: Iterable[str | int]) -> OneOf:
    """`column IN (values)`, for a list of strings or integers, with one parameter for the whole list."""
    return OneOf(column, values)


@compiles(OneOf)
def _json_each(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    column, values = compiler.process(element.column, **kw), compiler.process(element.values, **kw)
    return f"{column} IN (SELECT value FROM json_each({values}))"  # nosec B608  # compiled fragments only


@compiles(OneOf, "postgresql")
def _any_array(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    column, values = compiler.process(element.column, **kw), compiler.process(element.values, **kw)
    element_type = compiler.dialect.type_compiler_instance.process(element.column.type)
    return f"{column} = ANY(CAST({values} AS {element_type}[]))"
