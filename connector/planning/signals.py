"""Changed demand patterns and spikes, flagged to the merchant.

* Level shift: the last `shift_window_days` against the window before it (up to twice as long),
  by a Mann–Whitney U test (rank-based, so it suits counts full of zeros), when the mean also
  moved by at least `shift_min_ratio`.
* Spike: a recent day above the forecast level by more than `spike_z` forecast spreads, and so
  improbable under a Poisson demand at that level (tail below 1e-4) that it is not chance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from scipy import stats

from connector.planning.forecast import Forecasts
from connector.planning.history import DemandHistory
from connector.planning.settings import PlanSettings

SPIKE_TAIL = 1e-4


@dataclass(frozen=True, slots=True)
class Signal:
    sku: str
    kind: str  # "level_up", "level_down" or "spike"
    day: date  # first day of the new level, or the day of the spike
    magnitude: float  # new level / old level, or units above the forecast level
    detail: str


def level_shifts(history: DemandHistory, settings: PlanSettings) -> list[Signal]:
    w = settings.shift_window_days
    values = history.values
    if values.shape[1] < 2 * w:
        return []
    recent = values[:, -w:]
    before = values[:, -3 * w: -w] if values.shape[1] >= 3 * w else values[:, : -w]
    complete = ~np.isnan(recent).any(axis=1) & (np.sum(~np.isnan(before), axis=1) >= w)
    rows = np.flatnonzero(complete & ((np.nansum(recent, axis=1) + np.nansum(before, axis=1)) > 0))
    if rows.size == 0:
        return []
    old = np.nanmean(before[rows], axis=1)
    new = np.mean(recent[rows], axis=1)
    # the test needs complete rows: fill the not-yet-on-sale days of `before` with its own mean
    filled = np.where(np.isnan(before[rows]), old[:, None], before[rows])
    p = stats.mannwhitneyu(recent[rows], filled, axis=1, alternative="two-sided").pvalue
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(old > 0, new / old, np.inf)
    up = (p < settings.shift_alpha) & (ratio >= settings.shift_min_ratio)
    down = (p < settings.shift_alpha) & (ratio <= 1 / settings.shift_min_ratio)
    start = history.last_day - timedelta(days=w - 1)
    out = []
    for i in np.flatnonzero(up | down):
        sku = history.skus[rows[i]]
        kind = "level_up" if up[i] else "level_down"
        out.append(Signal(sku, kind, start, float(ratio[i]),
                          f"demand {old[i]:.2f}/day -> {new[i]:.2f}/day over the last {w} days (p={p[i]:.1e})"))
    return out


def spikes(history: DemandHistory, forecasts: Forecasts, settings: PlanSettings) -> list[Signal]:
    if forecasts.skus != history.skus:
        raise ValueError("forecasts and history must cover the same SKUs in the same order")
    w = min(settings.spike_window_days, history.days)
    recent = history.values[:, -w:]
    level = forecasts.daily[:, 0][:, None]
    spread = forecasts.spread[:, None]
    above = np.nan_to_num(recent) > level + settings.spike_z * np.maximum(spread, 1e-9)
    tail = stats.poisson.sf(np.nan_to_num(recent) - 1, np.maximum(level, 1e-9))
    hits = above & (tail < SPIKE_TAIL)
    out = []
    first = history.last_day - timedelta(days=w - 1)
    for r, c in zip(*np.nonzero(hits), strict=True):
        units = float(recent[r, c] - level[r, 0])
        out.append(Signal(history.skus[r], "spike", first + timedelta(days=int(c)), units,
                          f"{recent[r, c]:.0f} units against a forecast of {level[r, 0]:.2f}/day "
                          f"(spread {spread[r, 0]:.2f})"))
    return out


def detect(history: DemandHistory, forecasts: Forecasts, settings: PlanSettings) -> dict[str, tuple[Signal, ...]]:
    """All signals, grouped by SKU (SKUs without any are absent)."""
    grouped: dict[str, list[Signal]] = {}
    for s in level_shifts(history, settings) + spikes(history, forecasts, settings):
        grouped.setdefault(s.sku, []).append(s)
    return {sku: tuple(sorted(v, key=lambda s: s.day)) for sku, v in grouped.items()}
