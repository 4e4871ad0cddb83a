"""The part of each SKU's queue an evaluation has to read, and what a quote needs of it: not every open line.

The engine gives a SKU's open lines, in rank order, first the stock pool and then the incoming
purchase orders: `engine.reach` units in all. A line with at least that much open quantity ranked
before it gets neither. It waits the lead time from its own waiting day (`engine.lead_eta`),
whatever its place, so its allocation depends on nothing but itself, the lead time and the policy.
In a sale nearly the whole queue is such a tail, thousands of lines long and growing; reading it
whole at every evaluation made each evaluation slower than the last.

So an evaluation reads each SKU's queue as (`load_queues`):
- its **head**, in full: the lines the reach gets to (`before < reach`);
- from its **tail**, only the lines whose record is not already what the tail
  is allocated: lines that do not wait yet, or wait for another quantity or SKU, or hold units in
  stock. The rest of the tail is checked in one grouped query: each group of waiting records with
  the same source and dates must be the lead time's dates from the waiting days of its first and
  its last record (the dates grow with the day, so those two fix every record in between). A SKU
  whose check fails (the lead time or the policy changed) is read whole;
- **whole**, where the reasoning above does not hold: SKUs the store does not count (no supply),
  SKUs with dropship routes (a routed line takes part of its quantity out of the queue), and SKUs
  with dropship offers (routing reconsiders every waiting line).

The allocation of the lines read, with the supply's `committed_elsewhere` set to what the store
subtracted for the lines not read, is the full allocation's for those lines, and the lines not
read would be recorded unchanged: tests/integration/test_sku_queues.py compares the two on random
histories of orders, stock reports, edits, cancellations and lead-time changes.

A quote, for an order not placed yet, needs no line at all (`queue_lengths`): the new order ranks
behind the queue, and FIFO gives it what is left after that much open quantity.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import Session

from connector.backorders import dropship_routing as routing
from connector.domain import engine
from connector.domain.model import BackorderState
from connector.shops.shop_days import shop_day
from connector.storage.chunks import chunks
from connector.storage.one_of import one_of
from connector.storage.tables import BackorderRow, LineRouteRow, OrderLineRow, OrderRow, StockLevelRow

OPEN_QUANTITY = OrderLineRow.quantity - OrderLineRow.fulfilled_quantity


def open_line_conditions(shop_id: int) -> tuple[ColumnElement[bool], ...]:
    """What makes an order line open demand: a sale (not cancelled, not awaiting payment) with
    something left to ship."""
    return (
        OrderLineRow.shop_id == shop_id,
        OrderRow.cancelled.is_(False),
        OrderRow.reserves_stock.is_(True),  # awaiting payment: not a sale yet
        OrderLineRow.requires_shipping.is_(True),
        OrderLineRow.quantity > OrderLineRow.fulfilled_quantity,
    )


@dataclass
class Queues:
    lines: list[engine.LineDemand]  # the lines read, of every SKU
    supplies: dict[str, engine.SkuSupply]  # `committed_elsewhere`: the store's count of the lines not read
    open_lines: dict[str, int] = field(default_factory=dict)  # every open line, per SKU
    read_whole: set[str] = field(default_factory=set)
    unread: dict[str, int] = field(default_factory=dict)  # tail lines not read, per SKU: all waiting

    def read_ids(self) -> list[int]:
        """The ids of the lines read of the SKUs not read whole."""
        return [li.key for li in self.lines if li.sku not in self.read_whole]


def load_queues(
    session: Session,
    shop_id: int,
    skus: list[str],
    supplies: dict[str, engine.SkuSupply],
    zone: ZoneInfo,
    policy: engine.Policy,
) -> Queues:
    """Each SKU's head, and the tail lines whose record is not what the tail is allocated (see the
    module's docstring). `supplies` as `evaluation.load_supplies` returns them; the queues' own
    carry `committed_elsewhere`."""
    supplies = dict(supplies)
    routed = _routed_skus(session, shop_id)
    whole = {sku for sku in skus if sku not in supplies or sku in routed}
    whole |= routing.dropship_offer_skus(session, shop_id) & set(skus)
    queues = Queues([], {})
    routes = routing.load_routes(session, shop_id, zone) if whole & routed else {}
    for chunk in chunks(skus):
        levels = latest_reports(shop_id, chunk)
        committed = counted_by_store(levels)
        stats: dict[str, tuple[int, int, int]] = {}
        for sku, count, total, held in session.execute(
            select(
                OrderLineRow.sku,
                func.count(),
                func.sum(OPEN_QUANTITY),
                func.sum(case((committed, OPEN_QUANTITY), else_=0)),
            )
            .join(OrderRow, OrderRow.id == OrderLineRow.order_id)
            .outerjoin(levels, levels.c.sku == OrderLineRow.sku)
            .where(*open_line_conditions(shop_id), one_of(OrderLineRow.sku, chunk))
            .group_by(OrderLineRow.sku)
        ):
            stats[sku] = (count, int(total), int(held))
        if not stats:
            continue
        reach = {}
        for sku, (_, total, held) in stats.items():
            reach[sku] = total + 1 if sku in whole else engine.reach(supplies[sku], held)
        ranked = _ranked(shop_id, chunk, levels, committed, reach)
        failed = _tail_check_fails(session, ranked, supplies, zone, policy)
        for sku in failed:
            reach[sku] = stats[sku][1] + 1
        whole |= failed
        if failed:
            ranked = _ranked(shop_id, chunk, levels, committed, reach)
        read: dict[str, int] = defaultdict(int)
        held_read: dict[str, int] = defaultdict(int)
        for row in session.execute(select(ranked).where(or_(ranked.c.before < ranked.c.reach, ranked.c.settled == 0))):
            waits = row.waiting_since is not None and row.state == BackorderState.WAITING
            line = engine.LineDemand(
                row.id, row.order_id, row.sku, int(row.open), row.placed_at, row.priority, bool(row.committed),
                shop_day(zone, row.waiting_since) if waits else None, routes.get(row.id),
            )
            queues.lines.append(line)
            read[line.sku] += 1
            held_read[line.sku] += line.quantity if line.committed else 0
        for sku, (count, _, held) in stats.items():
            queues.open_lines[sku] = count
            if count > read[sku]:
                queues.unread[sku] = count - read[sku]
            if sku in supplies:
                supplies[sku] = replace(supplies[sku], committed_elsewhere=held - held_read[sku])
    queues.supplies = supplies
    queues.read_whole = whole
    return queues


@dataclass(frozen=True, slots=True)
class QueueLength:
    """What a quote needs of a SKU's queue: not its lines, only how much of it is ahead of a new order."""

    ahead: int  # open quantity ranked before an order placed now (behind every priority)
    committed: int  # open quantity of all the SKU's lines the store already subtracted
    last_priority: int  # the largest priority of any open line: the new order's


