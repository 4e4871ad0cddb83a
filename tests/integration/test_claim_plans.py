"""The inbox's and the outbox's claims cost what the open rows cost, however many rows are done,
also when PostgreSQL's statistics still describe the nearly empty tables of before a sale.

In a sale the tables grow by thousands of rows a minute, faster than autovacuum's ANALYZE follows.
Planned on the old statistics, a claim walked every done row, or ran its "an earlier one is in
progress" check over all of them for each candidate: tens of milliseconds to seconds per claim,
more database time than the whole rest of the sale. The partial indexes of the open rows (see
`connector.storage.tables`) and the claims' literal statuses leave the planner no such plan. Each
test counts the buffers a claim touches (EXPLAIN ANALYZE), with the statistics taken while the
tables were nearly empty and then thousands of done rows added.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy.dialects import postgresql

from connector.dispatch.outbox import _ClaimStatements as ActionClaims
from connector.intake.inbox import _ClaimStatements as DeliveryClaims
from connector.storage.db import Database
from tests.services import libpq_dsn

DONE = 20_000  # orders whose webhook and actions are long done
OPEN = 2_000  # orders still waiting: their deliveries pending, their actions pending
IN_PROGRESS = 50  # of those, claimed by another worker right now
PER_OPEN_ROW = 3  # buffers a claim may touch per open row (an index entry, its heap row, a check)
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@dataclass
class Sale:
    db: Database
    dsn: str


def _copy(conn: psycopg.Connection, table: str, columns: str, rows: Iterator[tuple[Any, ...]]) -> None:
    with conn.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _deliveries(first: int, last: int, open_from: int) -> Iterator[tuple[Any, ...]]:
    for n in range(first, last):
        status = "done" if n < open_from else "processing" if n < open_from + IN_PROGRESS else "pending"
        lease = NOW + timedelta(minutes=1) if status == "processing" else None
        yield (n, "shopify", "sale.myshopify.com", "orders/create", f"event-{n}", "{}", b"{}" * 400, status,
               0 if status == "pending" else 1, NOW, lease)


def _actions(first: int, last: int, open_from: int) -> Iterator[tuple[Any, ...]]:
    for n in range(first, last):
        for offset, kind, waits in ((0, "start_backorder", True), (1, "send_email", False)):
            status = "done" if n < open_from else "running" if n < open_from + IN_PROGRESS else "pending"
            lease = NOW + timedelta(minutes=1) if status == "running" else None
            yield (2 * n + offset, 1, n, kind, f"key-{2 * n + offset}", "{}", status, 1, NOW - timedelta(seconds=1),
                   NOW, waits, lease)


@pytest.fixture
def sale(postgres_url: str) -> Iterator[Sale]:
    db = Database(postgres_url)
    db.migrate()
    dsn = libpq_dsn(postgres_url)
    deliveries = "id, platform, shop_domain, topic, event_id, headers, body, status, attempts, received_at, lease_until"
    actions = ("id, shop_id, order_id, kind, idempotency_key, payload, status, attempts, next_attempt_at, created_at,"
               " waits_for_store, lease_until")
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in ("deliveries", "actions"):
            conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")  # the statistics stay stale
        # The plans, not the orders the actions belong to, are under test: no order rows needed.
        for (name,) in conn.execute("SELECT conname FROM pg_constraint WHERE conrelid = 'actions'::regclass"
                                    " AND contype = 'f' AND conname LIKE '%orders%'").fetchall():
            conn.execute(f"ALTER TABLE actions DROP CONSTRAINT {name}")
        conn.execute("INSERT INTO shops (id, platform, domain, name, currency, locale, timezone, status, settings)"
                     " VALUES (1, 'shopify', 'sale.myshopify.com', 'Sale', 'USD', 'en', 'UTC', 'active', '{}')")
        _copy(conn, "deliveries", deliveries, _deliveries(1, 20, 10))
        _copy(conn, "actions", actions, _actions(1, 20, 10))
        conn.execute("ANALYZE deliveries")  # the statistics of before the sale
        conn.execute("ANALYZE actions")
        _copy(conn, "deliveries", deliveries, _deliveries(20, DONE + OPEN, DONE))
        _copy(conn, "actions", actions, _actions(20, DONE + OPEN, DONE))
    yield Sale(db, dsn)
    db.dispose()


def buffers_touched(sale: Sale, statement: Any, params: dict[str, Any]) -> tuple[int, int]:
    """(rows the claim's query returns, shared buffers it touched), as the workers run it."""
    compiled = statement.compile(dialect=postgresql.dialect())
    with sale.db.engine.connect() as connection:
        rows = len(connection.execute(statement, params).all())
        plan = connection.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) " + str(compiled), compiled.construct_params(params)
        ).scalar_one()
        connection.rollback()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    return rows, int(plan[0]["Plan"]["Shared Hit Blocks"]) + int(plan[0]["Plan"].get("Shared Read Blocks", 0))


