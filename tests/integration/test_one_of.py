"""`one_of(column, values)` (storage/one_of.py): the rows `column IN (values)` finds, with one parameter
for the whole list, on SQLite and on PostgreSQL.

What it holds: the same rows as IN for strings and integers (SKUs that look like numbers too), none
for an empty list, a list longer than any bound-parameter limit, one statement text for lists of
any length (compiled once, so a cached statement run again with other values finds the new ones),
and a clear refusal of values that are neither strings nor integers.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from connector.storage.db import Database
from connector.storage.one_of import one_of
from connector.storage.tables import ShopRow, StockLevelRow


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    url = (f"sqlite:///{tmp_path / 'one_of.sqlite3'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_url"))
    database = Database(url)
    database.migrate()
    with database.session() as s:
        shops = [ShopRow(platform="shopify", domain=f"{n}.myshopify.com", name=str(n)) for n in range(3)]
        s.add_all(shops)
        s.flush()
        for shop in shops:
            s.add_all(StockLevelRow(shop_id=shop.id, sku=sku, location="main", available=1)
                      for sku in ("TEE-S", "TEE-M", "0042", "42", "CAP"))
    yield database
    database.dispose()


def skus_of(database: Database, shop_id: int, wanted: list[str]) -> list[str]:
    with database.read() as s:
        return sorted(s.scalars(select(StockLevelRow.sku).where(StockLevelRow.shop_id == shop_id,
                                                                one_of(StockLevelRow.sku, wanted))))


def test_the_rows_in_finds_for_strings_and_integers(database: Database) -> None:
    with database.read() as s:
        shop_ids = sorted(s.scalars(select(ShopRow.id)))
        assert sorted(s.scalars(select(ShopRow.id).where(one_of(ShopRow.id, shop_ids[:2])))) == shop_ids[:2]
    assert skus_of(database, shop_ids[0], ["TEE-M", "CAP", "NOT-STOCKED"]) == ["CAP", "TEE-M"]
    assert skus_of(database, shop_ids[0], ["42"]) == ["42"]  # a SKU that looks like a number is still text
    assert skus_of(database, shop_ids[0], []) == []


def test_a_list_past_any_parameter_limit_is_one_parameter(database: Database) -> None:
    wanted = [f"SKU-{n}" for n in range(40_000)] + ["CAP"]  # SQLite's limit is 32,766 parameters
    with database.read() as s:
        shop_id = min(s.scalars(select(ShopRow.id)))
    assert skus_of(database, shop_id, wanted) == ["CAP"]


def test_one_statement_text_for_lists_of_any_length(database: Database) -> None:
    from sqlalchemy import event

    sent: list[str] = []
    event.listen(database.engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_rest: sent.append(statement))
    with database.read() as s:
        shop_id = min(s.scalars(select(ShopRow.id)))
    for wanted, found in ((["TEE-S"], ["TEE-S"]), (["CAP", "42", "TEE-M"], ["42", "CAP", "TEE-M"]),
                          (["0042"], ["0042"])):
        assert skus_of(database, shop_id, wanted) == found  # the cached statement binds each list afresh
    lookups = [statement for statement in sent if "stock_levels" in statement]
    assert len(lookups) == 3 and len(set(lookups)) == 1


def test_values_that_are_neither_strings_nor_integers_are_refused(database: Database) -> None:
    from sqlalchemy.exc import StatementError

    with pytest.raises(StatementError, match="one_of compares strings or integers, not float"):
        skus_of(database, 1, ["CAP", 4.2])  # type: ignore[list-item]
