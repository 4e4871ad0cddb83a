"""Read models for the merchant's dashboard: backlog, risk, held charges, actions, dead letters, chart data.

Queries only, each scoped to one shop. Times are shown in the shop's time zone by the templates;
"today" is the shop's today (`evaluation.shop_today`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.backorders.evaluation import load_open_lines, load_supplies, open_purchase_lines
from connector.dispatch.outbox import Kind
from connector.domain import engine
from connector.domain.model import BackorderState, PaymentStatus
from connector.shops.shop_days import shop_zone
from connector.shops.shop_settings import ShopSettings
from connector.storage.tables import (
    ActionRow,
    BackorderRow,
    DeliveryRow,
    LineRouteRow,
    OrderLineRow,
    OrderRow,
    PurchaseOrderLineRow,
    PurchaseOrderRow,
    ShopRow,
    SupplierRow,
    VariantRow,
)

WAITING = str(BackorderState.WAITING)


@dataclass(frozen=True)
class SkuBacklog:
    sku: str
    title: str
    waiting: int
    orders: int
    earliest_promise: date | None
    latest_promise: date | None
    incoming: int
    next_arrival: date | None
    on_hand: int = 0  # units there for open lines (the store's figure + what open lines hold)
    committed: int = 0  # units open lines claim
    available_to_promise: int = 0  # on hand + incoming - committed; negative: promised beyond supply


@dataclass(frozen=True)
class WaitingLine:
    sku: str
    title: str
    quantity: int
    promised_on: date | None
    eta_p50: date | None
    source: str | None
    route: str | None = None  # "dropship via <supplier>" when the line was routed to dropship
    route_reason: str | None = None


@dataclass
class OrderBacklog:
    id: int
    name: str
    customer: str
    placed_at: datetime
    payment_status: str
    priority: int
    lines: list[WaitingLine] = field(default_factory=list)

    @property
    def promised_on(self) -> date | None:
        dates = [li.promised_on for li in self.lines if li.promised_on]
        return max(dates) if dates else None

    @property
    def waiting(self) -> int:
        return sum(li.quantity for li in self.lines)

    @property
    def expedited(self) -> bool:
        return self.priority < 0


@dataclass(frozen=True)
class AtRisk:
    order_id: int
    order_name: str
    sku: str
    quantity: int
    promised_on: date | None
    reason: str


@dataclass(frozen=True)
class HeldCharge:
    order_id: int
    order_name: str
    customer: str
    uncaptured: Decimal
    currency: str
    authorized_at: datetime
    expires_at: datetime

    def hours_left(self, now: datetime) -> float:
        return (self.expires_at - now).total_seconds() / 3600


@dataclass(frozen=True)
class ChartData:
    sku: str
    days: list[date]
    backordered: list[int]  # waiting units at the end of each day (past and today)
    incoming: list[int]  # units expected to arrive that day (open purchase orders)
    today: date
    received: list[int] = field(default_factory=list)  # units received that day


def _waiting_rows(session: Session, shop_id: int) -> list[tuple[BackorderRow, OrderRow, OrderLineRow]]:
    return list(
        session.execute(
            select(BackorderRow, OrderRow, OrderLineRow)
            .join(OrderRow, OrderRow.id == BackorderRow.order_id)
            .join(OrderLineRow, OrderLineRow.id == BackorderRow.line_id)
            .where(BackorderRow.shop_id == shop_id, BackorderRow.state == WAITING, OrderRow.cancelled.is_(False))
            .order_by(OrderRow.priority, OrderRow.placed_at, OrderRow.id, OrderLineRow.id)
        )
    )


def incoming_by_sku(session: Session, shop_id: int) -> dict[str, list[tuple[date, int, PurchaseOrderRow]]]:
    out: dict[str, list[tuple[date, int, PurchaseOrderRow]]] = defaultdict(list)
    for line, po in session.execute(open_purchase_lines(shop_id)).all():
        qty = line.quantity - line.received_quantity
        if qty > 0:
            out[line.sku].append((po.expected_on, qty, po))
    for arrivals in out.values():
        arrivals.sort(key=lambda a: a[0])
    return out


def backlog_by_sku(session: Session, shop_id: int) -> list[SkuBacklog]:
    waiting: dict[str, list[tuple[BackorderRow, OrderRow, OrderLineRow]]] = defaultdict(list)
    for bo, order, line in _waiting_rows(session, shop_id):
        waiting[bo.sku].append((bo, order, line))
    incoming = incoming_by_sku(session, shop_id)
    titles = dict(session.execute(select(VariantRow.sku, VariantRow.title).where(VariantRow.shop_id == shop_id)).all())
    positions = _positions(session, shop_id, sorted(waiting))
    result = []
    for sku, rows in waiting.items():
        pos = positions.get(sku)
        promises = [bo.promised_on for bo, _, _ in rows if bo.promised_on]
        arrivals = incoming.get(sku, [])
        result.append(
            SkuBacklog(
                sku=sku,
                title=titles.get(sku) or rows[0][2].title,
                waiting=sum(bo.quantity for bo, _, _ in rows),
                orders=len({o.id for _, o, _ in rows}),
                earliest_promise=min(promises, default=None),
                latest_promise=max(promises, default=None),
                incoming=sum(q for _, q, _ in arrivals),
                next_arrival=arrivals[0][0] if arrivals else None,
                on_hand=pos.on_hand if pos else 0,
                committed=pos.committed if pos else 0,
                available_to_promise=pos.available_to_promise if pos else 0,
            )
        )
    return sorted(result, key=lambda r: (-r.waiting, r.sku))


def _positions(session: Session, shop_id: int, skus: list[str]) -> dict[str, engine.SkuPosition]:
    """Available-to-promise per SKU, from the same facts the engine allocates with."""
    shop = session.get(ShopRow, shop_id)
    settings = ShopSettings.from_mapping(shop.settings if shop else None)
    supplies = load_supplies(session, shop_id, skus, settings)
    lines: dict[str, list[engine.LineDemand]] = defaultdict(list)
    for line in load_open_lines(session, shop_id, skus, shop_zone(shop)):
        lines[line.sku].append(line)
    return {sku: engine.position(supply, lines[sku]) for sku, supply in supplies.items()}


def _routes(session: Session, shop_id: int) -> dict[int, tuple[str, str]]:
    rows = session.execute(
        select(LineRouteRow.line_id, SupplierRow.name, LineRouteRow.reason)
        .outerjoin(SupplierRow, SupplierRow.id == LineRouteRow.supplier_id)
        .where(LineRouteRow.shop_id == shop_id)
    )
    return {line_id: (f"dropship via {name or 'a removed supplier'}", reason) for line_id, name, reason in rows}


def backlog_by_order(session: Session, shop_id: int) -> list[OrderBacklog]:
    orders: dict[int, OrderBacklog] = {}
    routes = _routes(session, shop_id)
    for bo, order, line in _waiting_rows(session, shop_id):
        view = orders.get(order.id)
        if view is None:
            view = orders[order.id] = OrderBacklog(
                order.id,
                order.name,
                order.customer_name or order.customer_email or "",
                order.placed_at,
                order.payment_status,
                order.priority,
            )
        route, reason = routes.get(line.id, (None, None))
        view.lines.append(
            WaitingLine(bo.sku, line.title, bo.quantity, bo.promised_on, bo.eta_p50, bo.source, route, reason)
        )
    return list(orders.values())


def lines_at_risk(session: Session, shop: ShopRow, today: date) -> list[AtRisk]:
    """Waiting lines whose promise is past, rests on an overdue purchase order, or cannot be met by reordering now."""
    settings = ShopSettings.from_mapping(shop.settings)
    suppliers = dict(
        session.execute(
            select(SupplierRow.id, SupplierRow.lead_time_mean_days).where(SupplierRow.shop_id == shop.id)
        ).all()
    )
    overrides = dict(
        session.execute(
            select(VariantRow.sku, VariantRow.lead_time_days).where(
                VariantRow.shop_id == shop.id, VariantRow.lead_time_days.is_not(None)
            )
        ).all()
    )
    risks: list[AtRisk] = []
    for bo, order, _line in _waiting_rows(session, shop.id):
        reason = None
        source = bo.source or ""
        if bo.promised_on and bo.promised_on < today:
            reason = f"overdue: promised for {bo.promised_on:%d %b}"
        elif source.startswith("po:"):
            po = session.get(PurchaseOrderRow, int(source.removeprefix("po:")))
            if po is not None and po.received_on is None and po.expected_on < today:
                reason = f"purchase order {po.reference} was due {po.expected_on:%d %b} and has not arrived"
        elif bo.promised_on:
            if source.startswith("supplier:"):
                lead = float(suppliers.get(int(source.removeprefix("supplier:")), settings.default_lead_time_days))
            else:
                lead = float(overrides.get(bo.sku, settings.default_lead_time_days))
            lead += settings.handling_days
            left = (bo.promised_on - today).days
            if left < lead:
                reason = f"no purchase order covers it; reordering now takes about {lead:g} days, {left} left"
        if reason:
            risks.append(AtRisk(order.id, order.name, bo.sku, bo.quantity, bo.promised_on, reason))
    return sorted(risks, key=lambda r: (r.promised_on or date.max, r.order_name))


def held_charges(session: Session, shop: ShopRow) -> list[HeldCharge]:
    """Authorized, not fully captured charges of orders that wait on backorders, soonest expiry first.

    An authorization lapses `authorization_validity_days` after it was made (a setting: 7 days for
    Shopify Payments)."""
    valid = timedelta(days=ShopSettings.from_mapping(shop.settings).authorization_validity_days)
    rows = session.scalars(
        select(OrderRow).where(
            OrderRow.shop_id == shop.id,
            OrderRow.cancelled.is_(False),
            OrderRow.payment_status.in_((str(PaymentStatus.AUTHORIZED), str(PaymentStatus.PARTIALLY_PAID))),
            OrderRow.id.in_(select(BackorderRow.order_id).where(BackorderRow.state == WAITING)),
        )
    )
    result = []
    for order in rows:
        authorized = order.authorized_at or order.placed_at
        total = order.total_price or Decimal(0)
        result.append(
            HeldCharge(
                order.id,
                order.name,
                order.customer_name or order.customer_email or "",
                max(total - (order.captured_amount or Decimal(0)), Decimal(0)),
                order.currency,
                authorized,
                authorized + valid,
            )
        )
    return sorted(result, key=lambda h: h.expires_at)


def recent_actions(session: Session, shop_id: int, limit: int = 25, *, kind: str | None = None) -> list[tuple]:
    """(action, order name or None), newest first; failed and dead ones always included."""
    query = (
        select(ActionRow, OrderRow.name)
        .outerjoin(OrderRow, OrderRow.id == ActionRow.order_id)
        .where(ActionRow.shop_id == shop_id)
        .order_by(ActionRow.id.desc())
    )
    if kind is not None:
        query = query.where(ActionRow.kind == kind)
    recent = list(session.execute(query.limit(limit)).all())
    seen = {a.id for a, _ in recent}
    stuck = [
        (a, n)
        for a, n in session.execute(query.where(ActionRow.status.in_(("failed", "dead")))).all()
        if a.id not in seen
    ]
    return stuck + recent


def email_actions(session: Session, shop_id: int, limit: int = 100) -> list[tuple]:
    return recent_actions(session, shop_id, limit, kind=str(Kind.EMAIL))


def get_action(session: Session, shop_id: int, action_id: int) -> ActionRow | None:
    row = session.get(ActionRow, action_id)
    return row if row is not None and row.shop_id == shop_id else None


def dead_deliveries(session: Session, shop: ShopRow, limit: int = 50) -> list[DeliveryRow]:
    return list(
        session.scalars(
            select(DeliveryRow)
            .where(
                DeliveryRow.platform == shop.platform,
                DeliveryRow.shop_domain == shop.domain,
                DeliveryRow.status == "dead",
            )
            .order_by(DeliveryRow.id.desc())
            .limit(limit)
        )
    )


def delivery_of_shop(session: Session, shop: ShopRow, delivery_id: int) -> DeliveryRow | None:
    row = session.get(DeliveryRow, delivery_id)
    if row is None or row.platform != shop.platform or row.shop_domain != shop.domain:
        return None
    return row


def chart_skus(session: Session, shop_id: int) -> list[str]:
    """SKUs worth a chart: ever backordered, or on an open purchase order."""
    backordered = set(session.scalars(select(BackorderRow.sku).where(BackorderRow.shop_id == shop_id).distinct()))
    return sorted(backordered | set(incoming_by_sku(session, shop_id)))


def chart_data(
    session: Session, shop: ShopRow, sku: str, today: date, *, days_back: int = 30, days_ahead: int = 45
) -> ChartData:
    """Per day: the most units of `sku` waiting at any moment that day, units due on open purchase
    orders, and units received (a received line counts on its PO's receipt date, or today if partial)."""
    zone = ZoneInfo(shop.timezone or "UTC")
    arrivals = incoming_by_sku(session, shop.id).get(sku, [])
    last_arrival = max((d for d, _, _ in arrivals), default=today)
    end = max(today + timedelta(days=days_ahead), min(last_arrival, today + timedelta(days=180)))
    start = today - timedelta(days=days_back)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    events: list[tuple[datetime, int]] = []
    rows = session.execute(
        select(
            BackorderRow.created_at,
            BackorderRow.released_at,
            BackorderRow.quantity,
            BackorderRow.peak_quantity,
            BackorderRow.state,
        ).where(BackorderRow.shop_id == shop.id, BackorderRow.sku == sku)
    ).all()
    for created, released, quantity, peak, state in rows:
        qty = quantity if state == WAITING else (peak or 0)
        if qty:
            events.append((created, qty))
            if released is not None and state != WAITING:
                events.append((released, -qty))
    changes: dict[date, list[int]] = defaultdict(list)
    for moment, delta in sorted(events, key=lambda e: (e[0], -e[1])):  # same moment: the increase first
        changes[max(moment.astimezone(zone).date(), start)].append(delta)
    backordered, level = [], 0
    for day in days:
        peak = level
        for delta in changes.get(day, ()):
            level += delta
            peak = max(peak, level)
        backordered.append(max(peak, 0) if day <= today else 0)
    due: dict[date, int] = defaultdict(int)
    for expected, qty, _ in arrivals:
        due[min(max(expected, start), end)] += qty
    received: dict[date, int] = defaultdict(int)
    for line, po in session.execute(
        select(PurchaseOrderLineRow, PurchaseOrderRow)
        .join(PurchaseOrderRow)
        .where(
            PurchaseOrderRow.shop_id == shop.id,
            PurchaseOrderLineRow.sku == sku,
            PurchaseOrderLineRow.received_quantity > 0,
        )
    ).all():
        on = po.received_on or today
        if start <= on <= end:
            received[on] += line.received_quantity
    return ChartData(sku, days, backordered, [due.get(d, 0) for d in days], today, [received.get(d, 0) for d in days])


def counts(session: Session, shop_id: int) -> dict[str, int]:
    waiting = session.execute(
        select(func.count(), func.coalesce(func.sum(BackorderRow.quantity), 0)).where(
            BackorderRow.shop_id == shop_id, BackorderRow.state == WAITING
        )
    ).one()
    return {"waiting_lines": int(waiting[0]), "waiting_units": int(waiting[1])}
