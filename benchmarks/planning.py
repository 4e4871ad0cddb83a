"""Planning benchmark: our planner against the rules merchants use today, and the speed of the plan.

One run, the same synthetic demand (`connector/domain/planning/simulate.py`, seven demand classes) for every
policy, simulated as the service runs: stock reviewed nightly; reorder points re-planned nightly
from a forecast redone nightly as the service does (`--reforecast-days`), lead times drawn around their mean
(20 % spread), purchase orders already in flight at the start, backorders for what is short.

* **ours**: `forecast_demand` (screened models, known promotions) + `policy.reorder_policy` (s, S).
* **Stocky**: reorder point = average sales per day over the last 30 days x lead time (its
  documented rule, no safety stock); order up to that plus one review period (7 d) of sales, the
  same purchase cycle as ours.
* **Inventory Planner**: replenishment = forecast over (lead time + days of stock) - (stock + on
  order), velocity = sales per in-stock day over the last 30 days (stocked-out days left out);
  days of stock 30 (its help's example), so a purchase order every 30 days per SKU.
* **oracle**: our policy given the true demand rate and spread.

    python benchmarks/planning.py                          # anchors (300 SKUs a class) + 100,000-SKU speed
    python benchmarks/planning.py --per-class 100 --speed-skus 10000 --out /tmp/r.md
    python benchmarks/planning.py --per-class 70 --reforecast-days 7 --speed-skus 0   # weekly re-forecast
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from datetime import date

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from connector.domain.planning import bullwhip, policy  # noqa: E402
from connector.domain.planning.forecast import forecast_demand  # noqa: E402
from connector.domain.planning.history import DemandHistory  # noqa: E402
from connector.domain.planning.plan_settings import PlanSettings  # noqa: E402
from connector.domain.planning.screen import Promotions  # noqa: E402
from connector.domain.planning.simulate import ALL_KINDS, SimResult, simulate_replanned, synthetic_demand  # noqa: E402

HISTORY = 182
SIMULATE = 91
LEAD_CHOICES = (7.0, 14.0, 28.0)
STOCKY_DAYS = 30  # Stocky: average sales per day over the last 30 days
IP_VELOCITY_DAYS = 30
IP_DAYS_OF_STOCK = 30
POLICIES = ("ours", "stocky", "inventory_planner", "oracle")


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (statsforecast's worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def peak_memory_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest child, MB."""
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


