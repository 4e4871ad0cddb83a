"""Dropship routing of backordered lines, inside an evaluation.

When a line is backordered and a dropship-capable supplier offers its SKU, the planning policy
(`connector.domain.planning.dropship_choice.route_line`: the item's value under the shop's threshold, a large
shortage, or a dropship lead time that beats the restock by the configured margin; a local
supplier before a distant one) decides whether the supplier ships it. A routed line is recorded
once (`line_routes`), its backordered units no longer wait for stock (the engine takes the route's
lead time, counted from the day it was routed), the merchant gets a private order note and the
supplier a dropship request email; both through the outbox, keyed by the line, so a decision made
twice sends nothing new.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.backorders.order_actions import OrderActions
from connector.dispatch.outbox import Kind
from connector.domain import engine
from connector.domain.planning.dropship_choice import DROPSHIP, BackorderedLine, route_line
from connector.domain.planning.plan_settings import PlanSettings
from connector.mail.plain import plain_payload
from connector.shops.shop_days import shop_day
from connector.shops.shop_settings import ShopSettings
from connector.storage.supply_models import offer_model, supplier_model
from connector.storage.tables import LineRouteRow, OrderLineRow, OrderRow, ShopRow, SupplierOfferRow, SupplierRow

NEVER = 10**9  # a shortage threshold of 0 in the shop's settings turns that rule off


def plan_settings_for(settings: ShopSettings, **overrides: object) -> PlanSettings:
    """Planning settings from the shop's: service level, backorder penalty and the dropship rules;
    any ``planning.<field>`` key the shop stored wins (see `PlanSettings.from_mapping`)."""
    base = PlanSettings.from_mapping(settings.extra)
    return replace(
        base,
        service_level=settings.service_level,
        penalty_per_unit_day=settings.backorder_penalty_per_unit_day,
        dropship_value_threshold=float(settings.dropship_value_threshold),
        dropship_large_shortage=settings.dropship_shortage_threshold or NEVER,
        dropship_margin_days=float(settings.dropship_margin_days),
        **overrides,  # type: ignore[arg-type]
    )


def dropship_lead(route: LineRouteRow, zone: ZoneInfo) -> engine.Dropship:
    return engine.Dropship(
        route.quantity,
        shop_day(zone, route.created_at),
        engine.LeadTime(route.lead_time_days, route.lead_time_spread_days, f"dropship:{route.supplier_id}"),
    )


def load_routes(session: Session, shop_id: int, zone: ZoneInfo) -> dict[int, engine.Dropship]:
    """The shop's routed lines (few: one query, however many lines an evaluation covers)."""
    return {row.line_id: dropship_lead(row, zone)
            for row in session.scalars(select(LineRouteRow).where(LineRouteRow.shop_id == shop_id))}


def dropship_offer_skus(session: Session, shop_id: int) -> set[str]:
    """The SKUs a dropship-capable supplier offers: every backordered line of them may be routed."""
    return set(
        session.scalars(
            select(SupplierOfferRow.sku)
            .join(SupplierRow, SupplierRow.id == SupplierOfferRow.supplier_id)
            .where(SupplierOfferRow.shop_id == shop_id, SupplierRow.dropship_capable.is_(True))
            .distinct()
        )
    )


def route_backorders(
    session: Session,
    shop: ShopRow,
    settings: ShopSettings,
    lines: Sequence[engine.LineDemand],
    allocations: Mapping[int, engine.LineAllocation],
    today: date,
    now: datetime,
) -> dict[int, engine.Dropship]:
    """Route the newly backordered lines the policy sends to dropship; returns the new routes by line."""
    offers: dict[str, list] = {}
    suppliers = {}
    for off, sup in session.execute(
        select(SupplierOfferRow, SupplierRow)
        .join(SupplierRow, SupplierRow.id == SupplierOfferRow.supplier_id)
        .where(SupplierOfferRow.shop_id == shop.id, SupplierRow.dropship_capable.is_(True))
    ):
        offers.setdefault(off.sku, []).append(offer_model(off))
        suppliers[sup.id] = sup
    if not offers:  # most shops: nothing to route, and no pass over the lines
        return {}
    candidates = [li for li in lines
                  if li.sku in offers and li.dropship is None and allocations[li.key].backordered > 0]
    if not candidates:
        return {}
    models = {sid: supplier_model(row, shop.domain) for sid, row in suppliers.items()}
    policy = plan_settings_for(settings)
    rows = {row.id: row for row in session.scalars(
        select(OrderLineRow).where(OrderLineRow.id.in_([li.key for li in candidates])))}
    routes: dict[int, engine.Dropship] = {}
    for li in candidates:
        alloc = allocations[li.key]
        line_row = rows[li.key]
        line = BackorderedLine(str(li.order_key), str(li.key), li.sku, alloc.backordered,
                               line_row.unit_price if line_row.unit_price is not None else Decimal("Infinity"))
        route = route_line(line, alloc.eta_p50, alloc.eta_p90, offers[li.sku], models, policy, today)
        if route.route != DROPSHIP or route.supplier_id is None or route.eta is None:
            continue
        supplier = suppliers[route.supplier_id]
        lead = float((route.eta - today).days)
        row = LineRouteRow(shop_id=shop.id, line_id=li.key, supplier_id=supplier.id, quantity=alloc.backordered,
                           lead_time_days=lead, lead_time_spread_days=float(supplier.lead_time_spread_days),
                           eta=route.eta, reason=route.reason, created_at=now)
        session.add(row)
        routes[li.key] = engine.Dropship(
            alloc.backordered, today, engine.LeadTime(lead, row.lead_time_spread_days, f"dropship:{supplier.id}"))
        _announce(session, shop, settings, line_row, supplier, row, now)
    return routes


def _announce(session: Session, shop: ShopRow, settings: ShopSettings, line: OrderLineRow, supplier: SupplierRow,
              route: LineRouteRow, now: datetime) -> None:
    order = session.get(OrderRow, line.order_id)
    assert order is not None  # nosec B101  # narrows the type; an invariant, not a check of input
    acts = OrderActions(session, shop, order, now)
    key = f"route:{line.external_id}"
    acts.add(Kind.NOTE, f"{key}:note", {
        "text": (f"Backorder Connector: {route.quantity} × {line.sku} routed to dropship supplier {supplier.name}, "
                 f"expected by {route.eta.isoformat()} ({route.reason})."),
        "customer_visible": False,
    })
    if not supplier.email:
        return
    text = (
        f"Hello {supplier.name},\n\n"
        f"please ship the following directly to our customer (dropship):\n\n"
        f"  Order {order.name}\n  {route.quantity} × {line.sku} — {line.title}\n"
        f"  Customer: {order.customer_name or '—'} <{order.customer_email or '—'}>\n\n"
        f"We have told the customer to expect it by {route.eta.isoformat()}. The shipping address is on the "
        f"order in our store; reply to this email if you need it again or cannot ship in time.\n\n{shop.name}\n"
    )
    acts.add(Kind.EMAIL, f"{key}:dropship_request", plain_payload(
        "dropship_request", supplier.email, f"{shop.name}: dropship request for order {order.name}", text,
        {"name": shop.name, "domain": shop.domain, "sender_name": settings.sender_name or shop.name,
         "reply_to": settings.reply_to or settings.merchant_email or None},
    ))
