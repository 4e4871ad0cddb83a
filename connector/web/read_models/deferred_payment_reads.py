"""What the dashboard shows of "pay when it ships" (issue 10): the purchase option and balances to collect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.storage.tables import BalanceCollectionRow, OrderRow, PurchaseOptionMemberRow, PurchaseOptionRow

TO_COLLECT = ("charging", "retry_due", "gave_up")


@dataclass(frozen=True)
class OptionStatus:
    status: str  # active | needs_scopes | missing (not created yet)
    external_id: str | None
    members: int
    recreated_at: datetime | None
    recreated_count: int
    last_error: str | None
    deposit_percent: int


@dataclass(frozen=True)
class BalanceToCollect:
    order_id: int
    order_name: str
    customer_email: str | None
    state: str
    attempts: int
    reason: str | None
    next_attempt_at: datetime | None
    goods_held: bool
    customer_emailed: bool


def purchase_option(session: Session, shop_id: int) -> OptionStatus | None:
    row = session.scalar(select(PurchaseOptionRow).where(PurchaseOptionRow.shop_id == shop_id))
    if row is None:
        return None
    members = len(session.scalars(select(PurchaseOptionMemberRow.id).where(
        PurchaseOptionMemberRow.shop_id == shop_id)).all())
    status = row.status if row.external_id or row.status != "active" else "missing"
    return OptionStatus(status, row.external_id, members, row.recreated_at, row.recreated_count or 0,
                        row.last_error, row.deposit_percent)


def balances_to_collect(session: Session, shop_id: int) -> list[BalanceToCollect]:
    """Deferred balances not paid yet after a failed charge (or still being charged), oldest first."""
    rows = session.execute(
        select(BalanceCollectionRow, OrderRow)
        .join(OrderRow, OrderRow.id == BalanceCollectionRow.order_id)
        .where(BalanceCollectionRow.shop_id == shop_id, BalanceCollectionRow.state.in_(TO_COLLECT),
               (BalanceCollectionRow.attempts > 1) | (BalanceCollectionRow.state != "charging"))
        .order_by(BalanceCollectionRow.created_at, BalanceCollectionRow.id)
    ).all()
    return [
        BalanceToCollect(order.id, order.name, order.customer_email, b.state, b.attempts, b.last_reason,
                         b.next_attempt_at, bool(order.bo_held), b.customer_emailed)
        for b, order in rows
    ]
