"""Planning runs: load a shop's facts from storage, run `plan_shop`, store what it found.

A run reads daily demand from order lines (backordered units included: they are real demand),
stock, open purchase orders, suppliers and offers, waiting backorders (lines already routed to
dropship are covered and left out) and received purchase orders (observed lead times for
supplier agility). It stores one `plan_runs` row, replaces the shop's `sku_plans`, and replaces
the draft purchase orders planning proposed before and the merchant did not approve (drafts the
merchant made by hand, approved and received orders are never touched).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from connector.backorders.dropship_routing import plan_settings_for
from connector.domain.model import Backorder, BackorderState, Promise, StockLevel, Variant
from connector.domain.planning.agility import Delivery
from connector.domain.planning.history import DemandHistory, DemandRecord, build_history
from connector.domain.planning.plan_settings import PlanSettings
from connector.domain.planning.promotions import Promotion
from connector.plans.promotion_calendar import AHEAD_DAYS, load_calendar
from connector.shops.shop_days import shop_today
from connector.shops.shop_settings import ShopSettings
from connector.storage.db import Database
from connector.storage.supply_models import offer_model, purchase_order_model, supplier_model
from connector.storage.tables import (
    BackorderRow,
    LineRouteRow,
    OrderLineRow,
    OrderRow,
    PlanRunRow,
    PurchaseOrderLineRow,
    PurchaseOrderRow,
    ShopRow,
    SkuPlanRow,
    StockLevelRow,
    SupplierOfferRow,
    SupplierRow,
    VariantRow,
)
from connector.storage.types import utcnow

if TYPE_CHECKING:
    from connector.domain.planning.plan import ShopPlan

log = logging.getLogger(__name__)

DRAFT_PREFIX = "PLAN-"  # references of the drafts planning proposes
CHART_HISTORY_DAYS = 56  # days of past demand stored with each SKU's plan, for its chart


@dataclass(frozen=True)
class PlanInputs:
    history: DemandHistory
    stock: list[StockLevel]
    purchase_orders: list[Any]
    suppliers: list[Any]
    offers: list[Any]
    waiting: list[Backorder]
    variants: list[Variant]
    deliveries: list[Delivery]
    promotions: list[Promotion] = field(default_factory=list)


def settings_of(shop: ShopRow, model_set: str | None = None) -> PlanSettings:
    overrides = {"model_set": model_set} if model_set else {}
    return plan_settings_for(ShopSettings.from_mapping(shop.settings), **overrides)


def demand_records(session: Session, shop: ShopRow, since: datetime) -> list[DemandRecord]:
    """Per order line since `since`: ordered units on the order's day, with the part that was backordered."""
    zone = ZoneInfo(shop.timezone or "UTC")
    rows = session.execute(
        select(OrderLineRow.sku, OrderRow.placed_at, OrderLineRow.quantity, OrderRow.cancelled,
               BackorderRow.peak_quantity)
        .join(OrderRow, OrderRow.id == OrderLineRow.order_id)
        .outerjoin(BackorderRow, BackorderRow.line_id == OrderLineRow.id)
        .where(OrderLineRow.shop_id == shop.id, OrderRow.placed_at >= since,
               OrderLineRow.requires_shipping.is_(True), OrderLineRow.quantity > 0)
    )
    return [DemandRecord(sku, placed.astimezone(zone).date(), qty, min(peak or 0, qty), bool(cancelled))
            for sku, placed, qty, cancelled, peak in rows]


