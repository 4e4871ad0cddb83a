"""The database handle: engine, sessions, and schema migration on start."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from time import monotonic, sleep

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, Engine, Select, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from connector.storage.key_prefetch import KeyPrefetch
from connector.storage.write_gate import WriteGate

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 7_305_117_001  # a PostgreSQL advisory lock key: one process migrates at a time
MIGRATION_LOCK_POLL = 0.2  # seconds between two tries for it
# A pooled connection that sat unused this long is pinged before it is handed out (a server restart
# or an idle timeout may have closed it meanwhile). One in steady use is not: a ping on every
# checkout doubled the round trips of a one-statement transaction (a webhook stored, an action
# recorded done). A connection that dies while in steady use fails one unit of work, as a database
# outage does (a webhook answered 500 is sent again by the store; a worker's work stays stored for
# its next pass), and SQLAlchemy then replaces every pooled connection older than that failure.
PING_WHEN_IDLE_SECONDS = 2.0


@contextmanager
def migration_lock(connection: Connection) -> Iterator[None]:
    """One process migrates at a time; processes starting together wait, then find the schema
    current (PostgreSQL; SQLite has one process writing).

    The lock is the session's, not a transaction's, so it holds across the transactions the
    migrations commit: a `CREATE INDEX CONCURRENTLY` (migration 0015), which must not hold up the
    inbox's writes on a large table, runs outside any. It is waited for by trying again, between
    transactions: a process blocked inside a statement would hold a snapshot, which such a build
    waits for while that process waits for our lock."""
    if connection.dialect.name != "postgresql":
        yield
        return
    while True:
        taken = connection.exec_driver_sql(f"SELECT pg_try_advisory_lock({MIGRATION_LOCK})").scalar()
        connection.commit()
        if taken:
            break
        sleep(MIGRATION_LOCK_POLL)
    try:
        yield
    finally:
        connection.rollback()  # a migration that failed leaves its transaction aborted
        connection.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")
        connection.commit()


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _note_idle(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
    record.info["idle_since"] = monotonic()


def _ping_if_idle(engine: Engine):  # type: ignore[no-untyped-def]
    def checkout(dbapi_connection, record, _proxy) -> None:  # type: ignore[no-untyped-def]
        idle_since = record.info.get("idle_since")
        if idle_since is None or monotonic() - idle_since < PING_WHEN_IDLE_SECONDS:
            return  # just opened, or in steady use
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 - any failure: the pool drops it and connects afresh
            idle = monotonic() - idle_since
            raise DisconnectionError(f"a pooled connection idle for {idle:.0f} s is gone: {exc}") from exc

    return checkout


def _begin(conn) -> None:  # type: ignore[no-untyped-def]
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("read_only") else "BEGIN IMMEDIATE")


class Database:
    """One per process. `session()` gives a unit of work that commits on success, rolls back on error."""

    def __init__(self, url: str) -> None:
        self.url = url
        kwargs: dict = {"future": True}
        if url.startswith("sqlite"):
            if url in ("sqlite://", "sqlite:///:memory:"):
                kwargs.update(connect_args={"check_same_thread": False}, poolclass=StaticPool)
            else:
                Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
                kwargs.update(connect_args={"check_same_thread": False, "timeout": 30})
        else:
            kwargs.update(pool_size=10, max_overflow=20)
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            # SQLite: a unit of work takes the write lock at BEGIN, so concurrent writers queue instead of
            # failing to upgrade a read lock; a read-only one begins deferred and, in WAL mode, waits on nobody.
            event.listen(self.engine, "begin", _begin)
            event.listen(self.engine, "connect", lambda c, _r: setattr(c, "isolation_level", None))
        else:
            event.listen(self.engine.pool, "checkin", _note_idle)
            event.listen(self.engine.pool, "checkout", _ping_if_idle(self.engine))
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if not self.is_sqlite:  # SQLite's driver has no placeholders to convert; its INSERT ... RETURNING stays
            KeyPrefetch().install(self._sessions)
        self._reads = sessionmaker(self.engine.execution_options(read_only=True), expire_on_commit=False)
        self._autocommit = None if self.is_sqlite else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._gate = WriteGate() if self.is_sqlite else None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def for_claim(self, query: Select, *of: object) -> Select:
        """A claim query: on PostgreSQL lock the rows it selects and skip rows another worker has
        locked, so concurrent workers take disjoint batches instead of queueing on the same rows.
        SQLite needs nothing: BEGIN IMMEDIATE already serialises writers."""
        if self.is_sqlite:
            return query
        return query.with_for_update(skip_locked=True, of=list(of) or None)

    @contextmanager
    def session(self, background: bool = False) -> Iterator[Session]:
        """A unit of work. `background` work (workers, scheduler) yields to waiting foreground work."""
        if self._gate is None:
            with self._sessions() as session, session.begin():
                yield session
            return
        with self._gate.hold(background), self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def transaction(self, background: bool = False) -> Iterator[Connection]:
        """A Core transaction, for hot paths that need no ORM."""
        if self._gate is None:
            with self.engine.begin() as connection:
                yield connection
            return
        with self._gate.hold(background), self.engine.begin() as connection:
            yield connection

    @contextmanager
    def single_statement(self, background: bool = False) -> Iterator[Connection]:
        """For one write statement, atomic by itself (a webhook stored, an action recorded done): on
        PostgreSQL in autocommit, one round trip instead of three (no BEGIN, no COMMIT); on SQLite a
        transaction as `transaction` gives. Run more than one statement here and each commits alone."""
        if self._autocommit is None:
            with self.transaction(background) as connection:
                yield connection
            return
        with self._autocommit.connect() as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work: on SQLite it takes no write lock and waits for no writer."""
        with self._reads() as session, session.begin():
            yield session

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (idempotent)."""
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.connect() as connection, migration_lock(connection):
            cfg.attributes["connection"] = connection  # Alembic begins and commits its transactions
            command.upgrade(cfg, "head")

    def dispose(self) -> None:
        self.engine.dispose()
