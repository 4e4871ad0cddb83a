"""The customer's answer to a refund offer: take the refund for the waiting lines, or keep waiting.

Taking it refunds (or, for an authorization not yet captured, cancels) the waiting quantity
through the store, confirms by email, and re-evaluates: what else was held with the order can
ship now. An answer given twice changes nothing; lines whose stock arrived meanwhile ship
instead of being refunded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.backorders.order_actions import OrderActions, email_payload
from connector.backorders.storefront_publication import evaluate_and_publish as evaluate
from connector.dispatch.outbox import Kind
from connector.domain.model import BackorderState
from connector.shops.directory import lock_shop
from connector.shops.shop_settings import ShopSettings
from connector.storage.tables import BackorderRow, OrderLineRow, OrderRow, RefundOfferRow, ShopRow


def N_(message: str) -> str:  # noqa: N802 (the gettext marker pybabel extracts; the offer page translates)
    return message


class OfferError(ValueError):
    """The offer cannot be answered (unknown, expired, or already answered differently)."""


@dataclass
class OfferOutcome:
    status: str  # accepted | declined | shipping (nothing was waiting any more)
    amount: Decimal = Decimal(0)
    lines: list[dict] = field(default_factory=list)


def load_offer(session: Session, shop_domain: str, order_external_id: str, offer_id: int) -> RefundOfferRow:
    offer = session.get(RefundOfferRow, offer_id)
    if offer is None:
        raise OfferError(N_("this refund offer does not exist"))
    order = session.get(OrderRow, offer.order_id)
    shop = session.get(ShopRow, offer.shop_id)
    if order is None or shop is None or shop.domain != shop_domain or order.external_id != order_external_id:
        raise OfferError(N_("this refund offer does not exist"))
    return offer


def answer_offer(session: Session, offer: RefundOfferRow, choice: str, now: datetime) -> OfferOutcome:
    if choice not in ("refund", "keep"):
        raise OfferError(N_("choose to take the refund or to keep the order"))
    # The customer's page may cancel the same lines at the same moment (another key): the shop's lock
    # puts one after the other, and the second finds the lines no longer waiting.
    lock_shop(session, offer.shop_id)
    session.refresh(offer)
    if offer.status == "accepted":
        return OfferOutcome("accepted", offer.amount, list(offer.lines))
    if offer.status == "declined" and choice == "keep":
        return OfferOutcome("declined")
    if offer.status not in ("offered", "declined"):
        raise OfferError(N_("this refund offer is no longer open"))
    if now >= offer.expires_at:
        raise OfferError(N_("this refund offer has expired"))
    order = session.get(OrderRow, offer.order_id)
    shop = session.get(ShopRow, offer.shop_id)
    assert order is not None and shop is not None  # nosec B101  # narrows the type; an invariant, not a check of input
    if order.cancelled:
        raise OfferError(N_("this order was cancelled"))
    if choice == "keep":
        offer.status, offer.decided_at = "declined", now
        return OfferOutcome("declined")
    return _refund(session, shop, order, offer, now)


def _refund(session: Session, shop: ShopRow, order: OrderRow, offer: RefundOfferRow, now: datetime) -> OfferOutcome:
    wanted = [(str(x["line_id"]), int(x["quantity"])) for x in offer.lines]
    done = refund_waiting_lines(
        session,
        shop,
        order,
        wanted,
        f"offer:{offer.id}",
        now,
        reason="Backordered items refunded at the customer's request after a delay",
        note="The customer took the refund offer: {amount} {currency} for the delayed items.",
    )
    offer.status, offer.decided_at = "accepted", now
    if done is None:
        offer.status = "void"
        return OfferOutcome("shipping")
    amount, refunded = done
    offer.amount, offer.lines = amount, [{k: r[k] for k in ("line_id", "quantity", "amount")} for r in refunded]
    return OfferOutcome("accepted", amount, refunded)


def refund_waiting_lines(
    session: Session,
    shop: ShopRow,
    order: OrderRow,
    wanted: list[tuple[str, int]],
    key: str,
    now: datetime,
    *,
    reason: str,
    note: str,
) -> tuple[Decimal, list[dict]] | None:
    """Cancel and refund the waiting part of `wanted` (line external id, quantity) through the store.

    The one path for every refund a customer asks for (the refund offer, the customer's page): lines
    whose stock arrived meanwhile are skipped (they ship); the store's refund, the merchant's note and
    the confirmation email are outbox actions under `key`; the order is decided again (what was held
    with it ships). None when nothing was waiting any more (nothing changes)."""
    settings = ShopSettings.from_mapping(shop.settings)
    lines_by_ext = {li.external_id: li for li in order.lines}
    refunded: list[dict] = []
    amount = Decimal(0)
    skus: set[str] = set()
    for line_id, quantity in wanted:
        line: OrderLineRow | None = lines_by_ext.get(line_id)
        if line is None:
            continue
        backorder = session.scalar(select(BackorderRow).where(BackorderRow.line_id == line.id))
        if backorder is None or backorder.state != BackorderState.WAITING:
            continue  # its stock arrived meanwhile: it ships instead
        qty = min(quantity, backorder.quantity)
        if qty <= 0:
            continue
        line_amount = (line.unit_price or Decimal(0)) * qty
        line.quantity -= qty  # our view until the store's webhook confirms
        backorder.state, backorder.quantity, backorder.updated_at = BackorderState.REFUNDED, 0, now
        amount += line_amount
        skus.add(line.sku)
        refunded.append(
            {
                "line_id": line.external_id,
                "sku": line.sku,
                "title": line.title,
                "quantity": qty,
                "amount": str(line_amount),
            }
        )
    if not refunded:
        return None
    money = money_back(order, settings, amount)  # before refunded_amount counts the cancelled value
    order.refunded_amount = (order.refunded_amount or Decimal(0)) + amount
    _enqueue_refund(session, shop, order, settings, refunded, (amount, money), key, now, reason, note)
    session.flush()
    evaluate(session, shop, skus, now, orders={order.id})
    return amount, refunded


def _enqueue_refund(
    session: Session,
    shop: ShopRow,
    order: OrderRow,
    settings: ShopSettings,
    refunded: list[dict],
    value_and_money: tuple[Decimal, Decimal],
    key: str,
    now: datetime,
    reason: str,
    note: str,
) -> None:
    """`value_and_money`: the cancelled lines' value (what the customer no longer pays for, as the emails
    say), and the money paid back for them (see `money_back`)."""
    amount, paid_back = value_and_money
    acts = OrderActions(session, shop, order, now)
    total = str(amount.quantize(Decimal("0.01")))
    money = str(paid_back.quantize(Decimal("0.01")))
    acts.add(
        Kind.REFUND,
        f"{key}:refund",
        {
            "lines": [{"line_id": r["line_id"], "quantity": r["quantity"]} for r in refunded],
            "amount": money,  # the lines' value is off the order; only money really taken for them goes back
            "currency": order.currency,
            "reason": reason,
        },
    )
    acts.add(
        Kind.NOTE,
        f"{key}:note",
        {"text": note.format(amount=f"{amount:.2f}", currency=order.currency), "customer_visible": False},
    )
    if order.customer_email:
        acts.add(
            Kind.EMAIL,
            f"{key}:confirmation",
            email_payload("refund_confirmation", shop, order, settings, refunded, refund_amount=total),
        )


def money_back(order: OrderRow, settings: ShopSettings, value: Decimal) -> Decimal:
    """Of the cancelled lines' `value`, the money really taken for them: what was charged beyond what the
    order still owes for what it keeps. A paid order was charged in full; an authorized one only what
    was captured (its final capture leaves the cancelled lines out); a deferred-payment order its
    deposit. So a customer who cancels the waiting items never gets back money paid for items that ship.
    Call it once the lines' quantities no longer count the cancelled units, before `refunded_amount`
    counts their value."""
    total = order.total_price if order.total_price is not None else value + sum(
        ((li.unit_price or Decimal(0)) * li.quantity for li in order.lines), Decimal(0)
    )
    captured = order.captured_amount or Decimal(0)
    if order.deferred_payment:
        charged = captured + total * Decimal(settings.deposit_percent) / 100
    elif order.payment_status == "paid":
        charged = total
    else:
        charged = captured
    kept = total - (order.refunded_amount or Decimal(0)) - value
    return min(value, max(Decimal(0), charged - kept))
