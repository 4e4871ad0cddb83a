"""One shop's decision pipe alone (issue 13's capacity model): how many orders a second one shop's
decisions keep up with when nothing else shares the machine, and what one worker process's outbox
costs per waiting order.

    python benchmarks/flash_pipe.py            # 4,000 orders (and their outbox), then the sale's 20,000
    python benchmarks/flash_pipe.py --quick    # 1,000 orders: the smoke run tests/e2e/test_benchmarks.py does

A shop's deliveries are applied and decided in arrival order under the shop's row lock, one batch
at a time, however many workers there are (`Inbox.process_batch`). Here the flash sale's own
webhooks (benchmarks/flash_workload.py: the same orders, stock reports, late and re-sent ones) are
verified and stored first, and one inbox loop then works them off in claims of 1,000, as a worker
does, on PostgreSQL: no web tier, no outbox, no other process competing. Measured: deliveries and
orders a second, the loop's CPU and PostgreSQL's per order. Checked (exit 1): every delivery done,
none dead-lettered, every order recorded.

Then, for the first size, the outbox those decisions filled is drained by one loop as one worker
process drains it (passes of `DRAIN_BATCH`): each waiting order's store action (two Admin GraphQL
calls to the fake shop of tests/shopify_store_server.py, on loopback in this process) and its email
(to an aiosmtpd sink in a process of its own). Measured: the loop's own CPU (its thread's) per
action and per waiting order, the capacity of one worker core for a sale's actions. Checked: every
action done, one email and one store action (two calls) per waiting order.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cryptography.fernet import Fernet  # noqa: E402
from flash_measure import cpu_seconds  # noqa: E402
from flash_workload import APP_SECRET, SHOP, Workload, make_workload, store_in_process  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from connector.bootstrap import build_services  # noqa: E402
from connector.config import load_config  # noqa: E402
from connector.storage.tables import ActionRow, OrderRow  # noqa: E402
from connector.tasks import DRAIN_BATCH, INBOX_CLAIM  # noqa: E402
from tests.conftest import Clock  # noqa: E402
from tests.services import _wait_for_port, free_port, start_postgres  # noqa: E402
from tests.shopify_store_server import ShopifyStoreServer  # noqa: E402


def measure(orders: int, seconds: float, seed: int, outbox: bool = False) -> dict[str, Any]:
    """The sale's deliveries stored, then worked off by one loop; its figures. With `outbox`, the
    actions they made are then drained by one loop too (`drain_outbox`)."""
    workload = make_workload(orders, seconds, 20, (20, 80), 0.05, seed)
    start = workload.orders[0].placed_at
    clock = Clock(start - timedelta(minutes=1))
    instance = Path(tempfile.mkdtemp(prefix="flash-pipe-"))
    mail_url = f"file://{instance / 'mail'}"
    store: ShopifyStoreServer | None = None
    sink: subprocess.Popen | None = None
    pg = start_postgres()
    try:
        if outbox:
            sink, mail_url = _start_mail_sink(instance)
        env = {"SECRET_KEY": "flash-pipe", "ENCRYPTION_KEY": Fernet.generate_key().decode(),
               "INSTANCE_PATH": str(instance), "DATABASE_URL": pg.create_database(), "SANDBOX_ENABLED": "0",
               "MAIL_URL": mail_url, "SHOPIFY_API_KEY": "k", "SHOPIFY_API_SECRET": APP_SECRET}
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
        figures = {"orders": orders, "deliveries": stored, "done": done, "dead": dead, "left": left,
                   "recorded": recorded, "wall": wall, "cpu": cpu, "pg_cpu": pg_cpu}
        if outbox:
            store = _start_shop(workload)
            figures.update(drain_outbox(services, store, clock, pg.process.pid))
        services.db.dispose()
    finally:
        pg.stop()
        if store is not None:
            store.stop()
        if sink is not None:
            sink.terminate()
            sink.wait(timeout=10)
    return figures


def _start_mail_sink(instance: Path) -> tuple[subprocess.Popen, str]:
    """An SMTP server that takes every message and keeps none, in a process of its own."""
    port = free_port()
    log = instance / "smtp-sink.log"
    with log.open("wb") as out:
        sink = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink",
                                 "-l", f"127.0.0.1:{port}"], stdout=out, stderr=subprocess.STDOUT)
    _wait_for_port(port, sink, log)
    return sink, f"smtp://127.0.0.1:{port}"


def _start_shop(workload: Workload) -> ShopifyStoreServer:
    """The fake shop holding the sale's products and orders, this process's Admin GraphQL clients
    pointed at it (as the flash sale's workers are). Made after the decisions are measured, and its
    objects frozen out of the garbage collector's passes: a worker does not hold a shop's thousands
    of orders, so the loop under measurement should not pay for walking them."""
    store = ShopifyStoreServer(SHOP)
    for topic, payload in workload.catalogue:
        if topic == "products/update":
            store.store.add_product(payload)
    for order in workload.orders:
        store.store.add_rest_order(order.rest, [order.authorization])
    gc.freeze()
    store.start()
    os.environ["FLASH_SHOPIFY_URL"] = store.url
    from tests.flash_sale_worker import point_shopify_at

    point_shopify_at(store.url)
    return store


def drain_outbox(services: Any, store: ShopifyStoreServer, clock: Clock, pg_pid: int) -> dict[str, Any]:
    """Every action the decisions made, drained by one loop in passes of `DRAIN_BATCH` as a worker
    process drains them; the loop's own CPU (its thread's: the fake shop answers from threads of
    this process) and PostgreSQL's."""
    while services.inbox.evaluate_settled():  # the stock holds of the last drops settle: every order decided
        pass
    clock.now += timedelta(minutes=10)  # and every action due
    before = len(store.calls)
    pg_before, cpu_before, began = cpu_seconds(pg_pid), time.thread_time(), time.perf_counter()
    actions = 0
    while True:
        drained = services.outbox.drain(DRAIN_BATCH)
        handled = drained.done + drained.failed + drained.dead + drained.retried
        actions += handled
        if handled == 0:
            break
    wall = time.perf_counter() - began
    cpu, pg_cpu = time.thread_time() - cpu_before, cpu_seconds(pg_pid) - pg_before
    with services.db.read() as s:
        states = Counter({(kind, status): n for kind, status, n in s.execute(
            select(ActionRow.kind, ActionRow.status, func.count()).group_by(ActionRow.kind, ActionRow.status))})
    calls = Counter(c.operation for c in store.calls[before:])
    return {"actions": actions, "action_states": states, "calls": calls, "outbox_wall": wall, "outbox_cpu": cpu,
            "outbox_pg_cpu": pg_cpu, "answer_mismatches": list(store.mismatches)}


