"""Promises and authorizations that run out: what the scheduler does when time passes.

- A promise passed (plus the shop's grace period) while lines still wait: email the customer a
  delay acknowledgment with a one-click refund offer (a signed, expiring link), and note it on
  the order for the merchant. One offer per order and promised date.
- A payment authorization nears its expiry while lines wait: warn the merchant ahead of time,
  then follow the shop's policy before it lapses: capture what is outstanding, or email the
  customer a payment request. A charge never lapses silently. (The rule is the pure
  `backorder_decision.authorization_due`; this applies it.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.backorders.balance import run_balances
from connector.backorders.lifecycle import load_picture
from connector.backorders.order_actions import OrderActions, email_payload
from connector.dispatch.outbox import Kind
from connector.domain.authorization_decision import authorization_due
from connector.domain.model import BackorderState, PaymentStatus
from connector.mail.links import RefundOffer, make_refund_token
from connector.shops.shop_days import shop_today
from connector.shops.shop_settings import ShopSettings
from connector.storage.tables import BackorderRow, OrderLineRow, OrderRow, RefundOfferRow, ShopRow


@dataclass
class TimerResult:
    offers: int = 0
    warnings: int = 0
    policy_actions: int = 0
    balances: int = 0  # deferred-payment balances that moved on (paid, failed, retried, gave up)


def run_timers(session: Session, shop: ShopRow, now: datetime, secret: str, app_url: str) -> TimerResult:
    settings = ShopSettings.from_mapping(shop.settings)
    result = TimerResult()
    today = shop_today(shop, now)
    waiting_orders = session.scalars(
        select(OrderRow)
        .where(OrderRow.shop_id == shop.id, OrderRow.cancelled.is_(False), OrderRow.bo_held.is_(True))
        .order_by(OrderRow.id)
    ).all()
    for order in waiting_orders:
        promised = order.bo_promised_on
        if promised is not None and promised + timedelta(days=settings.grace_days) < today:
            result.offers += _offer_refund(session, shop, order, settings, now, secret, app_url)
        authorized = order.payment_status in (PaymentStatus.AUTHORIZED, PaymentStatus.PARTIALLY_PAID)
        if authorized and order.authorized_at and not order.deferred_payment:  # deferred: nothing can lapse
            warned, acted = _authorization(session, shop, order, settings, now)
            result.warnings += warned
            result.policy_actions += acted
    moved = run_balances(session, shop, now)
    result.balances = moved.paid + moved.failed + moved.retried + moved.gave_up
    return result


def _waiting(session: Session, order: OrderRow) -> list[tuple[BackorderRow, OrderLineRow]]:
    rows = session.execute(
        select(BackorderRow, OrderLineRow)
        .join(OrderLineRow, OrderLineRow.id == BackorderRow.line_id)
        .where(BackorderRow.order_id == order.id, BackorderRow.state == BackorderState.WAITING)
        .order_by(OrderLineRow.id)
    ).all()
    return [(b, li) for b, li in rows]


def _offer_refund(
    session: Session, shop: ShopRow, order: OrderRow, settings: ShopSettings, now: datetime, secret: str, app_url: str
) -> int:
    promised = order.bo_promised_on
    assert promised is not None  # nosec B101  # narrows the type; an invariant, not a check of input
    exists = session.scalar(
        select(RefundOfferRow.id).where(RefundOfferRow.order_id == order.id, RefundOfferRow.promised_on == promised)
    )
    waiting = _waiting(session, order)
    if exists is not None or not waiting:
        return 0
    lines = [
        {"line_id": li.external_id, "quantity": b.quantity, "amount": str((li.unit_price or Decimal(0)) * b.quantity)}
        for b, li in waiting
    ]
    amount = sum((Decimal(x["amount"]) for x in lines), Decimal(0))
    offer = RefundOfferRow(
        shop_id=shop.id,
        order_id=order.id,
        promised_on=promised,
        lines=lines,
        amount=amount,
        currency=order.currency,
        status="offered",
        offered_at=now,
        expires_at=now + timedelta(days=settings.refund_offer_valid_days),
    )
    session.add(offer)
    session.flush()
    token = make_refund_token(
        secret, RefundOffer(shop.domain, order.external_id, tuple(x["line_id"] for x in lines), str(offer.id)), now=now
    )
    acts = OrderActions(session, shop, order, now)
    mail_lines = [
        {
            "line_id": li.external_id,
            "sku": li.sku,
            "title": li.title,
            "quantity": b.quantity,
            "promised_on": b.promised_on.isoformat() if b.promised_on else None,
        }
        for b, li in waiting
    ]
    acts.add(
        Kind.NOTE,
        f"delay:{promised}:note",
        {
            "text": f"Promised date {promised.isoformat()} passed; the customer was offered a refund of "
            f"{amount:.2f} {order.currency} for the waiting items.",
            "customer_visible": False,
        },
    )
    if settings.notify_customers and order.customer_email:
        acts.add(
            Kind.EMAIL,
            f"delay:{promised}:email",
            email_payload(
                "delay_refund_offer",
                shop,
                order,
                settings,
                mail_lines,
                promised_on=promised.isoformat(),
                refund_amount=str(amount.quantize(Decimal("0.01"))),
                accept_url=f"{app_url}/offers/{token}?choice=refund",
                keep_url=f"{app_url}/offers/{token}?choice=keep",
                offer_expires_at=offer.expires_at.isoformat(),
            ),
        )
    return 1


def _authorization(
    session: Session, shop: ShopRow, order: OrderRow, settings: ShopSettings, now: datetime
) -> tuple[int, int]:
    """Apply `backorder_decision.authorization_due`: (new warnings, new policy actions)."""
    due = authorization_due(load_picture(session, shop, order, settings, now))
    acts = OrderActions(session, shop, order, now)
    for action in due.warning:
        acts.put(action)
    warned = acts.added
    for action in due.policy:
        acts.put(action)
    return warned, acts.added - warned
