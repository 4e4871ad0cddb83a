"""Handled webhooks are deleted once their retention passed; nothing still to do ever is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from adapters.base import Delivery
from connector import sweeps
from connector.domain.model import Platform
from connector.scheduler import Scheduler
from connector.storage.retention import Retention, prune_deliveries
from connector.storage.tables import ComplianceRequestRow, DeliveryRow

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def row(name: str, status: str, processed_days_ago: float | None, received_days_ago: float = 200) -> DeliveryRow:
    processed = None if processed_days_ago is None else NOW - timedelta(days=processed_days_ago)
    return DeliveryRow(platform="shopify", shop_domain="keep.myshopify.com", topic="orders/create", event_id=name,
                       headers={}, body=b'{"email": "someone@example.com"}', status=status, attempts=1,
                       received_at=NOW - timedelta(days=received_days_ago), processed_at=processed)


def kept(services) -> set[str]:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        return set(s.scalars(select(DeliveryRow.event_id)))


def test_each_status_is_kept_its_own_time_and_unfinished_ones_always(services) -> None:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        s.add_all([row(f"done-old-{n}", "done", 30.01) for n in range(5)])  # five: three batches of two
        s.add_all([
            row("done-recent", "done", 29.9),
            row("dead-month", "dead", 31),  # the merchant may still replay it
            row("dead-old", "dead", 90.5),
            row("pending-old", "pending", None),  # never processed, however old: still to do
            row("processing-old", "processing", None),
            row("retrying-old", "pending", 60),  # failed once long ago and waiting for its next try
        ])
    deleted = prune_deliveries(services.db, NOW, Retention(done=timedelta(days=30), dead=timedelta(days=90)), batch=2)
    assert deleted == 6
    assert kept(services) == {"done-recent", "dead-month", "pending-old", "processing-old", "retrying-old"}
    assert prune_deliveries(services.db, NOW, Retention()) == 0  # nothing left to do: one statement each


def test_the_scheduler_prunes_with_the_configured_retention(services, clock) -> None:  # type: ignore[no-untyped-def]
    services.inbox.store(Delivery(platform=Platform.SANDBOX, shop="a.sandbox", topic="orders/create", event_id="e1",
                                  body=b'{"id": 1}'))
    with services.db.session() as s:  # processed as the worker would have
        delivery = s.scalar(select(DeliveryRow))
        delivery.status, delivery.processed_at = "done", clock()
    job, seconds = Scheduler(services).jobs()["prune_inbox"]
    assert seconds == sweeps.PRUNE_SECONDS
    clock.advance(days=services.config.delivery_retention_days - 1)
    job(services)
    assert kept(services) == {"e1"}
    # a store sending it again meanwhile is still recognised: not stored, not applied twice
    assert services.inbox.store(Delivery(platform=Platform.SANDBOX, shop="a.sandbox", topic="orders/create",
                                         event_id="e1", body=b'{"id": 1}')) is False
    clock.advance(days=1, seconds=1)
    job(services)
    assert kept(services) == set()


def test_a_data_export_is_emptied_once_as_old_as_a_kept_webhook(services, clock) -> None:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        s.add_all([
            ComplianceRequestRow(shop_domain="keep.myshopify.com", kind="customer_export", customer_email="a@b.example",
                                 export={"stored_webhooks": [{"body": {"phone": "555"}}]}, summary="exported 1",
                                 requested_at=clock()),
            ComplianceRequestRow(shop_domain="keep.myshopify.com", kind="customer_redact", summary="redacted 1",
                                 requested_at=clock()),
        ])
    job, _seconds = Scheduler(services).jobs()["prune_inbox"]
    clock.advance(days=services.config.delivery_retention_days - 1)
    job(services)
    with services.db.session() as s:
        assert s.scalar(select(ComplianceRequestRow.export).where(ComplianceRequestRow.kind == "customer_export"))
    clock.advance(days=1, seconds=1)
    assert sweeps.prune_inbox(services) == 1
    assert sweeps.prune_inbox(services) == 0  # emptied once
    with services.db.session() as s:
        rows = {r.kind: r for r in s.scalars(select(ComplianceRequestRow))}
    assert rows["customer_export"].export is None and rows["customer_export"].customer_email is None
    assert rows["customer_export"].summary == "exported 1" and rows["customer_redact"].summary == "redacted 1"
