"""Collecting the balance of deferred-payment orders ("pay when it ships", issue 10).

When the waiting lines of such an order are released and the shop's policy is to charge when the
stock arrives, the decision (`backorder_decision._release`) enqueues a `collect_balance` action; the
store charges the customer's saved payment method, once per key (order, backorder generation,
attempt). This module follows each collection to its end, one row per order and generation:

- the action succeeded, or the store reports the order paid: **paid** (under the default policy the
  goods waited for this: the order is decided on again when the store's payment webhook arrives);
- it failed (declined, card expired, authentication required, no saved method): the reason is
  recorded for the merchant's dashboard, the customer gets **one** email with the order's payment
  link in their language, a private note goes on the order, and the next attempt is scheduled from
  the shop's `balance_retry_hours`; after the last one the row stays **gave_up** on the dashboard:
  nothing is retried forever and nothing fails silently.

Where Shopify charges the balance itself on fulfilment, a released order's row is **by_store** and
turns **paid** when the store reports the payment (`orders/paid`, `orders/updated`, reconciliation).

Runs with the timers (`run_balances`), inside the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.base import payment_failure
from connector.backorders.order_actions import OrderActions, email_payload
from connector.dispatch.outbox import Kind
from connector.domain.backorder_decision import CENT, balance_key
from connector.domain.model import PaymentStatus
from connector.shops.shop_settings import ShopSettings
from connector.storage.tables import ActionRow, BalanceCollectionRow, OrderLineRow, OrderRow, ShopRow

OPEN_STATES = ("charging", "retry_due", "by_store")
SETTLED = (PaymentStatus.PAID, PaymentStatus.REFUNDED, PaymentStatus.VOIDED)
REASON_TEXT = {
    "declined": "the card was declined",
    "card_expired": "the card has expired",
    "authentication_required": "the bank asks the customer to authenticate the payment",
    "no_payment_method": "the customer has no saved payment method for this order",
    "failed": "the payment failed",
}


@dataclass
class BalanceResult:
    paid: int = 0
    failed: int = 0
    retried: int = 0
    gave_up: int = 0


def charge_started(session: Session, shop: ShopRow, order: OrderRow, generation: int, now: datetime) -> None:
    """The decision enqueued the first charge of this generation's balance: start following it."""
    exists = session.scalar(select(BalanceCollectionRow.id).where(
        BalanceCollectionRow.order_id == order.id, BalanceCollectionRow.generation == generation))
    if exists is None:
        session.add(BalanceCollectionRow(shop_id=shop.id, order_id=order.id, generation=generation,
                                         state="charging", attempts=1, customer_emailed=False,
                                         created_at=now, updated_at=now))


def store_collects(session: Session, shop: ShopRow, order: OrderRow, generation: int, now: datetime) -> None:
    """A deferred-payment order was released without a charge of ours (Shopify charges on fulfilment):
    record that the store collects it, and mark it paid when the store reports the payment."""
    exists = session.scalar(select(BalanceCollectionRow.id).where(
        BalanceCollectionRow.order_id == order.id, BalanceCollectionRow.generation == generation))
    if exists is None and order.payment_status not in SETTLED:
        session.add(BalanceCollectionRow(shop_id=shop.id, order_id=order.id, generation=generation,
                                         state="by_store", attempts=0, customer_emailed=False,
                                         created_at=now, updated_at=now))


def action_key(shop: ShopRow, order: OrderRow, generation: int, attempt: int) -> str:
    """The outbox key of one attempt (as `OrderActions` namespaces it)."""
    return f"{shop.platform}:{shop.domain}:order:{order.external_id}:{balance_key(generation, attempt)}"


def run_balances(session: Session, shop: ShopRow, now: datetime) -> BalanceResult:
    settings = ShopSettings.from_mapping(shop.settings)
    result = BalanceResult()
    rows = session.scalars(select(BalanceCollectionRow).where(
        BalanceCollectionRow.shop_id == shop.id, BalanceCollectionRow.state.in_(OPEN_STATES),
    ).order_by(BalanceCollectionRow.id)).all()
    for row in rows:
        order = session.get(OrderRow, row.order_id)
        if order is None or order.cancelled:
            _set(row, "cancelled", now)
        elif order.payment_status in SETTLED:
            _paid(row, now, result)
        elif row.state == "by_store":
            continue  # the store charges it on fulfilment; paid once it says so
        elif row.state == "charging":
            _follow(session, shop, order, row, settings, now, result)
        elif row.next_attempt_at is not None and row.next_attempt_at <= now:
            row.attempts += 1
            OrderActions(session, shop, order, now).add(
                Kind.COLLECT_BALANCE, balance_key(row.generation, row.attempts), {"currency": order.currency})
            _set(row, "charging", now)
            row.next_attempt_at = None
            result.retried += 1
    return result


