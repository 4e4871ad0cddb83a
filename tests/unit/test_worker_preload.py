"""A Celery worker imports the database driver and the adapters before its pool forks.

Run in a fresh interpreter: the test process has imported everything long before."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
from connector.bootstrap import preload_modules
watched = ("psycopg", "adapters.shopify", "adapters.woocommerce", "adapters.sandbox")
before = {name: name in sys.modules for name in watched}
preload_modules("postgresql+psycopg://nobody@127.0.0.1:9/none")
print(json.dumps({"before": before, "after": {name: name in sys.modules for name in watched}}))
"""


def test_preload_imports_the_driver_and_every_adapter_without_connecting() -> None:
    # The database named does not exist (port 9): preloading must not try to reach it.
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert not any(seen["before"].values())
    assert all(seen["after"].values())


def test_the_worker_preloads_in_its_main_process_before_forking() -> None:
    from celery.signals import worker_init

    from connector import tasks

    assert any(receiver() is tasks._preload for _key, receiver in worker_init.receivers)