def test_the_outbox_claim_touches_the_open_actions_only(sale: Sale) -> None:
    rows, touched = buffers_touched(sale, ActionClaims(sale.db).due, {"now": NOW, "limit": 25})
    assert rows == 25
    open_actions = 2 * OPEN
    assert touched < PER_OPEN_ROW * open_actions, f"{touched:,} buffers for {open_actions:,} open actions"


def test_the_inbox_claim_touches_the_open_deliveries_only(sale: Sale) -> None:
    # The shop's oldest open deliveries are being processed by another worker: every pending one
    # waits for them (one shop's deliveries are applied in order), so none is claimable, and
    # finding that out must not cost a check over every delivery for each candidate.
    rows, touched = buffers_touched(sale, DeliveryClaims(sale.db).candidates, {"now": NOW, "limit": 250})
    assert rows == 0
    assert touched < PER_OPEN_ROW * OPEN, f"{touched:,} buffers for {OPEN:,} open deliveries"


def test_once_the_other_worker_is_done_the_inbox_claim_takes_the_oldest(sale: Sale) -> None:
    with psycopg.connect(sale.dsn, autocommit=True) as conn:
        conn.execute("UPDATE deliveries SET status = 'done', lease_until = NULL WHERE status = 'processing'")
    statement = DeliveryClaims(sale.db).candidates
    compiled = statement.compile(dialect=postgresql.dialect())
    with sale.db.engine.connect() as connection:
        ids = [row.id for row in connection.execute(statement, {"now": NOW, "limit": 250})]
        connection.rollback()
    assert ids == list(range(DONE + IN_PROGRESS, DONE + IN_PROGRESS + 250))
    rows, touched = buffers_touched(sale, statement, {"now": NOW, "limit": 250})
    assert rows == 250 and touched < PER_OPEN_ROW * OPEN, f"{touched:,} buffers ({compiled})"


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


@pytest.mark.parametrize("queue", ["inbox", "outbox"])
def test_a_claim_finds_the_rows_it_lists_by_their_key_not_by_a_list_of_ors(sale: Sale, queue: str) -> None:
    """A claim of 1,000 rows out of a backlog: the rows are joined by their id. Listed as row values,
    `(id, status, attempts) IN (...)`, they were planned as a thousand ORs filtering every open row:
    half a second of the database's CPU a claim with a sale's 40,000 deliveries waiting."""
    if queue == "inbox":
        take, table = DeliveryClaims(sale.db).take, "deliveries"
    else:
        take, table = ActionClaims(sale.db).take, "actions"
    with psycopg.connect(sale.dsn) as conn:
        listed = conn.execute(f"SELECT id, status, attempts FROM {table} WHERE status = 'pending' ORDER BY id"
                              " LIMIT 1000").fetchall()
    params = take.params(listed, NOW + timedelta(seconds=20))
    compiled = take.statement.compile(dialect=postgresql.dialect())
    with sale.db.engine.connect() as connection:
        plan = connection.exec_driver_sql(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + str(compiled), compiled.construct_params(params)
        ).scalar_one()
        connection.rollback()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    nodes = list(_nodes(plan[0]["Plan"]))
    assert len(listed) == 1000 and nodes[0]["Actual Rows"] == 1000  # each listed row claimed
    filters = [node.get("Filter", "") + node.get("Join Filter", "") for node in nodes]
    assert not any(" OR " in f for f in filters), filters
    claimed = [node for node in nodes if node.get("Relation Name") == table]
    assert claimed and all(node["Node Type"] in ("Index Scan", "ModifyTable") for node in claimed), [
        (n["Node Type"], n.get("Index Name")) for n in claimed]
