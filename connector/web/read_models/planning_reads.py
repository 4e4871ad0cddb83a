"""The planning pages' reads: the shop's SKU plans, suppliers and draft purchase orders."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.plans.planning_runs import DRAFT_PREFIX
from connector.storage.tables import PlanRunRow, PromotionRow, PurchaseOrderRow, SkuPlanRow, SupplierRow


@dataclass(frozen=True)
class PlanningOverview:
    plans: list[SkuPlanRow]  # most to order first, then the likeliest to run out
    suppliers: dict[int, SupplierRow]
    drafts_by_supplier: dict[int | None, list[PurchaseOrderRow]]  # the plan's draft orders


def planning_overview(session: Session, shop_id: int) -> PlanningOverview:
    plans = list(session.scalars(select(SkuPlanRow).where(SkuPlanRow.shop_id == shop_id).order_by(
        SkuPlanRow.suggested_quantity.desc(), SkuPlanRow.stockout_probability.desc(), SkuPlanRow.sku)))
    suppliers = {r.id: r for r in session.scalars(select(SupplierRow).where(SupplierRow.shop_id == shop_id))}
    drafts = session.scalars(select(PurchaseOrderRow).where(
        PurchaseOrderRow.shop_id == shop_id, PurchaseOrderRow.draft.is_(True),
        PurchaseOrderRow.reference.startswith(DRAFT_PREFIX)).order_by(PurchaseOrderRow.id))
    by_supplier: dict[int | None, list[PurchaseOrderRow]] = defaultdict(list)
    for po in drafts:
        by_supplier[po.supplier_id].append(po)
    return PlanningOverview(plans, suppliers, dict(by_supplier))


@dataclass(frozen=True)
class SkuPlanDetail:
    plan: SkuPlanRow
    run: PlanRunRow | None
    supplier: SupplierRow | None


def sku_plan_detail(session: Session, shop_id: int, sku: str) -> SkuPlanDetail | None:
    plan = session.scalar(select(SkuPlanRow).where(SkuPlanRow.shop_id == shop_id, SkuPlanRow.sku == sku))
    if plan is None:
        return None
    supplier = session.get(SupplierRow, plan.supplier_id) if plan.supplier_id else None
    return SkuPlanDetail(plan, session.get(PlanRunRow, plan.run_id), supplier)


def purchase_order_reference(session: Session, po_id: int) -> str:
    row = session.get(PurchaseOrderRow, po_id)
    if row is None:
        raise LookupError(f"no purchase order {po_id}")
    return row.reference


def supplier_name(session: Session, supplier_id: int) -> str:
    row = session.get(SupplierRow, supplier_id)
    if row is None:
        raise LookupError(f"no supplier {supplier_id}")
    return row.name


def promotions_of(session: Session, shop_id: int) -> list[PromotionRow]:
    """The shop's promotion calendar, latest first."""
    return list(session.scalars(select(PromotionRow).where(PromotionRow.shop_id == shop_id)
                                .order_by(PromotionRow.starts_on.desc(), PromotionRow.id)))