def outbox_row(f: dict[str, Any]) -> tuple[str, bool]:
    """The outbox table's row of one size, and whether its checks pass: every action done (or
    cancelled unsent), one email and one store action of two calls per waiting order."""
    states, calls = f["action_states"], f["calls"]
    undone = sum(n for (_kind, status), n in states.items() if status not in ("done", "cancelled"))
    waiting, emails = states[("start_backorder", "done")], states[("send_email", "done")]
    ok = (undone == 0 and waiting > 0 and emails == waiting and not f["answer_mismatches"]
          and calls["OrderBackorderStart"] == calls["OrderBackorderHoldAndDate"] == waiting)
    per_order = f["outbox_cpu"] / waiting * 1000 if waiting else 0.0
    row = (f"| {f['orders']:,} | {waiting:,} | {f['actions']:,} ({emails:,} emails, "
           f"{sum(calls.values()):,} store calls) | {f['outbox_wall']:.1f} | "
           f"{f['outbox_cpu'] / max(f['actions'], 1) * 1000:.2f} | **{per_order:.1f}** | "
           f"**{1000 / per_order if per_order else 0:,.0f}** | {f['outbox_pg_cpu'] / max(waiting, 1) * 1000:.1f} | "
           f"{undone} not done" + (f"; the fake shop's fast answers differed {len(f['answer_mismatches'])} times"
                                   if f["answer_mismatches"] else "") + " |")
    return row, ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, nargs="+", default=[4_000, 20_000],
                        help="sale sizes, each in --seconds scaled to the full size's rate")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--quick", action="store_true", help="1,000 orders")
    args = parser.parse_args(argv)
    sizes = [1_000] if args.quick else args.orders
    rows, outbox_rows, ok = [], [], True
    for i, orders in enumerate(sizes):
        f = measure(orders, 120.0 * orders / 20_000, args.seed, outbox=i == 0)
        ok = ok and f["dead"] == 0 and f["left"] == 0 and f["done"] == f["deliveries"] and f["recorded"] == orders
        rows.append(f"| {orders:,} | {f['deliveries']:,} | {f['wall']:.1f} | {f['deliveries'] / f['wall']:,.0f} | "
                    f"**{orders / f['wall']:,.0f}** | {f['cpu'] / orders * 1000:.1f} | "
                    f"{f['pg_cpu'] / orders * 1000:.1f} | {f['done']:,} done, {f['dead']} dead, "
                    f"{f['recorded']:,} orders recorded |")
        if "actions" in f:
            row, outbox_ok = outbox_row(f)
            outbox_rows.append(row)
            ok = ok and outbox_ok
    print("| orders in the sale | deliveries | seconds to work off | deliveries/s | orders/s | "
          "loop CPU ms/order | PostgreSQL CPU ms/order | checked |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    print()
    print("One worker process's outbox: the actions those decisions made, drained by one loop")
    print()
    print("| orders in the sale | waiting orders | actions | seconds to drain | loop CPU ms/action | "
          "loop CPU ms/waiting order | waiting orders/s per worker core | PostgreSQL CPU ms/waiting order | "
          "checked |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(outbox_rows))
    print("FLASH PIPE CHECKS:", "PASSED" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