def queue_lengths(
    session: Session, shop_id: int, skus: list[str], now: datetime
) -> tuple[dict[str, QueueLength], set[str]]:
    """Each SKU's `QueueLength`, and the SKUs with dropship routes, whose lines a quote must read
    (a routed line takes part of its quantity out of the queue). One grouped query per chunk.

    A new order ranks behind every line of the SKU's largest priority placed before it; a line of
    that priority the store placed at or after `now` (its clock running ahead) ranks behind it."""
    lengths: dict[str, QueueLength] = {}
    for chunk in chunks(skus):
        levels = latest_reports(shop_id, chunk)
        committed = counted_by_store(levels)
        # one bound value, so that PostgreSQL sees the grouped expression and the selected one as the same
        later = case((OrderRow.placed_at >= bindparam("now", now, type_=OrderRow.placed_at.type), 1), else_=0)
        groups: dict[str, list[tuple[int, bool, int, int]]] = defaultdict(list)
        for sku, priority, later_, total, held in session.execute(
            select(
                OrderLineRow.sku,
                OrderRow.priority,
                later,
                func.sum(OPEN_QUANTITY),
                func.sum(case((committed, OPEN_QUANTITY), else_=0)),
            )
            .join(OrderRow, OrderRow.id == OrderLineRow.order_id)
            .outerjoin(levels, levels.c.sku == OrderLineRow.sku)
            .where(*open_line_conditions(shop_id), one_of(OrderLineRow.sku, chunk))
            .group_by(OrderLineRow.sku, OrderRow.priority, later)
        ):
            groups[sku].append((priority, bool(later_), int(total), int(held)))
        for sku, found in groups.items():
            last = max(priority for priority, _, _, _ in found)
            ahead = sum(total for priority, later, total, _ in found if not (priority == last and later))
            lengths[sku] = QueueLength(ahead, sum(held for *_, held in found), last)
    return lengths, _routed_skus(session, shop_id) & set(skus)


def _routed_skus(session: Session, shop_id: int) -> set[str]:
    return set(
        session.scalars(
            select(OrderLineRow.sku)
            .join(LineRouteRow, LineRouteRow.line_id == OrderLineRow.id)
            .where(LineRouteRow.shop_id == shop_id)
            .distinct()
        )
    )


