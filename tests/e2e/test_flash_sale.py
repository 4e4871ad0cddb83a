"""The flash-sale benchmark's quick size as a smoke test: the production shape (PostgreSQL, Redis, two
web processes, two Celery workers, the scheduler, SMTP, the fake Shopify shop) takes a burst of a few
hundred orders for SKUs that run out, and the benchmark's correctness checks must all pass: stock to
the earliest orders and never twice (against a replay through the pure engine), every order decided
once, every email sent once, nothing lost. Timings are printed, not judged (benchmarks/flash_sale.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services import need, postgres_bin

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]


def test_quick_flash_sale_passes_its_correctness_checks(tmp_path: Path) -> None:
    bin_dir = postgres_bin()
    need(bin_dir is not None and (bin_dir / "postgres").exists(),
         "PostgreSQL is not installed (apt-get install postgresql)")
    need(shutil.which("redis-server") is not None, "redis-server is not installed (apt-get install redis-server)")
    results = tmp_path / "RESULTS-flash-sale.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "flash_sale.py"), "--quick", "--results", str(results)],
        cwd=ROOT, capture_output=True, text=True, timeout=840,
    )
    out = done.stdout + done.stderr
    assert results.exists(), out[-6000:]
    report = results.read_text()
    for heading in ("## Intake", "## Decision latency", "## Backlog", "## CPU per process", "## Per order",
                    "## Shopify Admin API", "## Checks"):
        assert heading in report
    assert (tmp_path / "flash-sale-backlog.svg").read_text().startswith("<svg")
    checks = [row.split(" | ") for row in report.split("## Checks")[1].splitlines()
              if row.startswith("| ") and not row.startswith(("| check", "| target:"))]
    assert len(checks) >= 12, report
    violated = {name.lstrip("| ") for name, _, met in checks if "NO" in met}
    assert violated == set(), out[-6000:]  # every correctness check, none excused
    assert "FLASH SALE CHECKS: PASSED" in done.stdout and done.returncode == 0, out[-6000:]
