"""One shop's decision pipe alone (issue 13's capacity model): how many orders a second one shop's
decisions keep up with when nothing else shares the machine.

    python benchmarks/flash_pipe.py            # the flash sale's 20,000 orders, and 4,000 for comparison
    python benchmarks/flash_pipe.py --quick    # 1,000 orders: the smoke run tests/e2e/test_benchmarks.py does

A shop's deliveries are applied and decided in arrival order under the shop's row lock, one batch
at a time, however many workers there are (`Inbox.process_batch`). Here the flash sale's own
webhooks (benchmarks/flash_workload.py: the same orders, stock reports, late and re-sent ones) are
verified and stored first, and one inbox loop then works them off in claims of 1,000, as a worker
does, on PostgreSQL: no web tier, no outbox, no other process competing. Measured: deliveries and
orders a second, the loop's CPU and PostgreSQL's per order. Checked (exit 1): every delivery done,
none dead-lettered, every order recorded.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cryptography.fernet import Fernet  # noqa: E402
from flash_measure import cpu_seconds  # noqa: E402
from flash_workload import APP_SECRET, make_workload, store_in_process  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from connector.bootstrap import build_services  # noqa: E402
from connector.config import load_config  # noqa: E402
from connector.storage.tables import OrderRow  # noqa: E402
from connector.tasks import INBOX_CLAIM  # noqa: E402
from tests.conftest import Clock  # noqa: E402
from tests.services import start_postgres  # noqa: E402


def measure(orders: int, seconds: float, seed: int) -> dict[str, float]:
    """The sale's deliveries stored, then worked off by one loop; its figures."""
    workload = make_workload(orders, seconds, 20, (20, 80), 0.05, seed)
    start = workload.orders[0].placed_at
    clock = Clock(start - timedelta(minutes=1))
    pg = start_postgres()
    try:
        instance = Path(tempfile.mkdtemp(prefix="flash-pipe-"))
        env = {"SECRET_KEY": "flash-pipe", "ENCRYPTION_KEY": Fernet.generate_key().decode(),
               "INSTANCE_PATH": str(instance), "DATABASE_URL": pg.create_database(), "SANDBOX_ENABLED": "0",
               "MAIL_URL": f"file://{instance / 'mail'}", "SHOPIFY_API_KEY": "k", "SHOPIFY_API_SECRET": APP_SECRET}
        services = build_services(load_config(env), clock=clock)
        store_in_process(services, workload, clock, timezone="America/New_York")
        clock.now = start + timedelta(seconds=seconds + 1)
        stored = services.inbox.depth().get("pending", 0)
        pg_before, cpu_before, began = cpu_seconds(pg.process.pid), time.process_time(), time.perf_counter()
        done = dead = 0
        while True:
            batch = services.inbox.process_pending(limit=INBOX_CLAIM)
            done, dead = done + batch.done, dead + batch.dead
            if batch.done + batch.dead + batch.retried == 0:
                break
        wall = time.perf_counter() - began
        cpu, pg_cpu = time.process_time() - cpu_before, cpu_seconds(pg.process.pid) - pg_before
        with services.db.read() as s:
            recorded = s.scalar(select(func.count()).select_from(OrderRow))
        left = services.inbox.depth().get("pending", 0)
        services.db.dispose()
    finally:
        pg.stop()
    return {"orders": orders, "deliveries": stored, "done": done, "dead": dead, "left": left,
            "recorded": recorded, "wall": wall, "cpu": cpu, "pg_cpu": pg_cpu}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, nargs="+", default=[4_000, 20_000],
                        help="sale sizes, each in --seconds scaled to the full size's rate")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--quick", action="store_true", help="1,000 orders")
    args = parser.parse_args(argv)
    sizes = [1_000] if args.quick else args.orders
    rows, ok = [], True
    for orders in sizes:
        f = measure(orders, 120.0 * orders / 20_000, args.seed)
        ok = ok and f["dead"] == 0 and f["left"] == 0 and f["done"] == f["deliveries"] and f["recorded"] == orders
        rows.append(f"| {orders:,} | {f['deliveries']:,} | {f['wall']:.1f} | {f['deliveries'] / f['wall']:,.0f} | "
                    f"**{orders / f['wall']:,.0f}** | {f['cpu'] / orders * 1000:.1f} | "
                    f"{f['pg_cpu'] / orders * 1000:.1f} | {f['done']:,} done, {f['dead']} dead, "
                    f"{f['recorded']:,} orders recorded |")
    print("| orders in the sale | deliveries | seconds to work off | deliveries/s | orders/s | "
          "loop CPU ms/order | PostgreSQL CPU ms/order | checked |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    print("FLASH PIPE CHECKS:", "PASSED" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
