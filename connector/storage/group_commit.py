"""Group commit: many request threads store rows through one writer thread, in few transactions.

On SQLite every write holds the one write lock. Eight request threads each taking it for their own
one-row transaction queue on it, and each hands the lock on only after it gets the GIL back (a
convoy): measured, that halved the webhook answer rate. Here one thread takes whatever rows are
waiting, inserts them in one transaction, commits, and wakes every requester with its own result;
a request still answers only after its row is committed, so nothing acknowledged can be lost.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from connector.storage.db import Database

log = logging.getLogger(__name__)

MAX_BATCH = 64
WAIT = 30.0  # seconds a requester waits for its commit before giving up (the store will retry)


class GroupInsert:
    """Insert-if-absent of single rows into one table, batched by a writer thread. SQLite only."""

    def __init__(self, db: Database, table: Table) -> None:
        self.db = db
        self._statement = sqlite_insert(table).on_conflict_do_nothing()
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
            with self.db.transaction() as connection:
                results = [connection.execute(self._statement, values).rowcount == 1 for values, _ in batch]
        except Exception as exc:  # noqa: BLE001 - each requester gets the error and answers 5xx; the store retries
            log.exception("group commit of %d rows failed", len(batch))
            for _, done in batch:
                done.set_exception(exc)
            return
        for (_, done), new in zip(batch, results, strict=True):
            done.set_result(new)
