"""Re-evaluate a shop (or some of its SKUs): load the facts, run the engine, record the backorders,
and let the lifecycle turn what changed into outbox actions. Runs inside the caller's transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session, selectinload

from connector.backorders import dropship_routing as routing
from connector.backorders import lifecycle
from connector.backorders import order_edits as edits
from connector.backorders.sku_queues import (
    Queues,
    counted_by_store,
    latest_reports,
    load_queues,
    open_line_conditions,
)
from connector.domain import engine
from connector.domain.model import BackorderState
from connector.domain.promise_causes import promise_cause
from connector.shops.directory import lock_shop
from connector.shops.shop_days import shop_day, shop_today, shop_zone
from connector.shops.shop_settings import ShopSettings
from connector.storage.chunks import chunks
from connector.storage.one_of import one_of
from connector.storage.tables import (
    BackorderRow,
    OrderLineRow,
    OrderRow,
    PromiseRow,
    PurchaseOrderLineRow,
    PurchaseOrderRow,
    ShopRow,
    StockLevelRow,
    SupplierOfferRow,
    SupplierRow,
    VariantRow,
)


@dataclass
class Evaluation:
    lines: int = 0
    backordered_lines: int = 0
    orders_changed: int = 0
    actions: int = 0
    storefront_changed: int = 0  # variants whose storefront value changed (storefront_publication)


def _all_skus(session: Session, shop_id: int) -> list[str]:
    rows = session.scalars(select(OrderLineRow.sku).where(OrderLineRow.shop_id == shop_id).distinct())
    return list(rows)


def open_purchase_lines(shop_id: int) -> Select[tuple[PurchaseOrderLineRow, PurchaseOrderRow]]:
    """(line, order) of the shop's approved purchase orders not yet received: stock on its way."""
    return (
        select(PurchaseOrderLineRow, PurchaseOrderRow)
        .join(PurchaseOrderRow)
        .where(
            PurchaseOrderRow.shop_id == shop_id,
            PurchaseOrderRow.draft.is_(False),
            PurchaseOrderRow.received_on.is_(None),
        )
    )


def load_supplies(
    session: Session, shop_id: int, skus: list[str], settings: ShopSettings
) -> dict[str, engine.SkuSupply]:
    """Stock (summed over locations), open purchase orders and the lead time of each SKU."""
    available: dict[str, int] = {}
    incoming: dict[str, list[engine.Incoming]] = defaultdict(list)
    override: dict[str, int] = {}
    offer: dict[str, engine.LeadTime] = {}
    default = engine.LeadTime(float(settings.default_lead_time_days), settings.lead_time_spread_days)
    for chunk in chunks(skus):
        for sku, total in session.execute(
            select(StockLevelRow.sku, func.sum(func.coalesce(StockLevelRow.held_available, StockLevelRow.available)))
            .where(StockLevelRow.shop_id == shop_id, one_of(StockLevelRow.sku, chunk))
            .group_by(StockLevelRow.sku)
        ):
            available[sku] = int(total)
        for po_line, po in session.execute(open_purchase_lines(shop_id).where(one_of(PurchaseOrderLineRow.sku, chunk))):
            qty = po_line.quantity - po_line.received_quantity
            if qty > 0:
                incoming[po_line.sku].append(engine.Incoming(po.expected_on, qty, f"po:{po.id}"))
        for sku, days in session.execute(
            select(VariantRow.sku, VariantRow.lead_time_days).where(
                VariantRow.shop_id == shop_id, one_of(VariantRow.sku, chunk), VariantRow.lead_time_days.is_not(None)
            )
        ):
            override[sku] = days
        for off, sup in session.execute(
            select(SupplierOfferRow, SupplierRow)
            .join(SupplierRow, SupplierRow.id == SupplierOfferRow.supplier_id)
            .where(SupplierOfferRow.shop_id == shop_id, one_of(SupplierOfferRow.sku, chunk))
            .order_by(SupplierOfferRow.primary.desc(), SupplierOfferRow.id)
        ):
            if off.sku not in offer:
                mean = off.lead_time_days if off.lead_time_days is not None else sup.lead_time_mean_days
                offer[off.sku] = engine.LeadTime(mean, sup.lead_time_spread_days, f"supplier:{sup.id}")
    supplies: dict[str, engine.SkuSupply] = {}
    for sku in set(available) | set(incoming):
        if sku in override:
            lead = engine.LeadTime(float(override[sku]), settings.lead_time_spread_days, "variant")
        else:
            lead = offer.get(sku, default)
        supplies[sku] = engine.SkuSupply(available.get(sku, 0), lead, tuple(incoming.get(sku, ())))
    return supplies