class World:
    """The demand, lead times and starting state every policy is simulated against."""

    def __init__(self, per_class: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        n = per_class * len(ALL_KINDS)
        self.syn = synthetic_demand(n, HISTORY + SIMULATE, rng, ALL_KINDS)
        self.n = n
        self.lead = rng.choice(LEAD_CHOICES, n)
        self.lead_sd = 0.2 * self.lead
        rate = self.syn.rate[:, HISTORY]
        self.start_net = np.round(rate * (7 + self.lead / 2))
        # one purchase order in flight per SKU: two weeks of demand, arriving within its lead time
        self.in_flight = np.zeros((n, int(max(LEAD_CHOICES)) + 1))
        arrive = rng.integers(1, self.lead.astype(int) + 1)
        self.in_flight[np.arange(n), arrive] = np.round(rate * 14)
        self.review_offset = rng.integers(0, IP_DAYS_OF_STOCK, n)  # Inventory Planner's purchase days
        self.future = self.syn.demand[:, HISTORY:]
        self.seed = seed

    def seen(self, t: int) -> np.ndarray:
        """Sales history known on simulated day t: all days before it."""
        return self.syn.demand[:, : HISTORY + t]

    def simulate(self, replan: Callable, every: int) -> SimResult:
        return simulate_replanned(self.future, replan, every, self.lead, self.lead_sd,
                                  np.random.default_rng(self.seed + 1), self.start_net, self.in_flight)


def _nightly(daily: np.ndarray, spread: np.ndarray, w: World, settings: PlanSettings, k: int,
             level_spread: np.ndarray | float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(s, S) for each of the next k nights along a forecast path (re-planned nightly, forecast kept)."""
    s = np.zeros((w.n, k))
    up = np.zeros((w.n, k))
    for j in range(k):
        p = policy.reorder_policy(daily[:, j:], spread, w.lead, w.lead_sd, settings.service_level,
                                  settings.review_period_days, level_spread=level_spread)
        s[:, j], up[:, j] = p.reorder_point, p.order_up_to
    return s, up


def ours(w: World, settings: PlanSettings, every: int, timing: dict) -> Callable:
    horizon = every + int(max(LEAD_CHOICES) * 1.6) + settings.review_period_days + 2
    promo = np.pad(w.syn.promotion, ((0, 0), (0, horizon)))  # the calendar beyond the simulation: none

    def replan(t: int, _: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values = w.seen(t)[:, -settings.history_days:]
        hist = DemandHistory(tuple(f"SKU-{i:06d}" for i in range(w.n)), date(2026, 1, 1), values)
        known = Promotions(promo[:, HISTORY + t - values.shape[1]: HISTORY + t], promo[:, HISTORY + t:][:, :horizon])
        c0 = cpu_seconds()
        fc = forecast_demand(hist, horizon, settings, known)
        timing["cpu"] = timing.get("cpu", 0.0) + cpu_seconds() - c0
        timing["forecasts"] = timing.get("forecasts", 0) + 1
        timing.setdefault("models", []).append(fc.model)
        return _nightly(fc.daily, fc.spread, w, settings, every, fc.level_spread)

    return replan


def oracle(w: World, settings: PlanSettings) -> Callable:
    rate = w.syn.rate[:, HISTORY:]
    path = np.concatenate([rate, np.repeat(rate[:, -1:], 60, axis=1)], axis=1)
    true_sd = w.syn.sd[:, HISTORY:].mean(axis=1)

    def replan(t: int, _: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _nightly(path[:, t:], true_sd, w, settings, 7)

    return replan


def stocky(w: World, settings: PlanSettings) -> Callable:
    def replan(t: int, _: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        v = w.seen(t)[:, -STOCKY_DAYS:].mean(axis=1)
        s = v * w.lead
        up = s + v * settings.review_period_days
        return np.repeat(s[:, None], 7, axis=1), np.repeat(up[:, None], 7, axis=1)

    return replan


def inventory_planner(w: World) -> Callable:
    def replan(t: int, stocked_out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sales = w.seen(t)[:, -IP_VELOCITY_DAYS:]
        out = np.zeros(sales.shape, dtype=bool)  # before the simulation: in stock every day
        k = min(t, IP_VELOCITY_DAYS)
        if k:
            out[:, -k:] = stocked_out[:, -k:]
        in_stock = (~out).sum(axis=1)
        v = np.where(in_stock > 0, np.where(out, 0.0, sales).sum(axis=1) / np.maximum(in_stock, 1),
                     sales.mean(axis=1))
        up = v * (w.lead + IP_DAYS_OF_STOCK)
        days = t + np.arange(7)
        review = (days[None, :] % IP_DAYS_OF_STOCK) == w.review_offset[:, None]
        s = np.where(review, up[:, None] - 1e-9, -np.inf)
        return s, np.repeat(up[:, None], 7, axis=1)

    return replan


def weekly_variance_ratio(orders: np.ndarray, demand: np.ndarray) -> np.ndarray:
    weeks = orders.shape[1] // 7
    o = orders[:, : weeks * 7].reshape(len(orders), weeks, 7).sum(axis=2)
    d = demand[:, : weeks * 7].reshape(len(demand), weeks, 7).sum(axis=2)
    return bullwhip.variance_ratio(o, d)


def damped_ratio(w: World, settings: PlanSettings) -> np.ndarray:
    """Variance ratio of the damped plan shared with suppliers (weekly, over the whole demand path)."""
    days = (HISTORY + SIMULATE) // 7 * 7
    weeks = w.syn.demand[:, :days].reshape(w.n, -1, 7).sum(axis=2)
    lead_periods = np.round(w.lead / 7).astype(int)
    out = np.zeros(w.n)
    for lp in np.unique(lead_periods):
        rows = lead_periods == lp
        d = bullwhip.simulate_orders(weeks[rows], int(lp), 0.3, settings.damping_periods, settings.max_change_ratio)
        out[rows] = bullwhip.variance_ratio(d[:, 8:], weeks[rows, 8:])
    return out


def anchors(per_class: int, seed: int, settings: PlanSettings, every: int) -> dict:
    w = World(per_class, seed)
    timing: dict = {}
    sims = {
        "ours": w.simulate(ours(w, settings, every, timing), every),
        "stocky": w.simulate(stocky(w, settings), 7),
        "inventory_planner": w.simulate(inventory_planner(w), 7),
        "oracle": w.simulate(oracle(w, settings), 7),
    }
    damped = damped_ratio(w, settings)
    rows = {}
    for k in ALL_KINDS + ("all",):
        r = np.ones(w.n, bool) if k == "all" else w.syn.kind == k
        rows[k] = {name: _measure(sim, w, r, settings) for name, sim in sims.items()}
        rows[k]["damped_vr"] = float(np.nanmedian(damped[r]))
        models, counts = np.unique(timing["models"][-1][r].astype(str), return_counts=True)
        rows[k]["models"] = ", ".join(f"{m} {c / r.sum():.0%}" for m, c in
                                      sorted(zip(models, counts, strict=True), key=lambda x: -x[1])[:3])
    return {"per_class": per_class, "n": w.n, "rows": rows, "every": every, "forecast_cpu": timing["cpu"],
            "forecasts": timing["forecasts"]}


def _measure(sim: SimResult, w: World, r: np.ndarray, settings: PlanSettings) -> dict:
    cycles = sim.cycles[r].sum()
    return {
        "csl": float(sim.cycles_ok[r].sum() / max(cycles, 1)),
        "csl_se": float(np.sqrt(0.05 * 0.95 / max(cycles, 1))),
        "fill": float(np.mean(sim.fill_rate[r])),
        "cost": float(np.mean(sim.backorder_unit_days[r]) * settings.penalty_per_unit_day),
        "holding": float(np.mean(sim.on_hand[r])),
        "vr": float(np.nanmedian(weekly_variance_ratio(sim.orders[r], w.future[r]))),
    }


def speed(n: int, seed: int, settings: PlanSettings) -> dict:
    """Forecast + reorder points for n SKUs (the seven classes), CPU seconds incl. worker processes."""
    per_class = -(-n // len(ALL_KINDS))
    rng = np.random.default_rng(seed)
    syn = synthetic_demand(per_class * len(ALL_KINDS), HISTORY + 28, rng, ALL_KINDS)
    n = syn.kind.size
    lead = rng.choice(LEAD_CHOICES, n)
    hist = DemandHistory(tuple(f"SKU-{i:06d}" for i in range(n)), date(2026, 1, 1), syn.demand[:, :HISTORY])
    horizon = int(max(LEAD_CHOICES) * 1.6) + settings.review_period_days + 1
    known = Promotions(syn.promotion[:, :HISTORY], syn.promotion[:, HISTORY:HISTORY + horizon])
    c0, t0 = cpu_seconds(), time.perf_counter()
    fc = forecast_demand(hist, horizon, settings, known)
    t1 = time.perf_counter()
    pol = policy.reorder_policy(fc.daily, fc.spread, lead, 0.2 * lead, settings.service_level,
                                settings.review_period_days, level_spread=fc.level_spread)
    c2, t2 = cpu_seconds(), time.perf_counter()
    assert np.isfinite(pol.reorder_point).all()
    true28, fc28 = syn.rate[:, HISTORY:HISTORY + 28].sum(axis=1), fc.daily[:, :28].sum(axis=1)
    kinds = {}
    for k in ALL_KINDS + ("all",):
        r = np.ones(n, bool) if k == "all" else syn.kind == k
        kinds[k] = (float(np.mean(np.abs(fc28[r] - true28[r]) / true28[r])),
                    float(np.mean((fc28[r] - true28[r]) / true28[r])),
                    float(np.mean(fc.model[r] == "trend_line")))
    mem = peak_memory_mb()
    return {"n": n, "forecast_s": t1 - t0, "policy_s": t2 - t1, "cpu_s": c2 - c0, "mem_mb": mem, "kinds": kinds,
            "load": os.getloadavg()[0]}


def header(settings: PlanSettings, seed: int) -> str:
    return (f"Planning benchmark (seed {seed}, {HISTORY} days of history, {SIMULATE} days simulated, service level "
            f"asked {settings.service_level:.0%}, review nightly, lead times {'/'.join(f'{x:g}' for x in LEAD_CHOICES)}"
            f" d ± 20%, penalty {settings.penalty_per_unit_day:g} per unit-day, model set '{settings.model_set}', "
            f"n_jobs {settings.n_jobs}; {os.cpu_count()} CPUs, Python {platform.python_version()})")


def anchor_table(res: dict) -> str:
    names = {"ours": "ours", "stocky": "Stocky", "inventory_planner": "Inv. Planner", "oracle": "oracle"}
    lines = [
        f"{res['per_class']} SKUs per class ({res['n']:,} in all); our forecast redone every {res['every']} d "
        f"({res['forecasts']} forecasts, {res['forecast_cpu']:.0f} CPU s in all). CSL: cycle service level "
        "(± one standard error at 95 %); fill: share of units served from stock on the day; cost: backorder cost "
        "per SKU over the simulated days; stock: average units on hand; VR: median Var(weekly orders) / "
        "Var(weekly demand) of the orders placed; damped VR: the plan shared with suppliers.",
        "",
        "| class | policy | CSL | fill | cost | stock | VR |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for k, row in res["rows"].items():
        for p in POLICIES:
            v = row[p]
            lines.append(f"| {k} | {names[p]} | {v['csl']:.1%} ± {v['csl_se']:.1%} | {v['fill']:.1%} "
                         f"| {v['cost']:.1f} | {v['holding']:.1f} | {v['vr']:.2f} |")
    lines += ["", "| class | cost ours / oracle | damped VR | our models (top 3) |", "|---|---:|---:|---|"]
    for k, row in res["rows"].items():
        ratio = row["ours"]["cost"] / row["oracle"]["cost"] if row["oracle"]["cost"] > 0 else float("nan")
        lines.append(f"| {k} | {ratio:.2f} | {row['damped_vr']:.2f} | {row['models']} |")
    return "\n".join(lines) + "\n"


def speed_table(r: dict) -> str:
    lines = [
        f"Speed: {r['n']:,} SKUs, forecast {r['forecast_s']:.1f} s wall + reorder points {r['policy_s']:.2f} s; "
        f"**{r['cpu_s']:.1f} CPU s** (this process and statsforecast's workers); peak memory "
        f"{r['mem_mb'][0]:,.0f} MB (largest worker {r['mem_mb'][1]:,.0f} MB); load average {r['load']:.1f}.",
        "",
        "| class | APE28 | bias28 | trend model |",
        "|---|---:|---:|---:|",
    ]
    for k, (ape, bias, trend) in r["kinds"].items():
        lines.append(f"| {k} | {ape:.1%} | {bias:+.1%} | {trend:.0%} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-class", type=int, default=300, help="SKUs per demand class in the anchor run (0: skip)")
    ap.add_argument("--speed-skus", type=int, default=100_000, help="SKUs in the speed run (0: skip)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--service-level", type=float, default=0.95)
    ap.add_argument("--n-jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--model-set", choices=("full", "fast"), default="full")
    ap.add_argument("--reforecast-days", type=int, default=1, help="our forecast is redone every this many days")
    ap.add_argument("--out", help="also write the tables to this markdown file")
    args = ap.parse_args(argv)
    settings = PlanSettings(service_level=args.service_level, n_jobs=args.n_jobs, model_set=args.model_set)
    parts = [header(settings, args.seed), ""]
    if args.per_class:
        parts.append(anchor_table(anchors(args.per_class, args.seed, settings, args.reforecast_days)))
        print(parts[-1], flush=True)
    if args.speed_skus:
        parts.append(speed_table(speed(args.speed_skus, args.seed, settings)))
        print(parts[-1], flush=True)
    text = "\n".join(parts)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
