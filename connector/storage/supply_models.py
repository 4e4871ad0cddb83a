"""Stored suppliers, offers and purchase orders as common-model values (for the planning code)."""

from __future__ import annotations

from connector.domain.model import PurchaseOrder, PurchaseOrderLine, Supplier, SupplierOffer, UrgentTerms
from connector.storage.tables import PurchaseOrderRow, SupplierOfferRow, SupplierRow


def supplier_model(row: SupplierRow, shop: str) -> Supplier:
    urgent = None
    if row.urgent_lead_time_days is not None and row.urgent_unit_premium is not None:
        urgent = UrgentTerms(row.urgent_unit_premium, float(row.urgent_lead_time_days))
    return Supplier(
        id=row.id, shop=shop, name=row.name, email=row.email, phone=row.phone,
        lead_time_mean_days=float(row.lead_time_mean_days), lead_time_spread_days=float(row.lead_time_spread_days),
        dropship_capable=bool(row.dropship_capable), local=bool(row.local), urgent=urgent,
    )


def offer_model(row: SupplierOfferRow) -> SupplierOffer:
    return SupplierOffer(row.supplier_id, row.sku, row.cost, row.lead_time_days, bool(row.primary))


def purchase_order_model(row: PurchaseOrderRow, shop: str) -> PurchaseOrder:
    return PurchaseOrder(
        id=row.id, shop=shop, supplier_id=row.supplier_id, reference=row.reference, expected_on=row.expected_on,
        lines=tuple(PurchaseOrderLine(li.sku, li.quantity, li.received_quantity) for li in row.lines),
        received_on=row.received_on, draft=bool(row.draft),
    )