def load_open_lines(session: Session, shop_id: int, skus: list[str], zone: ZoneInfo) -> list[engine.LineDemand]:
    """The open lines of these SKUs, each marked whether the store's stock figure already counts it
    (`sku_queues.counted_by_store`)."""
    lines: list[engine.LineDemand] = []
    for chunk in chunks(skus):
        reports = latest_reports(shop_id, chunk)
        rows = session.execute(
            select(
                OrderLineRow.id,
                OrderLineRow.order_id,
                OrderLineRow.sku,
                OrderLineRow.quantity - OrderLineRow.fulfilled_quantity,
                OrderRow.placed_at,
                OrderRow.priority,
                case((counted_by_store(reports), 1), else_=0),
                BackorderRow.created_at,
                BackorderRow.state,
            )
            .join(OrderRow, OrderRow.id == OrderLineRow.order_id)
            .outerjoin(reports, reports.c.sku == OrderLineRow.sku)
            .outerjoin(BackorderRow, BackorderRow.line_id == OrderLineRow.id)
            .where(*open_line_conditions(shop_id), one_of(OrderLineRow.sku, chunk))
        )
        for line_id, order_id, sku, open_qty, placed_at, priority, committed, waiting_since, state in rows:
            waits = waiting_since is not None and state == BackorderState.WAITING
            anchor = shop_day(zone, waiting_since) if waits else None
            lines.append(
                engine.LineDemand(line_id, order_id, sku, int(open_qty), placed_at, priority, bool(committed), anchor)
            )
    routes = routing.load_routes(session, shop_id, zone) if lines else {}
    if routes:
        lines = [replace(li, dropship=routes[li.key]) if li.key in routes else li for li in lines]
    return lines


def evaluate(
    session: Session, shop: ShopRow, skus: Iterable[str] | None, now: datetime, orders: Iterable[int] = ()
) -> Evaluation:
    """Re-evaluate `skus` (all of the shop's when None) and enqueue the actions that follow.

    `orders` names orders whose picture changed by other means (a refund) to decide on as well."""
    lock_shop(session, shop.id)
    settings = ShopSettings.from_mapping(shop.settings)
    today = shop_today(shop, now)
    sku_list = sorted(set(skus)) if skus is not None else _all_skus(session, shop.id)
    result = Evaluation()
    if not sku_list and not orders:
        return result
    policy = engine.Policy(settings.promise_quantile, settings.handling_days)
    supplies = load_supplies(session, shop.id, sku_list, settings)
    queues = load_queues(session, shop.id, sku_list, supplies, shop_zone(shop), policy)
    lines, supplies = queues.lines, queues.supplies
    allocations = engine.allocate(supplies, lines, today, policy)
    routed = routing.route_backorders(session, shop, settings, lines, allocations, today, now)
    if routed:
        allocations = reallocate_routed(supplies, lines, allocations, routed, today, policy)
    result.lines = sum(queues.open_lines.values())
    # every line of a tail not read waits (sku_queues)
    result.backordered_lines = sum(1 for a in allocations.values() if a.backordered) + sum(queues.unread.values())
    touched_orders = record_backorders(session, shop, sku_list, allocations, now, queues) | set(orders)
    decided = list(
        session.scalars(
            select(OrderRow)
            .where(one_of(OrderRow.id, touched_orders))
            .order_by(OrderRow.id)
            .options(selectinload(OrderRow.lines))
        )
    )
    for added in lifecycle.decide_all(session, shop, decided, settings, now):
        result.actions += added
        result.orders_changed += 1 if added else 0
    # An order that waited a moment and waits no more (in a sale: evaluated against a stock report
    # that already counted a later order whose own webhook came after it) leaves no trace where its
    # wait never went out: what is still pending of the wait is superseded, as for an edited order.
    edits.after_decision(session, decided)
    return result


