"""Dropship routing for backordered lines.

A backordered line goes to a dropship-capable supplier of its SKU when one exists and at least one
rule holds: the item's unit value is under the shop's threshold (not worth holding stock for), the
backordered quantity is large, or dropshipping arrives earlier than restocking by at least the
configured margin. Among dropship suppliers a local one is preferred to one that is not (a long sea
lead time), then the shortest lead time. The line's ETA follows the route.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from statistics import NormalDist

from connector.domain.model import Supplier, SupplierOffer
from connector.domain.planning.plan_settings import PlanSettings

DROPSHIP = "dropship"
RESTOCK = "restock"
Z90 = NormalDist().inv_cdf(0.9)


@dataclass(frozen=True, slots=True)
class BackorderedLine:
    order_id: str
    line_id: str
    sku: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class Route:
    order_id: str
    line_id: str
    sku: str
    route: str  # DROPSHIP or RESTOCK
    supplier_id: int | None  # the dropship supplier, or None for restock
    eta: date | None  # median arrival at the customer (None: restock with nothing on order)
    eta_p90: date | None
    reason: str


def _dropship_option(
    sku: str, offers: Sequence[SupplierOffer], suppliers: Mapping[int, Supplier]
) -> tuple[Supplier, float] | None:
    options = []
    for offer in offers:
        supplier = suppliers.get(offer.supplier_id)
        if offer.sku == sku and supplier is not None and supplier.dropship_capable:
            lead = offer.lead_time_days if offer.lead_time_days is not None else supplier.lead_time_mean_days
            options.append((not supplier.local, lead, supplier.id or 0, supplier))
    if not options:
        return None
    _, lead, _, supplier = min(options, key=lambda o: o[:3])
    return supplier, float(lead)


def route_line(
    line: BackorderedLine,
    restock_eta: date | None,
    restock_eta_p90: date | None,
    offers: Sequence[SupplierOffer],
    suppliers: Mapping[int, Supplier],
    settings: PlanSettings,
    as_of: date,
) -> Route:
    """Where this backordered line should come from, and when it arrives."""
    restock = Route(
        line.order_id,
        line.line_id,
        line.sku,
        RESTOCK,
        None,
        restock_eta,
        restock_eta_p90,
        "restock: no dropship supplier",
    )
    option = _dropship_option(line.sku, offers, suppliers)
    if option is None:
        return restock
    supplier, lead = option
    eta = as_of + timedelta(days=round(lead))
    eta_p90 = as_of + timedelta(days=round(lead + Z90 * supplier.lead_time_spread_days))
    reasons = []
    if float(line.unit_price) < settings.dropship_value_threshold:
        reasons.append(f"unit value {line.unit_price} under threshold {settings.dropship_value_threshold:g}")
    if line.quantity >= settings.dropship_large_shortage:
        reasons.append(f"large shortage ({line.quantity} >= {settings.dropship_large_shortage})")
    if restock_eta is None:
        reasons.append("nothing on order to restock from")
    elif (restock_eta - eta).days >= settings.dropship_margin_days:
        reasons.append(f"dropship arrives {(restock_eta - eta).days} days before restock")
    if not reasons:
        return replace(restock, reason=f"restock: {supplier.name} dropship gives no advantage")
    where = "local " if supplier.local else ""
    return Route(
        line.order_id,
        line.line_id,
        line.sku,
        DROPSHIP,
        supplier.id,
        eta,
        eta_p90,
        f"dropship via {where}{supplier.name}: " + "; ".join(reasons),
    )