def load_inputs(session: Session, shop: ShopRow, as_of: date, settings: PlanSettings) -> PlanInputs:
    domain = shop.domain
    since = datetime.combine(as_of - timedelta(days=settings.history_days + 1), datetime.min.time(),
                             ZoneInfo(shop.timezone or "UTC"))
    records = demand_records(session, shop, since)
    stock = [StockLevel(domain, r.sku, r.location, r.available)
             for r in session.scalars(select(StockLevelRow).where(StockLevelRow.shop_id == shop.id)) if r.sku]
    suppliers = [supplier_model(r, domain)
                 for r in session.scalars(select(SupplierRow).where(SupplierRow.shop_id == shop.id))]
    offers = [offer_model(r)
              for r in session.scalars(select(SupplierOfferRow).where(SupplierOfferRow.shop_id == shop.id))]
    pos = list(session.scalars(select(PurchaseOrderRow).where(PurchaseOrderRow.shop_id == shop.id)))
    open_pos = [purchase_order_model(p, domain) for p in pos if not p.draft and p.received_on is None]
    deliveries = [Delivery(p.supplier_id, p.ordered_on, p.expected_on, p.received_on,
                           purchase_order_model(p, domain).lines)
                  for p in pos if p.supplier_id is not None and p.received_on is not None and p.ordered_on is not None
                  and p.received_on >= p.ordered_on]
    routed = set(session.scalars(select(LineRouteRow.line_id).where(LineRouteRow.shop_id == shop.id)))
    waiting = []
    for b in session.scalars(select(BackorderRow).where(BackorderRow.shop_id == shop.id,
                                                        BackorderRow.state == BackorderState.WAITING)):
        if b.line_id in routed:
            continue  # the dropship supplier covers it
        promise = (Promise(b.eta_p50, b.eta_p90 or b.eta_p50, b.promised_on, b.created_at)
                   if b.eta_p50 and b.promised_on else None)
        waiting.append(Backorder(domain, str(b.order_id), str(b.line_id), b.sku, b.quantity,
                                 BackorderState.WAITING, promise))
    variants = [Variant(domain, v.sku, v.title, v.price, bool(v.sells_when_out_of_stock),
                        lead_time_days=v.lead_time_days)
                for v in session.scalars(select(VariantRow).where(VariantRow.shop_id == shop.id))]
    extra = {s.sku for s in stock} | {o.sku for o in offers} | {b.sku for b in waiting}
    history = build_history(records, as_of, settings.history_days, skus=extra)
    calendar = load_calendar(session, shop.id, history.first_day, as_of + timedelta(days=AHEAD_DAYS))
    return PlanInputs(history, stock, open_pos, suppliers, offers, waiting, variants, deliveries, calendar)


def latest_run(session: Session, shop_id: int, *, done: bool = False) -> PlanRunRow | None:
    query = select(PlanRunRow).where(PlanRunRow.shop_id == shop_id)
    if done:
        query = query.where(PlanRunRow.status == "done")
    return session.scalar(query.order_by(PlanRunRow.started_at.desc(), PlanRunRow.id.desc()).limit(1))


def start_run(session: Session, shop: ShopRow, now: datetime, trigger: str = "merchant",
              model_set: str | None = None) -> PlanRunRow:
    """A run row in state running (commit it to show progress while a background thread plans)."""
    run = PlanRunRow(shop_id=shop.id, as_of=shop_today(shop, now), trigger=trigger, model_set=model_set or "?",
                     status="running", started_at=now)
    session.add(run)
    session.flush()
    return run


def running(session: Session, shop_id: int, now: datetime) -> PlanRunRow | None:
    """A run of the shop still going (started within the last hour: an older one died with its process)."""
    return session.scalar(select(PlanRunRow).where(
        PlanRunRow.shop_id == shop_id, PlanRunRow.status == "running",
        PlanRunRow.started_at > now - timedelta(hours=1)).limit(1))


def shop_size(session: Session, shop_id: int) -> int:
    """SKUs the shop sells or stocks: decides whether an on-demand run waits for the answer."""
    sold = select(OrderLineRow.sku).where(OrderLineRow.shop_id == shop_id)
    stocked = select(StockLevelRow.sku).where(StockLevelRow.shop_id == shop_id)
    return len(set(session.scalars(sold.union(stocked))))


def _plan(domain: str, as_of: date, inputs: PlanInputs, settings: PlanSettings) -> ShopPlan:
    """Run the pure planner on the loaded inputs. Imported here, not at the top: the forecasting
    stack takes seconds to load, and the pages and workers that only read stored plans never need it."""
    from connector.domain.planning.plan import plan_shop

    return plan_shop(domain, as_of, inputs.history, inputs.stock, inputs.purchase_orders, inputs.suppliers,
                     inputs.offers, inputs.waiting, inputs.variants, inputs.deliveries, settings,
                     promotions=inputs.promotions)


