"""Supplier choice per SKU, urgent terms for waiting customers, and draft purchase orders.

Choice: every offer for the SKU is scored as its unit cost raised by a price of time,
``cost * (1 + cost_weight_per_day * effective_lead_days)``, where the effective lead time is the
lead time at the service level (mean + z * spread) plus a lateness allowance of
``reliability_weight * 10 * (1 - on-time rate)`` days. The primary offer wins ties; an alternative
must be strictly better. Observed lead times and on-time rates (from `agility`) replace the
supplier's declared ones once enough deliveries were seen.

Urgent: waiting backorders are served first come, first served from free stock and then open
purchase orders in order of arrival; when some would be served after their promised date, the
order for them is placed on the option (any offer, normal or urgent terms) that arrives by the
earliest missed promise at the lowest unit price; if none can, on the fastest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from statistics import NormalDist

from connector.domain.model import Backorder, BackorderState, PurchaseOrder, PurchaseOrderLine, Supplier, SupplierOffer
from connector.domain.planning.agility import SupplierAgility
from connector.domain.planning.plan_settings import PlanSettings


@dataclass(frozen=True, slots=True)
class SupplierChoice:
    sku: str
    supplier_id: int
    unit_cost: Decimal
    lead_time_mean: float
    lead_time_sd: float
    on_time_rate: float | None
    primary: bool
    score: float
    reason: str


def _lead(supplier: Supplier, offer: SupplierOffer, agility: SupplierAgility | None) -> tuple[float, float]:
    mean = offer.lead_time_days if offer.lead_time_days is not None else supplier.lead_time_mean_days
    sd = supplier.lead_time_spread_days
    if agility is not None and agility.trusted and agility.lead_time_mean is not None:
        # observed lead time replaces the declared one; a per-SKU offer keeps its offset from the mean
        offset = mean - supplier.lead_time_mean_days
        mean = max(agility.lead_time_mean + offset, 0.0)
        sd = agility.lead_time_sd if agility.lead_time_sd is not None else sd
    return float(mean), float(sd)


def choose_supplier(
    sku: str,
    offers: Sequence[SupplierOffer],
    suppliers: Mapping[int, Supplier],
    settings: PlanSettings,
    agility: Mapping[int, SupplierAgility] | None = None,
) -> SupplierChoice | None:
    """The best offer for `sku`, or None when nobody offers it."""
    z = NormalDist().inv_cdf(settings.service_level)
    best: SupplierChoice | None = None
    for offer in sorted((o for o in offers if o.sku == sku), key=lambda o: not o.primary):
        supplier = suppliers.get(offer.supplier_id)
        if supplier is None:
            raise ValueError(f"offer for {sku!r} names unknown supplier {offer.supplier_id}")
        seen = (agility or {}).get(offer.supplier_id)
        mean, sd = _lead(supplier, offer, seen)
        on_time = seen.on_time_rate if seen is not None and seen.trusted else None
        late_days = settings.reliability_weight * 10 * (1 - on_time) if on_time is not None else 0.0
        effective = mean + z * sd + late_days
        score = float(offer.cost) * (1 + settings.cost_weight_per_day * effective)
        reason = (
            f"{supplier.name}: cost {offer.cost}, lead {mean:.1f}±{sd:.1f} d"
            + (f", on time {on_time:.0%}" if on_time is not None else "")
            + (" (primary)" if offer.primary else " (alternative)")
        )
        if best is None or score < best.score - 1e-12:
            best = SupplierChoice(sku, offer.supplier_id, offer.cost, mean, sd, on_time, offer.primary, score, reason)
    return best


@dataclass(frozen=True, slots=True)
class UrgentNeed:
    sku: str
    quantity: int  # units for waiting customers that would otherwise be late
    due: date  # the earliest promise they would miss
    supplier_id: int
    urgent_terms: bool  # ordered on the supplier's urgent terms
    unit_cost: Decimal  # including any urgent premium
    arrives_on: date
    meets_promise: bool


def service_dates(
    sku: str,
    free_stock: int,
    waiting: Iterable[Backorder],
    incoming: Iterable[PurchaseOrder],
    as_of: date,
) -> list[tuple[Backorder, date | None]]:
    """Waiting backorders of `sku`, first come first served, with the day supply would reach them.

    Supply is free stock today, then open purchase orders by expected date. The day is None when
    nothing on hand or on order covers the backorder.
    """
    queue = sorted(
        (b for b in waiting if b.sku == sku and b.state is BackorderState.WAITING),
        key=lambda b: (b.promise.made_at if b.promise else as_of, b.order_id, b.line_id),
    )
    arrivals = sorted(
        (max(po.expected_on, as_of), li.incoming_quantity)
        for po in incoming
        if not po.draft and po.received_on is None
        for li in po.lines
        if li.sku == sku and li.incoming_quantity > 0
    )
    supply = [(as_of, max(free_stock, 0))] + arrivals
    out: list[tuple[Backorder, date | None]] = []
    cumulative_supply, i, demand = 0, 0, 0
    for b in queue:
        demand += b.quantity
        while cumulative_supply < demand and i < len(supply):
            cumulative_supply += supply[i][1]
            i += 1
        out.append((b, supply[i - 1][0] if cumulative_supply >= demand and i > 0 else None))
    return out


def late_backorders(served: Iterable[tuple[Backorder, date | None]]) -> list[tuple[Backorder, date | None]]:
    """Those of `service_dates` that would be served after their promise, or not at all."""
    return [(b, day) for b, day in served if b.promise is not None and (day is None or day > b.promise.promised)]


def urgent_need(
    sku: str,
    late: Sequence[tuple[Backorder, date | None]],
    offers: Sequence[SupplierOffer],
    suppliers: Mapping[int, Supplier],
    as_of: date,
    agility: Mapping[int, SupplierAgility] | None = None,
) -> UrgentNeed | None:
    """Where to order the units late customers wait for, so that they arrive by the earliest promise."""
    if not late:
        return None
    quantity = sum(b.quantity for b, _ in late)
    due = min(b.promise.promised for b, _ in late if b.promise is not None)
    options = []
    for offer in (o for o in offers if o.sku == sku):
        supplier = suppliers[offer.supplier_id]
        mean, _ = _lead(supplier, offer, (agility or {}).get(offer.supplier_id))
        options.append((as_of + timedelta(days=round(mean)), offer.cost, False, offer))
        if supplier.urgent is not None:
            arrives = as_of + timedelta(days=round(supplier.urgent.lead_time_days))
            options.append((arrives, offer.cost + supplier.urgent.unit_price_premium, True, offer))
    if not options:
        return None
    in_time = [o for o in options if o[0] <= due]
    if in_time:
        arrives, cost, urgent, offer = min(in_time, key=lambda o: (o[1], o[0], o[2]))
    else:
        arrives, cost, urgent, offer = min(options, key=lambda o: (o[0], o[1]))
    return UrgentNeed(sku, quantity, due, offer.supplier_id, urgent, cost, arrives, arrives <= due)


@dataclass(frozen=True, slots=True)
class DraftLine:
    sku: str
    quantity: int
    unit_cost: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class DraftPurchaseOrder:
    """A purchase order the merchant may approve; approved, it becomes incoming stock."""

    shop: str
    supplier_id: int
    expected_on: date
    urgent: bool
    lines: tuple[DraftLine, ...]

    @property
    def total_cost(self) -> Decimal:
        return sum((li.unit_cost * li.quantity for li in self.lines), Decimal(0))

    def to_purchase_order(self, reference: str, draft: bool = True) -> PurchaseOrder:
        """The common-model purchase order; `draft=False` once the merchant approved it."""
        return PurchaseOrder(
            id=None,
            shop=self.shop,
            supplier_id=self.supplier_id,
            reference=reference,
            expected_on=self.expected_on,
            lines=tuple(PurchaseOrderLine(li.sku, li.quantity) for li in self.lines),
            draft=draft,
        )


def group_drafts(
    shop: str,
    as_of: date,
    lines: Iterable[tuple[int, float, bool, DraftLine]],
) -> tuple[DraftPurchaseOrder, ...]:
    """One draft per supplier and terms (normal / urgent) from (supplier, lead days, urgent, line)."""
    groups: dict[tuple[int, bool], list[tuple[float, DraftLine]]] = {}
    for supplier_id, lead, urgent, line in lines:
        if line.quantity > 0:
            groups.setdefault((supplier_id, urgent), []).append((lead, line))
    drafts = []
    for (supplier_id, urgent), items in sorted(groups.items()):
        lead = max(lead for lead, _ in items)
        drafts.append(
            DraftPurchaseOrder(
                shop,
                supplier_id,
                as_of + timedelta(days=round(lead)),
                urgent,
                tuple(sorted((li for _, li in items), key=lambda li: li.sku)),
            )
        )
    return tuple(drafts)