def reallocate_routed(
    supplies: dict[str, engine.SkuSupply],
    lines: list[engine.LineDemand],
    allocations: dict[int, engine.LineAllocation],
    routed: dict[int, engine.Dropship],
    today: date,
    policy: engine.Policy,
) -> dict[int, engine.LineAllocation]:
    """The allocation once `routed` lines go to dropship suppliers: their units leave stock and restock
    to the other lines of their SKUs, so those SKUs (only those: SKUs share no stock) are allocated again."""
    skus = {li.sku for li in lines if li.key in routed}
    again = engine.allocate(
        supplies,
        [replace(li, dropship=routed[li.key]) if li.key in routed else li for li in lines if li.sku in skus],
        today,
        policy,
    )
    return {**allocations, **again}  # same keys in the same order: only the routed SKUs' values change


def record_backorders(
    session: Session,
    shop: ShopRow,
    skus: list[str],
    allocations: dict[int, engine.LineAllocation],
    now: datetime,
    queues: Queues,
) -> set[int]:
    """Write each line's backordered part and promise; return the orders whose picture may have changed.

    The stored backorders are read as plain values first; only those the allocation changes are loaded
    as rows to write (in a sale every evaluation of a SKU re-allocates its head, nearly all unchanged).
    The lines of a SKU's tail `queues` did not read are not looked at: their records hold what they
    are allocated (sku_queues)."""
    stored = _stored_backorders(session, shop.id, skus, queues)
    wanted = [
        values.id
        for line_id, values in stored.items()
        if (alloc := allocations.get(line_id)) is not None and not _unchanged(values, alloc)
        or alloc is None and values.state == BackorderState.WAITING  # its line is no longer open (below)
    ]
    existing: dict[int, BackorderRow] = {}
    for chunk in chunks(wanted):
        for row in session.scalars(select(BackorderRow).where(one_of(BackorderRow.id, chunk))):
            existing[row.line_id] = row
    touched: set[int] = set()
    for alloc in allocations.values():
        row = existing.pop(alloc.key, None)
        if row is None and alloc.key in stored:
            continue  # unchanged
        if alloc.backordered:
            if row is None:
                row = BackorderRow(shop_id=shop.id, order_id=alloc.order_key, line_id=alloc.key, sku=alloc.sku)
                session.add(row)
            if _record_waiting(session, row, alloc, now):
                touched.add(alloc.order_key)
        elif row is not None and row.state == BackorderState.WAITING:
            _close(row, BackorderState.RELEASED, now)
            row.in_stock_quantity = alloc.in_stock
            touched.add(row.order_id)
    # Waiting rows whose line is no longer open: the order was cancelled, or the merchant fulfilled it by hand.
    for row in existing.values():
        if row.state != BackorderState.WAITING:
            continue
        order = session.get(OrderRow, row.order_id)
        _close(row, BackorderState.CANCELLED if order is None or order.cancelled else BackorderState.RELEASED, now)
        touched.add(row.order_id)
    return touched


