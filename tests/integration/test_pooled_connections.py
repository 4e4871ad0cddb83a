"""Pooled PostgreSQL connections: pinged only after sitting idle, replaced when the server closed them;
one-statement writes in autocommit.

A ping on every checkout cost a round trip per one-statement transaction; these tests hold the
trade: a connection in steady use goes out unpinged, one idle past `PING_WHEN_IDLE_SECONDS` is
pinged and, when the server has closed it meanwhile, replaced without the caller noticing; and a
connection closed while in steady use fails one unit of work, after which the pool is fresh.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from connector.storage import db as db_module
from connector.storage.db import Database
from tests.services import libpq_dsn


@pytest.fixture
def database(postgres_url: str) -> Iterator[Database]:
    database = Database(postgres_url)
    yield database
    database.dispose()


@pytest.fixture
def pings(database: Database, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the dialect's pings (the real ping still runs)."""
    made: list[int] = []
    real = database.engine.dialect.do_ping

    def counted(dbapi_connection):  # type: ignore[no-untyped-def]
        made.append(1)
        return real(dbapi_connection)

    monkeypatch.setattr(database.engine.dialect, "do_ping", counted)
    return made


def backend_pid(database: Database) -> int:
    with database.transaction() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def terminate(url: str, pid: int) -> None:
    """Close a backend from the server's side, as a restart or an idle timeout does."""
    with psycopg.connect(libpq_dsn(url), autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)


def test_a_connection_in_steady_use_is_not_pinged(database: Database, pings: list[int]) -> None:
    first = backend_pid(database)
    for _ in range(20):
        assert backend_pid(database) == first  # the same pooled connection each time
    assert pings == []


def test_an_idle_connection_is_pinged_and_replaced_when_the_server_closed_it(
    database: Database, pings: list[int], postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "PING_WHEN_IDLE_SECONDS", 0.05)
    first = backend_pid(database)
    time.sleep(0.1)
    assert backend_pid(database) == first  # idle: pinged, alive, kept
    assert pings == [1]

    terminate(postgres_url, first)
    time.sleep(0.1)
    replaced = backend_pid(database)  # no error reaches the caller
    assert replaced != first
    assert len(pings) == 2


def test_a_connection_closed_in_steady_use_fails_one_unit_of_work_then_the_pool_is_fresh(
    database: Database, postgres_url: str
) -> None:
    first = backend_pid(database)
    terminate(postgres_url, first)
    with pytest.raises(OperationalError), database.transaction() as connection:
        connection.execute(text("SELECT 1"))
    assert backend_pid(database) != first


def test_a_single_statement_commits_by_itself_and_the_pool_stays_transactional(database: Database) -> None:
    """`single_statement`: autocommit on PostgreSQL (no BEGIN, no COMMIT round trips), and the
    connection goes back to the pool transactional for the next unit of work."""
    with database.transaction() as connection:
        connection.execute(text("CREATE TABLE noted (n integer)"))
    first = backend_pid(database)
    with database.single_statement() as connection:
        connection.execute(text("INSERT INTO noted VALUES (1)"))
        raw = connection.connection.dbapi_connection
        assert raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE  # committed already
        with database.transaction() as other:  # another pooled connection sees it before the block ends
            assert other.execute(text("SELECT count(*) FROM noted")).scalar_one() == 1
    with database.transaction() as one, database.transaction() as two:  # both pooled connections
        assert {pid(one), pid(two)} >= {first}
        for connection in (one, two):
            connection.execute(text("INSERT INTO noted VALUES (2)"))
            raw = connection.connection.dbapi_connection
            assert raw.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
            connection.rollback()
    with database.transaction() as connection:
        assert connection.execute(text("SELECT count(*) FROM noted")).scalar_one() == 1


def pid(connection: Connection) -> int:
    return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
