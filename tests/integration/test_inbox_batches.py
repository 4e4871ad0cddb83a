"""A worker applies one shop's claimed deliveries in one transaction, in arrival order, and evaluates
once (`Inbox.process_batch`); anything unusual and the batch is processed one delivery at a time."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from adapters.base import Delivery
from connector.domain.model import Platform
from connector.intake import inbox as inbox_module
from connector.storage.tables import BackorderRow, DeliveryRow, OrderRow
from tests.sandbox_helpers import DOMAIN, Harness

CUSTOMER = {"email": "ada@example.com", "name": "Ada", "locale": "en"}


@pytest.fixture
def evaluations(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """How many times the inbox evaluated (and the SKUs it asked for)."""
    seen: Counter = Counter()
    real = inbox_module.evaluate

    def counting(session, shop, skus, now, orders=()):  # type: ignore[no-untyped-def]
        seen["calls"] += 1
        return real(session, shop, skus, now, orders=orders)

    monkeypatch.setattr(inbox_module, "evaluate", counting)
    return seen


def place(sandbox: Harness, n: int) -> list[str]:
    return [sandbox.store.place_order(dict(CUSTOMER, id=f"c{i}"), [("TEE", 1)])["id"] for i in range(n)]


def waiting(services) -> list[str]:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        return sorted(s.scalars(select(OrderRow.external_id).join(BackorderRow, BackorderRow.order_id == OrderRow.id)
                                .where(BackorderRow.state == "waiting")))


def test_a_shops_deliveries_are_applied_together_and_evaluated_once(sandbox: Harness, services,
                                                                   evaluations: Counter) -> None:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("TEE", "Tee", "20.00", 2)
    sandbox.work()
    evaluations.clear()
    orders = place(sandbox, 4)  # each order, then its stock report: 8 deliveries of one shop
    result = services.inbox.process_pending()
    assert (result.done, result.dead, result.retried) == (8, 0, 0)
    assert evaluations["calls"] == 1
    assert waiting(services) == sorted(orders[2:])  # the two earliest got the two units


def test_a_delivery_that_cannot_be_read_is_dead_lettered_and_the_batch_goes_on(sandbox: Harness, services,
                                                                              evaluations: Counter) -> None:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("TEE", "Tee", "20.00", 1)
    sandbox.work()
    place(sandbox, 1)
    services.inbox.store(Delivery(Platform.SANDBOX, DOMAIN, "orders/create", "broken-1", b"not json"))
    orders = place(sandbox, 1)
    result = services.inbox.process_pending()
    assert (result.done, result.dead) == (4, 1)
    with services.db.session() as s:
        dead = s.scalar(select(DeliveryRow).where(DeliveryRow.event_id == "broken-1"))
        assert dead.status == "dead" and "cannot be read" in dead.error
    assert waiting(services) == orders


def test_a_batch_that_fails_is_rolled_back_and_processed_one_delivery_at_a_time(
        sandbox: Harness, services, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("TEE", "Tee", "20.00", 1)
    sandbox.work()
    orders = place(sandbox, 3)
    real = inbox_module.evaluate
    calls: list[int] = []

    def first_fails(session, shop, skus, now, orders=()):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database blinked")
        return real(session, shop, skus, now, orders=orders)

    monkeypatch.setattr(inbox_module, "evaluate", first_fails)
    result = services.inbox.process_pending()
    assert (result.done, result.dead, result.retried) == (6, 0, 0)  # nothing half-applied, nothing lost
    assert len(calls) == 1 + 3  # the batch, then each order on its own (a stock drop settles first)
    sandbox.settle()  # one at a time, an order met a stock report of its own instant: the drops settle
    assert waiting(services) == sorted(orders[1:])
