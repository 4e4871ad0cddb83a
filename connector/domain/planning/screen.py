"""Cheap screening of every SKU at once (numpy, no model fits): trend, level shift, known promotions.

The forecast runs the costly trend-following model only on the SKUs this screen flags, fits
shifted SKUs on the days after their shift only, and takes known promotion days out of the
history (so a promotion does not inflate the baseline after it) and puts their uplift back on
the known promotion days to come.

* **Trend**: least-squares slope of the last `window` days; flagged when its t statistic is
  beyond `min_t` and the line moves the level by at least `min_change` over the window.
* **Level shift**: the best single split of the same days into two means (a step), found for all
  split points at once from cumulative sums (at least `after` days after it); flagged when the
  step's t statistic is beyond 5 and the step fits much better than the line (residual sum of
  squares lower by more than `min_gain` residual variances: a wave or a trend is not a shift).
  A shift is reported by the index of the first day after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHUNK = 20_000  # rows per block: bounds the memory of the split search (CHUNK x days floats)


@dataclass(frozen=True, eq=False)
class Screen:
    trend: np.ndarray  # (n,) bool: a significant linear trend
    shift_at: np.ndarray  # (n,) int: column of the first day after a level shift, -1 when none
    slope_t: np.ndarray  # (n,) t statistic of the slope (0 when not computable)


@dataclass(frozen=True, eq=False)
class Promotions:
    """Known promotion days: `past` aligned with the history's columns, `future` with the forecast's days."""

    past: np.ndarray  # (n, days) bool
    future: np.ndarray  # (n, horizon) bool


def _line(y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Slope, its t statistic, the residual sum of squares and the mean of each row (weights w: observed)."""
    t = np.arange(y.shape[1], dtype=float)
    n = w.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        tm = (w * t).sum(axis=1) / n
        ym = (w * y).sum(axis=1) / n
        dt = (t - tm[:, None]) * w
        sxx = (dt**2).sum(axis=1)
        slope = (dt * (y - ym[:, None])).sum(axis=1) / sxx
        resid = w * (y - ym[:, None] - slope[:, None] * (t - tm[:, None]))
        rss = (resid**2).sum(axis=1)
        se = np.sqrt(rss / (n - 2) / sxx)
        tstat = np.where(se > 0, slope / se, 0.0)
    return np.nan_to_num(slope), np.nan_to_num(tstat), rss, np.nan_to_num(ym)


def _step(y: np.ndarray, w: np.ndarray, margin: int, after: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best split into two means for every row: split column, t statistic of the step, residual SS.

    At least `margin` days before the split and `after` days after it."""
    cw = np.cumsum(w, axis=1)
    cy = np.cumsum(y * w, axis=1)
    cyy = np.cumsum(y * y * w, axis=1)
    n, sy, syy = cw[:, -1:], cy[:, -1:], cyy[:, -1:]
    k = np.arange(margin, y.shape[1] - after)  # split after column k-1: days [0, k) and [k, end)
    n1, s1, q1 = cw[:, k - 1], cy[:, k - 1], cyy[:, k - 1]
    n2, s2, q2 = n - n1, sy - s1, syy - q1
    with np.errstate(divide="ignore", invalid="ignore"):
        rss = (q1 - s1**2 / n1) + (q2 - s2**2 / n2)
        var = rss / (n - 2)
        tstat = (s2 / n2 - s1 / n1) / np.sqrt(var * (1 / n1 + 1 / n2))
    ok = (n1 >= margin // 2) & (n2 >= after) & np.isfinite(tstat)
    score = np.where(ok, np.abs(tstat), -1.0)
    best = score.argmax(axis=1)
    rows = np.arange(y.shape[0])
    return k[best], np.where(ok[rows, best], tstat[rows, best], 0.0), rss[rows, best]


def screen(values: np.ndarray, window: int = 182, min_t: float = 3.5, min_change: float = 0.1,
           margin: int = 14, after: int = 7, min_gain: float = 25.0) -> Screen:
    """Trend and level-shift flags for each row of `values` (n, days; NaN = not on sale yet)."""
    n, days = values.shape
    window = min(window, days)
    start = days - window
    trend = np.zeros(n, bool)
    shift_at = np.full(n, -1)
    slope_t = np.zeros(n)
    for lo in range(0, n, CHUNK):
        part = values[lo: lo + CHUNK, start:]
        w = (~np.isnan(part)).astype(float)
        y = np.nan_to_num(part)
        observed = w.sum(axis=1)
        slope, t_line, rss_line, mean = _line(y, w)
        split, t_step, rss_step = _step(y, w, margin, after)
        with np.errstate(divide="ignore", invalid="ignore"):
            change = np.abs(slope) * observed / mean
        enough = (observed >= 4 * margin) & (mean > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            gain = (rss_line - rss_step) / (rss_step / (observed - 2))  # how much better a step fits than a line
        is_shift = enough & (np.abs(t_step) > 5.0) & (gain > min_gain)
        is_trend = enough & ~is_shift & (np.abs(t_line) > min_t) & (change > min_change)
        trend[lo: lo + CHUNK] = is_trend
        shift_at[lo: lo + CHUNK] = np.where(is_shift, start + split, -1)
        slope_t[lo: lo + CHUNK] = t_line
    return Screen(trend, shift_at, slope_t)


def after_shift(values: np.ndarray, shift_at: np.ndarray) -> np.ndarray:
    """The history with the days before each row's level shift blanked (NaN): fit the new level only."""
    out = values.copy()
    cols = np.arange(values.shape[1])
    out[(shift_at[:, None] > cols) & (shift_at[:, None] >= 0)] = np.nan
    return out


def without_promotions(values: np.ndarray, past: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """History with known promotion days replaced by the row's level on other days; and each row's uplift.

    Uplift = mean demand on promotion days / mean on the other days (NaN where a row had none).
    """
    promo = past & ~np.isnan(values)
    normal = ~past & ~np.isnan(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        base = np.where(normal, values, 0.0).sum(axis=1) / normal.sum(axis=1)
        lifted = np.where(promo, values, 0.0).sum(axis=1) / promo.sum(axis=1)
        uplift = np.where((promo.sum(axis=1) > 0) & (base > 0), lifted / base, np.nan)
    cleaned = np.where(promo, np.nan_to_num(base)[:, None], values)
    return cleaned, uplift


def with_promotions(daily: np.ndarray, future: np.ndarray, uplift: np.ndarray) -> np.ndarray:
    """Forecast with each known future promotion day raised by the row's uplift (the median one if it had none)."""
    known = uplift[np.isfinite(uplift)]
    default = float(np.median(known)) if known.size else 1.0
    factor = np.where(np.isfinite(uplift), uplift, default)
    known = np.zeros(daily.shape, dtype=bool)
    width = min(daily.shape[1], future.shape[1])
    known[:, :width] = future[:, :width]
    return np.where(known, daily * factor[:, None], daily)
