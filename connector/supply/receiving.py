"""Receiving purchase orders: the goods are in, so the store's stock goes up and waiting lines ship.

When the shop lets us (`po_receipt_updates_store_stock`, on by default), receiving adds the units
to the store's inventory through the outbox (an idempotent adjustment per PO line and quantity),
and to our own view of stock at once, so the shipping cycle starts now rather than when the
store's inventory webhook comes back. Otherwise the merchant receives the goods in the store and
its inventory webhook starts the cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.backorders.evaluation import Evaluation
from connector.backorders.selling_limits import limit_selling
from connector.backorders.storefront_publication import evaluate_and_publish as evaluate
from connector.dispatch.outbox import Kind, enqueue
from connector.shops.shop_days import shop_today
from connector.shops.shop_settings import ShopSettings
from connector.storage.tables import PurchaseOrderRow, ShopRow, StockLevelRow

DEFAULT_LOCATION = "default"


class ReceiveError(ValueError):
    pass


@dataclass(frozen=True)
class Received:
    units: dict[str, int]
    complete: bool
    evaluation: Evaluation


def receive_purchase_order(
    session: Session,
    shop: ShopRow,
    po_id: int,
    now: datetime,
    quantities: Mapping[str, int] | None = None,
    received_on: date | None = None,
) -> Received:
    """Record goods received against a PO (all that is outstanding when `quantities` is None)."""
    po = session.get(PurchaseOrderRow, po_id)
    if po is None or po.shop_id != shop.id:
        raise ReceiveError("no such purchase order")
    if po.draft:
        raise ReceiveError("a draft purchase order must be approved before goods can be received against it")
    settings = ShopSettings.from_mapping(shop.settings)
    units: dict[str, int] = {}
    for line in po.lines:
        outstanding = line.quantity - line.received_quantity
        qty = outstanding if quantities is None else int(quantities.get(line.sku, 0))
        if qty < 0:
            raise ReceiveError(f"{line.sku}: a received quantity cannot be negative")
        if qty > outstanding:
            raise ReceiveError(f"{line.sku}: {qty} received but only {outstanding} outstanding")
        if qty == 0:
            continue
        line.received_quantity += qty
        units[line.sku] = units.get(line.sku, 0) + qty
        if settings.po_receipt_updates_store_stock:
            location = _add_local_stock(session, shop.id, line.sku, qty)
            enqueue(
                session,
                shop_id=shop.id,
                order_id=None,
                kind=Kind.ADJUST_STOCK,
                key=f"{shop.platform}:{shop.domain}:po:{po.id}:line:{line.id}:received:{line.received_quantity}",
                payload={
                    "sku": line.sku,
                    "delta": qty,
                    "location": None if location == DEFAULT_LOCATION else location,
                    "reason": f"received on purchase order {po.reference}",
                },
                now=now,
            )
    if not units and quantities is not None:
        raise ReceiveError("nothing to receive: give a quantity for at least one line")
    complete = all(li.received_quantity >= li.quantity for li in po.lines)
    if complete:
        po.received_on = received_on or shop_today(shop, now)
    session.flush()
    evaluation = evaluate(session, shop, set(units), now) if units else Evaluation()
    if units:
        limit_selling(session, shop, set(units), now)
    return Received(units, complete, evaluation)


def _add_local_stock(session: Session, shop_id: int, sku: str, qty: int) -> str:
    row = session.scalars(
        select(StockLevelRow)
        .where(StockLevelRow.shop_id == shop_id, StockLevelRow.sku == sku)
        .order_by(StockLevelRow.location)
    ).first()
    if row is None:
        row = StockLevelRow(shop_id=shop_id, sku=sku, location=DEFAULT_LOCATION, available=0)
        session.add(row)
    row.available += qty  # updated_at stays: it says which orders the store's own figure counts
    return row.location


def reschedule_purchase_order(
    session: Session, shop: ShopRow, po_id: int, expected_on: date, now: datetime
) -> Evaluation:
    """The supplier gave a new date: the promises that depend on it move (and customers hear of it)."""
    po = session.get(PurchaseOrderRow, po_id)
    if po is None or po.shop_id != shop.id:
        raise ReceiveError("no such purchase order")
    if po.received_on is not None:
        raise ReceiveError("this purchase order was already received")
    po.expected_on = expected_on
    session.flush()
    evaluation = evaluate(session, shop, {li.sku for li in po.lines}, now)
    limit_selling(session, shop, {li.sku for li in po.lines}, now)
    return evaluation