def latest_reports(shop_id: int, chunk: list[str]) -> Any:
    """Per SKU: the latest stock report's moment (`at`), and the held level's (`held_at`), if any."""
    return (
        select(
            StockLevelRow.sku,
            func.max(StockLevelRow.updated_at).label("at"),
            func.max(StockLevelRow.held_at).label("held_at"),
        )
        .where(StockLevelRow.shop_id == shop_id, one_of(StockLevelRow.sku, chunk))
        .group_by(StockLevelRow.sku)
        .subquery()
    )


def counted_by_store(reports: Any) -> ColumnElement[bool]:
    """Whether the store's stock figure already counts a line's order (`reports`: `latest_reports`,
    joined on the line's SKU).

    A store subtracts an order from its stock when the order is placed, and reports the new level
    in a webhook of its own that may come after the order's. Until a stock report newer than the
    order arrives, the stored level does not count the order yet; counting it as subtracted would
    add a unit that is not there (and release someone else's waiting line for a moment). So a
    report counts the orders placed at or before it; the held level, from before a drop, only those
    strictly before it (an order of the same instant may be what the drop announced); no report at
    all counts every order."""
    return or_(
        and_(reports.c.held_at.is_not(None), OrderRow.placed_at < reports.c.held_at),
        and_(reports.c.held_at.is_(None), or_(reports.c.at.is_(None), OrderRow.placed_at <= reports.c.at)),
    )


def _ranked(shop_id: int, chunk: list[str], levels: Any, committed: ColumnElement[bool], reach: dict[str, int]) -> Any:
    """The open lines of `chunk` with the open quantity ranked before each (`before`), its SKU's
    `reach`, and `settled`: 1 when its record already holds what a tail line is allocated."""
    before = func.coalesce(
        func.sum(OPEN_QUANTITY).over(
            partition_by=OrderLineRow.sku,
            order_by=(OrderRow.priority, OrderRow.placed_at, OrderLineRow.order_id, OrderLineRow.id),
            rows=(None, -1),
        ),
        0,
    )
    settled = and_(
        BackorderRow.state == BackorderState.WAITING,
        BackorderRow.sku == OrderLineRow.sku,
        BackorderRow.quantity == OPEN_QUANTITY,
        BackorderRow.in_stock_quantity == 0,
        BackorderRow.peak_quantity >= BackorderRow.quantity,
    )
    return (
        select(
            OrderLineRow.id,
            OrderLineRow.order_id,
            OrderLineRow.sku,
            OPEN_QUANTITY.label("open"),
            OrderRow.placed_at,
            OrderRow.priority,
            case((committed, 1), else_=0).label("committed"),
            BackorderRow.created_at.label("waiting_since"),
            BackorderRow.state,
            BackorderRow.source,
            BackorderRow.eta_p50,
            BackorderRow.eta_p90,
            BackorderRow.promised_on,
            before.label("before"),
            case(reach, value=OrderLineRow.sku, else_=0).label("reach"),
            case((settled, 1), else_=0).label("settled"),
        )
        .join(OrderRow, OrderRow.id == OrderLineRow.order_id)
        .outerjoin(levels, levels.c.sku == OrderLineRow.sku)
        .outerjoin(BackorderRow, BackorderRow.line_id == OrderLineRow.id)
        .where(*open_line_conditions(shop_id), one_of(OrderLineRow.sku, chunk))
        .subquery()
    )


def _tail_check_fails(
    session: Session, ranked: Any, supplies: dict[str, engine.SkuSupply], zone: ZoneInfo, policy: engine.Policy
) -> set[str]:
    """The SKUs whose settled tail records are not all the lead time's dates from their waiting day."""
    failed: set[str] = set()
    for sku, source, p50, p90, promised, first, last in session.execute(
        select(
            ranked.c.sku,
            ranked.c.source,
            ranked.c.eta_p50,
            ranked.c.eta_p90,
            ranked.c.promised_on,
            func.min(ranked.c.waiting_since),
            func.max(ranked.c.waiting_since),
        )
        .where(ranked.c.before >= ranked.c.reach, ranked.c.settled == 1)
        .group_by(ranked.c.sku, ranked.c.source, ranked.c.eta_p50, ranked.c.eta_p90, ranked.c.promised_on)
    ):
        lead = supplies[sku].lead_time
        dates = (p50, p90, promised)
        if (
            source != lead.source
            or engine.lead_eta(shop_day(zone, first), lead, policy) != dates
            or engine.lead_eta(shop_day(zone, last), lead, policy) != dates
        ):
            failed.add(sku)
    return failed