def _stored_backorders(session: Session, shop_id: int, skus: list[str], queues: Queues) -> dict[int, Any]:
    """The stored records an evaluation of `skus` compares its allocation with, by line: every record
    of the SKUs read whole; of the others, the records of the lines read and the waiting records
    whose line is no longer open demand of their SKU (cancelled, fulfilled, its SKU edited)."""
    columns = (BackorderRow.id, BackorderRow.line_id, *_WAITING_COLUMNS)
    stored: dict[int, Any] = {}
    for chunk in chunks([sku for sku in skus if sku in queues.read_whole]):
        for values in session.execute(
            select(*columns).where(BackorderRow.shop_id == shop_id, one_of(BackorderRow.sku, chunk))
        ):
            stored[values.line_id] = values
    evaluated = set(skus)
    for chunk in chunks(queues.read_ids()):
        for values in session.execute(select(*columns).where(one_of(BackorderRow.line_id, chunk))):
            if values.sku in evaluated:
                stored[values.line_id] = values
    scoped = [sku for sku in skus if sku not in queues.read_whole]
    for chunk in chunks(scoped):
        for values in session.execute(
            select(*columns)
            .join(OrderLineRow, OrderLineRow.id == BackorderRow.line_id)
            .join(OrderRow, OrderRow.id == OrderLineRow.order_id)
            .where(
                BackorderRow.shop_id == shop_id,
                one_of(BackorderRow.sku, chunk),
                BackorderRow.state == BackorderState.WAITING,
                ~and_(*open_line_conditions(shop_id), OrderLineRow.sku == BackorderRow.sku),
            )
        ):
            stored[values.line_id] = values
    return stored


# What a waiting line's record holds (`_record_waiting` writes them, `_unchanged` compares them)
_WAITING_COLUMNS = (
    BackorderRow.state, BackorderRow.sku, BackorderRow.quantity, BackorderRow.in_stock_quantity,
    BackorderRow.peak_quantity, BackorderRow.eta_p50, BackorderRow.eta_p90, BackorderRow.source,
    BackorderRow.promised_on,
)


def _unchanged(values: Any, alloc: engine.LineAllocation) -> bool:
    """Whether recording `alloc` over the stored `values` would change nothing (see `_record_waiting`):
    a line that waits, and waits as it did; or one that neither waits nor waited."""
    if not alloc.backordered:
        return values.state != BackorderState.WAITING
    return tuple(values[2:]) == (
        BackorderState.WAITING, alloc.sku, alloc.backordered, alloc.in_stock,
        max(values.peak_quantity or 0, alloc.backordered), alloc.eta_p50, alloc.eta_p90, alloc.source,
        alloc.promised_on,
    )


def _waiting_values(row: BackorderRow) -> tuple[object, ...]:
    return tuple(getattr(row, column.key) for column in _WAITING_COLUMNS)


def _record_waiting(session: Session, row: BackorderRow, alloc: engine.LineAllocation, now: datetime) -> bool:
    """Update a waiting line; keep the history of its promise. True when the order's picture changed."""
    was_waiting = row.state == BackorderState.WAITING
    previous = row.promised_on if was_waiting else None
    previous_source = row.source if was_waiting else None
    changed = (
        not was_waiting
        or row.quantity != alloc.backordered
        or previous != alloc.promised_on
        or row.in_stock_quantity != alloc.in_stock
    )
    if not was_waiting:  # starts (or starts again) to wait: the restock is counted from now
        row.created_at = now
        row.announced = False
        row.released_at = None
    before = _waiting_values(row)
    row.state = BackorderState.WAITING
    row.sku = alloc.sku
    row.quantity = alloc.backordered
    row.in_stock_quantity = alloc.in_stock
    row.peak_quantity = max(row.peak_quantity or 0, alloc.backordered)
    row.eta_p50, row.eta_p90, row.source = alloc.eta_p50, alloc.eta_p90, alloc.source
    row.promised_on = alloc.promised_on
    if _waiting_values(row) != before:  # a line re-evaluated unchanged is not written again (in a sale:
        row.updated_at = now  # every waiting line of the SKUs, at every evaluation)
    if not was_waiting or previous != alloc.promised_on:
        if not was_waiting:
            reason = "initial"
        else:
            reason = "later" if previous and alloc.promised_on and alloc.promised_on > previous else "earlier"
        session.add(
            PromiseRow(
                backorder=row,  # its id is known at the flush, which inserts the backorder first
                promised_on=alloc.promised_on,
                eta_p50=alloc.eta_p50,
                eta_p90=alloc.eta_p90,
                made_at=now,
                reason=reason,
                cause=promise_cause(previous_source, alloc.source, not was_waiting),
            )
        )
    return changed


def _close(row: BackorderRow, state: BackorderState, now: datetime) -> None:
    row.state = state
    row.quantity = 0
    row.released_at = now
    row.updated_at = now