def run_plan(session: Session, shop: ShopRow, now: datetime, trigger: str = "merchant",
             model_set: str | None = None, run: PlanRunRow | None = None) -> PlanRunRow:
    """Plan the shop now and store the results (in the caller's transaction). A failure (bad planning
    settings, bad data) is recorded on the run — status failed, with the error — and the previous
    results are kept. `run`: one made by `start_run` (a background run), else a new one."""
    as_of = shop_today(shop, now)
    if run is None:
        run = start_run(session, shop, now, trigger, model_set)
    try:
        with session.begin_nested():  # a failure rolls back to here: the previous plan stays
            settings = settings_of(shop, model_set)
            run.model_set = settings.model_set
            inputs = load_inputs(session, shop, as_of, settings)
            plan = _plan(shop.domain, as_of, inputs, settings)
            _store(session, shop, run, plan, inputs)
        run.status = "done"
    except Exception as exc:  # noqa: BLE001 - recorded for the merchant; the previous plan stays
        log.exception("planning of %s failed", shop.domain)
        run.status, run.error = "failed", failure_reason(exc)
    run.finished_at = max(utcnow(), now)
    return run


def plan_detached(db: Database, shop_id: int, clock: Callable[[], datetime], trigger: str = "nightly",
                  model_set: str | None = None, run_id: int | None = None) -> tuple[int, str]:
    """Plan a shop outside a request: read and compute in a read-only session (on SQLite it holds no
    write lock, so webhooks keep flowing while the forecasts run), then store the results in one
    short write transaction. Returns (run id, status). `run_id`: a run `start_run` committed."""
    now = clock()
    with db.session(background=True) as s:
        shop = s.get(ShopRow, shop_id)
        if shop is None:
            raise LookupError(shop_id)
        run = s.get(PlanRunRow, run_id) if run_id is not None else start_run(s, shop, now, trigger, model_set)
        assert run is not None  # nosec B101  # narrows the type; an invariant, not a check of input
        run_id, as_of = run.id, run.as_of
    try:
        with db.read() as s:
            shop = s.get(ShopRow, shop_id)
            assert shop is not None  # nosec B101  # narrows the type; an invariant, not a check of input
            settings = settings_of(shop, model_set)
            inputs = load_inputs(s, shop, as_of, settings)
        plan = _plan(shop.domain, as_of, inputs, settings)
        with db.session(background=True) as s:
            shop, run = s.get(ShopRow, shop_id), s.get(PlanRunRow, run_id)
            assert shop is not None and run is not None  # nosec B101  # narrows the type; an invariant, not a check of input
            run.model_set = settings.model_set
            _store(s, shop, run, plan, inputs)
            run.status, run.finished_at = "done", max(utcnow(), now)
        return run_id, "done"
    except Exception as exc:  # noqa: BLE001 - recorded for the merchant; the previous plan stays
        log.exception("planning of shop %s failed", shop_id)
        with db.session(background=True) as s:
            run = s.get(PlanRunRow, run_id)
            assert run is not None  # nosec B101  # narrows the type; an invariant, not a check of input
            run.status, run.error, run.finished_at = "failed", failure_reason(exc), max(utcnow(), now)
        return run_id, "failed"


def failure_reason(exc: BaseException) -> str:
    """What the planning page says about a failed run."""
    if type(exc).__name__ == "SoftTimeLimitExceeded":  # Celery's soft time limit (connector.tasks.PLAN_SOFT_LIMIT)
        return "planning took longer than the nightly job's time limit; the previous plan is kept"
    return f"{type(exc).__name__}: {exc}"


