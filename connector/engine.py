"""Allocation: which part of each open order line ships from stock now, which waits, and until when.

Pure: plain values in, plain values out; no database, HTTP or framework.

Stock semantics. Both Shopify (`available`) and WooCommerce (`stock_quantity`) subtract open,
unfulfilled orders from stock as soon as they are placed, so the figure a store reports goes
negative when it oversells. The units physically there for the open lines are therefore
``available + committed open quantity``; those units go to lines first-come-first-served (a
merchant may expedite an order), and whatever is left over of each line is backordered.

A backordered quantity is covered first by incoming purchase orders in arrival order, then by a
new order at the supplier's lead time. Each ETA has a P50 and a P90 date drawn from the lead-time
spread (normal approximation); the customer is promised the quantile the shop chose (P90 by
default), so that promises are kept.

ETAs move only when the facts move. A restock at the lead time is counted from the day the line
first waited (the day the need arose), not from today, and a purchase order's expected date is
used as entered even once it has passed: an overdue promise is reported as overdue (and handled
by the delay flow), never silently pushed back a day at a time.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import NormalDist

_Z = NormalDist()


@dataclass(frozen=True, slots=True)
class LineDemand:
    """One open order line asking for stock."""

    key: int  # stable id of the line
    order_key: int
    sku: str
    quantity: int  # open quantity (ordered - fulfilled)
    placed_at: datetime
    priority: int = 0  # lower goes first; the merchant's "expedite" uses negative numbers
    committed: bool = True  # the store already subtracted this line from `available`
    waiting_since: date | None = None  # when the line first waited: a restock is counted from then

    @property
    def rank(self) -> tuple[int, datetime, int, int]:
        return (self.priority, self.placed_at, self.order_key, self.key)


@dataclass(frozen=True, slots=True)
class Incoming:
    """Stock on its way: an open purchase order line."""

    expected_on: date
    quantity: int
    source: str  # e.g. "po:12"
    spread_days: float = 0.0  # uncertainty of the arrival date (standard deviation)


@dataclass(frozen=True, slots=True)
class LeadTime:
    mean_days: float
    spread_days: float = 0.0
    source: str = "lead_time"


@dataclass(frozen=True, slots=True)
class SkuSupply:
    available: int  # as the store reports it; may be negative
    lead_time: LeadTime
    incoming: tuple[Incoming, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    promise_quantile: float = 0.9  # the date promised is this quantile of the arrival distribution
    handling_days: int = 0  # from goods in to shipped


@dataclass(frozen=True, slots=True)
class LineAllocation:
    key: int
    order_key: int
    sku: str
    in_stock: int
    backordered: int
    eta_p50: date | None = None
    eta_p90: date | None = None
    promised_on: date | None = None
    source: str | None = None  # what covers the backordered part

    @property
    def is_backordered(self) -> bool:
        return self.backordered > 0


@dataclass(frozen=True, slots=True)
class SkuPosition:
    """Available-to-promise for one SKU: on hand + incoming - committed."""

    on_hand: int
    committed: int
    incoming: int

    @property
    def available_to_promise(self) -> int:
        return self.on_hand + self.incoming - self.committed


def _quantile_date(start: date, mean_days: float, spread_days: float, q: float) -> date:
    days = mean_days + (_Z.inv_cdf(q) * spread_days if spread_days > 0 and q != 0.5 else 0.0)
    return start + timedelta(days=max(math.ceil(days - 1e-9), 0))


def _eta(start: date, mean_days: float, spread_days: float, policy: Policy) -> tuple[date, date, date]:
    handling = policy.handling_days
    p50 = _quantile_date(start, mean_days + handling, spread_days, 0.5)
    p90 = _quantile_date(start, mean_days + handling, spread_days, 0.9)
    promised = _quantile_date(start, mean_days + handling, spread_days, policy.promise_quantile)
    return p50, p90, promised


def position(supply: SkuSupply, lines: Iterable[LineDemand]) -> SkuPosition:
    committed = sum(li.quantity for li in lines if li.committed)
    return SkuPosition(
        on_hand=supply.available + committed,
        committed=committed,
        incoming=sum(i.quantity for i in supply.incoming),
    )


def allocate_sku(
    supply: SkuSupply, lines: Sequence[LineDemand], today: date, policy: Policy = Policy()
) -> list[LineAllocation]:
    """Allocate one SKU's stock to its open lines, first come first served."""
    ordered = sorted(lines, key=LineDemand.rank.fget)  # type: ignore[arg-type]
    pool = supply.available + sum(li.quantity for li in ordered if li.committed)
    batches = sorted((i for i in supply.incoming if i.quantity > 0), key=lambda i: i.expected_on)
    batch_index, batch_left = 0, (batches[0].quantity if batches else 0)
    lead = supply.lead_time
    lead_etas: dict[date, tuple[date, date, date]] = {}
    out: list[LineAllocation] = []
    for line in ordered:
        in_stock = min(max(pool, 0), line.quantity)
        pool -= in_stock
        waiting = line.quantity - in_stock
        if waiting == 0:
            out.append(LineAllocation(line.key, line.order_key, line.sku, in_stock, 0))
            continue
        # The line's ETA is the arrival of the last unit it waits for.
        need, eta, source = waiting, None, None
        while need > 0 and batch_index < len(batches):
            take = min(need, batch_left)
            need -= take
            batch_left -= take
            batch = batches[batch_index]
            eta = _eta(batch.expected_on, 0.0, batch.spread_days, policy)
            source = batch.source
            if batch_left == 0:
                batch_index += 1
                batch_left = batches[batch_index].quantity if batch_index < len(batches) else 0
        if need > 0:
            start = line.waiting_since or today
            eta = lead_etas.get(start)
            if eta is None:
                eta = lead_etas[start] = _eta(start, lead.mean_days, lead.spread_days, policy)
            source = lead.source
        assert eta is not None
        p50, p90, promised = eta
        out.append(LineAllocation(line.key, line.order_key, line.sku, in_stock, waiting, p50, p90, promised, source))
    return out


def allocate(
    supplies: Mapping[str, SkuSupply],
    lines: Iterable[LineDemand],
    today: date,
    policy: Policy = Policy(),
) -> dict[int, LineAllocation]:
    """Allocate every SKU.

    A SKU the store reports no stock for is not inventory-tracked (Shopify "don't track", a
    WooCommerce product without managed stock): its lines ship, never backorder on a guess."""
    by_sku: dict[str, list[LineDemand]] = defaultdict(list)
    for line in lines:
        by_sku[line.sku].append(line)
    result: dict[int, LineAllocation] = {}
    for sku, sku_lines in by_sku.items():
        supply = supplies.get(sku)
        if supply is None:
            for li in sku_lines:
                result[li.key] = LineAllocation(li.key, li.order_key, li.sku, li.quantity, 0)
            continue
        for allocation in allocate_sku(supply, sku_lines, today, policy):
            result[allocation.key] = allocation
    return result
