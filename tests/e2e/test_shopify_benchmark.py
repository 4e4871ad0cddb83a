"""The Shopify adapter benchmark still runs and prints its table (timings are not judged here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_shopify_benchmark_quick_run_prints_its_table() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "shopify_normalise.py"), "--quick"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "| measure | result | target | met |" in done.stdout
    assert "| verify (HMAC, headers) |" in done.stdout and "| normalise (JSON -> model) |" in done.stdout