def _store(session: Session, shop: ShopRow, run: PlanRunRow, plan: ShopPlan, inputs: PlanInputs) -> None:
    history = inputs.history
    row_of = {sku: i for i, sku in enumerate(history.skus)}
    session.execute(delete(SkuPlanRow).where(SkuPlanRow.shop_id == shop.id))
    flagged = 0
    cap = ShopSettings.from_mapping(shop.settings).max_order_quantity
    for p in plan.skus:
        i = row_of.get(p.sku)
        past = history.values[i, -CHART_HISTORY_DAYS:] if i is not None else []
        flags = [{"kind": s.kind, "day": s.day.isoformat(), "magnitude": round(float(s.magnitude), 2),
                  "detail": s.detail} for s in p.signals]
        suggested = p.suggested_quantity
        if suggested > cap:
            flags.append(_capped_flag(run, suggested, cap))
            suggested = cap
        flagged += bool(flags)
        session.add(SkuPlanRow(
            shop_id=shop.id, run_id=run.id, sku=p.sku, model=p.model, demand_class=p.demand_class,
            forecast=list(p.forecast), history=[None if x != x else float(x) for x in past],
            forecast_per_day=p.forecast_per_day, error_rmse=p.error.rmse, error_mae=p.error.mae,
            error_bias=p.error.bias,
            flags=flags,
            supplier_id=p.supplier.supplier_id if p.supplier else None, lead_time_mean=p.lead_time_mean,
            stock=p.stock, incoming=p.incoming, safety_stock=p.safety_stock, reorder_point=p.reorder_point,
            order_up_to=p.order_up_to, suggested_quantity=suggested,
            stockout_probability=p.stockout_probability, expected_backorder_cost=p.expected_backorder_cost,
        ))
    # the drafts planning proposed before and the merchant did not approve make way for the new ones
    old = session.scalars(select(PurchaseOrderRow).where(
        PurchaseOrderRow.shop_id == shop.id, PurchaseOrderRow.draft.is_(True),
        PurchaseOrderRow.reference.startswith(DRAFT_PREFIX)))
    for po in old:
        session.delete(po)
    session.flush()
    for k, draft in enumerate(plan.drafts, start=1):
        po = PurchaseOrderRow(shop_id=shop.id, supplier_id=draft.supplier_id,
                              reference=f"{DRAFT_PREFIX}{run.as_of:%Y%m%d}-{run.id}-{k}" + ("-URGENT" if draft.urgent
                                                                                            else ""),
                              expected_on=draft.expected_on, draft=True, created_at=run.started_at)
        units: dict[str, int] = {}
        for li in draft.lines:  # units for waiting customers and the reorder of one SKU make one line
            units[li.sku] = units.get(li.sku, 0) + li.quantity
        po.lines = [PurchaseOrderLineRow(sku=sku, quantity=min(q, cap)) for sku, q in units.items()]
        session.add(po)
    names = {s.id: s.name for s in inputs.suppliers}
    run.skus, run.drafts, run.flagged = len(plan.skus), len(plan.drafts), flagged
    run.agility = [{
        "supplier_id": a.supplier_id, "name": names.get(a.supplier_id, f"#{a.supplier_id}"),
        "deliveries": a.deliveries, "lead_time_mean": a.lead_time_mean, "lead_time_sd": a.lead_time_sd,
        "on_time_rate": a.on_time_rate, "spikes_followed": a.spikes_followed,
        "catch_up_days_mean": a.catch_up_days_mean, "spikes_not_caught_up": a.spikes_not_caught_up,
        "trusted": a.trusted,
    } for a in plan.agility]
    run.exports = [{
        "supplier_id": e.supplier.id, "first_day": e.first_day.isoformat(), "period_days": e.period_days,
        "items": [{"sku": it.sku, "forecast": list(it.forecast), "planned_orders": list(it.planned_orders),
                   "firm_order": it.firm_order} for it in e.items],
    } for e in plan.exports]


def _capped_flag(run: PlanRunRow, suggested: int, cap: int) -> dict[str, Any]:
    return {"kind": "capped", "day": run.as_of.isoformat(), "magnitude": float(min(suggested, 10**15)),
            "detail": f"planning suggested {suggested:,} units; capped at the shop's limit of {cap:,} per order"}


def plan_due(session: Session, shop: ShopRow, now: datetime) -> bool:
    """Whether the nightly run of the shop's today is still to do (a done run today counts)."""
    today = shop_today(shop, now)
    return session.scalar(select(PlanRunRow.id).where(
        PlanRunRow.shop_id == shop.id, PlanRunRow.as_of == today, PlanRunRow.status == "done").limit(1)) is None
