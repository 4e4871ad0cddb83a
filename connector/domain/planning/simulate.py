"""Measurement tools: synthetic demand of known parameters and an inventory simulation.

Used by the tests and `benchmarks/planning.py` to check the planning code against the truth:
forecasts against the known demand rate, and the reorder policy's achieved service level and
backorder cost against the service level asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

KINDS = ("smooth", "intermittent", "lumpy", "trending")
CHANGING = ("seasonal", "promotion", "level_shift")
ALL_KINDS = KINDS + CHANGING


@dataclass(frozen=True, eq=False)
class Synthetic:
    kind: np.ndarray  # (n,) one of KINDS
    rate: np.ndarray  # (n, days) true expected demand per day
    sd: np.ndarray  # (n, days) true standard deviation of demand per day
    demand: np.ndarray  # (n, days) one drawn demand path
    promotion: np.ndarray | None = None  # (n, days) bool: known promotion days (a merchant's calendar)


def synthetic_demand(n: int, days: int, rng: np.random.Generator, kinds: tuple[str, ...] = KINDS) -> Synthetic:
    """`n` SKUs, an equal share of each kind, `days` days of daily demand.

    * smooth: Poisson, rate 2-20 a day.
    * intermittent: sells on 10-30% of days, 1 + Poisson(0-1) units (sizes vary little).
    * lumpy: sells on 5-25% of days, geometric sizes of mean 2-10 (sizes vary a lot).
    * trending: Poisson with a rate of 3-15 a day growing linearly by 0.2-0.5% a day.
    * seasonal: Poisson, rate 3-15 a day times 1 + a yearly wave of amplitude 0.3-0.6, random phase.
    * promotion: Poisson, rate 3-15 a day, times 3-5 on known promotion days: 5-7 days starting on a
      random day in each 91-day block (the merchant's calendar says when; `promotion` marks them).
    * level_shift: Poisson, rate 3-15 a day, multiplied by 1.6-2 or 0.5-0.6 from a random day in the
      second half of the `days` on (unannounced).
    """
    kind = np.array([kinds[i % len(kinds)] for i in range(n)], dtype=object)
    t = np.arange(days, dtype=float)
    rate = np.zeros((n, days))
    var = np.zeros((n, days))
    demand = np.zeros((n, days))
    promotion = np.zeros((n, days), dtype=bool)
    for k in kinds:
        rows = np.flatnonzero(kind == k)
        m = rows.size
        if m == 0:
            continue
        if k == "smooth":
            lam = rng.uniform(2, 20, m)[:, None] * np.ones(days)
            rate[rows] = lam
            var[rows] = lam
            demand[rows] = rng.poisson(lam)
        elif k == "trending":
            lam = rng.uniform(3, 15, m)[:, None] * (1 + rng.uniform(0.002, 0.005, m)[:, None] * t)
            rate[rows] = lam
            var[rows] = lam
            demand[rows] = rng.poisson(lam)
        elif k == "intermittent":
            p = rng.uniform(0.1, 0.3, m)[:, None]
            mu = rng.uniform(0, 1, m)[:, None]
            rate[rows] = p * (1 + mu) * np.ones(days)
            var[rows] = p * (mu + (1 + mu) ** 2) - rate[rows] ** 2
            demand[rows] = (rng.random((m, days)) < p) * (1 + rng.poisson(mu * np.ones(days)))
        elif k == "lumpy":
            p = rng.uniform(0.05, 0.25, m)[:, None]
            size = rng.uniform(2, 10, m)[:, None]
            rate[rows] = p * size * np.ones(days)
            var[rows] = p * (2 * size**2 - size) - rate[rows] ** 2
            demand[rows] = (rng.random((m, days)) < p) * rng.geometric(1 / (size * np.ones(days)))
        elif k in CHANGING:
            lam = _changing(k, m, days, rng, promotion, rows)
            rate[rows] = lam
            var[rows] = lam
            demand[rows] = rng.poisson(lam)
        else:
            raise ValueError(f"unknown demand kind {k!r}")
    return Synthetic(kind, rate, np.sqrt(var), demand.astype(float), promotion)


def _changing(k: str, m: int, days: int, rng: np.random.Generator, promotion: np.ndarray, rows: np.ndarray
              ) -> np.ndarray:
    """Daily Poisson rates of `m` SKUs of a changing kind (marks promotion days in `promotion`)."""
    t = np.arange(days, dtype=float)
    base = rng.uniform(3, 15, m)[:, None] * np.ones(days)
    if k == "seasonal":
        amp = rng.uniform(0.3, 0.6, m)[:, None]
        phase = rng.uniform(0, 2 * np.pi, m)[:, None]
        return base * (1 + amp * np.sin(2 * np.pi * t / 365 + phase))
    if k == "promotion":
        for block in range(0, days - 7, 91):
            start = block + rng.integers(0, min(84, days - block - 7), m)
            length = rng.integers(5, 8, m)
            on = (t >= start[:, None]) & (t < (start + length)[:, None])
            promotion[rows] |= on
        return np.where(promotion[rows], base * rng.uniform(3, 5, m)[:, None], base)
    at = rng.integers(days // 2, days, m)[:, None]
    up = rng.random(m)[:, None] < 0.5
    factor = np.where(up, rng.uniform(1.6, 2.0, (m, 1)), rng.uniform(0.5, 0.6, (m, 1)))
    return np.where(t >= at, base * factor, base)


@dataclass(frozen=True, eq=False)
class SimResult:
    cycles: np.ndarray  # (n,) replenishment cycles completed (order placed and received)
    cycles_ok: np.ndarray  # (n,) of which no backorder was left just before the delivery
    fill_rate: np.ndarray  # (n,) share of demand served from stock on the day
    backorder_unit_days: np.ndarray  # (n,) sum over days of units waiting at the end of the day
    orders: np.ndarray  # (n, days) units ordered per day
    on_hand: np.ndarray | None = None  # (n,) average stock on hand at the end of the day (holding)

    @property
    def cycle_service_level(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.cycles_ok / self.cycles


# replan(t, stocked_out) -> (reorder point, order-up-to), each (n, k): the policy for days t .. t+k-1;
# stocked_out (n, t) marks the simulated days so far that began with no stock on hand
Replan = Callable[[int, np.ndarray], tuple[np.ndarray, np.ndarray]]


def simulate_policy(
    demand: np.ndarray,
    reorder_point: np.ndarray,
    order_up_to: np.ndarray,
    lead_time: np.ndarray,
    lead_time_sd: np.ndarray,
    rng: np.random.Generator,
) -> SimResult:
    """Run the nightly (s, S) policy against `demand` (n, days), backordering what is short.

    `reorder_point` and `order_up_to` are (n,) or (n, days) (re-planned values per day). Each order
    takes a lead time drawn from a normal of the given mean and spread (at least one day). Starts
    with stock at S and nothing on order. A cycle is an order; it is good when no unit is
    backordered at the end of the day before it arrives (the cycle service level definition).
    """
    n, days = demand.shape
    s = np.broadcast_to(reorder_point if reorder_point.ndim == 2 else reorder_point[:, None], (n, days))
    up = np.broadcast_to(order_up_to if order_up_to.ndim == 2 else order_up_to[:, None], (n, days))
    return simulate_replanned(demand, lambda t, _: (s[:, t:], up[:, t:]), days, lead_time, lead_time_sd, rng,
                              np.round(up[:, 0]).astype(float))


def simulate_replanned(
    demand: np.ndarray,
    replan: Replan,
    every: int,
    lead_time: np.ndarray,
    lead_time_sd: np.ndarray,
    rng: np.random.Generator,
    start_net: np.ndarray,
    in_flight: np.ndarray | None = None,
) -> SimResult:
    """The nightly (s, S) review against `demand` (n, days), re-planned every `every` days by `replan`.

    Starts with `start_net` on hand and `in_flight` (n, k) units arriving on days 0 .. k-1 (purchase
    orders already placed). Orders take a lead time drawn from a normal of the given mean and
    spread (at least one day); what is short is backordered.
    """
    n, days = demand.shape
    max_lead = int(np.ceil(np.max(lead_time + 6 * lead_time_sd, initial=1))) + 2
    pipeline = np.zeros((n, days + max_lead + 1))
    net = start_net.astype(float).copy()
    on_order = np.zeros(n)
    if in_flight is not None:
        k = min(in_flight.shape[1], pipeline.shape[1])
        pipeline[:, :k] += in_flight[:, :k]
        on_order += in_flight[:, :k].sum(axis=1)
    served = np.zeros(n)
    unit_days = np.zeros(n)
    orders = np.zeros((n, days))
    net_end = np.zeros((n, days))
    stocked_out = np.zeros((n, days), dtype=bool)
    placed: list[tuple[np.ndarray, np.ndarray]] = []
    rows = np.arange(n)
    s = up = np.zeros((n, 0))
    for t in range(days):
        if t % every == 0:
            s, up = replan(t, stocked_out[:, :t])
        arriving = pipeline[:, t]
        net += arriving
        on_order -= arriving
        stocked_out[:, t] = net <= 0
        position = net + on_order
        need = position <= s[:, t % every]
        q = np.where(need, np.ceil(np.maximum(up[:, t % every] - position, 0.0)), 0.0)
        ordering = q > 0
        if ordering.any():
            lt = np.maximum(1, np.round(rng.normal(lead_time, lead_time_sd))).astype(int)
            arrive = np.minimum(t + lt, pipeline.shape[1] - 1)
            np.add.at(pipeline, (rows[ordering], arrive[ordering]), q[ordering])
            on_order += q
            orders[:, t] = q
            placed.append((rows[ordering], arrive[ordering]))
        d = demand[:, t]
        served += np.minimum(d, np.maximum(net, 0.0))
        net -= d
        net_end[:, t] = net
        unit_days += np.maximum(-net, 0.0)
    cycles, ok = _cycles(placed, net_end)
    total = demand.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        fill = np.where(total > 0, served / total, 1.0)
    return SimResult(cycles, ok, fill, unit_days, orders, np.maximum(net_end, 0.0).mean(axis=1))


def _cycles(placed: list[tuple[np.ndarray, np.ndarray]], net_end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Replenishment cycles completed per row, and those with no backorder the day before delivery."""
    n, days = net_end.shape
    cycles = np.zeros(n)
    ok = np.zeros(n)
    for who, arrive in placed:
        done = arrive < days
        who, arrive = who[done], arrive[done]
        cycles += np.bincount(who, minlength=n)
        ok += np.bincount(who, weights=(net_end[who, arrive - 1] >= 0).astype(float), minlength=n)
    return cycles, ok
