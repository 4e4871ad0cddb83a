"""Planning benchmark: forecasts + reorder points on synthetic demand of known parameters.

For each catalogue size: time to forecast (statsforecast, model chosen per SKU by holdout) and
compute reorder points; forecast error against the true demand rate; the achieved cycle service
level, fill rate and backorder cost of the reorder policy in a simulation against the service
level asked for (with an oracle policy that knows the true demand as a reference); and the
variance ratio of orders to demand of the undamped and damped order-up-to policies.

    python benchmarks/planning.py                 # 10,000 and 100,000 SKUs
    python benchmarks/planning.py --skus 2000 --out /tmp/r.md
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from datetime import date

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from connector.planning import bullwhip, policy  # noqa: E402
from connector.planning.forecast import forecast_demand  # noqa: E402
from connector.planning.history import DemandHistory  # noqa: E402
from connector.planning.settings import PlanSettings  # noqa: E402
from connector.planning.simulate import KINDS, simulate_policy, synthetic_demand  # noqa: E402

HISTORY = 182
SIMULATE = 91
LEAD_CHOICES = (7.0, 14.0, 28.0)
REPLAN_EVERY = 7


def replanned(daily: np.ndarray, spread: np.ndarray, lead: np.ndarray, lead_sd: np.ndarray,
              settings: PlanSettings, level_spread: np.ndarray | float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Reorder point and order-up-to per day, re-planned weekly along the forecast path."""
    n = daily.shape[0]
    s = np.zeros((n, SIMULATE))
    up = np.zeros((n, SIMULATE))
    for t in range(0, SIMULATE, REPLAN_EVERY):
        p = policy.reorder_policy(daily[:, t:], spread, lead, lead_sd, settings.service_level,
                                  settings.review_period_days, level_spread=level_spread)
        s[:, t:t + REPLAN_EVERY] = p.reorder_point[:, None]
        up[:, t:t + REPLAN_EVERY] = p.order_up_to[:, None]
    return s, up


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (statsforecast's worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def reforecast_policy(syn_demand: np.ndarray, lead: np.ndarray, lead_sd: np.ndarray, settings: PlanSettings,
                      every: int, first: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """As `replanned`, but the forecast itself is redone every `every` days on the history up to then."""
    n = syn_demand.shape[0]
    s, up = first[0].copy(), first[1].copy()
    for start in range(every, SIMULATE, every):
        hist = DemandHistory(tuple(f"SKU-{i:06d}" for i in range(n)), date(2026, 1, 1),
                             syn_demand[:, start:HISTORY + start])
        fc = forecast_demand(hist, SIMULATE + int(max(LEAD_CHOICES)) + settings.review_period_days + 1, settings)
        s2, up2 = replanned(fc.daily, fc.spread, lead, lead_sd, settings, fc.level_spread)
        s[:, start:] = s2[:, : SIMULATE - start]
        up[:, start:] = up2[:, : SIMULATE - start]
    return s, up


def run(n: int, seed: int, settings: PlanSettings, reforecast: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    syn = synthetic_demand(n, HISTORY + SIMULATE, rng)
    lead = rng.choice(LEAD_CHOICES, n)
    lead_sd = 0.2 * lead
    history = DemandHistory(tuple(f"SKU-{i:06d}" for i in range(n)), date(2026, 1, 1), syn.demand[:, :HISTORY])
    horizon = SIMULATE + int(max(LEAD_CHOICES)) + settings.review_period_days + 1

    load = os.getloadavg()[0]
    c0, t0 = cpu_seconds(), time.perf_counter()
    fc = forecast_demand(history, horizon, settings)
    t1 = time.perf_counter()
    pol = policy.reorder_policy(fc.daily, fc.spread, lead, lead_sd, settings.service_level,
                                settings.review_period_days, level_spread=fc.level_spread)
    t2, c2 = time.perf_counter(), cpu_seconds()
    load = max(load, os.getloadavg()[0])
    assert np.isfinite(pol.reorder_point).all()

    future_rate = syn.rate[:, HISTORY:]
    true28, fc28 = future_rate[:, :28].sum(axis=1), fc.daily[:, :28].sum(axis=1)
    ape = np.abs(fc28 - true28) / true28
    bias = (fc28 - true28) / true28

    s, up = replanned(fc.daily, fc.spread, lead, lead_sd, settings, fc.level_spread)
    if reforecast:
        s, up = reforecast_policy(syn.demand, lead, lead_sd, settings, reforecast, (s, up))
    sim = simulate_policy(syn.demand[:, HISTORY:], s, up, lead, lead_sd, np.random.default_rng(seed + 1))
    true_sd = syn.sd[:, HISTORY:].mean(axis=1)
    os_, oup = replanned(np.concatenate([future_rate, np.repeat(future_rate[:, -1:], horizon, axis=1)], axis=1),
                         true_sd, lead, lead_sd, settings)
    oracle = simulate_policy(syn.demand[:, HISTORY:], os_, oup, lead, lead_sd, np.random.default_rng(seed + 1))

    weeks = syn.demand[:, : (HISTORY + SIMULATE) // 7 * 7].reshape(n, -1, 7).sum(axis=2)
    lead_periods = np.round(lead / 7).astype(int)
    undamped = np.zeros(n)
    damped = np.zeros(n)
    for lp in np.unique(lead_periods):
        rows = lead_periods == lp
        u = bullwhip.simulate_orders(weeks[rows], int(lp), 0.3, 1.0, None)
        d = bullwhip.simulate_orders(weeks[rows], int(lp), 0.3, settings.damping_periods, settings.max_change_ratio)
        undamped[rows] = bullwhip.variance_ratio(u[:, 8:], weeks[rows, 8:])
        damped[rows] = bullwhip.variance_ratio(d[:, 8:], weeks[rows, 8:])

    per_kind = {}
    for k in KINDS + ("all",):
        r = np.ones(n, bool) if k == "all" else syn.kind == k
        models, counts = np.unique(fc.model[r].astype(str), return_counts=True)
        per_kind[k] = {
            "skus": int(r.sum()),
            "ape28": float(np.mean(ape[r])),
            "bias28": float(np.mean(bias[r])),
            "rmsse": float(np.nanmean(fc.rmsse[r])),
            "csl": float(sim.cycles_ok[r].sum() / max(sim.cycles[r].sum(), 1)),
            "csl_oracle": float(oracle.cycles_ok[r].sum() / max(oracle.cycles[r].sum(), 1)),
            "fill": float(np.mean(sim.fill_rate[r])),
            "cost": float(np.mean(sim.backorder_unit_days[r]) * settings.penalty_per_unit_day),
            "cost_oracle": float(np.mean(oracle.backorder_unit_days[r]) * settings.penalty_per_unit_day),
            "vr_undamped": float(np.nanmedian(undamped[r])),
            "vr_damped": float(np.nanmedian(damped[r])),
            "models": ", ".join(f"{m} {c / r.sum():.0%}" for m, c in sorted(zip(models, counts, strict=True),
                                                                          key=lambda x: -x[1])[:3]),
        }
    return {"n": n, "forecast_s": t1 - t0, "policy_s": t2 - t1, "cpu_s": c2 - c0, "load": load,
            "kinds": per_kind, "reforecast": reforecast}


def table(results: list[dict], settings: PlanSettings, seed: int) -> str:
    every = f"every {results[0]['reforecast']} d" if results[0]["reforecast"] else "never"
    lines = [
        f"Planning benchmark (seed {seed}, {HISTORY} days of history, {SIMULATE} days simulated, "
        f"service level asked {settings.service_level:.0%}, review period {settings.review_period_days} d, "
        f"lead times {'/'.join(f'{x:g}' for x in LEAD_CHOICES)} d ± 20%, penalty "
        f"{settings.penalty_per_unit_day:g} per unit-day, model set '{settings.model_set}', n_jobs {settings.n_jobs}, "
        f"simulation re-forecasts {every}"
        f" (reorder points re-planned every {REPLAN_EVERY} d along the forecast); "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()})",
        "",
        "| SKUs | forecast s | reorder points s | total s (wall) | SKUs/s | CPU s | load avg |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        total = r["forecast_s"] + r["policy_s"]
        lines.append(f"| {r['n']:,} | {r['forecast_s']:.1f} | {r['policy_s']:.2f} | {total:.1f} "
                     f"| {r['n'] / total:,.0f} | {r['cpu_s']:.0f} | {r['load']:.1f} |")
    lines += [
        "",
        "Per demand kind. APE28 / bias28: error of the 28-day forecast total against the true expected demand. "
        "RMSSE: holdout error of the chosen model (scaled). CSL: cycle service level achieved (share of "
        "replenishment cycles without a backorder just before the delivery), planned vs oracle (true demand "
        "rate and spread, same policy). Cost: backorder cost per SKU over the simulated days. VR: median "
        "variance ratio Var(orders)/Var(demand), weekly, order-up-to undamped vs damped "
        f"(gap closed over max({settings.damping_periods:g}, lead periods + 1) periods, "
        f"change cap {settings.max_change_ratio:g} × mean).",
        "",
        "| SKUs | kind | APE28 | bias28 | RMSSE | CSL | CSL oracle | fill rate | cost | cost oracle "
        "| VR undamped | VR damped | models chosen (top 3) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        for k, v in r["kinds"].items():
            lines.append(
                f"| {r['n']:,} | {k} | {v['ape28']:.1%} | {v['bias28']:+.1%} | {v['rmsse']:.2f} | {v['csl']:.1%} "
                f"| {v['csl_oracle']:.1%} | {v['fill']:.1%} | {v['cost']:.1f} | {v['cost_oracle']:.1f} "
                f"| {v['vr_undamped']:.2f} | {v['vr_damped']:.2f} | {v['models']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skus", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--service-level", type=float, default=0.95)
    ap.add_argument("--n-jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--model-set", choices=("full", "fast"), default="full")
    ap.add_argument("--reforecast-days", type=int, default=0,
                    help="in the simulation, forecast again every this many days (0: once, re-plan weekly)")
    ap.add_argument("--out", help="also write the table to this markdown file")
    args = ap.parse_args(argv)
    settings = PlanSettings(service_level=args.service_level, n_jobs=args.n_jobs, model_set=args.model_set)
    results = []
    for n in args.skus:
        r = run(n, args.seed, settings, args.reforecast_days)
        print(f"{n:,} SKUs: forecast {r['forecast_s']:.1f} s, reorder points {r['policy_s']:.2f} s", flush=True)
        results.append(r)
    text = table(results, settings, args.seed)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
