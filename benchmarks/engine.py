"""Engine benchmark: full evaluation of a large shop, and re-evaluation of one SKU after a stock event.

    python benchmarks/engine.py            # 1,000,000 open lines over 100,000 SKUs
    python benchmarks/engine.py --quick    # a small smoke run (targets are not checked)

Targets (issue 2): the full evaluation (`engine.allocate`) under 5 s on a 2-core machine; the
re-evaluation of the one SKU a stock event touched (`engine.allocate_sku` over its ~10 lines, what
the service does) under 5 ms at the 99th percentile. The data set is random but seeded: stock per
SKU that may be negative (oversold), incoming purchase orders for some SKUs (some overdue), lead
times with a spread, expedited orders, uncommitted (unpaid) lines, lines already waiting, and a few
untracked SKUs. Exit code 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connector.domain import engine  # noqa: E402

TODAY = date(2026, 11, 2)
FULL_TARGET_S = 5.0
ONE_SKU_TARGET_MS = 5.0


@dataclass
class DataSet:
    supplies: dict[str, engine.SkuSupply]
    lines: list[engine.LineDemand]
    by_sku: dict[str, list[engine.LineDemand]]


def make_data(n_lines: int, n_skus: int, seed: int) -> DataSet:
    rng = random.Random(seed)
    skus = [f"SKU-{i:06d}" for i in range(n_skus)]
    supplies: dict[str, engine.SkuSupply] = {}
    for sku in skus:
        if rng.random() < 0.02:
            continue  # not inventory-tracked: its lines always ship
        incoming: tuple[engine.Incoming, ...] = ()
        if rng.random() < 0.3:
            incoming = tuple(
                engine.Incoming(
                    expected_on=TODAY + timedelta(days=rng.randint(-5, 60)),  # some are overdue
                    quantity=rng.randint(5, 50),
                    source=f"po:{rng.randint(1, 10_000)}",
                    spread_days=rng.choice((0.0, 0.0, 2.0, 5.0)),
                )
                for _ in range(rng.randint(1, 3))
            )
        supplies[sku] = engine.SkuSupply(
            available=rng.randint(-25, 20),  # negative: the store oversold
            lead_time=engine.LeadTime(float(rng.randint(3, 60)), rng.choice((0.0, 1.0, 3.0, 7.0))),
            incoming=incoming,
        )
    start = datetime(2026, 9, 1, tzinfo=UTC)
    span_minutes = 60 * 24 * 60
    lines: list[engine.LineDemand] = []
    for key in range(n_lines):
        placed_at = start + timedelta(minutes=rng.randrange(span_minutes))
        waiting = rng.random() < 0.3
        lines.append(
            engine.LineDemand(
                key=key,
                order_key=key // 2,  # two lines per order on average
                sku=skus[rng.randrange(n_skus)],
                quantity=rng.randint(1, 5),
                placed_at=placed_at,
                priority=-1 if rng.random() < 0.01 else 0,
                committed=rng.random() >= 0.05,
                waiting_since=placed_at.date() if waiting else None,
            )
        )
    by_sku: dict[str, list[engine.LineDemand]] = defaultdict(list)
    for li in lines:
        by_sku[li.sku].append(li)
    return DataSet(supplies, lines, dict(by_sku))


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def time_full(data: DataSet, rounds: int) -> tuple[list[float], list[float], dict[int, engine.LineAllocation]]:
    """Wall and CPU seconds of each full evaluation (the heap as a long-running process has it)."""
    walls: list[float] = []
    cpus: list[float] = []
    result: dict[int, engine.LineAllocation] = {}
    for _ in range(rounds):
        result = {}
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        result = engine.allocate(data.supplies, data.lines, TODAY)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return walls, cpus, result


def time_one_sku(data: DataSet, repeats: int, seed: int, *, via_allocate: bool) -> tuple[list[float], float]:
    """Re-evaluate the SKU a stock event touched: its supply at the new level, its open lines.

    `allocate_sku` is the engine's per-SKU entry; the service (`connector.backorders.evaluation`) calls
    `allocate` with the touched SKUs' supplies and lines, so both are timed."""
    rng = random.Random(seed + 1)
    tracked = [sku for sku in data.by_sku if sku in data.supplies]
    samples: list[float] = []
    line_counts: list[int] = []
    for _ in range(repeats):
        sku = rng.choice(tracked)
        supply = replace(data.supplies[sku], available=data.supplies[sku].available + rng.randint(-5, 20))
        sku_lines = data.by_sku[sku]
        if via_allocate:
            supplies = {sku: supply}
            t0 = time.perf_counter_ns()
            engine.allocate(supplies, sku_lines, TODAY)
        else:
            t0 = time.perf_counter_ns()
            engine.allocate_sku(supply, sku_lines, TODAY)
        samples.append((time.perf_counter_ns() - t0) / 1e6)
        line_counts.append(len(sku_lines))
    return samples, statistics.fmean(line_counts)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000, help="open order lines")
    parser.add_argument("--skus", type=int, default=100_000, help="distinct SKUs")
    parser.add_argument("--rounds", type=int, default=3, help="full evaluations timed (the median is judged)")
    parser.add_argument("--repeats", type=int, default=10_000, help="one-SKU re-evaluations timed")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="small smoke run: 20,000 lines; targets not checked")
    parser.add_argument(
        "--judge",
        choices=("cpu", "wall"),
        default="cpu",
        help="judge the full evaluation on its CPU time (default: the engine is single-threaded, so on an idle "
        "machine wall = CPU, and a shared machine's load does not decide the verdict) or on wall time",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.lines, args.skus, args.rounds, args.repeats = 20_000, 2_000, 1, 500

    t0 = time.perf_counter()
    data = make_data(args.lines, args.skus, args.seed)
    print(
        f"data: {len(data.lines):,} open lines over {len(data.by_sku):,} SKUs "
        f"({len(data.supplies):,} tracked) made in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    rss_inputs = max_rss_mb()
    load_before = os.getloadavg()[0]
    walls, cpus, result = time_full(data, args.rounds)
    rss_full = max_rss_mb()
    backordered = sum(1 for a in result.values() if a.backordered)
    assert len(result) == len(data.lines), "every line must get an allocation"
    del result
    one_sku, mean_lines = time_one_sku(data, args.repeats, args.seed, via_allocate=False)
    one_allocate, _ = time_one_sku(data, args.repeats, args.seed, via_allocate=True)
    load_after = os.getloadavg()[0]

    wall, cpu = statistics.median(walls), statistics.median(cpus)
    full_target = f"< {FULL_TARGET_S:.0f} s"
    one_target = f"< {ONE_SKU_TARGET_MS:.0f} ms"
    full = f"full evaluation `allocate` ({args.lines:,} lines, {args.skus:,} SKUs), median of {args.rounds}"
    one = f"re-evaluate one SKU after a stock event (~{mean_lines:.0f} lines), {args.repeats:,} times"
    sku_p99, allocate_p99 = percentile(one_sku, 0.99), percentile(one_allocate, 0.99)
    checks: list[tuple[str, str, str, bool | None]] = [
        (f"{full}: CPU time", f"{cpu:.2f} s (runs: {', '.join(f'{t:.2f}' for t in cpus)})",
         full_target if args.judge == "cpu" else "", cpu < FULL_TARGET_S if args.judge == "cpu" else None),
        (f"{full}: wall time", f"{wall:.2f} s (runs: {', '.join(f'{t:.2f}' for t in walls)})",
         full_target if args.judge == "wall" else "", wall < FULL_TARGET_S if args.judge == "wall" else None),
        (f"{one}, `allocate_sku`: p50", f"{percentile(one_sku, 0.5):.3f} ms", "", None),
        (f"{one}, `allocate_sku`: p99", f"{sku_p99:.3f} ms", one_target, sku_p99 < ONE_SKU_TARGET_MS),
        (f"{one}, `allocate` (as `evaluation` calls it): p50", f"{percentile(one_allocate, 0.5):.3f} ms", "", None),
        (f"{one}, `allocate` (as `evaluation` calls it): p99", f"{allocate_p99:.3f} ms", one_target,
         allocate_p99 < ONE_SKU_TARGET_MS),
        ("peak memory (max RSS) with the inputs built", f"{rss_inputs:,.0f} MB", "", None),
        ("peak memory (max RSS) after the full evaluation",
         f"{rss_full:,.0f} MB (+{rss_full - rss_inputs:,.0f} MB for the result)", "", None),
        ("lines backordered in the result", f"{backordered:,} of {len(data.lines):,}", "", None),
    ]
    print()
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load_before:.1f} before / "
        f"{load_after:.1f} after, seed {args.seed}; full evaluation judged on {args.judge} time"
    )
    print()
    print("| measure | result | target | met |")
    print("|---|---|---|---|")
    for name, value, target, ok in checks:
        met = "" if ok is None else ("n/a (quick)" if args.quick else ("yes" if ok else "**NO**"))
        print(f"| {name} | {value} | {target} | {met} |")
    missed = [name for name, _, _, ok in checks if ok is False]
    if args.quick:
        return 0
    for name in missed:
        print(f"TARGET MISSED: {name}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
