"""The life of a backordered order: the applier of the backorder decision.

`decide` loads a frozen picture of one order (its lines, its waiting and newly released backorders,
what we last did to it, its payment, the shop's settings), asks the pure decision
(`connector.domain.backorder_decision.decide`, where the rules are) what follows, enqueues the actions in
the outbox and stores the new ``bo_*`` flags. Runs inside the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.orm import Session

from connector.backorders import balance
from connector.backorders.order_actions import (
    OrderActions,
    flag_values,
    line_values,
    order_values,
    payment_values,
    settings_values,
    shop_values,
)
from connector.dispatch.outbox import existing_keys
from connector.domain import backorder_decision as decision
from connector.domain.model import ActionKind, BackorderState
from connector.shops.shop_settings import ShopSettings
from connector.storage.chunks import chunks
from connector.storage.one_of import one_of
from connector.storage.tables import ActionRow, BackorderRow, OrderRow, ShopRow


def decide(session: Session, shop: ShopRow, order: OrderRow, settings: ShopSettings, now: datetime) -> int:
    """Bring the store and the customer up to date with the order; returns how many actions were new."""
    picture = load_picture(session, shop, order, settings, now)
    return apply(session, shop, order, decision.decide(picture), now)


def decide_all(
    session: Session, shop: ShopRow, orders: list[OrderRow], settings: ShopSettings, now: datetime
) -> list[int]:
    """`decide` for each of `orders` (an evaluation's), their backorders and the keys of their actions
    read in one query each instead of one per order; returns how many actions each got anew.

    Deciding one order changes no other order's backorders, so reading them all first is the same."""
    ids = [order.id for order in orders]
    backorders: dict[int, list[BackorderRow]] = {order_id: [] for order_id in ids}
    for chunk in chunks(ids):
        for row in session.scalars(_open_backorders(one_of(BackorderRow.order_id, chunk))):
            backorders[row.order_id].append(row)
    results = [decision.decide(_picture(shop, order, settings, now, backorders[order.id])) for order in orders]
    taken = existing_keys(
        session,
        (OrderActions.full_key(shop, order, action.key) for order, result in zip(orders, results, strict=True)
         for action in result.actions),
    )
    return [apply(session, shop, order, result, now, taken) for order, result in zip(orders, results, strict=True)]


def _open_backorders(which: Any) -> Select[tuple[BackorderRow]]:
    """The waiting and the not yet announced released backorders `which` selects, by line."""
    return (
        select(BackorderRow)
        .where(
            which,
            or_(
                BackorderRow.state == BackorderState.WAITING,
                and_(BackorderRow.state == BackorderState.RELEASED, BackorderRow.announced.is_(False)),
            ),
        )
        .order_by(BackorderRow.line_id)
    )


def load_picture(
    session: Session, shop: ShopRow, order: OrderRow, settings: ShopSettings, now: datetime
) -> decision.OrderPicture:
    """The order as the decision sees it: one query for its waiting and not yet announced backorders."""
    rows = list(session.scalars(_open_backorders(BackorderRow.order_id == order.id)))
    return _picture(shop, order, settings, now, rows)


def _picture(
    shop: ShopRow, order: OrderRow, settings: ShopSettings, now: datetime, rows: list[BackorderRow]
) -> decision.OrderPicture:
    waiting: list[decision.Waiting] = []
    released: list[decision.Released] = []
    for row in rows:
        if row.state == BackorderState.WAITING:
            waiting.append(decision.Waiting(row.line_id, row.quantity, row.promised_on))
        else:
            released.append(decision.Released(row.id, row.line_id, row.sku, row.peak_quantity))
    return decision.OrderPicture(
        shop=shop_values(shop),
        settings=settings_values(settings),
        order=order_values(order),
        lines=line_values(order),
        waiting=tuple(waiting),
        released=tuple(released),
        flags=flag_values(order),
        payment=payment_values(order),
        now=now,
    )


def apply(
    session: Session,
    shop: ShopRow,
    order: OrderRow,
    result: decision.Decision,
    now: datetime,
    known_keys: set[str] | None = None,
) -> int:
    """Enqueue the decided actions and store the new flags; returns how many actions were new.

    `known_keys`: the taken keys among the decided actions' (see `outbox.enqueue`), when read before."""
    if result.cancel_pending:
        session.execute(
            update(ActionRow)
            .where(ActionRow.order_id == order.id, ActionRow.status == "pending")
            .values(status="cancelled", last_error="the order was cancelled")
        )
    acts = OrderActions(session, shop, order, now, known_keys)
    for action in result.actions:
        if acts.put(action) and action.kind == ActionKind.COLLECT_BALANCE:
            balance.charge_started(session, shop, order, result.flags.generation, now)  # followed from here
    flags = result.flags
    if order.deferred_payment and order.bo_held and not flags.held and not result.cancel_pending:
        balance.store_collects(session, shop, order, flags.generation, now)  # released: follow who charges it
    if flags != flag_values(order):
        order.bo_generation, order.bo_tagged, order.bo_held = flags.generation, flags.tagged, flags.held
        order.bo_promised_on, order.bo_hold_signature = flags.promised_on, flags.hold_signature
        order.bo_promise_version = flags.promise_version
    for backorder_id in sorted(result.announced):
        row = session.get(BackorderRow, backorder_id)
        if row is not None:
            row.announced = True
    return acts.added
