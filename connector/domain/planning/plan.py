"""`plan_shop`: the whole nightly plan of one shop, from plain inputs to plain results.

A pipeline of the named steps in `steps` (agility, supplier choice, stock and incoming, dropship,
forecasts, policy, urgent needs, draft purchase orders, the damped plan), then signals and the
per-SKU results.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from connector.domain.model import Backorder, PurchaseOrder, StockLevel, Supplier, SupplierOffer, Variant
from connector.domain.planning import signals, steps
from connector.domain.planning.agility import Delivery, SupplierAgility
from connector.domain.planning.dropship_choice import Route
from connector.domain.planning.export import SupplierExport
from connector.domain.planning.forecast import Forecasts
from connector.domain.planning.history import DemandHistory, DemandRecord
from connector.domain.planning.plan_settings import PlanSettings
from connector.domain.planning.promotions import Promotion
from connector.domain.planning.supplier_choice import DraftPurchaseOrder, SupplierChoice, UrgentNeed

DEFAULT_LEAD = steps.DEFAULT_LEAD
DEFAULT_LEAD_SD = steps.DEFAULT_LEAD_SD
MAX_HORIZON = steps.MAX_HORIZON


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
    promotions: Iterable[Promotion] = (),
) -> ShopPlan:
    """Plan one shop as of the morning of `as_of` (history covers the days before it).

    `purchase_orders`: open ones count as incoming stock (drafts and received ones are ignored).
    `waiting`: backorders; only WAITING ones matter. `deliveries`: received purchase orders, for
    observed lead times and on-time rates. Every SKU seen in history, stock, offers or backorders
    is planned. `promotions`: the merchant's calendar; their days leave the baseline and get their uplift back.
    """
    inputs = steps.shop_inputs(shop, as_of, history, stock, purchase_orders, suppliers, offers, waiting, variants,
                               deliveries, settings or PlanSettings(), promotions)
    agile = steps.agility(inputs.deliveries)
    sup = steps.supply(inputs, agile)
    horizon = steps.horizon_days(sup.lead, sup.lead_sd, inputs.settings)
    held = steps.stock_and_incoming(inputs, horizon)
    routed = steps.dropship(inputs, sup.lead, sup.lead_sd, held)
    fc, agile = steps.forecasts(inputs, horizon, agile)
    plan = steps.reorder(fc, sup, held, routed.dropshipped, inputs.settings)
    urgent = steps.urgent_needs(inputs, held, routed.still_waiting, agile)
    suggested = steps.with_urgent(plan.suggested, urgent, inputs.index)
    drafts = steps.draft_orders(inputs, sup, plan, suggested, urgent)
    exports = steps.damped_plan(inputs, fc, sup, plan, suggested)
    flagged = signals.detect(inputs.history, fc, inputs.settings)
    results = sku_plans(inputs, fc, sup, held, routed, plan, suggested, urgent, flagged)
    return ShopPlan(shop, as_of, results, drafts, routed.routes, exports, tuple(agile[k] for k in sorted(agile)))


def sku_plans(
    inputs: steps.ShopInputs,
    fc: Forecasts,
    sup: steps.Supply,
    held: steps.StockPosition,
    routed: steps.Dropship,
    plan: steps.Reorder,
    suggested: Sequence[float],
    urgent: Mapping[str, UrgentNeed],
    flagged: Mapping[str, tuple[signals.Signal, ...]],
) -> tuple[SkuPlan, ...]:
    """One `SkuPlan` per SKU, from the steps' results."""
    cover = np.ceil(sup.lead + inputs.settings.review_period_days).astype(int)
    pol = plan.policy
    out = []
    for i, sku in enumerate(inputs.skus):
        span = fc.daily[i, : max(1, min(cover[i], fc.horizon))]
        out.append(
            SkuPlan(
                sku=sku,
                model=str(fc.model[i]),
                demand_class=str(fc.demand_class[i]),
                forecast_per_day=float(span.mean()),
                forecast=tuple(round(float(x), 3) for x in span),
                error=ForecastError(_opt(fc.rmse[i]), _opt(fc.mae[i]), _opt(fc.bias[i]), _opt(fc.rmsse[i])),
                spread=float(fc.spread[i]),
                signals=flagged.get(sku, ()),
                supplier=sup.choices[i],
                lead_time_mean=float(sup.lead[i]),
                lead_time_sd=float(sup.lead_sd[i]),
                stock=int(held.net[i]),
                incoming=int(held.incoming[i]),
                dropshipped=int(routed.dropshipped[i]),
                position=float(plan.position[i]),
                safety_stock=float(pol.safety_stock[i]),
                reorder_point=float(pol.reorder_point[i]),
                order_up_to=float(pol.order_up_to[i]),
                suggested_quantity=int(suggested[i]),
                stockout_probability=float(plan.stockout_probability[i]),
                expected_backorder_cost=float(plan.expected_backorder_cost[i]),
                urgent=urgent.get(sku),
            )
        )
    return tuple(out)


def incoming_from_drafts(
    drafts: Sequence[DraftPurchaseOrder], approved: Iterable[int], reference_prefix: str
) -> list[PurchaseOrder]:
    """The drafts the merchant approved (by position), as purchase orders that count as incoming stock."""
    return [drafts[k].to_purchase_order(f"{reference_prefix}-{k + 1}", draft=False) for k in sorted(set(approved))]
