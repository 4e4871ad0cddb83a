"""Webhooks stored by many request threads at once, through the group-commit writer."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from adapters.base import Delivery
from connector.domain.model import Platform
from connector.intake.inbox import delivery_row
from connector.storage.tables import DeliveryRow


def delivery(n: int) -> Delivery:
    return Delivery(platform=Platform.SANDBOX, shop="a.sandbox", topic="orders/create", event_id=f"e{n}",
                    body=b'{"id": "%d"}' % n)


def test_concurrent_stores_keep_every_delivery_once(services) -> None:  # type: ignore[no-untyped-def]
    sent = [delivery(n % 300) for n in range(600)]  # every event twice, the twins often in one batch
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(services.inbox.store, sent))
    assert results.count(True) == 300 and results.count(False) == 300
    for n in range(300):  # exactly one of each pair was new
        assert {results[n], results[n + 300]} == {True, False}
    with services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(DeliveryRow)) == 300


def test_a_failed_commit_reaches_every_waiting_request(services, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The request whose delivery could not be stored gets the error (the store retries it) and the
    next one is stored: the group-commit writer thread survives the failure."""

    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr(services.db, "transaction", broken)  # SQLite's transaction of the batch
    monkeypatch.setattr(services.db, "single_statement", broken)  # PostgreSQL's one statement of the batch
    with pytest.raises(RuntimeError, match="disk full"):
        services.inbox.store(delivery(2))
    monkeypatch.undo()
    assert services.inbox.store(delivery(1)) is True  # the writer thread lived on
    assert services.inbox.store(delivery(2)) is True  # the one that failed was not stored


def test_a_row_the_database_refuses_fails_only_its_own_request(services) -> None:  # type: ignore[no-untyped-def]
    """A batch one row of which the database refuses (here a row without an event id) is inserted
    again row by row: the others are stored and answered, only that row's request gets the error."""
    now = datetime.now(UTC)
    rows = [delivery_row(delivery(n), now) for n in range(10)]
    rows.insert(5, {**delivery_row(delivery(99), now), "event_id": None})
    batch: list[tuple[dict, Future[bool]]] = [(row, Future()) for row in rows]
    services.inbox._group._write(batch)  # what the writer thread does with the rows it found waiting
    outcomes = [done.exception(timeout=10) or done.result() for _, done in batch]
    assert outcomes[:5] == [True] * 5 and outcomes[6:] == [True] * 5
    assert isinstance(outcomes[5], IntegrityError)
    with services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(DeliveryRow)) == 10
