"""The named steps of a shop's nightly plan, each a function of plain values (see `plan.plan_shop`).

Order of work: `shop_inputs` (checks and indexes the inputs), `agility` (observed supplier lead
times and on-time rates), `supply` (supplier choice and lead time per SKU), `stock_and_incoming`
(stock net of backorders, open purchase orders by arrival day), `dropship` (routes for waiting
backorders; dropshipped units leave the shortage), `forecasts` (demand, then the suppliers'
catch-up after past spikes), `reorder` (policy on the inventory position), `urgent_needs` (orders
for waiting customers who would miss their promise), `draft_orders` (draft purchase orders per
supplier), `damped_plan` (the plan shared with each supplier). Each step takes what the ones before
it returned and returns a value; none reads a database or the clock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from connector.domain.model import (
    Backorder,
    BackorderState,
    PurchaseOrder,
    StockLevel,
    Supplier,
    SupplierOffer,
    Variant,
)
from connector.domain.planning import bullwhip, policy, signals
from connector.domain.planning.agility import Delivery, SupplierAgility, supplier_agility
from connector.domain.planning.dropship_choice import DROPSHIP, RESTOCK, Z90, BackorderedLine, Route, route_line
from connector.domain.planning.export import SupplierExport, SupplierSkuPlan
from connector.domain.planning.forecast import Forecasts, forecast_demand
from connector.domain.planning.history import DemandHistory, DemandRecord, build_history
from connector.domain.planning.plan_settings import PlanSettings
from connector.domain.planning.promotions import Promotion, promotion_days
from connector.domain.planning.supplier_choice import (
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


@dataclass(frozen=True, eq=False)
class ShopInputs:
    """One shop's inputs, filtered and indexed: only what the plan uses."""

    shop: str
    as_of: date
    history: DemandHistory  # every SKU seen in history, stock, offers or waiting backorders
    stock: tuple[StockLevel, ...]
    purchase_orders: tuple[PurchaseOrder, ...]  # open ones only (not drafts, not received)
    suppliers: Mapping[int, Supplier]
    offers: Mapping[str, tuple[SupplierOffer, ...]]  # by SKU
    waiting: tuple[Backorder, ...]  # WAITING backorders only
    variants: Mapping[str, Variant]  # by SKU
    deliveries: tuple[Delivery, ...]
    settings: PlanSettings
    promotions: tuple[Promotion, ...] = ()  # the merchant's promotion calendar

    @property
    def skus(self) -> tuple[str, ...]:
        return self.history.skus

    @property
    def index(self) -> dict[str, int]:
        return {sku: i for i, sku in enumerate(self.history.skus)}


def _add_skus(history: DemandHistory, extra: Iterable[str]) -> DemandHistory:
    missing = sorted(set(extra) - set(history.skus))
    if not missing:
        return history
    values = np.vstack([history.values, np.full((len(missing), history.days), np.nan)])
    return DemandHistory(history.skus + tuple(missing), history.first_day, values)


def shop_inputs(
    shop: str,
    as_of: date,
    history: DemandHistory | Iterable[DemandRecord],
    stock: Iterable[StockLevel],
    purchase_orders: Iterable[PurchaseOrder],
    suppliers: Iterable[Supplier],
    offers: Iterable[SupplierOffer],
    waiting: Iterable[Backorder],
    variants: Iterable[Variant],
    deliveries: Iterable[Delivery],
    settings: PlanSettings,
    promotions: Iterable[Promotion] = (),
) -> ShopInputs:
    """Keep what the plan uses (open purchase orders, waiting backorders) and plan every SKU seen."""
    offers = tuple(offers)
    stock = tuple(stock)
    waiting = tuple(b for b in waiting if b.state is BackorderState.WAITING)
    extra = {s.sku for s in stock if s.sku} | {o.sku for o in offers} | {b.sku for b in waiting}
    if not isinstance(history, DemandHistory):
        history = build_history(history, as_of, settings.history_days, skus=extra)
    by_sku: dict[str, list[SupplierOffer]] = defaultdict(list)
    for o in offers:
        by_sku[o.sku].append(o)
    return ShopInputs(
        shop=shop,
        as_of=as_of,
        history=_add_skus(history, extra),
        stock=stock,
        purchase_orders=tuple(po for po in purchase_orders if not po.draft and po.received_on is None),
        suppliers={s.id: s for s in suppliers if s.id is not None},
        offers={sku: tuple(items) for sku, items in by_sku.items()},
        waiting=waiting,
        variants={v.sku: v for v in variants},
        deliveries=tuple(deliveries),
        settings=settings,
        promotions=tuple(promotions),
    )


