"""Promises and authorizations that run out: what the scheduler does when time passes.

- A promise passed (plus the shop's grace period) while lines still wait: email the customer a
  delay acknowledgment with a one-click refund offer (a signed, expiring link), and note it on
  the order for the merchant. One offer per order and promised date.
- A payment authorization nears its expiry while lines wait: warn the merchant ahead of time,
  then follow the shop's policy before it lapses: capture what is outstanding, or email the
  customer a payment request. A charge never lapses silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.evaluation import shop_today
from connector.mail.links import RefundOffer, make_refund_token
from connector.model import BackorderState, PaymentStatus
from connector.order_actions import OrderActions, email_payload, outstanding
from connector.outbox import Kind
from connector.shop_settings import ShopSettings
from connector.storage.tables import BackorderRow, OrderLineRow, OrderRow, RefundOfferRow, ShopRow

ACT_BEFORE_EXPIRY = timedelta(hours=6)  # the policy acts this long before the authorization lapses


@dataclass
class TimerResult:
    offers: int = 0
    warnings: int = 0
    policy_actions: int = 0


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
        if order.payment_status in (PaymentStatus.AUTHORIZED, PaymentStatus.PARTIALLY_PAID) and order.authorized_at:
            warned, acted = _authorization(session, shop, order, settings, now)
            result.warnings += warned
            result.policy_actions += acted
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
    assert order.authorized_at is not None  # nosec B101  # narrows the type; an invariant, not a check of input
    expires = order.authorized_at + timedelta(days=settings.authorization_validity_days)
    amount = outstanding(order)
    if amount <= 0 or now >= expires:
        return 0, 0
    stamp = order.authorized_at.isoformat()
    acts = OrderActions(session, shop, order, now)
    warned = acted = 0
    planned = "capture" if settings.auth_expiry_policy == "capture_now" else "payment_request"
    waiting = _waiting(session, order)
    mail_lines = [
        {"line_id": li.external_id, "sku": li.sku, "title": li.title, "quantity": b.quantity} for b, li in waiting
    ] or [{"line_id": li.external_id, "sku": li.sku, "title": li.title, "quantity": li.quantity} for li in order.lines]
    if now >= expires - timedelta(hours=settings.auth_warning_hours) and settings.merchant_email:
        payload = email_payload(
            "authorization_expiring",
            shop,
            order,
            settings,
            mail_lines,
            amount=str(amount.quantize(Decimal("0.01"))),
            expires_at=expires.isoformat(),
            planned_action=planned,
            customer_name=order.customer_name,
        )
        payload.update(to=settings.merchant_email, locale=shop.locale or "en")
        before = acts.added
        acts.add(Kind.EMAIL, f"auth:{stamp}:warning", payload)
        warned = acts.added - before
    if now >= expires - ACT_BEFORE_EXPIRY:
        before = acts.added
        if planned == "capture":
            acts.capture(amount, f"auth:{stamp}:capture")
        elif order.customer_email:
            acts.add(
                Kind.EMAIL,
                f"auth:{stamp}:payment_request",
                email_payload(
                    "payment_request",
                    shop,
                    order,
                    settings,
                    mail_lines,
                    amount=str(amount.quantize(Decimal("0.01"))),
                    payment_url=settings.payment_url or f"https://{shop.domain}/account",
                    pay_by=None,
                ),
            )
        acts.add(
            Kind.NOTE,
            f"auth:{stamp}:note",
            {
                "text": f"The payment authorization expires {expires.isoformat()}; "
                + (
                    "the outstanding amount was captured."
                    if planned == "capture"
                    else "the customer was asked to pay again."
                ),
                "customer_visible": False,
            },
        )
        acted = acts.added - before
    return warned, acted
