"""An evaluation writes only what the allocation changes (`evaluation.record_backorders`): in a sale
every evaluation of a SKU allocates all its waiting lines again, nearly all of them as before."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, select, update

from connector.backorders.evaluation import evaluate
from connector.storage.tables import BackorderRow, PromiseRow, ShopRow, VariantRow
from tests.sandbox_helpers import Harness

CUSTOMER = {"email": "ada@example.com", "name": "Ada", "locale": "en"}


@contextmanager
def statements(services) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()))

    engine = services.db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def waiting_lines(sandbox: Harness, services, n: int) -> int:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("TEE", "Tee", "20.00", 0)
    sandbox.work()
    for i in range(n):
        sandbox.store.place_order(dict(CUSTOMER, id=f"c{i}"), [("TEE", 1)])
    sandbox.work()
    with services.db.session() as s:
        assert s.scalar(select(BackorderRow.id).where(BackorderRow.state != "waiting")) is None
        return s.scalar(select(ShopRow.id))


def test_evaluating_waiting_lines_again_unchanged_loads_and_writes_none_of_them(sandbox: Harness, services,
                                                                                 clock) -> None:  # type: ignore[no-untyped-def]
    shop_id = waiting_lines(sandbox, services, 5)
    with services.db.session() as s, statements(services) as seen:
        shop = s.get(ShopRow, shop_id)
        evaluate(s, shop, ["TEE"], clock())
        s.flush()
    written = [q for q in seen if q.startswith(("UPDATE backorders", "INSERT INTO backorders", "INSERT INTO promise"))]
    loaded = [q for q in seen if q.startswith("SELECT backorders.id, backorders.shop_id")]  # whole rows
    assert (written, loaded) == ([], [])


def test_a_changed_promise_is_written_with_its_history(sandbox: Harness, services, clock) -> None:  # type: ignore[no-untyped-def]
    shop_id = waiting_lines(sandbox, services, 3)
    with services.db.session() as s:
        before = {row.id: row.promised_on for row in s.scalars(select(BackorderRow))}
        s.execute(update(VariantRow).where(VariantRow.sku == "TEE").values(lead_time_days=90))
    with services.db.session() as s:
        evaluate(s, s.get(ShopRow, shop_id), ["TEE"], clock())
    with services.db.session() as s:
        after = {row.id: row.promised_on for row in s.scalars(select(BackorderRow))}
        later = s.scalars(select(PromiseRow.backorder_id).where(PromiseRow.reason == "later")).all()
    assert all(after[i] > before[i] for i in before)
    assert sorted(later) == sorted(before)  # one "later" history row per line, tied to its backorder
