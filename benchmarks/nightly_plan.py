"""The nightly planning job on one large shop, through the service's own code and database.

Seeds a shop of `--skus` SKUs (default 20,000) in a fresh database (SQLite file, or `--database-url`
for PostgreSQL): variants, stock, two suppliers with offers, open purchase orders, and `--days` of
order history drawn from the seven synthetic demand classes (`connector/domain/planning/simulate.py`,
the long tail weighted as catalogues are: most SKUs sell on few days). Then runs what the Celery
task `connector.plan_all` runs for it, `plan_detached` (read, forecast, store), and prints wall and
CPU seconds per phase and the peak memory, against the task's time limit (`connector.tasks`).

    python benchmarks/nightly_plan.py                  # 20,000 SKUs on SQLite
    python benchmarks/nightly_plan.py --skus 2000
    python benchmarks/nightly_plan.py --quick          # 300 SKUs, for the test suite
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
from sqlalchemy import insert

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from connector.domain.planning.simulate import synthetic_demand  # noqa: E402
from connector.plans import planning_runs  # noqa: E402
from connector.storage.db import Database  # noqa: E402
from connector.storage.tables import (  # noqa: E402
    OrderLineRow,
    OrderRow,
    PlanRunRow,
    PurchaseOrderLineRow,
    PurchaseOrderRow,
    ShopRow,
    SkuPlanRow,
    StockLevelRow,
    SupplierOfferRow,
    SupplierRow,
    VariantRow,
)
from connector.tasks import PLAN_SOFT_LIMIT  # noqa: E402

TODAY = date(2026, 11, 30)
LINES_PER_ORDER = 8
# The long tail: of every 20 SKUs, 9 intermittent, 4 lumpy, 2 smooth, 2 trending, 1 of each changing kind.
MIX = ("intermittent",) * 9 + ("lumpy",) * 4 + ("smooth",) * 2 + ("trending",) * 2 + (
    "seasonal", "promotion", "level_shift")


def seed(db: Database, skus: int, days: int, rng: np.random.Generator) -> tuple[int, int]:
    """The shop and its facts; returns (shop id, order lines written)."""
    now = datetime.combine(TODAY, datetime.min.time(), UTC)
    names = [f"SKU-{i:06d}" for i in range(skus)]
    demand = synthetic_demand(skus, days, rng, MIX).demand.astype(int)
    with db.session() as s:
        shop = ShopRow(platform="sandbox", domain="big.example", name="Big shop", timezone="UTC",
                       settings={}, installed_at=now)
        s.add(shop)
        s.flush()
        shop_id = shop.id
        suppliers = [SupplierRow(shop_id=shop_id, name=f"Supplier {k}", lead_time_mean_days=lead,
                                 lead_time_spread_days=3) for k, lead in ((1, 14.0), (2, 30.0))]
        s.add_all(suppliers)
        s.flush()
        supplier_ids = [x.id for x in suppliers]
    conn_rows = {
        VariantRow: [dict(shop_id=shop_id, sku=n, title=n, price=Decimal("20"), sells_when_out_of_stock=True)
                     for n in names],
        StockLevelRow: [dict(shop_id=shop_id, sku=n, location="main", available=int(rng.integers(0, 60)),
                             updated_at=now) for n in names],
        SupplierOfferRow: [dict(shop_id=shop_id, supplier_id=supplier_ids[i % 2], sku=n, cost=Decimal("8"),
                                primary=True) for i, n in enumerate(names)],
    }
    with db.session() as s:
        for table, rows in conn_rows.items():
            s.execute(insert(table), rows)
        for k in range(2):
            po = PurchaseOrderRow(shop_id=shop_id, supplier_id=supplier_ids[k], reference=f"PO-{k}", draft=False,
                                  ordered_on=TODAY - timedelta(days=5), expected_on=TODAY + timedelta(days=9 + 20 * k),
                                  created_at=now)
            s.add(po)
            s.flush()
            s.execute(insert(PurchaseOrderLineRow), [dict(purchase_order_id=po.id, sku=n, quantity=20)
                                                     for n in names[k::50]])
    return shop_id, _history(db, shop_id, names, demand, days)


def _history(db: Database, shop_id: int, names: list[str], demand: np.ndarray, days: int) -> int:
    written = 0
    for d in range(days):
        placed = datetime.combine(TODAY - timedelta(days=days - d), datetime.min.time(), UTC) + timedelta(hours=12)
        sold = np.flatnonzero(demand[:, d])
        with db.session() as s:
            orders = [dict(shop_id=shop_id, external_id=f"{d}-{k}", name=f"#{d}-{k}", currency="USD",
                           placed_at=placed, source_updated_at=placed, payment_status="paid")
                      for k in range(0, sold.size, LINES_PER_ORDER)]
            ids = list(s.scalars(insert(OrderRow).returning(OrderRow.id, sort_by_parameter_order=True), orders))
            lines = [dict(order_id=ids[j // LINES_PER_ORDER], shop_id=shop_id, external_id=str(j), sku=names[i],
                          title=names[i], quantity=int(demand[i, d]), fulfilled_quantity=int(demand[i, d]),
                          unit_price=Decimal("20")) for j, i in enumerate(sold)]
            s.execute(insert(OrderLineRow), lines)
            written += len(lines)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skus", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=182)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--model-set", default=None, choices=(None, "full", "fast"))
    parser.add_argument("--quick", action="store_true", help="300 SKUs: checks the job runs, times nothing")
    args = parser.parse_args()
    if args.quick:
        args.skus = 300
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(args.database_url or f"sqlite:///{tmp}/nightly.sqlite3")
        db.migrate()
        t0 = time.perf_counter()
        shop_id, lines = seed(db, args.skus, args.days, np.random.default_rng(7))
        print(f"seeded {args.skus:,} SKUs, {lines:,} order lines over {args.days} days "
              f"in {time.perf_counter() - t0:.0f} s")
        c0, w0 = time.process_time(), time.perf_counter()
        run_id, status = planning_runs.plan_detached(db, shop_id, lambda: datetime.now(UTC), "nightly",
                                                     args.model_set)
        cpu, wall = time.process_time() - c0, time.perf_counter() - w0
        with db.read() as s:
            run = s.get(PlanRunRow, run_id)
            planned = s.query(SkuPlanRow).filter(SkuPlanRow.shop_id == shop_id).count()
            error = run.error if run else None
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"nightly plan: {status} ({error or 'no error'}), {planned:,} SKU plans stored")
        print(f"  wall {wall:.1f} s, CPU {cpu:.1f} s, peak memory {peak:.0f} MiB, load {os.getloadavg()[0]:.1f}")
        print(f"  Celery soft time limit of connector.plan_all: {PLAN_SOFT_LIMIT} s "
              f"({wall / PLAN_SOFT_LIMIT:.0%} of it used)")
        if status != "done":
            sys.exit(1)


if __name__ == "__main__":
    main()
