"""Supply-chain agility per supplier, from received purchase orders.

Observed lead time (mean and spread), on-time rate, and how quickly supply caught up after past
demand spikes: for each spike, the days until deliveries of that SKU from the supplier, counted
from the spike day, added up to the spike's excess units.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from connector.domain.model import PurchaseOrder, PurchaseOrderLine

if TYPE_CHECKING:  # only a type here: signals pulls in the forecasting stack (seconds to import)
    from connector.domain.planning.signals import Signal

MIN_DELIVERIES = 3  # fewer than this and the supplier's declared lead time is trusted instead


@dataclass(frozen=True, slots=True)
class Delivery:
    supplier_id: int
    ordered_on: date
    expected_on: date
    received_on: date
    lines: tuple[PurchaseOrderLine, ...] = ()

    def __post_init__(self) -> None:
        if self.received_on < self.ordered_on:
            raise ValueError(f"delivery received {self.received_on} before it was ordered {self.ordered_on}")

    @property
    def lead_time_days(self) -> int:
        return (self.received_on - self.ordered_on).days

    @property
    def on_time(self) -> bool:
        return self.received_on <= self.expected_on

    @classmethod
    def from_purchase_order(cls, po: PurchaseOrder, ordered_on: date) -> Delivery:
        if po.received_on is None or po.supplier_id is None:
            raise ValueError(f"purchase order {po.reference!r} has no supplier or was not received")
        return cls(po.supplier_id, ordered_on, po.expected_on, po.received_on, po.lines)


@dataclass(frozen=True, slots=True)
class SupplierAgility:
    supplier_id: int
    deliveries: int
    lead_time_mean: float | None
    lead_time_sd: float | None
    on_time_rate: float | None
    spikes_followed: int  # spikes in SKUs this supplier delivers
    catch_up_days_mean: float | None  # over spikes that were caught up
    spikes_not_caught_up: int

    @property
    def trusted(self) -> bool:
        return self.deliveries >= MIN_DELIVERIES


def catch_up_days(spike: Signal, deliveries: Iterable[Delivery]) -> int | None:
    """Days from the spike until deliveries of its SKU received after it cover its excess units."""
    needed = spike.magnitude
    got = 0
    for d in sorted(deliveries, key=lambda d: d.received_on):
        if d.received_on < spike.day:
            continue
        got += sum(li.received_quantity or li.quantity for li in d.lines if li.sku == spike.sku)
        if got >= needed:
            return (d.received_on - spike.day).days
    return None


def supplier_agility(
    supplier_id: int, deliveries: Iterable[Delivery], spikes: Iterable[Signal] = ()
) -> SupplierAgility:
    mine = [d for d in deliveries if d.supplier_id == supplier_id]
    leads = [d.lead_time_days for d in mine]
    skus = {li.sku for d in mine for li in d.lines}
    followed = [s for s in spikes if s.kind == "spike" and s.sku in skus]
    catch = [catch_up_days(s, mine) for s in followed]
    caught = [c for c in catch if c is not None]
    return SupplierAgility(
        supplier_id=supplier_id,
        deliveries=len(mine),
        lead_time_mean=statistics.fmean(leads) if leads else None,
        lead_time_sd=statistics.stdev(leads) if len(leads) >= 2 else None,
        on_time_rate=sum(d.on_time for d in mine) / len(mine) if mine else None,
        spikes_followed=len(followed),
        catch_up_days_mean=statistics.fmean(caught) if caught else None,
        spikes_not_caught_up=len(catch) - len(caught),
    )
