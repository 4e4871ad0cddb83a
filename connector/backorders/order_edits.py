"""Edited orders: what was decided for a line the merchant removed must not go out.

A store lets the merchant edit an order after it was placed: add a line, remove one, change a
quantity (Shopify keeps a removed line with `current_quantity` 0; WooCommerce drops it from
`line_items`). The order is decided on again at once (see `apply.Applied.edited`); before that, the
actions still pending for the lines that are gone are superseded here:

- a pending hold naming a removed line is cancelled (the decision enqueues the hold of the lines
  that still wait, or the release); a pending start of the wait (tag, hold, date) loses the line
  from its hold;
- a pending email loses the removed lines; one left with no line is cancelled;
- a line cut to nothing stops waiting as *cancelled*, not released: it never ships, so no
  "on its way" email may name it.

Once the edited order waits for nothing, `after_decision` supersedes what its wait still had
pending (tag, hold, date, emails); when none of it reached the store or the customer, the release
and the "on its way" email are dropped too, so the edit leaves no trace.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.dispatch.outbox import Kind
from connector.domain.model import BackorderState
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
    for action in _pending(session, order, (str(Kind.HOLD), str(Kind.START_BACKORDER), str(Kind.EMAIL))):
        payload = dict(action.payload or {})
        named = _line_ids(payload.get("lines")) | _line_ids(payload.get("still_waiting"))
        if not named & gone:
            continue
        changed += 1
        kept = [e for e in payload.get("lines") or () if str(e.get("line_id")) not in gone]
        # The start of the wait keeps its tag and date and holds only what is left; the decision
        # taken next holds what still waits.
        if action.kind == Kind.HOLD or (action.kind == Kind.EMAIL and not kept):
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
    """Once an edited order waits for nothing any more, what was decided for its wait and has not gone
    out yet is superseded: the tag, hold, date and emails of the wait. When nothing of that wait ever
    reached the store, its release and untagging are dropped too (the store sees nothing at all); when
    the customer never heard of the wait, no "on its way" email tells them it is over."""
    for order in orders:
        if order.id is None or order.bo_held or order.cancelled:
            continue
        marker = f":order:{order.external_id}:g{order.bo_generation}:"
        wait = [
            a
            for a in session.scalars(select(ActionRow).where(ActionRow.order_id == order.id))
            if marker in a.idempotency_key and _of_the_wait(a)
        ]
        reached_store = any(a.status not in ("pending", "cancelled") for a in wait if a.kind != Kind.EMAIL)
        told = any(a.status not in ("pending", "cancelled") for a in wait if a.kind == Kind.EMAIL)
        for action in wait:
            if action.status != "pending":
                continue
            ends_wait = action.kind in (Kind.RELEASE, Kind.REMOVE_TAGS) or (
                action.kind == Kind.EMAIL and (action.payload or {}).get("template") == "on_its_way"
            )
            if not ends_wait:
                action.status, action.last_error = "cancelled", f"{SUPERSEDED}: nothing waits any more"
            elif action.kind == Kind.EMAIL and not told:
                action.status, action.last_error = "cancelled", f"{SUPERSEDED}: the customer never heard of a wait"
            elif action.kind != Kind.EMAIL and not reached_store:
                action.status, action.last_error = "cancelled", f"{SUPERSEDED}: the store never saw the wait"


# Money and what follows it stand whatever the wait became: a capture, the balance of a deferred
# payment, a refund, and the emails about payments and refunds.
_NOT_OF_THE_WAIT = (Kind.CAPTURE, Kind.COLLECT_BALANCE, Kind.REFUND)
_MONEY_EMAILS = ("payment_request", "refund_confirmation", "delay_refund_offer")


def _of_the_wait(action: ActionRow) -> bool:
    if ":balance:" in action.idempotency_key:  # collecting a deferred balance: its charge, note and email
        return False
    if action.kind == Kind.EMAIL:
        return (action.payload or {}).get("template") not in _MONEY_EMAILS
    return action.kind not in _NOT_OF_THE_WAIT
