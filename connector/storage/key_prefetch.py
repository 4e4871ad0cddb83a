"""Keys for a flush's new rows, taken from their tables' sequences before the flush (PostgreSQL).

A unit of work that adds many rows of a table (a batch of orders decided: their orders, lines,
backorders, promises and actions) would otherwise have SQLAlchemy insert them in one multi-row
`INSERT ... RETURNING id` per table, a statement as long as the batch (hundreds of kB) and different
every time, which psycopg re-parses in Python to convert its placeholders: a fifth of the shop's
serial decision stage's CPU in the flash sale. With their keys known beforehand, SQLAlchemy inserts
them with one short statement executed many times (psycopg's pipelined `executemany`, parsed once
and prepared on the server).

The keys come from the same sequences the column defaults draw on, all tables at once in one
round trip, and are given in the order the rows were added, so ids grow in insertion order as
they did. A table with only one new row keeps its single `INSERT ... RETURNING` (one round trip,
already cached): a prefetch would only add one. A row whose key is already set is left as is.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Integer, event, func, inspect, literal, select, text, union_all
from sqlalchemy.orm import Mapper, Session, sessionmaker
from sqlalchemy.orm.state import InstanceState

# Fewer new rows of a table than this in one flush: they are inserted with RETURNING as before.
PREFETCH_FROM_ROWS = 2


def _sequenced_key(mapper: Mapper[Any]) -> tuple[str, str] | None:
    """The attribute and the column of a mapper's key when the key is one integer column its
    database numbers from a sequence (a serial column with no default of ours), else None."""
    keys = mapper.primary_key
    if len(keys) != 1:
        return None
    column = keys[0]
    if column is not column.table.autoincrement_column or column.default is not None:
        return None
    if not isinstance(column.type, Integer) or column.server_default is not None:
        return None
    return mapper.get_property_by_column(column).key, column.name


class KeyPrefetch:
    """Installed on a sessionmaker bound to PostgreSQL: before each flush, the keys of the new rows
    of every table with `PREFETCH_FROM_ROWS` or more of them, in one statement."""

    def __init__(self) -> None:
        self._keys: dict[Mapper[Any], tuple[str, str] | None] = {}
        self._sequences: dict[tuple[str, str], str | None] = {}

    def install(self, sessions: sessionmaker[Session]) -> None:
        event.listen(sessions, "before_flush", self.before_flush)

    def before_flush(self, session: Session, _flush_context: object, _instances: object) -> None:
        waiting: dict[tuple[str, str], list[tuple[InstanceState[Any], str]]] = defaultdict(list)
        for obj in session.new:
            state = inspect(obj)
            mapper = state.mapper
            if mapper not in self._keys:
                self._keys[mapper] = _sequenced_key(mapper)
            sequenced = self._keys[mapper]
            if sequenced is not None and state.dict.get(sequenced[0]) is None:
                waiting[(mapper.local_table.name, sequenced[1])].append((state, sequenced[0]))
        many = sorted(name for name, states in waiting.items() if len(states) >= PREFETCH_FROM_ROWS)
        tables = [name for name in many if self._sequence(session, name) is not None]
        if not tables:
            return
        ids = self._take(session, [(name, len(waiting[name])) for name in tables])
        for name in tables:
            states = sorted(waiting[name], key=lambda pair: pair[0].insert_order)
            for (state, key), new_id in zip(states, ids[name], strict=True):
                setattr(state.obj(), key, new_id)

    def _sequence(self, session: Session, table_column: tuple[str, str]) -> str | None:
        """The sequence that numbers a table's key column (None: the database numbers it otherwise,
        and those rows keep their INSERT ... RETURNING)."""
        if table_column not in self._sequences:
            table, column = table_column
            self._sequences[table_column] = session.connection().scalar(
                text("SELECT pg_get_serial_sequence(:table, :column)"), {"table": table, "column": column})
        return self._sequences[table_column]

    def _take(self, session: Session, counts: list[tuple[tuple[str, str], int]]) -> dict[tuple[str, str], list[int]]:
        """`count` new values from each (table, column)'s sequence, ascending, in one round trip."""
        selects = union_all(*(
            select(literal(i).label("t"), func.nextval(self._sequences[name]).label("id"))
            .select_from(func.generate_series(1, count))
            for i, (name, count) in enumerate(counts)))
        taken: dict[tuple[str, str], list[int]] = defaultdict(list)
        for t, new_id in session.connection().execute(selects):
            taken[counts[t][0]].append(new_id)
        return {name: sorted(values) for name, values in taken.items()}
