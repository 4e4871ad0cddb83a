"""A flush's new rows get their keys from their sequences first, on PostgreSQL (storage/key_prefetch.py).

What it holds: many new rows of a table are inserted by one short statement executed for each row
(psycopg parses it once) instead of one multi-row INSERT ... RETURNING as long as the batch; their
ids grow in the order the rows were added, children point at their parents, a key already given
is kept, and a lone new row still goes in with RETURNING (a prefetch would add a round trip).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import BigInteger, String, event, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from connector.storage.db import Database
from connector.storage.key_prefetch import KeyPrefetch
from connector.storage.tables import Base, OrderLineRow, OrderRow, ShopRow

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def database(postgres_url: str) -> Iterator[Database]:
    database = Database(postgres_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def statements(database: Database) -> list[tuple[str, bool, Any]]:
    """Every statement sent to the server: (SQL, sent with executemany, parameters)."""
    sent: list[tuple[str, bool, Any]] = []

    def record(_conn, _cursor, statement, parameters, _context, executemany):  # type: ignore[no-untyped-def]
        sent.append((statement, executemany, parameters))

    event.listen(database.engine, "before_cursor_execute", record)
    return sent


@pytest.fixture
def shop_id(database: Database) -> int:
    with database.session() as s:
        shop = ShopRow(platform="shopify", domain="keys.myshopify.com", name="Keys")
        s.add(shop)
        s.flush()
        return shop.id


def order(shop_id: int, number: int, lines: int) -> OrderRow:
    row = OrderRow(shop_id=shop_id, external_id=str(number), name=f"#{number}", currency="USD", placed_at=NOW,
                   source_updated_at=NOW, payment_status="paid")
    for n in range(lines):
        row.lines.append(OrderLineRow(shop_id=shop_id, external_id=f"{number}-{n}", sku=f"SKU-{n}", title="Tee",
                                      quantity=1, unit_price=Decimal("10.00")))
    return row


def inserts_into(statements: list[tuple[str, bool, Any]], table: str) -> list[tuple[str, bool, Any]]:
    return [s for s in statements if s[0].startswith(f"INSERT INTO {table} ")]


def test_many_new_rows_take_their_keys_first_and_go_in_by_one_short_statement(
        database: Database, statements: list[tuple[str, bool, Any]], shop_id: int) -> None:
    statements.clear()
    with database.session() as s:
        orders = [order(shop_id, n, lines=2) for n in range(1, 6)]
        s.add_all(orders)
        s.flush()
        added_ids = [o.id for o in orders]
        line_ids = [[li.id for li in o.lines] for o in orders]

    prefetches = [sql for sql, _many, _params in statements if "nextval" in sql]
    assert len(prefetches) == 1  # both tables' keys in one round trip
    for table, rows in (("orders", 5), ("order_lines", 10)):
        [(sql, many, params)] = inserts_into(statements, table)
        assert many and len(params) == rows and "RETURNING" not in sql
        assert sql.count("%(shop_id") == 1  # one row's placeholders, not the batch's
    assert added_ids == sorted(added_ids) and len(set(added_ids)) == 5  # ids grow in the order added
    flat = [i for ids in line_ids for i in ids]
    assert flat == sorted(flat) and len(set(flat)) == 10
    with database.read() as s:
        stored = s.execute(select(OrderLineRow.id, OrderLineRow.order_id, OrderLineRow.external_id)).all()
        assert {(order_id, external_id.split("-")[0]) for _id, order_id, external_id in stored} == {
            (added_ids[n - 1], str(n)) for n in range(1, 6)}  # every line under its own order
        assert sorted(i for i, _o, _e in stored) == flat


def test_a_lone_new_row_goes_in_with_returning_and_no_prefetch(
        database: Database, statements: list[tuple[str, bool, Any]], shop_id: int) -> None:
    statements.clear()
    with database.session() as s:
        row = order(shop_id, 1, lines=1)
        s.add(row)
        s.flush()
        assert row.id is not None and row.lines[0].order_id == row.id
    assert not [sql for sql, _many, _params in statements if "nextval" in sql]
    [(sql, many, _params)] = inserts_into(statements, "orders")
    assert "RETURNING" in sql and not many


def test_a_key_already_given_is_kept_and_the_others_come_from_the_sequence(
        database: Database, shop_id: int) -> None:
    with database.session() as s:
        given = order(shop_id, 1, lines=0)
        given.id = 1_000_000
        others = [order(shop_id, n, lines=0) for n in (2, 3)]
        s.add_all([given, *others])
        s.flush()
        assert given.id == 1_000_000
        assert others[0].id < others[1].id < 1_000_000
    with database.read() as s:
        assert sorted(s.scalars(select(OrderRow.external_id))) == ["1", "2", "3"]


def test_keys_taken_by_a_unit_of_work_that_failed_are_not_reused(database: Database, shop_id: int) -> None:
    """Sequences do not roll back: a later unit of work gets keys past the failed one's (a gap, as
    PostgreSQL's own defaults leave)."""
    with pytest.raises(RuntimeError), database.session() as s:
        failed = [order(shop_id, n, lines=0) for n in (1, 2)]
        s.add_all(failed)
        s.flush()
        taken = max(o.id for o in failed)
        raise RuntimeError("the unit of work fails after its flush")
    with database.session() as s:
        later = [order(shop_id, n, lines=0) for n in (1, 2)]
        s.add_all(later)
        s.flush()
        assert min(o.id for o in later) > taken


def test_every_server_default_has_a_value_of_ours() -> None:
    """`eager_defaults` is off for every table (tables.Base): nothing is read back after an INSERT,
    which is right only while each server default is a migration's backfill of a column we always
    give a value (`default=`). A server-only default would leave its attribute unloaded."""
    server_only = [f"{table.name}.{column.name}" for table in Base.metadata.sorted_tables
                   for column in table.columns if column.server_default is not None and column.default is None]
    assert server_only == []


def test_a_key_numbered_otherwise_than_by_a_sequence_keeps_its_returning(database: Database) -> None:
    """A table whose key the database fills without a sequence (here a default expression): no
    prefetch, the rows go in with RETURNING and get the database's keys."""
    class Other(DeclarativeBase):
        pass

    class Note(Other):
        __tablename__ = "notes_without_sequence"
        id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
        body: Mapped[str] = mapped_column(String(20))

    with database.transaction() as connection:
        connection.execute(text("CREATE TABLE notes_without_sequence "
                                "(id BIGINT PRIMARY KEY DEFAULT (1000 + floor(random() * 1e9))::bigint, body TEXT)"))
    sessions = sessionmaker(database.engine)
    KeyPrefetch().install(sessions)
    with sessions() as s, s.begin():
        notes = [Note(body=str(n)) for n in range(3)]
        s.add_all(notes)
        s.flush()
        assert all(note.id >= 1000 for note in notes) and len({note.id for note in notes}) == 3