def agility(deliveries: Sequence[Delivery], past_spikes: Sequence[signals.Signal] = ()
            ) -> dict[int, SupplierAgility]:
    """Observed lead times and on-time rates per supplier; catch-up days once spikes are known."""
    return {sid: supplier_agility(sid, deliveries, past_spikes) for sid in sorted({d.supplier_id for d in deliveries})}


@dataclass(frozen=True, eq=False)
class Supply:
    """Per SKU (aligned with the history's SKUs): the supplier chosen and its lead time."""

    choices: tuple[SupplierChoice | None, ...]
    lead: np.ndarray  # mean lead time, days
    lead_sd: np.ndarray
    unit_cost: np.ndarray


def supply(inputs: ShopInputs, agile: Mapping[int, SupplierAgility]) -> Supply:
    """Supplier choice per SKU; a variant's own lead time overrides the supplier's."""
    choices = tuple(
        choose_supplier(sku, inputs.offers.get(sku, ()), inputs.suppliers, inputs.settings, agile)
        for sku in inputs.skus
    )
    lead = np.array([c.lead_time_mean if c else DEFAULT_LEAD for c in choices], dtype=float)
    lead_sd = np.array([c.lead_time_sd if c else DEFAULT_LEAD_SD for c in choices], dtype=float)
    index = inputs.index
    for sku, v in inputs.variants.items():
        if v.lead_time_days is not None and sku in index:
            lead[index[sku]] = float(v.lead_time_days)
    unit_cost = np.array([float(c.unit_cost) if c else 0.0 for c in choices])
    return Supply(choices, lead, lead_sd, unit_cost)


def horizon_days(lead: np.ndarray, lead_sd: np.ndarray, settings: PlanSettings) -> int:
    """Days to forecast: the longest lead time (plus three spreads), a review period and the plan's periods."""
    longest = max(np.ceil(lead.max(initial=0) + 3 * lead_sd.max(initial=0)), np.ceil(lead.max(initial=0)))
    r = settings.review_period_days
    return int(min(MAX_HORIZON, longest + r + settings.plan_periods * r))


@dataclass(frozen=True, eq=False)
class StockPosition:
    net: np.ndarray  # available, net of waiting backorders (may be negative)
    waiting: np.ndarray  # units on waiting backorders
    arrivals: np.ndarray  # (n, horizon) open purchase order units by expected day
    incoming: np.ndarray  # units on open purchase orders

    @property
    def free(self) -> np.ndarray:
        """Stock before the waiting backorders are taken off."""
        return self.net + self.waiting


def stock_and_incoming(inputs: ShopInputs, horizon: int) -> StockPosition:
    """Stock net of backorders; open purchase orders as arrivals by day (late ones arrive today)."""
    index = inputs.index
    n = len(index)
    net = np.zeros(n)
    for s in inputs.stock:
        if s.sku in index:
            net[index[s.sku]] += s.available
    waiting = np.zeros(n)
    for b in inputs.waiting:
        waiting[index[b.sku]] += b.quantity
    if not inputs.settings.stock_nets_backorders:
        net = net - waiting
    arrivals = np.zeros((n, horizon))
    incoming = np.zeros(n)
    for po in inputs.purchase_orders:
        day = min(max((po.expected_on - inputs.as_of).days, 0), horizon - 1)
        for li in po.lines:
            if li.sku in index and li.incoming_quantity > 0:
                arrivals[index[li.sku], day] += li.incoming_quantity
                incoming[index[li.sku]] += li.incoming_quantity
    return StockPosition(net, waiting, arrivals, incoming)


def waiting_by_sku(waiting: Iterable[Backorder]) -> dict[str, list[Backorder]]:
    out: dict[str, list[Backorder]] = defaultdict(list)
    for b in waiting:
        out[b.sku].append(b)
    return dict(out)


