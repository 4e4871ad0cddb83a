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

import gc
import math
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from functools import lru_cache
from operator import attrgetter
from statistics import NormalDist

_Z = NormalDist()


@dataclass(frozen=True, slots=True)
class LeadTime:
    mean_days: float
    spread_days: float = 0.0
    source: str = "lead_time"


@dataclass(frozen=True, slots=True)
class Dropship:
    """Units of a backordered line routed to a dropship supplier: they take no stock, and they
    arrive at the supplier's lead time counted from the day the line was routed."""

    quantity: int
    since: date
    lead_time: LeadTime


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
    dropship: Dropship | None = None  # units of the line a dropship supplier ships (see `Dropship`)

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
class SkuSupply:
    available: int  # as the store reports it; may be negative
    lead_time: LeadTime
    incoming: tuple[Incoming, ...] = ()
    # open quantity the store already subtracted from `available` on lines *not* given to the
    # allocation with this supply (an evaluation that reads only part of a SKU's queue: sku_queues)
    committed_elsewhere: int = 0


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


def _fast_constructor(cls: type[LineAllocation]) -> Callable[..., LineAllocation]:
    """`LineAllocation(...)` for the hot loop, about 2.5x faster than the frozen dataclass `__init__`.

    A frozen dataclass's `__init__` assigns each field through `object.__setattr__`; a full
    evaluation makes a million allocations, so this sets the slots through their descriptors
    instead. Same class, same values, same defaults: checked here against the dataclass's fields
    (a new field, a changed default or a `__post_init__` fails at import, not silently)."""
    names = ("key", "order_key", "sku", "in_stock", "backordered", "eta_p50", "eta_p90", "promised_on", "source")
    declared = fields(cls)
    if tuple(f.name for f in declared) != names or any(f.default is not None for f in declared[5:]):
        raise TypeError("LineAllocation's fields changed: update engine._fast_constructor")
    if hasattr(cls, "__post_init__"):
        raise TypeError("LineAllocation has a __post_init__: engine._fast_constructor would skip it")
    new = object.__new__
    k, o, s, i, b, p50, p90, pr, src = (cls.__dict__[name].__set__ for name in names)

    def make(
        key: int,
        order_key: int,
        sku: str,
        in_stock: int,
        backordered: int,
        eta_p50: date | None = None,
        eta_p90: date | None = None,
        promised_on: date | None = None,
        source: str | None = None,
    ) -> LineAllocation:
        a = new(cls)
        k(a, key), o(a, order_key), s(a, sku), i(a, in_stock), b(a, backordered)
        p50(a, eta_p50), p90(a, eta_p90), pr(a, promised_on), src(a, source)
        return a

    return make


_new_allocation = _fast_constructor(LineAllocation)


@dataclass(frozen=True, slots=True)
class SkuPosition:
    """Available-to-promise for one SKU: on hand + incoming - committed."""

    on_hand: int
    committed: int
    incoming: int

    @property
    def available_to_promise(self) -> int:
        return self.on_hand + self.incoming - self.committed


@lru_cache(maxsize=64)
def _z(q: float) -> float:
    """The standard normal quantile (cached: a policy uses two or three, asked for per line)."""
    return _Z.inv_cdf(q)


def _quantile_date(start: date, mean_days: float, spread_days: float, q: float) -> date:
    days = mean_days + (_z(q) * spread_days if spread_days > 0 and q != 0.5 else 0.0)
    return start + timedelta(days=max(math.ceil(days - 1e-9), 0))


def reach(supply: SkuSupply, committed: int) -> int:
    """How much of a SKU's queue its stock and incoming units reach, in units of open quantity.

    `committed` is the open quantity of all the SKU's lines the store already subtracted. Lines
    take the stock pool (`available + committed`, none when negative) and then the incoming
    batches in rank order; a line with at least this much open quantity ranked before it gets
    neither, and waits the lead time from its waiting day (`lead_eta`) whatever its place.
    (Without dropship routes: a routed line takes none of its routed units from the queue.)"""
    return max(supply.available + committed, 0) + sum(i.quantity for i in supply.incoming if i.quantity > 0)


def lead_eta(waiting_since: date, lead: LeadTime, policy: Policy) -> tuple[date, date, date]:
    """(P50, P90, promised) of units that wait the lead time since `waiting_since`: what a line past
    the SKU's `reach` is allocated."""
    return _eta(waiting_since, lead.mean_days, lead.spread_days, policy)


def _eta(start: date, mean_days: float, spread_days: float, policy: Policy) -> tuple[date, date, date]:
    handling = policy.handling_days
    p50 = _quantile_date(start, mean_days + handling, spread_days, 0.5)
    p90 = _quantile_date(start, mean_days + handling, spread_days, 0.9)
    promised = _quantile_date(start, mean_days + handling, spread_days, policy.promise_quantile)
    return p50, p90, promised


