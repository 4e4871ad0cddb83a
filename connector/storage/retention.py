"""How long handled webhooks are kept, and the deletion of older ones.

The inbox keeps every webhook as it arrived (a Shopify order is about 5 kB, with the customer's
contact details): useful while it may be delivered again, replayed or looked into, a growing pile
and a privacy liability after. A delivery done is deleted `Retention.done` after it was
processed; a dead-lettered one is kept longer (`Retention.dead`), for the merchant to see on the
dashboard and replay once the cause is fixed. Both must outlast the stores' retries by a margin
(Shopify retries a delivery for up to 48 hours, WooCommerce for less): within that window a
delivery sent again is recognised by its event id and not applied twice, and after it none comes.
Rows still to do are never deleted.

A customer's data export (`connector.intake.compliance`) holds copies of those webhooks: it is
emptied once it is as old as a handled webhook gets, so that it does not keep them longer. The
request's record and what we did about it stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update

from connector.storage.db import Database
from connector.storage.tables import EXPORT_EMPTIED, ComplianceRequestRow, DeliveryRow, status_literal

BATCH = 5_000  # rows deleted per transaction: each is short, so it holds nothing up for long


@dataclass(frozen=True)
class Retention:
    """How long handled deliveries are kept (the configuration checks they outlast the retries)."""

    done: timedelta = timedelta(days=30)
    dead: timedelta = timedelta(days=90)


def prune_deliveries(db: Database, now: datetime, retention: Retention, batch: int = BATCH) -> int:
    """Delete the deliveries handled longer ago than `retention` keeps them; returns how many."""
    deleted = 0
    for status, kept in (("done", retention.done), ("dead", retention.dead)):
        cutoff = now - kept
        while True:
            with db.session(background=True) as s:
                ids = list(s.scalars(  # the status written into the SQL: the handled deliveries' index
                    select(DeliveryRow.id)
                    .where(DeliveryRow.status == status_literal(status), DeliveryRow.processed_at < cutoff)
                    .order_by(DeliveryRow.processed_at)
                    .limit(batch)
                ))
                if ids:  # the status again: a dead one replayed meanwhile is pending, not deleted
                    gone = s.execute(delete(DeliveryRow).where(DeliveryRow.id.in_(ids), DeliveryRow.status == status))
                    deleted += gone.rowcount or 0
            if len(ids) < batch:
                break
    return deleted


def expire_exports(db: Database, now: datetime, retention: Retention) -> int:
    """Empty the customers' data exports made longer ago than a handled webhook is kept."""
    with db.session(background=True) as s:
        result = s.execute(
            update(ComplianceRequestRow)
            .where(
                ComplianceRequestRow.kind == "customer_export",
                ComplianceRequestRow.requested_at < now - retention.done,
                # not yet emptied (by this or by the customer's redaction): their identity is still on it
                or_(ComplianceRequestRow.customer_email.is_not(None),
                    ComplianceRequestRow.customer_external_id.is_not(None)),
            )
            .values(EXPORT_EMPTIED)
        )
        return result.rowcount or 0