def _set(row: BalanceCollectionRow, state: str, now: datetime) -> None:
    row.state, row.updated_at = state, now


def _paid(row: BalanceCollectionRow, now: datetime, result: BalanceResult) -> None:
    _set(row, "paid", now)
    row.paid_at, row.next_attempt_at = now, None
    result.paid += 1


def _follow(session: Session, shop: ShopRow, order: OrderRow, row: BalanceCollectionRow, settings: ShopSettings,
            now: datetime, result: BalanceResult) -> None:
    action = session.scalar(select(ActionRow).where(
        ActionRow.idempotency_key == action_key(shop, order, row.generation, row.attempts)))
    if action is None or action.status == "cancelled":
        _set(row, "cancelled", now)
    elif action.status == "done":
        _paid(row, now, result)  # the store took it; its payment webhook follows
    elif action.status in ("failed", "dead"):
        _failed(session, shop, order, row, settings, action.last_error, now, result)


def _failed(session: Session, shop: ShopRow, order: OrderRow, row: BalanceCollectionRow, settings: ShopSettings,
            error: str | None, now: datetime, result: BalanceResult) -> None:
    parsed = payment_failure(error)
    acts = OrderActions(session, shop, order, now)
    if parsed is None:
        # Not the customer's card failing: the store refused or did not finish the call (permissions
        # missing, no saved payment method offered, a payment still processing after every check).
        # The customer is told nothing and no new attempt is made (a new key could charge twice while
        # the first payment completes); the merchant sees why on the dashboard and on the order.
        row.last_reason = f"not charged, and not because of the customer's card: {error or 'unknown error'}"[:2000]
        row.next_attempt_at = None
        _set(row, "gave_up", now)
        result.gave_up += 1
        acts.add(Kind.NOTE, f"{balance_key(row.generation, row.attempts)}:note", {
            "text": f"Balance not charged (attempt {row.attempts}): {row.last_reason}. Check the app's "
                    "permissions and the order's payments, then collect it or cancel the order.",
            "customer_visible": False})
        return
    reason, amount, _currency, message = parsed
    row.last_reason = f"{REASON_TEXT.get(reason, reason)}: {message}"[:2000]
    hours = settings.balance_retry_hours
    if row.attempts <= len(hours):
        row.next_attempt_at = now + timedelta(hours=hours[row.attempts - 1])
        _set(row, "retry_due", now)
        after = f"next attempt {row.next_attempt_at.isoformat(timespec='minutes')}"
        result.failed += 1
    else:
        row.next_attempt_at = None
        _set(row, "gave_up", now)
        after = "no attempt left: collect it from the customer or cancel the order"
        result.gave_up += 1
    acts.add(Kind.NOTE, f"{balance_key(row.generation, row.attempts)}:note", {
        "text": f"Balance not charged (attempt {row.attempts}): {row.last_reason}; {after}.",
        "customer_visible": False})
    if not row.customer_emailed and settings.notify_customers and order.customer_email:
        acts.add(Kind.EMAIL, f"g{row.generation}:balance:payment_request",
                 _request_email(session, shop, order, settings, amount, reason))
        row.customer_emailed = True


def _request_email(session: Session, shop: ShopRow, order: OrderRow, settings: ShopSettings,
                   amount: Decimal | None, reason: str) -> dict:
    lines = session.scalars(select(OrderLineRow).where(OrderLineRow.order_id == order.id).order_by(OrderLineRow.id))
    mail_lines = [{"line_id": li.external_id, "sku": li.sku, "title": li.title, "quantity": li.quantity}
                  for li in lines if li.requires_shipping]
    owed = amount if amount is not None and amount > 0 else (order.total_price or Decimal(0))
    payment_url = order.payment_url or settings.payment_url or f"https://{shop.domain}/account"
    return email_payload("payment_request", shop, order, settings, mail_lines,
                         amount=str(owed.quantize(CENT)), payment_url=payment_url, pay_by=None,
                         situation="balance_failed", reason=reason,
                         goods_wait=settings.unpaid_balance_shipping == "wait")