def position(supply: SkuSupply, lines: Iterable[LineDemand]) -> SkuPosition:
    committed = sum(li.quantity for li in lines if li.committed) + supply.committed_elsewhere
    return SkuPosition(
        on_hand=supply.available + committed,
        committed=committed,
        incoming=sum(i.quantity for i in supply.incoming),
    )


_RANK = attrgetter("priority", "placed_at", "order_key", "key")  # the same tuple as `LineDemand.rank`


def allocate_sku(
    supply: SkuSupply, lines: Sequence[LineDemand], today: date, policy: Policy = Policy()
) -> list[LineAllocation]:
    """Allocate one SKU's stock to its open lines, first come first served."""
    out: list[LineAllocation] = []
    _allocate_ordered(supply, sorted(lines, key=_RANK), today, policy, out)
    return out


def _allocate_ordered(
    supply: SkuSupply,
    ordered: list[LineDemand],
    today: date,
    policy: Policy,
    out: list[LineAllocation],
) -> None:
    """The allocation itself, over lines already in rank order; appends each line's allocation to `out`.

    The hot path of a full evaluation (a million lines): locals instead of globals and attribute
    look-ups, and each ETA computed once per purchase order or waiting-since date."""
    pool = supply.available + supply.committed_elsewhere
    for li in ordered:
        if li.committed:
            pool += li.quantity
    allocation, emit = _new_allocation, out.append
    batches = sorted((i for i in supply.incoming if i.quantity > 0), key=_EXPECTED_ON)
    batch_count = len(batches)
    batch_index, batch_left = 0, (batches[0].quantity if batches else 0)
    batch_etas: dict[int, tuple[date, date, date]] = {}
    lead = supply.lead_time
    lead_etas: dict[date, tuple[date, date, date]] = {}
    direct = Policy(policy.promise_quantile, 0)
    for line in ordered:
        quantity = line.quantity
        ds = line.dropship
        if ds is None:
            routed = 0
        else:  # routed units come from the dropship supplier, never from stock or restock
            routed = min(ds.quantity, quantity)
            quantity -= routed
        in_stock = quantity if 0 <= quantity <= pool else min(max(pool, 0), quantity)
        pool -= in_stock
        waiting = quantity - in_stock
        if waiting == 0 and not routed:
            emit(allocation(line.key, line.order_key, line.sku, in_stock, 0))
            continue
        # The line's ETA is the arrival of the last unit it waits for.
        need, eta, source = waiting, None, None
        while need > 0 and batch_index < batch_count:
            take = min(need, batch_left)
            need -= take
            batch_left -= take
            eta = batch_etas.get(batch_index)
            batch = batches[batch_index]
            if eta is None:
                eta = batch_etas[batch_index] = _eta(batch.expected_on, 0.0, batch.spread_days, policy)
            source = batch.source
            if batch_left == 0:
                batch_index += 1
                batch_left = batches[batch_index].quantity if batch_index < batch_count else 0
        if need > 0:
            start = line.waiting_since or today
            eta = lead_etas.get(start)
            if eta is None:
                eta = lead_etas[start] = _eta(start, lead.mean_days, lead.spread_days, policy)
            source = lead.source
        if ds is not None and routed:
            # the supplier ships to the customer: no handling of ours
            routed_eta = _eta(ds.since, ds.lead_time.mean_days, ds.lead_time.spread_days, direct)
            if eta is None or routed_eta[2] >= eta[2]:
                source = ds.lead_time.source
            eta = routed_eta if eta is None else (max(eta[0], routed_eta[0]), max(eta[1], routed_eta[1]),
                                                  max(eta[2], routed_eta[2]))
        assert eta is not None  # nosec B101  # narrows the type; an invariant, not a check of input
        p50, p90, promised = eta
        emit(allocation(line.key, line.order_key, line.sku, in_stock, waiting + routed, p50, p90, promised, source))


_EXPECTED_ON = attrgetter("expected_on")
_KEY = attrgetter("key")


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
    count = 0
    for line in lines:
        by_sku[line.sku].append(line)
        count += 1
    out: list[LineAllocation] = []
    with _cyclic_gc_paused() if count >= _PAUSE_GC_FROM else nullcontext():
        for sku, sku_lines in by_sku.items():
            supply = supplies.get(sku)
            if supply is None:
                out.extend(_new_allocation(li.key, li.order_key, li.sku, li.quantity, 0) for li in sku_lines)
                continue
            sku_lines.sort(key=_RANK)
            _allocate_ordered(supply, sku_lines, today, policy, out)
        return dict(zip(map(_KEY, out), out, strict=True))


# A large evaluation makes one allocation object per line, and they all live on. CPython's cyclic
# garbage collector, triggered by allocation counts, would re-scan the whole heap several times
# while they are made: about 45% of a million-line evaluation. Nothing made here forms a cycle
# (reference counting frees every temporary), so the collector is paused for large evaluations
# and resumed after; the depth count keeps concurrent evaluations in other threads correct.
_PAUSE_GC_FROM = 10_000  # lines
_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()
