"""`plan_shop`: the whole nightly plan of one shop, from plain inputs to plain results.

Order of work: supplier agility from past deliveries; supplier choice and lead time per SKU;
dropship routes for waiting backorders (dropshipped units leave the shortage); forecasts; reorder
policy on the inventory position; urgent orders for waiting customers who would miss their
promise; draft purchase orders per supplier; the damped plan and export per supplier; signals.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from connector.model import Backorder, BackorderState, PurchaseOrder, StockLevel, Supplier, SupplierOffer, Variant
from connector.planning import bullwhip, policy, signals
from connector.planning.agility import Delivery, SupplierAgility, supplier_agility
from connector.planning.dropship import DROPSHIP, RESTOCK, Z90, BackorderedLine, Route, route_line
from connector.planning.export import SupplierExport, SupplierSkuPlan
from connector.planning.forecast import forecast_demand
from connector.planning.history import DemandHistory, DemandRecord, build_history
from connector.planning.settings import PlanSettings
from connector.planning.suppliers import (
    DraftLine,
    DraftPurchaseOrder,
    SupplierChoice,
    UrgentNeed,
    choose_supplier,
    group_drafts,
    late_backorders,
    service_dates,
    urgent_need,
)

DEFAULT_LEAD = Supplier(None, "", "").lead_time_mean_days
DEFAULT_LEAD_SD = Supplier(None, "", "").lead_time_spread_days
MAX_HORIZON = 366


@dataclass(frozen=True, slots=True)
class ForecastError:
    rmse: float | None  # holdout errors of the chosen model, units per day
    mae: float | None
    bias: float | None
    rmsse: float | None


@dataclass(frozen=True, slots=True)
class SkuPlan:
    sku: str
    model: str
    demand_class: str
    forecast_per_day: float  # mean forecast over lead time + review period
    forecast: tuple[float, ...]  # daily forecast over the lead time + review period
    error: ForecastError
    spread: float  # daily demand spread used for safety stock
    signals: tuple[signals.Signal, ...]
    supplier: SupplierChoice | None
    lead_time_mean: float
    lead_time_sd: float
    stock: int  # available, net of backorders (may be negative)
    incoming: int  # on open purchase orders
    dropshipped: int  # waiting units routed to dropship, no longer short
    position: float  # stock + incoming + dropshipped
    safety_stock: float
    reorder_point: float
    order_up_to: float
    suggested_quantity: int  # total to order now, urgent units included
    stockout_probability: float  # before a delivery ordered now would arrive
    expected_backorder_cost: float  # over that time, at the shop's penalty per unit-day
    urgent: UrgentNeed | None


@dataclass(frozen=True, slots=True)
class ShopPlan:
    shop: str
    as_of: date
    skus: tuple[SkuPlan, ...]
    drafts: tuple[DraftPurchaseOrder, ...]
    routes: tuple[Route, ...]
    exports: tuple[SupplierExport, ...]
    agility: tuple[SupplierAgility, ...]

    def sku(self, sku: str) -> SkuPlan:
        for p in self.skus:
            if p.sku == sku:
                return p
        raise KeyError(sku)


def _add_skus(history: DemandHistory, extra: Iterable[str]) -> DemandHistory:
    missing = sorted(set(extra) - set(history.skus))
    if not missing:
        return history
    values = np.vstack([history.values, np.full((len(missing), history.days), np.nan)])
    return DemandHistory(history.skus + tuple(missing), history.first_day, values)


def _opt(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def plan_shop(
    shop: str,
    as_of: date,
    history: DemandHistory | Iterable[DemandRecord],
    stock: Iterable[StockLevel] = (),
    purchase_orders: Iterable[PurchaseOrder] = (),
    suppliers: Iterable[Supplier] = (),
    offers: Iterable[SupplierOffer] = (),
    waiting: Iterable[Backorder] = (),
    variants: Iterable[Variant] = (),
    deliveries: Iterable[Delivery] = (),
    settings: PlanSettings | None = None,
) -> ShopPlan:
    """Plan one shop as of the morning of `as_of` (history covers the days before it).

    `purchase_orders`: open ones count as incoming stock (drafts and received ones are ignored).
    `waiting`: backorders; only WAITING ones matter. `deliveries`: received purchase orders, for
    observed lead times and on-time rates. Every SKU seen in history, stock, offers or backorders
    is planned.
    """
    settings = settings or PlanSettings()
    suppliers_by_id = {s.id: s for s in suppliers if s.id is not None}
    offers = list(offers)
    waiting = [b for b in waiting if b.state is BackorderState.WAITING]
    purchase_orders = [po for po in purchase_orders if not po.draft and po.received_on is None]
    variants_by_sku = {v.sku: v for v in variants}
    stock = list(stock)

    extra = {s.sku for s in stock if s.sku} | {o.sku for o in offers} | {b.sku for b in waiting}
    if not isinstance(history, DemandHistory):
        history = build_history(history, as_of, settings.history_days, skus=extra)
    history = _add_skus(history, extra)
    skus = history.skus
    n = len(skus)
    index = {sku: i for i, sku in enumerate(skus)}

    # supplier agility: observed lead times and on-time rates now (they steer the supplier choice),
    # catch-up after spikes once the forecast has found the spikes
    deliveries = list(deliveries)
    delivered_by = sorted({d.supplier_id for d in deliveries})
    agility: dict[int, SupplierAgility] = {sid: supplier_agility(sid, deliveries) for sid in delivered_by}

    # supplier choice and lead times
    offers_by_sku: dict[str, list[SupplierOffer]] = defaultdict(list)
    for o in offers:
        offers_by_sku[o.sku].append(o)

    choices: list[SupplierChoice | None] = [
        choose_supplier(sku, offers_by_sku.get(sku, ()), suppliers_by_id, settings, agility) for sku in skus
    ]
    lead = np.array([c.lead_time_mean if c else DEFAULT_LEAD for c in choices], dtype=float)
    lead_sd = np.array([c.lead_time_sd if c else DEFAULT_LEAD_SD for c in choices], dtype=float)
    for sku, v in variants_by_sku.items():
        if v.lead_time_days is not None and sku in index:
            lead[index[sku]] = float(v.lead_time_days)
    unit_cost = np.array([float(c.unit_cost) if c else 0.0 for c in choices])

    # stock and incoming
    net = np.zeros(n)
    for s in stock:
        if s.sku in index:
            net[index[s.sku]] += s.available
    waiting_qty = np.zeros(n)
    for b in waiting:
        waiting_qty[index[b.sku]] += b.quantity
    if not settings.stock_nets_backorders:
        net = net - waiting_qty
    horizon = int(
        min(
            MAX_HORIZON,
            max(np.ceil(lead.max(initial=0) + 3 * lead_sd.max(initial=0)), np.ceil(lead.max(initial=0)))
            + settings.review_period_days
            + settings.plan_periods * settings.review_period_days,
        )
    )
    arrivals = np.zeros((n, horizon))
    incoming = np.zeros(n)
    for po in purchase_orders:
        day = min(max((po.expected_on - as_of).days, 0), horizon - 1)
        for li in po.lines:
            if li.sku in index and li.incoming_quantity > 0:
                arrivals[index[li.sku], day] += li.incoming_quantity
                incoming[index[li.sku]] += li.incoming_quantity

    # dropship routes for waiting backorders; restock ETAs follow first-come-first-served supply
    by_sku_waiting: dict[str, list[Backorder]] = defaultdict(list)
    for b in waiting:
        by_sku_waiting[b.sku].append(b)
    routes: list[Route] = []
    dropshipped = np.zeros(n)
    remaining_waiting: dict[str, list[Backorder]] = {}
    for sku, items in by_sku_waiting.items():
        i = index[sku]
        free = int(net[i] + waiting_qty[i])
        new_order_eta = as_of + timedelta(days=round(lead[i]))
        new_order_p90 = as_of + timedelta(days=round(lead[i] + Z90 * lead_sd[i]))
        keep = []
        for b, served in service_dates(sku, free, items, purchase_orders, as_of):
            variant = variants_by_sku.get(sku)
            price = variant.price if variant is not None else Decimal("Infinity")
            line = BackorderedLine(b.order_id, b.line_id, sku, b.quantity, price)
            if served is not None and served <= as_of:  # stock on hand covers it: ships from stock
                route = Route(b.order_id, b.line_id, sku, RESTOCK, None, as_of, as_of, "stock on hand covers it")
            else:
                route = route_line(
                    line,
                    served or new_order_eta,
                    served or new_order_p90,
                    offers_by_sku.get(sku, ()),
                    suppliers_by_id,
                    settings,
                    as_of,
                )
            routes.append(route)
            if route.route == DROPSHIP:
                dropshipped[i] += b.quantity
            else:
                keep.append(b)
        remaining_waiting[sku] = keep

    # forecasts; then the spikes of the whole history, to see how fast each supplier caught up
    fc = forecast_demand(history, horizon, settings)
    if deliveries:
        past_spikes = signals.spikes(history, fc, replace(settings, spike_window_days=history.days))
        agility = {sid: supplier_agility(sid, deliveries, past_spikes) for sid in delivered_by}

    # policy
    position = net + incoming + dropshipped
    eoq = policy.economic_order_quantity(
        fc.daily[:, : settings.review_period_days].mean(axis=1),
        unit_cost,
        settings.ordering_cost,
        settings.holding_cost_rate,
    )
    pol = policy.reorder_policy(
        fc.daily, fc.spread, lead, lead_sd, settings.service_level, settings.review_period_days, eoq, fc.level_spread
    )
    suggested = policy.suggested_quantity(position, pol)
    cum_arrivals = np.cumsum(arrivals, axis=1)
    available_by_day = (net + dropshipped)[:, None] + cum_arrivals
    lead_day = np.clip(np.ceil(lead).astype(int) - 1, 0, horizon - 1)
    p_out = policy.stockout_probability(available_by_day[np.arange(n), lead_day], pol)
    unit_days = policy.expected_backorder_unit_days(fc.daily, fc.spread, available_by_day, lead, fc.level_spread)
    cost = unit_days * settings.penalty_per_unit_day

    # urgent needs and draft lines
    urgent: dict[str, UrgentNeed] = {}
    draft_lines: list[tuple[int, float, bool, DraftLine]] = []
    for sku, items in remaining_waiting.items():
        i = index[sku]
        late = late_backorders(service_dates(sku, int(net[i] + waiting_qty[i]), items, purchase_orders, as_of))
        need = urgent_need(sku, late, offers_by_sku.get(sku, ()), suppliers_by_id, as_of, agility)
        if need is not None:
            urgent[sku] = need
            suggested[i] = max(int(suggested[i]), need.quantity)
    for i, sku in enumerate(skus):
        q = int(suggested[i])
        choice = choices[i]
        need = urgent.get(sku)
        if need is not None:
            lead_days = (need.arrives_on - as_of).days
            terms = "urgent terms" if need.urgent_terms else "normal terms"
            draft_lines.append(
                (
                    need.supplier_id,
                    lead_days,
                    need.urgent_terms,
                    DraftLine(
                        sku,
                        need.quantity,
                        need.unit_cost,
                        f"{need.quantity} units for waiting customers promised by {need.due.isoformat()}, {terms}"
                        + ("" if need.meets_promise else " (still late: fastest option)"),
                    ),
                )
            )
            q -= need.quantity
        if q > 0 and choice is not None:
            draft_lines.append(
                (
                    choice.supplier_id,
                    lead[i],
                    False,
                    DraftLine(
                        sku,
                        q,
                        choice.unit_cost,
                        f"position {position[i]:.0f} <= reorder point {pol.reorder_point[i]:.1f}; "
                        f"up to {pol.order_up_to[i]:.1f}; {choice.reason}",
                    ),
                )
            )
    drafts = group_drafts(shop, as_of, draft_lines)

    # the damped plan shared with each supplier
    r = settings.review_period_days
    periods = bullwhip.period_sums(fc.daily, r, settings.plan_periods)
    after_firm = position + suggested - periods[:, 0]
    shared = (
        bullwhip.damped_plan(
            periods[:, 1:], after_firm, pol.safety_stock, lead / r, settings.damping_periods, settings.max_change_ratio
        )
        if settings.plan_periods > 1
        else None
    )
    per_supplier: dict[int, list[SupplierSkuPlan]] = defaultdict(list)
    for i, choice in enumerate(choices):
        if choice is None:
            continue
        later = () if shared is None else tuple(int(x) for x in shared.orders[i])
        per_supplier[choice.supplier_id].append(
            SupplierSkuPlan(
                skus[i], tuple(round(float(x), 1) for x in periods[i]), (int(suggested[i]),) + later, int(suggested[i])
            )
        )
    exports = tuple(
        SupplierExport(shop, suppliers_by_id[sid], as_of, r, tuple(items))
        for sid, items in sorted(per_supplier.items())
    )

    # signals and the per-SKU results
    flagged = signals.detect(history, fc, settings)
    cover = np.ceil(lead + r).astype(int)
    results = []
    for i, sku in enumerate(skus):
        span = fc.daily[i, : max(1, min(cover[i], horizon))]
        results.append(
            SkuPlan(
                sku=sku,
                model=str(fc.model[i]),
                demand_class=str(fc.demand_class[i]),
                forecast_per_day=float(span.mean()),
                forecast=tuple(round(float(x), 3) for x in span),
                error=ForecastError(_opt(fc.rmse[i]), _opt(fc.mae[i]), _opt(fc.bias[i]), _opt(fc.rmsse[i])),
                spread=float(fc.spread[i]),
                signals=flagged.get(sku, ()),
                supplier=choices[i],
                lead_time_mean=float(lead[i]),
                lead_time_sd=float(lead_sd[i]),
                stock=int(net[i]),
                incoming=int(incoming[i]),
                dropshipped=int(dropshipped[i]),
                position=float(position[i]),
                safety_stock=float(pol.safety_stock[i]),
                reorder_point=float(pol.reorder_point[i]),
                order_up_to=float(pol.order_up_to[i]),
                suggested_quantity=int(suggested[i]),
                stockout_probability=float(p_out[i]),
                expected_backorder_cost=float(cost[i]),
                urgent=urgent.get(sku),
            )
        )
    return ShopPlan(
        shop, as_of, tuple(results), drafts, tuple(routes), exports, tuple(agility[k] for k in sorted(agility))
    )


def incoming_from_drafts(
    drafts: Sequence[DraftPurchaseOrder], approved: Iterable[int], reference_prefix: str
) -> list[PurchaseOrder]:
    """The drafts the merchant approved (by position), as purchase orders that count as incoming stock."""
    return [drafts[k].to_purchase_order(f"{reference_prefix}-{k + 1}", draft=False) for k in sorted(set(approved))]
