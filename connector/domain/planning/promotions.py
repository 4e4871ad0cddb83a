"""The merchant's promotion calendar, as the forecast sees it: which SKU is on promotion on which day.

A `Promotion` names a run of days (both ends included) and the SKUs it covers (none named: every
SKU). `promotion_days` turns the calendar into the two day masks the forecast takes: the history's
promotion days come out of the baseline, and the uplift they showed goes back on the ones to come.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from connector.domain.planning.history import DemandHistory
from connector.domain.planning.screen import Promotions

MAX_DAYS = 92  # the longest promotion a merchant may enter: a season, not a standing discount


@dataclass(frozen=True, slots=True)
class Promotion:
    name: str
    starts_on: date
    ends_on: date  # included
    skus: tuple[str, ...] = ()  # empty: every SKU of the shop

    def __post_init__(self) -> None:
        if self.ends_on < self.starts_on:
            raise ValueError("a promotion ends on or after the day it starts")
        if (self.ends_on - self.starts_on).days + 1 > MAX_DAYS:
            raise ValueError(f"a promotion lasts at most {MAX_DAYS} days")

    def covers(self, sku: str) -> bool:
        return not self.skus or sku in self.skus


def promotion_days(calendar: Sequence[Promotion], history: DemandHistory, horizon: int) -> Promotions | None:
    """Masks of known promotion days over the history's columns and the `horizon` days after it.

    None when no promotion touches either window, so a shop without a calendar plans as before."""
    n, days = len(history.skus), history.days
    past = np.zeros((n, days), dtype=bool)
    future = np.zeros((n, horizon), dtype=bool)
    start = history.first_day
    index = {sku: i for i, sku in enumerate(history.skus)}
    for promo in calendar:
        rows = list(index.values()) if not promo.skus else [index[s] for s in promo.skus if s in index]
        if not rows:
            continue
        first = (promo.starts_on - start).days
        last = (promo.ends_on - start).days
        _mark(past, rows, first, last)
        _mark(future, rows, first - days, last - days)
    if not past.any() and not future.any():
        return None
    return Promotions(past, future)


def _mark(mask: np.ndarray, rows: list[int], first: int, last: int) -> None:
    lo, hi = max(first, 0), min(last, mask.shape[1] - 1)
    if lo <= hi:
        mask[np.ix_(rows, np.arange(lo, hi + 1))] = True
