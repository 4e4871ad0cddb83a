"""The life of a backordered order: what to do in the store and tell the customer when its picture changes.

`decide` compares the order's waiting lines (the backorders just recorded) with what we last did
to the order (`bo_*` columns) and enqueues the difference as idempotent outbox actions:

- lines start waiting: tag the order, hold fulfillment of the waiting lines (or of the whole order
  when the shop ships retail orders complete), write the promised date, capture what ships now
  (when the shop captures per shipment),
  email the customer the ETA;
- the set of waiting lines changes: move the hold; announce (and, per shipment, capture) what ships now;
- the promised date moves: write it, and email the new date (an apology when later, good news
  when earlier);
- nothing waits any more: release the hold, untag, capture the rest, email "on its way";
- the order is cancelled: drop our state and send nothing further.

Idempotency keys name the order, the backorder *generation* (it grows each time the order starts
waiting anew) and what changed, so the same decision made twice enqueues nothing new.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connector.model import BackorderState, PaymentStatus
from connector.order_actions import OrderActions, email_payload, line_amount, outstanding
from connector.outbox import Kind
from connector.shop_settings import ShopSettings
from connector.storage.tables import ActionRow, BackorderRow, OrderRow, ShopRow

ZERO = Decimal(0)


def _signature(line_ids: list[str]) -> str:
    return hashlib.sha1(",".join(sorted(line_ids)).encode(), usedforsecurity=False).hexdigest()[:12]


def decide(session: Session, shop: ShopRow, order: OrderRow, settings: ShopSettings, now: datetime) -> int:
    acts = OrderActions(session, shop, order, now)
    waiting = list(
        session.scalars(
            select(BackorderRow)
            .where(BackorderRow.order_id == order.id, BackorderRow.state == BackorderState.WAITING)
            .order_by(BackorderRow.line_id)
        )
    )
    lines = {li.id: li for li in order.lines}
    if order.cancelled:
        # Nothing further goes to the store or the customer for a cancelled order.
        session.execute(
            update(ActionRow)
            .where(ActionRow.order_id == order.id, ActionRow.status == "pending")
            .values(status="cancelled", last_error="the order was cancelled")
        )
        order.bo_held = order.bo_tagged = False
        order.bo_promised_on = None
        order.bo_hold_signature = None
        return 0
    can_email = settings.notify_customers and bool(order.customer_email)
    # An authorization partly captured (partially paid) still holds the rest for us to capture.
    capture = settings.charge_policy == "authorize_then_capture" and order.payment_status in (
        PaymentStatus.AUTHORIZED,
        PaymentStatus.PARTIALLY_PAID,
    )
    partial = settings.reseller_partial_shipments if order.is_reseller else settings.retail_partial_shipments
    gen = order.bo_generation

    def line_view(row: BackorderRow) -> dict[str, Any]:
        li = lines[row.line_id]
        return {
            "line_id": li.external_id,
            "sku": li.sku,
            "title": li.title,
            "quantity": row.quantity,
            "promised_on": row.promised_on.isoformat() if row.promised_on else None,
        }

    if waiting:
        promised = max((w.promised_on for w in waiting if w.promised_on), default=None)
        if partial:
            held = [(lines[w.line_id].external_id, w.quantity) for w in waiting]
        else:
            held = [
                (li.external_id, li.quantity - li.fulfilled_quantity)
                for li in order.lines
                if li.requires_shipping and li.quantity > li.fulfilled_quantity
            ]
        sig = _signature([f"{lid}x{q}" for lid, q in held])
        hold_payload = {"lines": [{"line_id": lid, "quantity": q} for lid, q in held], "reason": "awaiting stock"}
        eta_note = f"Backordered items are promised to ship by {promised.isoformat()}." if promised else ""
        if not order.bo_held:
            gen = order.bo_generation = gen + 1
            version = order.bo_promise_version = (order.bo_promise_version or 0) + 1
            acts.add(Kind.ADD_TAGS, f"g{gen}:tag", {"tags": [settings.backorder_tag]})
            acts.add(Kind.HOLD, f"g{gen}:hold:{sig}", hold_payload)
            acts.add(
                Kind.SET_ETA, f"g{gen}:eta:v{version}", {"eta": promised and promised.isoformat(), "note": eta_note}
            )
            if capture and partial and settings.capture_per_shipment:
                shipping_now = sum(
                    (
                        line_amount(li, li.quantity - li.fulfilled_quantity - _waiting_qty(waiting, li.id))
                        for li in order.lines
                        if li.requires_shipping
                    ),
                    ZERO,
                )
                acts.capture(shipping_now, f"g{gen}:capture:start")
            if can_email:
                acts.add(
                    Kind.EMAIL,
                    f"g{gen}:email:confirmation",
                    email_payload(
                        "backorder_confirmation",
                        shop,
                        order,
                        settings,
                        [line_view(w) for w in waiting],
                        promised_on=promised and promised.isoformat(),
                    ),
                )
            order.bo_tagged = order.bo_held = True
            order.bo_promised_on = promised
            order.bo_hold_signature = sig
            return acts.added
        if sig != order.bo_hold_signature:
            released = _released_since(session, order, waiting)
            acts.add(Kind.HOLD, f"g{gen}:hold:{sig}", hold_payload)  # the hold moves to exactly these lines
            if released and partial:
                if capture and settings.capture_per_shipment:
                    amount = sum((line_amount(lines[r.line_id], r.peak_quantity) for r in released), ZERO)
                    acts.capture(amount, f"g{gen}:capture:{sig}")
                if can_email:
                    acts.add(
                        Kind.EMAIL,
                        f"g{gen}:email:shipping:{sig}",
                        email_payload(
                            "on_its_way",
                            shop,
                            order,
                            settings,
                            [
                                {
                                    "line_id": lines[r.line_id].external_id,
                                    "sku": r.sku,
                                    "title": lines[r.line_id].title,
                                    "quantity": r.peak_quantity,
                                }
                                for r in released
                            ],
                            still_waiting=[line_view(w) for w in waiting],
                        ),
                    )
            order.bo_hold_signature = sig
            for r in released:
                r.announced = partial
        if promised != order.bo_promised_on:
            # A date may come back to one it had before (17 -> 7 -> 17 Nov): each change is news.
            previous = order.bo_promised_on
            version = order.bo_promise_version = (order.bo_promise_version or 0) + 1
            acts.add(
                Kind.SET_ETA, f"g{gen}:eta:v{version}", {"eta": promised and promised.isoformat(), "note": eta_note}
            )
            if can_email and promised and previous:
                template = "eta_later" if promised > previous else "eta_earlier"
                acts.add(
                    Kind.EMAIL,
                    f"g{gen}:email:{template}:v{version}",
                    email_payload(
                        template,
                        shop,
                        order,
                        settings,
                        [line_view(w) for w in waiting],
                        promised_on=promised.isoformat(),
                        previous_promised_on=previous.isoformat(),
                    ),
                )
            order.bo_promised_on = promised
        return acts.added

    if order.bo_held:
        released = _released_since(session, order, [])
        acts.add(Kind.RELEASE, f"g{gen}:release:final", {})
        acts.add(Kind.REMOVE_TAGS, f"g{gen}:untag", {"tags": [settings.backorder_tag]})
        if capture:
            acts.capture(outstanding(order), f"g{gen}:capture:final")
        shipping = [
            {
                "line_id": li.external_id,
                "sku": li.sku,
                "title": li.title,
                "quantity": li.quantity - li.fulfilled_quantity,
            }
            for li in order.lines
            if li.requires_shipping and li.quantity > li.fulfilled_quantity
        ]
        if can_email and shipping:
            acts.add(
                Kind.EMAIL,
                f"g{gen}:email:on_its_way",
                email_payload("on_its_way", shop, order, settings, shipping, still_waiting=[]),
            )
        for r in released:
            r.announced = True
        order.bo_held = order.bo_tagged = False
        order.bo_promised_on = None
        order.bo_hold_signature = None
    return acts.added


def _waiting_qty(waiting: list[BackorderRow], line_id: int) -> int:
    return sum(w.quantity for w in waiting if w.line_id == line_id)


def _released_since(session: Session, order: OrderRow, waiting: list[BackorderRow]) -> list[BackorderRow]:
    """Backorders of this order released in the current generation that have not been announced yet."""
    waiting_ids = {w.id for w in waiting}
    rows = session.scalars(
        select(BackorderRow).where(BackorderRow.order_id == order.id, BackorderRow.state == BackorderState.RELEASED)
    )
    return [r for r in rows if r.id not in waiting_ids and not r.announced]
