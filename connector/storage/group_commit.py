"""Group commit: many request threads store rows through one writer thread, in few transactions.

On SQLite every write holds the one write lock. Eight request threads each taking it for their own
one-row transaction queue on it, and each hands the lock on only after it gets the GIL back (a
convoy): measured, that halved the webhook answer rate. Here one thread takes whatever rows are
waiting, inserts them in one transaction, commits, and wakes every requester with its own result;
a request still answers only after its row is committed, so nothing acknowledged can be lost.

On PostgreSQL the rows waiting are inserted by one statement (``INSERT ... ON CONFLICT DO NOTHING
RETURNING`` the unique key: the keys that come back are the rows that were new), in autocommit: a
burst's webhooks cost the web process one execution and PostgreSQL one commit for several rows,
where each request had its own (issue 13). Should a batch fail other than by losing the database
(a row the database refuses), its rows are inserted again one by one, so that only the requester
of the row at fault gets the error.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError

from connector.storage.db import Database

log = logging.getLogger(__name__)

MAX_BATCH = 64
WAIT = 30.0  # seconds a requester waits for its commit before giving up (the store will retry)


class GroupInsert:
    """Insert-if-absent of single rows into one table, batched by a writer thread. `key`: the columns
    of the table's unique constraint that tells a row already there."""

    def __init__(self, db: Database, table: Table, key: Sequence[str]) -> None:
        self.db = db
        self._key = tuple(key)
        if db.is_sqlite:
            self._statement = sqlite_insert(table).on_conflict_do_nothing()
        else:
            self._statement = (postgresql_insert(table).on_conflict_do_nothing()
                               .returning(*(table.c[name] for name in self._key)))
        self._queue: queue.SimpleQueue[tuple[dict[str, Any], Future[bool]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def insert(self, values: dict[str, Any]) -> bool:
        """Insert the row unless one with the same unique key exists. True when it was new."""
        self._ensure_thread()
        done: Future[bool] = Future()
        self._queue.put((values, done))
        return done.result(timeout=WAIT)

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[tuple[dict[str, Any], Future[bool]]]) -> None:
        try:
            results = self._insert([values for values, _ in batch])
        except Exception as exc:  # noqa: BLE001 - each requester gets the error and answers 5xx; the store retries
            if len(batch) > 1 and not isinstance(exc, OperationalError):
                log.warning("group commit of %d rows failed (%s); inserting them one by one", len(batch), exc)
                for one in batch:
                    self._write([one])
                return
            log.exception("group commit of %d rows failed", len(batch))
            for _, done in batch:
                done.set_exception(exc)
            return
        for (_, done), new in zip(batch, results, strict=True):
            done.set_result(new)

    def _insert(self, rows: list[dict[str, Any]]) -> list[bool]:
        """Insert `rows` in one transaction; whether each was new."""
        if self.db.is_sqlite:
            with self.db.transaction() as connection:
                return [connection.execute(self._statement, values).rowcount == 1 for values in rows]
        with self.db.single_statement() as connection:  # one statement: atomic by itself
            inserted = {tuple(row) for row in connection.execute(self._statement, rows)}
        new = []
        for values in rows:  # the same key twice in one batch: the first is the new one
            key = tuple(values[name] for name in self._key)
            new.append(key in inserted)
            inserted.discard(key)
        return new