@dataclass(frozen=True, eq=False)
class Dropship:
    routes: tuple[Route, ...]
    dropshipped: np.ndarray  # units per SKU routed to dropship: no longer short
    still_waiting: dict[str, list[Backorder]]  # by SKU: the backorders that wait for restock


def _route(inputs: ShopInputs, b: Backorder, served: date | None, eta: date, p90: date) -> Route:
    as_of = inputs.as_of
    if served is not None and served <= as_of:  # stock on hand covers it: ships from stock
        return Route(b.order_id, b.line_id, b.sku, RESTOCK, None, as_of, as_of, "stock on hand covers it")
    variant = inputs.variants.get(b.sku)
    price = variant.price if variant is not None else Decimal("Infinity")
    line = BackorderedLine(b.order_id, b.line_id, b.sku, b.quantity, price)
    return route_line(line, served or eta, served or p90, inputs.offers.get(b.sku, ()), inputs.suppliers,
                      inputs.settings, as_of)


def dropship(inputs: ShopInputs, lead: np.ndarray, lead_sd: np.ndarray, stock: StockPosition) -> Dropship:
    """Route each waiting backorder; restock dates follow first-come-first-served supply."""
    index = inputs.index
    routes: list[Route] = []
    dropshipped = np.zeros(len(index))
    still: dict[str, list[Backorder]] = {}
    for sku, items in waiting_by_sku(inputs.waiting).items():
        i = index[sku]
        eta = inputs.as_of + timedelta(days=round(lead[i]))
        p90 = inputs.as_of + timedelta(days=round(lead[i] + Z90 * lead_sd[i]))
        keep = []
        for b, served in service_dates(sku, int(stock.free[i]), items, inputs.purchase_orders, inputs.as_of):
            route = _route(inputs, b, served, eta, p90)
            routes.append(route)
            if route.route == DROPSHIP:
                dropshipped[i] += b.quantity
            else:
                keep.append(b)
        still[sku] = keep
    return Dropship(tuple(routes), dropshipped, still)


def forecasts(inputs: ShopInputs, horizon: int, agile: dict[int, SupplierAgility]
              ) -> tuple[Forecasts, dict[int, SupplierAgility]]:
    """Forecasts; then the spikes of the whole history, to see how fast each supplier caught up."""
    known = promotion_days(inputs.promotions, inputs.history, horizon)
    fc = forecast_demand(inputs.history, horizon, inputs.settings, known)
    if inputs.deliveries:
        whole = replace(inputs.settings, spike_window_days=inputs.history.days)
        agile = agility(inputs.deliveries, signals.spikes(inputs.history, fc, whole))
    return fc, agile


@dataclass(frozen=True, eq=False)
class Reorder:
    position: np.ndarray  # stock + incoming + dropshipped
    policy: policy.Policy
    suggested: np.ndarray  # units to order now (before urgent needs)
    stockout_probability: np.ndarray  # before a delivery ordered now would arrive
    expected_backorder_cost: np.ndarray


def reorder(fc: Forecasts, sup: Supply, stock: StockPosition, dropshipped: np.ndarray,
            settings: PlanSettings) -> Reorder:
    """The (s, S) policy on the inventory position, and the risk before an order placed now arrives."""
    position = stock.net + stock.incoming + dropshipped
    r = settings.review_period_days
    eoq = policy.economic_order_quantity(fc.daily[:, :r].mean(axis=1), sup.unit_cost, settings.ordering_cost,
                                         settings.holding_cost_rate)
    pol = policy.reorder_policy(fc.daily, fc.spread, sup.lead, sup.lead_sd, settings.service_level, r, eoq,
                                fc.level_spread)
    suggested = policy.suggested_quantity(position, pol)
    n, horizon = fc.daily.shape
    available_by_day = (stock.net + dropshipped)[:, None] + np.cumsum(stock.arrivals, axis=1)
    lead_day = np.clip(np.ceil(sup.lead).astype(int) - 1, 0, horizon - 1)
    p_out = policy.stockout_probability(available_by_day[np.arange(n), lead_day], pol)
    unit_days = policy.expected_backorder_unit_days(fc.daily, fc.spread, available_by_day, sup.lead, fc.level_spread)
    return Reorder(position, pol, suggested, p_out, unit_days * settings.penalty_per_unit_day)


