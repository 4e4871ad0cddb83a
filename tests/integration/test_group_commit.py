"""Webhooks stored by many request threads at once, through the group-commit writer."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from adapters.base import Delivery
from connector.domain.model import Platform
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
    next one is stored. On SQLite the group-commit writer thread must survive the failure; PostgreSQL
    has no writer thread (each request inserts by itself, in autocommit), and must behave the same."""
    group = services.inbox._group

    def broken(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr(services.db, "transaction", broken)  # SQLite: the group's writer thread
    monkeypatch.setattr(services.db, "single_statement", broken)  # PostgreSQL: each request's own INSERT
    with pytest.raises(RuntimeError, match="disk full"):
        if group is not None:
            group.insert({"platform": "sandbox"})
        else:
            services.inbox.store(delivery(2))
    monkeypatch.undo()
    assert services.inbox.store(delivery(1)) is True  # the writer thread lived on
