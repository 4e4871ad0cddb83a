"""Daily demand per SKU from plain order-line records.

Demand is what customers ordered, on the day they ordered it, whether it shipped from stock or was
backordered: a backordered unit is real demand (counting only shipments would hide exactly the demand
a stock-out turned away). A cancelled line does not count, except the part that was backordered when
the customer gave up waiting: that unit was wanted and lost to the shortage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from connector.domain.model import Backorder, Order


@dataclass(frozen=True, slots=True)
class DemandRecord:
    sku: str
    day: date  # the order's day in the shop's timezone
    quantity: int  # ordered, including any backordered part
    backordered_quantity: int = 0
    cancelled: bool = False

    def __post_init__(self) -> None:
        if self.quantity < 0 or self.backordered_quantity < 0:
            raise ValueError(f"negative quantity in demand record for {self.sku!r} on {self.day}")
        if self.backordered_quantity > self.quantity:
            raise ValueError(f"backordered {self.backordered_quantity} > ordered {self.quantity} for {self.sku!r}")

    @property
    def demand(self) -> int:
        return self.backordered_quantity if self.cancelled else self.quantity


@dataclass(frozen=True, eq=False)
class DemandHistory:
    """Daily demand, one row per SKU over the same calendar; NaN before a SKU's first day."""

    skus: tuple[str, ...]
    first_day: date  # the day of column 0
    values: np.ndarray  # shape (len(skus), days), float64

    def __post_init__(self) -> None:
        if self.values.ndim != 2 or self.values.shape[0] != len(self.skus):
            raise ValueError("values must be a (skus, days) matrix")

    @property
    def days(self) -> int:
        return int(self.values.shape[1])

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=self.days - 1)

    @property
    def starts(self) -> np.ndarray:
        """Per SKU, the column of its first observed day (days before it are NaN)."""
        observed = ~np.isnan(self.values)
        return np.where(observed.any(axis=1), observed.argmax(axis=1), self.days)

    def series(self, sku: str) -> np.ndarray:
        row = self.values[self.skus.index(sku)]
        return row[~np.isnan(row)]


def build_history(
    records: Iterable[DemandRecord],
    as_of: date,
    history_days: int,
    first_sale: Mapping[str, date] | None = None,
    skus: Iterable[str] = (),
) -> DemandHistory:
    """Daily demand for the `history_days` days ending the day before `as_of`.

    A SKU's series starts on its first sale (or `first_sale[sku]` when the caller knows when the
    product went on sale); days before that are NaN, not zero, so a new product is not forecast
    down by days it did not exist. `skus` adds SKUs with no demand at all (a zero series).
    """
    rows = [(r.sku, r.day, r.demand) for r in records]
    frame = pd.DataFrame(rows, columns=["sku", "day", "quantity"])
    return history_from_frame(frame, as_of, history_days, first_sale, skus)


def history_from_frame(
    frame: pd.DataFrame,
    as_of: date,
    history_days: int,
    first_sale: Mapping[str, date] | None = None,
    skus: Iterable[str] = (),
) -> DemandHistory:
    """As `build_history`, from a frame with columns sku, day (date) and quantity (demand)."""
    first_day = as_of - timedelta(days=history_days)
    known_first = dict(first_sale or {})
    if len(frame):
        frame = frame.assign(day=pd.to_datetime(frame["day"]).dt.date)
        earliest = frame.groupby("sku")["day"].min()
        for sku, day in earliest.items():
            known_first.setdefault(str(sku), day)
        frame = frame[(frame["day"] >= first_day) & (frame["day"] < as_of)]
    all_skus = sorted(set(known_first) | set(skus) | set(frame["sku"].astype(str)))
    index = {sku: i for i, sku in enumerate(all_skus)}
    values = np.zeros((len(all_skus), history_days))
    if len(frame):
        daily = frame.groupby(["sku", "day"], sort=False)["quantity"].sum()
        rows = np.fromiter((index[str(s)] for s, _ in daily.index), dtype=np.int64, count=len(daily))
        cols = np.fromiter(((d - first_day).days for _, d in daily.index), dtype=np.int64, count=len(daily))
        np.add.at(values, (rows, cols), daily.to_numpy(dtype=float))
    for sku, day in known_first.items():
        start = (day - first_day).days
        if start > 0:
            values[index[sku], : min(start, history_days)] = np.nan
    return DemandHistory(tuple(all_skus), first_day, values)


def records_from_orders(
    orders: Iterable[Order], backorders: Iterable[Backorder] = (), timezone: str = "UTC"
) -> list[DemandRecord]:
    """Demand records from common-model orders; `backorders` mark the backordered part of lines."""
    zone = ZoneInfo(timezone)
    backordered: dict[tuple[str, str], int] = {}
    for b in backorders:
        key = (b.order_id, b.line_id)
        backordered[key] = backordered.get(key, 0) + b.quantity
    records = []
    for order in orders:
        day = order.created_at.astimezone(zone).date()
        for line in order.lines:
            if not line.requires_shipping or line.quantity <= 0:
                continue
            waiting = min(backordered.get((order.external_id, line.external_id), 0), line.quantity)
            records.append(DemandRecord(line.sku, day, line.quantity, waiting, order.cancelled))
    return records
