"""Safety stock, reorder point, order quantity, stock-out probability and expected backorder cost.

Vectorised over SKUs (numpy arrays), the maths from scipy.stats. Demand over a lead time L is
taken as normal with mean F(L) — the forecast summed over the lead time, so a trend counts — and
variance L * sigma_d**2 + d**2 * sigma_L**2, where sigma_d is the daily forecast error, d = F(L)/L
and sigma_L the spread of the lead time.

The policy is a nightly-reviewed (s, S): when the inventory position (stock net of backorders, plus
what is on order) is at or below the reorder point s, order up to S, which covers the lead time
plus one review period (the purchase cycle), or more when an economic order quantity is larger.
s is set so that P(demand over the lead time <= s) is the service level asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


def cumulative(daily: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Forecast demand summed over the first `days` (fractional) days, per row."""
    cum = np.concatenate([np.zeros((daily.shape[0], 1)), np.cumsum(daily, axis=1)], axis=1)
    days = np.clip(days, 0, daily.shape[1])
    lo = np.floor(days).astype(int)
    hi = np.minimum(lo + 1, daily.shape[1])
    frac = days - lo
    idx = np.arange(daily.shape[0])
    return cum[idx, lo] + frac * (cum[idx, hi] - cum[idx, lo])


def demand_over(daily: np.ndarray, spread: np.ndarray, days: np.ndarray, days_sd: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of demand over a (random) number of days, per row."""
    mean = cumulative(daily, days)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(days > 0, mean / days, 0.0)
    var = days * spread**2 + rate**2 * days_sd**2
    return mean, np.sqrt(np.maximum(var, 0.0))


@dataclass(frozen=True, eq=False)
class Policy:
    safety_stock: np.ndarray
    reorder_point: np.ndarray
    order_up_to: np.ndarray
    lead_mean: np.ndarray  # forecast demand over the lead time
    lead_sd: np.ndarray


def reorder_policy(
    daily: np.ndarray,
    spread: np.ndarray,
    lead_time: np.ndarray,
    lead_time_sd: np.ndarray,
    service_level: float,
    review_period: float,
    eoq: np.ndarray | None = None,
) -> Policy:
    z = float(stats.norm.ppf(service_level))
    mu_l, sd_l = demand_over(daily, spread, lead_time, lead_time_sd)
    mu_lr, sd_lr = demand_over(daily, spread, lead_time + review_period, lead_time_sd)
    safety = z * sd_l
    rop = mu_l + safety
    up_to = mu_lr + z * sd_lr
    if eoq is not None:
        up_to = np.maximum(up_to, rop + eoq)
    return Policy(safety, rop, up_to, mu_l, sd_l)


def economic_order_quantity(daily_mean: np.ndarray, unit_cost: np.ndarray, ordering_cost: float,
                            holding_rate: float) -> np.ndarray:
    """Wilson's EOQ per SKU; zero where costs are not known (then the review period sets the size)."""
    annual = daily_mean * 365.0
    holding = unit_cost * holding_rate
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.sqrt(2.0 * annual * ordering_cost / holding)
    return np.where((holding > 0) & (ordering_cost > 0), np.nan_to_num(q), 0.0)


def suggested_quantity(position: np.ndarray, policy: Policy) -> np.ndarray:
    """Units to order now: up to S when the position is at or below s, else nothing."""
    need = policy.order_up_to - position
    return np.where(position <= policy.reorder_point, np.ceil(np.maximum(need, 0.0) - 1e-9), 0.0).astype(int)


def stockout_probability(available_by_lead: np.ndarray, policy: Policy) -> np.ndarray:
    """P(demand before a delivery ordered now arrives exceeds what will be there by then).

    `available_by_lead` is stock net of backorders plus purchase orders due within the lead time.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (available_by_lead - policy.lead_mean) / policy.lead_sd
    p = stats.norm.sf(z)
    degenerate = policy.lead_sd <= 0
    return np.where(degenerate, (policy.lead_mean > available_by_lead).astype(float), p)


def expected_shortage(available: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """E[(D - a)+] for normal D (the normal loss function), exact for sd = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (available - mean) / sd
        loss = sd * (stats.norm.pdf(z) - z * stats.norm.sf(z))
    return np.where(sd > 0, np.nan_to_num(loss), np.maximum(mean - available, 0.0))


def expected_backorder_unit_days(
    daily: np.ndarray, spread: np.ndarray, available_by_day: np.ndarray, lead_time: np.ndarray
) -> np.ndarray:
    """Expected backordered unit-days from now until a delivery ordered now would arrive.

    `available_by_day[:, t]` is stock net of backorders plus purchase orders received by the end of
    day t+1 (so waiting backorders count from day one). Demand by day t is normal with mean the
    forecast summed to t and variance t * spread**2.
    """
    h = available_by_day.shape[1]
    t = np.arange(1, h + 1, dtype=float)
    mean = np.cumsum(daily[:, :h], axis=1)
    sd = np.sqrt(t[None, :] * (spread[:, None] ** 2))
    short = expected_shortage(available_by_day, mean, sd)
    within = t[None, :] <= np.ceil(lead_time)[:, None]
    return np.sum(np.where(within, short, 0.0), axis=1)
