"""Edited orders: what was decided for a line the merchant removed must not go out.

A store lets the merchant edit an order after it was placed: add a line, remove one, change a
quantity (Shopify keeps a removed line with `current_quantity` 0; WooCommerce drops it from
`line_items`). The order is decided on again at once (see `apply.Applied.edited`); before that, the
actions still pending for the lines that are gone are superseded here:

- a pending hold naming a removed line is cancelled (the decision enqueues the hold of the lines
  that still wait, or the release);
- a pending email loses the removed lines; one left with no line is cancelled;
- a line cut to nothing stops waiting as *cancelled*, not released: it never ships, so no
  "on its way" email may name it.

After the decision, `after_decision` keeps a customer who was never told of a backorder (its
confirmation was superseded before it went out) from getting an "on its way" email about it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.model import BackorderState
from connector.outbox import Kind
from connector.storage.tables import ActionRow, BackorderRow, OrderRow

SUPERSEDED = "superseded: the order was edited"


def _pending(session: Session, order: OrderRow, kinds: Collection[str]) -> list[ActionRow]:
    if order.id is None:
        return []
    return list(
        session.scalars(
            select(ActionRow).where(
                ActionRow.order_id == order.id, ActionRow.status == "pending", ActionRow.kind.in_(list(kinds))
            )
        )
    )


def _line_ids(entries: Any) -> set[str]:
    return {str(e.get("line_id")) for e in entries or () if isinstance(e, dict)}


def supersede_removed_lines(session: Session, order: OrderRow, removed: Iterable[str]) -> int:
    """Cancel or trim the pending actions that name lines (external ids) no longer on the order."""
    gone = set(removed)
    if not gone:
        return 0
    changed = 0
    for action in _pending(session, order, (str(Kind.HOLD), str(Kind.EMAIL))):
        payload = dict(action.payload or {})
        named = _line_ids(payload.get("lines")) | _line_ids(payload.get("still_waiting"))
        if not named & gone:
            continue
        changed += 1
        kept = [e for e in payload.get("lines") or () if str(e.get("line_id")) not in gone]
        if action.kind == Kind.HOLD or not kept:
            lines = ", ".join(sorted(named & gone))
            action.status, action.last_error = "cancelled", f"{SUPERSEDED}: line {lines} removed"
            continue
        payload["lines"] = kept
        if "still_waiting" in payload:
            payload["still_waiting"] = [
                e for e in payload["still_waiting"] or () if str(e.get("line_id")) not in gone
            ]
        action.payload = payload  # a new dict: the JSON column notices the change
    return changed


def cancel_backorders(session: Session, line_ids: Iterable[int], now: datetime) -> None:
    """Lines cut to nothing stop waiting for good (they are not shipped, so never announced)."""
    ids = [i for i in line_ids if i is not None]
    if not ids:
        return
    for row in session.scalars(
        select(BackorderRow).where(BackorderRow.line_id.in_(ids), BackorderRow.state == BackorderState.WAITING)
    ):
        row.state = BackorderState.CANCELLED
        row.quantity = 0
        row.released_at = row.updated_at = now
        row.announced = True


def after_decision(session: Session, orders: Iterable[OrderRow]) -> None:
    """No "on its way" email for a backorder the customer never heard of (its confirmation was superseded)."""
    for order in orders:
        if order.id is None:
            continue
        prefix = f":order:{order.external_id}:g{order.bo_generation}:email:"
        emails = list(
            session.scalars(
                select(ActionRow).where(ActionRow.order_id == order.id, ActionRow.kind == str(Kind.EMAIL))
            )
        )
        of_generation = [a for a in emails if prefix in a.idempotency_key]
        confirmation_dropped = any(
            a.idempotency_key.endswith(prefix + "confirmation")
            and a.status == "cancelled"
            and (a.last_error or "").startswith(SUPERSEDED)
            for a in of_generation
        )
        told = any(a.status in ("done", "running") for a in of_generation)
        if not confirmation_dropped or told:
            continue
        for action in of_generation:
            if action.status == "pending" and action.payload.get("template") == "on_its_way":
                action.status, action.last_error = "cancelled", f"{SUPERSEDED}: the customer was never told of a wait"
