"""What a customer may choose on their backorder page, and applying a choice exactly once.

Three choices while lines wait (issue 16):

- ``ship_ready``: what is in stock ships now, ahead of the rest. Offered when the order ships complete
  today (the shop's rule for this customer) and something is ready; the shop's settings allow it
  (``customer_ship_ahead``) and say who pays the extra shipment. The order is marked to ship partially
  and decided again: the hold moves to the waiting lines only (the store releases the rest), and a
  shop that captures per shipment captures what ships now.
- ``cancel_waiting``: the waiting lines are cancelled and refunded through the store, by the same
  path as the refund offer (`connector.backorders.refunds.refund_waiting_lines`).
- ``keep_waiting``: nothing changes in the store; the merchant is told on the order.

A choice is recorded once per order, choice and backorder generation (a unique key in the
database); submitting it again, at once or later, shows what was done and does nothing more. A
choice that is no longer possible (the lines shipped meanwhile) changes nothing. Every store call
is an outbox action; the merchant's note goes to the order in the store, and the dashboard lists
the choices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connector.backorders.evaluation import evaluate
from connector.backorders.lifecycle import load_picture
from connector.backorders.order_actions import OrderActions
from connector.backorders.refunds import refund_waiting_lines
from connector.dispatch.outbox import Kind
from connector.domain import backorder_decision as decision
from connector.domain.model import BackorderState
from connector.shops.directory import lock_shop
from connector.shops.shop_settings import ShopSettings
from connector.storage.tables import BackorderRow, CustomerChoiceRow, OrderLineRow, OrderRow, ShopRow

CHOICES = ("ship_ready", "cancel_waiting", "keep_waiting")
CENT = Decimal("0.01")


class ChoiceError(ValueError):
    """Not one of the choices."""


@dataclass(frozen=True)
class PartView:
    """Part of one line: what waits or what is ready, with its amount."""

    line_id: str
    title: str
    sku: str
    quantity: int
    amount: Decimal


@dataclass
class Options:
    """What the customer may choose now, and what each choice would touch."""

    waiting: list[PartView] = field(default_factory=list)
    ready: list[PartView] = field(default_factory=list)
    ship_ready: bool = False
    shipping_paid_by: str = "shop"
    shipping_fee: Decimal = Decimal(0)

    @property
    def cancel_waiting(self) -> bool:
        return bool(self.waiting)

    @property
    def keep_waiting(self) -> bool:
        return bool(self.waiting)

    @property
    def refund_amount(self) -> Decimal:
        return sum((p.amount for p in self.waiting), Decimal(0)).quantize(CENT)

    def allows(self, choice: str) -> bool:
        return bool(getattr(self, choice))


@dataclass(frozen=True)
class ChoiceOutcome:
    status: str  # applied | already (chosen before: nothing more done) | not_possible (nothing changed)
    choice: str
    detail: dict[str, Any] = field(default_factory=dict)


def _waiting_rows(session: Session, order: OrderRow) -> list[tuple[BackorderRow, OrderLineRow]]:
    rows = session.execute(
        select(BackorderRow, OrderLineRow)
        .join(OrderLineRow, OrderLineRow.id == BackorderRow.line_id)
        .where(BackorderRow.order_id == order.id, BackorderRow.state == BackorderState.WAITING)
        .where(BackorderRow.quantity > 0)
        .order_by(OrderLineRow.id)
    ).all()
    return [(b, li) for b, li in rows]


def options(session: Session, shop: ShopRow, order: OrderRow, now: datetime) -> Options:
    """The choices open for `order` now (none once nothing waits, or the order was cancelled)."""
    if order.cancelled:
        return Options()
    settings = ShopSettings.from_mapping(shop.settings)
    waits = _waiting_rows(session, order)
    waiting_qty = {li.id: b.quantity for b, li in waits}
    found = Options(
        waiting=[PartView(li.external_id, li.title, li.sku, b.quantity, _amount(li, b.quantity)) for b, li in waits],
        shipping_paid_by=settings.ship_ahead_shipping_paid_by,
        shipping_fee=Decimal(str(settings.ship_ahead_shipping_fee)).quantize(CENT),
    )
    if not waits:
        return found
    for li in order.lines:
        ready = li.quantity - (li.fulfilled_quantity or 0) - waiting_qty.get(li.id, 0)
        if li.requires_shipping and ready > 0:
            found.ready.append(PartView(li.external_id, li.title, li.sku, ready, _amount(li, ready)))
    picture = load_picture(session, shop, order, settings, now)
    found.ship_ready = bool(found.ready) and settings.customer_ship_ahead and not picture.partial
    return found


def _amount(line: OrderLineRow, quantity: int) -> Decimal:
    return ((line.unit_price or Decimal(0)) * quantity).quantize(CENT)


def apply_choice(session: Session, shop: ShopRow, order: OrderRow, choice: str, now: datetime) -> ChoiceOutcome:
    """Apply `choice` once for the order's current backorder generation (see the module's docstring)."""
    if choice not in CHOICES:
        raise ChoiceError("not a choice")
    lock_shop(session, shop.id)  # two submissions at once: the second waits, then finds the first
    generation = order.bo_generation or 0
    earlier = session.scalar(
        select(CustomerChoiceRow).where(
            CustomerChoiceRow.order_id == order.id,
            CustomerChoiceRow.choice == choice,
            CustomerChoiceRow.generation == generation,
        )
    )
    if earlier is not None:
        return ChoiceOutcome("already", choice, dict(earlier.detail))
    found = options(session, shop, order, now)
    if not found.allows(choice):
        return ChoiceOutcome("not_possible", choice)
    row = CustomerChoiceRow(
        shop_id=shop.id, order_id=order.id, choice=choice, generation=generation, detail={}, made_at=now
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # recorded by a submission that committed in between
        return ChoiceOutcome("already", choice)
    detail = _APPLY[choice](session, shop, order, found, f"choice:{row.id}", now)
    row.detail = detail
    return ChoiceOutcome("applied", choice, detail)


def _parts(parts: list[PartView]) -> list[dict[str, Any]]:
    return [{"line_id": p.line_id, "title": p.title, "quantity": p.quantity, "amount": str(p.amount)} for p in parts]


def _note(session: Session, shop: ShopRow, order: OrderRow, key: str, text: str, now: datetime) -> None:
    OrderActions(session, shop, order, now).add(Kind.NOTE, f"{key}:note", {"text": text, "customer_visible": False})


def _ship_ready(
    session: Session, shop: ShopRow, order: OrderRow, found: Options, key: str, now: datetime
) -> dict[str, Any]:
    settings = ShopSettings.from_mapping(shop.settings)
    order.ships_partial = True
    picture = load_picture(session, shop, order, settings, now)
    if picture.captures_later and settings.capture_per_shipment:
        amount = sum((p.amount for p in found.ready), Decimal(0))
        capture = decision.capture_action(amount, f"{key}:capture", order.currency)
        if capture is not None:
            OrderActions(session, shop, order, now).put(capture)
    fee = found.shipping_fee if found.shipping_paid_by == "customer" else Decimal(0)
    payer = f"the customer pays {fee} {order.currency}: please collect it" if fee else "the shop pays it"
    _note(
        session,
        shop,
        order,
        key,
        f"The customer asked on their backorder page to ship the items in stock now; extra shipment: {payer}.",
        now,
    )
    skus = {li.sku for li in order.lines}
    session.flush()
    evaluate(session, shop, skus, now, orders={order.id})
    return {"ready": _parts(found.ready), "paid_by": found.shipping_paid_by, "fee": str(fee)}


def _cancel_waiting(
    session: Session, shop: ShopRow, order: OrderRow, found: Options, key: str, now: datetime
) -> dict[str, Any]:
    done = refund_waiting_lines(
        session,
        shop,
        order,
        [(p.line_id, p.quantity) for p in found.waiting],
        key,
        now,
        reason="Backordered items cancelled and refunded at the customer's request",
        note="The customer cancelled the waiting items on their backorder page: {amount} {currency} refunded.",
    )
    if done is None:  # options() saw them waiting in this very transaction
        raise RuntimeError("the waiting lines vanished while they were being cancelled")
    amount, refunded = done
    return {
        "refunded": [{k: r[k] for k in ("line_id", "title", "quantity", "amount")} for r in refunded],
        "amount": str(amount.quantize(CENT)),
    }


def _keep_waiting(
    session: Session, shop: ShopRow, order: OrderRow, found: Options, key: str, now: datetime
) -> dict[str, Any]:
    _note(session, shop, order, key, "The customer chose on their backorder page to keep waiting.", now)
    return {"waiting": _parts(found.waiting)}


_APPLY = {"ship_ready": _ship_ready, "cancel_waiting": _cancel_waiting, "keep_waiting": _keep_waiting}
