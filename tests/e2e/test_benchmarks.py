"""The benchmarks still run: each `--quick` completes and prints its table (timings are not judged here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_benchmark(name: str, timeout: float) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / name), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_engine_benchmark_quick_run_prints_its_table() -> None:
    out = run_benchmark("engine.py", timeout=120)
    assert "| measure | result | target | met |" in out
    assert "full evaluation `allocate`" in out
    assert "`allocate_sku`: p99" in out
    assert "peak memory" in out


def test_intake_benchmark_quick_run_prints_its_tables_and_loses_nothing() -> None:
    out = run_benchmark("intake.py", timeout=240)
    assert "| server | answered 200 per second | p50 ms | p99 ms | max ms | answers |" in out
    assert "| bare Flask view (ceiling) |" in out
    assert "| lost | 0 | 0 | yes |" in out  # correctness is checked even in a quick run; timings are not
    assert "| stored deliveries = sent - duplicates |" in out


def test_nightly_plan_benchmark_quick_run_plans_every_sku() -> None:
    out = run_benchmark("nightly_plan.py", timeout=300)
    assert "seeded 300 SKUs" in out
    assert "nightly plan: done (no error), 300 SKU plans stored" in out
    assert "Celery soft time limit of connector.plan_all: 1800 s" in out


def test_flash_pipe_benchmark_quick_run_works_off_every_delivery() -> None:
    """One shop's decision pipe alone, then the outbox it filled drained by one loop, on a throw-away
    PostgreSQL (skipped with it, failing under CI)."""
    from tests.services import need, postgres_bin

    bin_dir = postgres_bin()
    need(bin_dir is not None and (bin_dir / "postgres").exists(), "PostgreSQL is not installed")
    out = run_benchmark("flash_pipe.py", timeout=300)
    assert "| 1,000 | 2,199 |" in out and "0 dead, 1,000 orders recorded |" in out
    outbox = [line for line in out.splitlines() if line.startswith("| 1,000 |") and "emails" in line]
    assert len(outbox) == 1 and outbox[0].endswith("| 0 not done |"), out  # the outbox drained by one loop
    assert "FLASH PIPE CHECKS: PASSED" in out