def urgent_needs(inputs: ShopInputs, stock: StockPosition, still_waiting: Mapping[str, list[Backorder]],
                 agile: Mapping[int, SupplierAgility]) -> dict[str, UrgentNeed]:
    """For waiting customers who would miss their promise: the fastest order that serves them."""
    urgent: dict[str, UrgentNeed] = {}
    index = inputs.index
    for sku, items in still_waiting.items():
        served = service_dates(sku, int(stock.free[index[sku]]), items, inputs.purchase_orders, inputs.as_of)
        need = urgent_need(sku, late_backorders(served), inputs.offers.get(sku, ()), inputs.suppliers,
                           inputs.as_of, agile)
        if need is not None:
            urgent[sku] = need
    return urgent


def with_urgent(suggested: np.ndarray, urgent: Mapping[str, UrgentNeed], index: Mapping[str, int]) -> np.ndarray:
    """Order quantities that cover at least each urgent need."""
    out = suggested.copy()
    for sku, need in urgent.items():
        out[index[sku]] = max(int(out[index[sku]]), need.quantity)
    return out


def _urgent_line(need: UrgentNeed, as_of: date) -> tuple[int, float, bool, DraftLine]:
    terms = "urgent terms" if need.urgent_terms else "normal terms"
    why = (f"{need.quantity} units for waiting customers promised by {need.due.isoformat()}, {terms}"
           + ("" if need.meets_promise else " (still late: fastest option)"))
    return need.supplier_id, (need.arrives_on - as_of).days, need.urgent_terms, DraftLine(
        need.sku, need.quantity, need.unit_cost, why)


def draft_orders(inputs: ShopInputs, sup: Supply, plan: Reorder, suggested: np.ndarray,
                 urgent: Mapping[str, UrgentNeed]) -> tuple[DraftPurchaseOrder, ...]:
    """Draft purchase orders per supplier: urgent lines on their terms, the rest on the chosen supplier's."""
    lines: list[tuple[int, float, bool, DraftLine]] = []
    pol = plan.policy
    for i, sku in enumerate(inputs.skus):
        q = int(suggested[i])
        need = urgent.get(sku)
        if need is not None:
            lines.append(_urgent_line(need, inputs.as_of))
            q -= need.quantity
        choice = sup.choices[i]
        if q > 0 and choice is not None:
            why = (f"position {plan.position[i]:.0f} <= reorder point {pol.reorder_point[i]:.1f}; "
                   f"up to {pol.order_up_to[i]:.1f}; {choice.reason}")
            lines.append((choice.supplier_id, sup.lead[i], False, DraftLine(sku, q, choice.unit_cost, why)))
    return tuple(group_drafts(inputs.shop, inputs.as_of, lines))


def damped_plan(inputs: ShopInputs, fc: Forecasts, sup: Supply, plan: Reorder, suggested: np.ndarray
                ) -> tuple[SupplierExport, ...]:
    """The plan shared with each supplier: this period's firm order, then damped orders for later periods."""
    settings = inputs.settings
    r = settings.review_period_days
    periods = bullwhip.period_sums(fc.daily, r, settings.plan_periods)
    after_firm = plan.position + suggested - periods[:, 0]
    shared = (
        bullwhip.damped_plan(periods[:, 1:], after_firm, plan.policy.safety_stock, sup.lead / r,
                             settings.damping_periods, settings.max_change_ratio)
        if settings.plan_periods > 1
        else None
    )
    per_supplier: dict[int, list[SupplierSkuPlan]] = defaultdict(list)
    for i, choice in enumerate(sup.choices):
        if choice is None:
            continue
        later = () if shared is None else tuple(int(x) for x in shared.orders[i])
        firm = int(suggested[i])
        per_supplier[choice.supplier_id].append(
            SupplierSkuPlan(inputs.skus[i], tuple(round(float(x), 1) for x in periods[i]), (firm,) + later, firm)
        )
    return tuple(
        SupplierExport(inputs.shop, inputs.suppliers[sid], inputs.as_of, r, tuple(items))
        for sid, items in sorted(per_supplier.items())
    )
