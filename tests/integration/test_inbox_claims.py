"""Claims of the inbox when several workers share it: one shop's deliveries in arrival order,
other shops unaffected, a delivery waiting to retry holding up nothing. (SQLite by default;
CONNECTOR_TEST_DATABASE=postgresql runs the same on PostgreSQL.)"""

from __future__ import annotations

from sqlalchemy import update

from adapters.base import Delivery
from connector.domain.model import Platform
from connector.storage.tables import DeliveryRow


def store(services, shop: str, n: int) -> int:  # type: ignore[no-untyped-def]
    services.inbox.store(Delivery(Platform.SANDBOX, shop, "products/update", f"{shop}-{n}", b"{}"))
    with services.db.session() as s:
        return s.query(DeliveryRow.id).filter(DeliveryRow.event_id == f"{shop}-{n}").scalar()


def done(services, ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        s.execute(update(DeliveryRow).where(DeliveryRow.id.in_(ids)).values(status="done", lease_until=None))


def test_a_shops_deliveries_wait_for_its_earlier_one_in_progress(services, clock) -> None:  # type: ignore[no-untyped-def]
    a = [store(services, "a.sandbox", n) for n in range(3)]
    b = [store(services, "b.sandbox", n) for n in range(2)]
    [first] = services.inbox._claim(limit=1)  # another worker took a's first delivery and is working on it
    assert first == a[0]
    assert services.inbox._claim(limit=10) == b  # a's later ones wait; b's are free
    done(services, [first])
    assert services.inbox._claim(limit=10) == a[1:]  # in order, once the earlier one is done


def test_a_delivery_waiting_to_retry_holds_up_nothing(services, clock) -> None:  # type: ignore[no-untyped-def]
    ids = [store(services, "a.sandbox", n) for n in range(3)]
    [first] = services.inbox._claim(limit=1)
    services.inbox._retry(first, "the database blinked")  # back in the queue, not before its back-off
    assert services.inbox._claim(limit=10) == ids[1:]
    done(services, ids[1:])
    clock.advance(minutes=5)
    assert services.inbox._claim(limit=10) == [first]


def test_a_crashed_workers_delivery_blocks_its_shop_only_until_its_lease_runs_out(services, clock) -> None:  # type: ignore[no-untyped-def]
    ids = [store(services, "a.sandbox", n) for n in range(2)]
    assert services.inbox._claim(limit=1) == ids[:1]  # ... and that worker dies
    assert services.inbox._claim(limit=10) == []
    clock.advance(minutes=3)
    assert services.inbox._claim(limit=10) == ids  # taken over, still in order
