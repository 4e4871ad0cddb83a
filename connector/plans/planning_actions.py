"""What the merchant does with a plan: approve or discard a draft purchase order, download a
supplier's export as CSV, and email it to the supplier (only once the merchant approved an order
of that supplier from the plan)."""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.backorders.selling_limits import limit_selling
from connector.backorders.storefront_publication import evaluate_and_publish as evaluate
from connector.dispatch.outbox import Kind, enqueue
from connector.domain.planning.export import SupplierExport, SupplierSkuPlan, supplier_email, to_csv
from connector.mail.plain import plain_payload
from connector.plans.planning_runs import DRAFT_PREFIX, latest_run
from connector.shops.shop_days import shop_today
from connector.shops.shop_settings import ShopSettings
from connector.storage.supply_models import supplier_model
from connector.storage.tables import PlanRunRow, PurchaseOrderRow, ShopRow, SupplierRow


class PlanActionError(ValueError):
    """The action cannot be done (the message says why); nothing was changed."""


def _draft(session: Session, shop: ShopRow, po_id: int) -> PurchaseOrderRow:
    po = session.get(PurchaseOrderRow, po_id)
    if po is None or po.shop_id != shop.id:
        raise LookupError(po_id)
    if not po.draft:
        raise PlanActionError(f"purchase order {po.reference} is not a draft any more")
    return po


def approve_draft(session: Session, shop: ShopRow, po_id: int, now: datetime) -> set[str]:
    """The draft becomes an order placed today: its stock counts as incoming, and the SKUs on it are
    re-evaluated at once (waiting customers' promises follow). Returns those SKUs."""
    po = _draft(session, shop, po_id)
    po.draft = False
    po.ordered_on = shop_today(shop, now)
    session.flush()
    skus = {li.sku for li in po.lines}
    if shop.status == "active":
        evaluate(session, shop, skus, now)
        limit_selling(session, shop, skus, now)
    return skus


def discard_draft(session: Session, shop: ShopRow, po_id: int) -> str:
    po = _draft(session, shop, po_id)
    reference = po.reference
    session.delete(po)
    return reference


def supplier_export(session: Session, shop: ShopRow, supplier_id: int, run: PlanRunRow | None = None
                    ) -> SupplierExport:
    """The latest run's damped forecast and planned orders for one supplier of the shop."""
    run = run or latest_run(session, shop.id, done=True)
    supplier = session.get(SupplierRow, supplier_id)
    if supplier is None or supplier.shop_id != shop.id:
        raise LookupError(supplier_id)
    if run is None:
        raise PlanActionError("planning has not run yet")
    for e in run.exports or ():
        if e["supplier_id"] == supplier_id:
            items = tuple(SupplierSkuPlan(i["sku"], tuple(i["forecast"]), tuple(i["planned_orders"]),
                                          int(i["firm_order"])) for i in e["items"])
            return SupplierExport(shop.domain, supplier_model(supplier, shop.domain),
                                  date.fromisoformat(e["first_day"]), int(e["period_days"]), items)
    raise PlanActionError(f"the latest plan has nothing for {supplier.name}")


def export_csv(session: Session, shop: ShopRow, supplier_id: int) -> tuple[str, str]:
    """(file name, CSV text) of a supplier's export."""
    export = supplier_export(session, shop, supplier_id)
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", export.supplier.name).strip("_") or f"supplier-{supplier_id}"
    return f"forecast-{name}-{export.first_day.isoformat()}.csv", to_csv(export)


def approved_plan_orders(session: Session, shop: ShopRow, supplier_id: int, run: PlanRunRow) -> list[PurchaseOrderRow]:
    """Orders of this supplier the merchant approved from this run's drafts."""
    prefix = f"{DRAFT_PREFIX}{run.as_of:%Y%m%d}-{run.id}-"
    return list(session.scalars(select(PurchaseOrderRow).where(
        PurchaseOrderRow.shop_id == shop.id, PurchaseOrderRow.supplier_id == supplier_id,
        PurchaseOrderRow.draft.is_(False), PurchaseOrderRow.reference.startswith(prefix))))


def email_export(session: Session, shop: ShopRow, supplier_id: int, now: datetime) -> bool:
    """Send the supplier its export (CSV attached) through the outbox. Only after the merchant approved
    an order of this supplier from the same plan; once per plan and supplier. True when enqueued now."""
    run = latest_run(session, shop.id, done=True)
    export = supplier_export(session, shop, supplier_id, run)
    assert run is not None  # nosec B101  # narrows the type; an invariant, not a check of input
    if not approved_plan_orders(session, shop, supplier_id, run):
        raise PlanActionError(f"approve the draft purchase order for {export.supplier.name} first")
    if not export.supplier.email:
        raise PlanActionError(f"{export.supplier.name} has no email address")
    message = supplier_email(export.approve(now), "planning@localhost", shop.name)
    body = message.get_body(("plain",))
    assert body is not None  # nosec B101  # narrows the type; an invariant, not a check of input
    settings = ShopSettings.from_mapping(shop.settings)
    filename = f"forecast-{shop.domain}-{export.first_day.isoformat()}.csv"
    payload = plain_payload(
        "supplier_forecast", export.supplier.email, str(message["Subject"]), body.get_content(),
        {"name": shop.name, "domain": shop.domain, "sender_name": settings.sender_name or shop.name,
         "reply_to": settings.reply_to or settings.merchant_email or None},
        [(filename, "text/csv", to_csv(export))],
    )
    return enqueue(session, shop_id=shop.id, order_id=None, kind=Kind.EMAIL,
                   key=f"{shop.platform}:{shop.domain}:plan:{run.id}:supplier:{supplier_id}:export",
                   payload=payload, now=now)


def ordered_from_plan(session: Session, shop: ShopRow, run: PlanRunRow) -> dict[str, int]:
    """Units per SKU on this run's drafts the merchant approved (the run's figures predate them)."""
    prefix = f"{DRAFT_PREFIX}{run.as_of:%Y%m%d}-{run.id}-"
    units: dict[str, int] = {}
    for po in session.scalars(select(PurchaseOrderRow).where(
            PurchaseOrderRow.shop_id == shop.id, PurchaseOrderRow.draft.is_(False),
            PurchaseOrderRow.reference.startswith(prefix))):
        for li in po.lines:
            units[li.sku] = units.get(li.sku, 0) + li.quantity
    return units
