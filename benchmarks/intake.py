"""Intake benchmark: signed sandbox webhooks against the app under gunicorn, on loopback.

    python benchmarks/intake.py            # 5,000 orders/create webhooks, ~10% re-sent duplicates
    python benchmarks/intake.py --quick    # a small smoke run (targets are not checked)

What it does:
1. A fresh instance folder and SQLite database; a setup step (`build_services`, in this process)
   migrates it, connects one sandbox shop with a known webhook secret and loads its catalogue
   (products and stock levels, through the inbox as the store's own webhooks would).
2. The ceiling: a bare Flask view that reads the body and answers 200 (`benchmarks/bare_app.py`),
   under gunicorn with the same settings, takes the same requests.
3. The app (`wsgi:app`, worker on, sandbox demo off) under gunicorn takes N signed orders/create
   webhooks from a bounded pool of client threads; about 10% are exact re-sends of an earlier
   delivery (same body, same event id), as a store does when an answer is slow.
4. Waits until the inbox is drained (bounded), then counts in the database: stored deliveries
   must equal sent - duplicates, every one processed, every order stored.

Targets (issue 2): accepted per second at least half the ceiling; p99 time to answer under 50 ms;
nothing lost. Exit code 1 when a target is missed. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402

from adapters.base import Delivery  # noqa: E402
from adapters.sandbox.store import SandboxStore  # noqa: E402
from adapters.sandbox.webhooks import build_delivery  # noqa: E402
from connector.bootstrap import build_services  # noqa: E402
from connector.config import load_config  # noqa: E402
from connector.domain.model import Platform  # noqa: E402

DOMAIN = "bench-store.sandbox"
SECRET = b"intake-benchmark-webhook-secret"
PATH = "/webhooks/sandbox"
P99_TARGET_MS = 50.0
CEILING_SHARE_TARGET = 0.5


def gunicorn_settings(workers: int, threads: int) -> list[str]:
    """The same for both servers. Default for 2 cores: a process per core, threads for the I/O wait (gthread)."""
    return ["--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads), "--keep-alive", "5",
            "--timeout", "60"]


Request = tuple[dict[str, str], bytes]


# ---- the requests ------------------------------------------------------------------------


@dataclass
class Workload:
    catalogue: list[tuple[str, dict]]  # (topic, payload): products and stock levels, loaded at set-up
    requests: list[Request]  # what is posted, in order, duplicates included
    duplicates: int

    @property
    def unique(self) -> int:
        return len(self.requests) - self.duplicates


def make_workload(n: int, duplicate_share: float, skus: int, seed: int) -> Workload:
    """Orders placed in a sandbox store (the payloads the demo sends), signed; some re-sent later."""
    rng = random.Random(seed)
    store = SandboxStore(domain=DOMAIN, name="Benchmark Store")
    emitted: list[tuple[str, dict]] = []
    store.listeners.append(lambda topic, payload: emitted.append((topic, payload)))
    for i in range(skus):
        # Ample stock: every order is evaluated against tracked stock, none waits (so no store actions).
        store.add_product(f"BENCH-{i:04d}", f"Benchmark product {i}", f"{rng.randint(5, 200)}.00", 1_000_000)
    catalogue = list(emitted)
    emitted.clear()
    unique = n - round(n * duplicate_share)
    for i in range(unique):
        items = [(f"BENCH-{rng.randrange(skus):04d}", rng.randint(1, 3)) for _ in range(rng.randint(1, 3))]
        customer = {"id": f"c{i}", "email": f"shopper{i}@example.test", "name": f"Shopper {i}", "locale": "en"}
        store.place_order(customer, list(dict(items).items()))
    orders = [payload for topic, payload in emitted if topic == "orders/create"]
    assert len(orders) == unique
    sent: list[Request] = [build_delivery(DOMAIN, SECRET, "orders/create", p) for p in orders]
    duplicates = n - unique
    for _ in range(duplicates):
        # An exact re-send of a delivery made a little earlier (same event id, same body and signature).
        at = rng.randrange(min(50, len(sent)), len(sent) + 1)
        original = sent[rng.randrange(max(0, at - 500), at)]
        sent.insert(at, original)
    return Workload(catalogue, sent, duplicates)


# ---- set-up and servers ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_env(tmp: Path, port: int, worker: bool = True) -> dict[str, str]:
    return {
        **os.environ,
        "SECRET_KEY": "intake-benchmark",
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "INSTANCE_PATH": str(tmp / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp / 'connector.sqlite3'}",
        "APP_URL": f"http://127.0.0.1:{port}",
        "SANDBOX_ENABLED": "0",
        "WORKER_ENABLED": "1" if worker else "0",
        "SCHEDULER_ENABLED": "0",  # periodic evaluation and reconciliation are not intake
        "MAIL_URL": f"file://{tmp / 'mail'}",
    }


def set_up(env: dict[str, str], workload: Workload) -> None:
    """Migrate, connect the shop, load its catalogue through the inbox; the server starts after."""
    services = build_services(load_config(env))
    try:
        services.shops.connect(
            Platform.SANDBOX, DOMAIN, name="Benchmark Store", credentials={}, webhook_secret=SECRET, currency="EUR"
        )
        for i, (topic, payload) in enumerate(workload.catalogue):
            body = json.dumps(payload).encode()
            services.inbox.store(Delivery(Platform.SANDBOX, DOMAIN, topic, f"setup-{i}", body))
        while services.inbox.process_pending(limit=500).done:
            pass
        depth = services.inbox.depth()
        if depth.get("done", 0) != len(workload.catalogue):
            raise RuntimeError(f"catalogue did not load: {depth}")
    finally:
        services.db.dispose()


@contextmanager
def gunicorn(app: str, env: dict[str, str], port: int, log: Path, settings: list[str]) -> Iterator[None]:
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}", *settings],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn {app} exited: {log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn {app} did not start: {log.read_text()[-3000:]}")
            try:
                # Both workers import the app; ask until several answers came (each worker is up).
                if sum(get_status(port, "/healthz") == 200 for _ in range(8)) == 8:
                    break
            except OSError:
                time.sleep(0.2)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def get_status(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


# ---- the load ----------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int | str, int] = field(default_factory=dict)
    answers: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))] if ordered else float("nan")


def post_all(name: str, port: int, requests: list[Request], concurrency: int, timeout: float) -> Run:
    """Post every request once from `concurrency` threads, each with its own keep-alive connection."""
    lock = threading.Lock()
    position = iter(range(len(requests)))
    latencies: list[float] = []
    statuses: dict[int | str, int] = {}
    answers: dict[str, int] = {}
    deadline = time.monotonic() + timeout

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        seen: dict[int | str, int] = {}
        said: dict[str, int] = {}
        try:
            while time.monotonic() < deadline:
                with lock:
                    i = next(position, None)
                if i is None:
                    break
                headers, body = requests[i]
                t0 = time.perf_counter()
                try:
                    conn.request("POST", PATH, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                    status: int | str = response.status
                except (OSError, http.client.HTTPException) as exc:
                    status, data = type(exc).__name__, b""
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                mine.append((time.perf_counter() - t0) * 1000)
                seen[status] = seen.get(status, 0) + 1
                if status == 200:
                    answer = json.loads(data).get("status", "?")
                    said[answer] = said.get(answer, 0) + 1
        finally:
            conn.close()
            with lock:
                latencies.extend(mine)
                for k, v in seen.items():
                    statuses[k] = statuses.get(k, 0) + v
                for k, v in said.items():
                    answers[k] = answers.get(k, 0) + v

    threads = [threading.Thread(target=client, name=f"client-{i}") for i in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Run(name, time.perf_counter() - t0, latencies, statuses, answers)


# ---- the check ---------------------------------------------------------------------------


def inbox_counts(db_path: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute(
            "SELECT status, count(*) FROM deliveries WHERE topic = 'orders/create' GROUP BY status"
        ).fetchall()
        counts = {status: n for status, n in rows}
        counts["orders"] = conn.execute("SELECT count(*) FROM orders").fetchone()[0]
        return counts
    finally:
        conn.close()


def wait_drained(db_path: Path, timeout: float) -> tuple[dict[str, int], float]:
    t0 = time.monotonic()
    while True:
        counts = inbox_counts(db_path)
        if counts.get("pending", 0) + counts.get("processing", 0) == 0 or time.monotonic() - t0 > timeout:
            return counts, time.monotonic() - t0
        time.sleep(0.25)


# ---- main --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--requests", type=int, default=5_000, help="webhooks posted, duplicates included")
    parser.add_argument("--duplicates", type=float, default=0.10, help="share of exact re-sends")
    parser.add_argument("--concurrency", type=int, default=16, help="client threads (each one request in flight)")
    parser.add_argument("--skus", type=int, default=500, help="catalogue size")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn worker processes (both; 1 as make run)")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker (both servers)")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="diagnosis: intake alone, the inbox worker off (nothing is processed, so the drain check fails)",
    )
    parser.add_argument("--timeout", type=float, default=300, help="bound on each load run and on the drain (s)")
    parser.add_argument("--quick", action="store_true", help="small smoke run: 200 webhooks; targets not checked")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.concurrency, args.skus, args.timeout = 200, 8, 50, 120
    if args.concurrency < 1 or args.requests < 10:
        parser.error("need at least 1 client and 10 requests")

    settings = gunicorn_settings(args.workers, args.threads)
    workload = make_workload(args.requests, args.duplicates, args.skus, args.seed)
    print(
        f"workload: {len(workload.requests):,} orders/create webhooks ({workload.duplicates:,} re-sent duplicates), "
        f"{args.skus} SKUs, {args.concurrency} concurrent clients; gunicorn {' '.join(settings)}",
        flush=True,
    )
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="intake-bench-") as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        env = service_env(tmp, port, worker=not args.no_worker)
        set_up(env, workload)

        with gunicorn("bare_app:app", env, port, tmp / "bare.log",
                      [*settings, "--pythonpath", str(ROOT / "benchmarks")]):
            ceiling = post_all("bare Flask view (ceiling)", port, workload.requests, args.concurrency, args.timeout)
        print(f"ceiling done: {ceiling.per_second:,.0f}/s", flush=True)

        with gunicorn("wsgi:app", env, port, tmp / "app.log", settings):
            app = post_all("the app: `POST /webhooks/sandbox`", port, workload.requests, args.concurrency,
                           args.timeout)
            print(f"app done: {app.per_second:,.0f}/s; waiting for the inbox to drain", flush=True)
            counts, drain_s = wait_drained(tmp / "connector.sqlite3", 0 if args.no_worker else args.timeout)
        load_after = os.getloadavg()[0]
        if app.ok != len(workload.requests):
            print(f"app log tail:\n{(tmp / 'app.log').read_text()[-3000:]}", file=sys.stderr)

    stored = sum(v for k, v in counts.items() if k != "orders")
    expected = workload.unique
    in_flight = counts.get("pending", 0) + counts.get("processing", 0)
    lost = expected - stored
    share = app.per_second / ceiling.per_second if ceiling.per_second else 0.0
    p99 = app.percentile(0.99)

    print()
    print(
        f"{len(workload.requests):,} requests, {args.concurrency} concurrent clients, gunicorn "
        f"`{' '.join(settings)}`, {os.cpu_count()} CPUs, load average {load_before:.1f} before / "
        f"{load_after:.1f} after"
    )
    print()
    print("| server | answered 200 per second | p50 ms | p99 ms | max ms | answers |")
    print("|---|---|---|---|---|---|")
    for run in (ceiling, app):
        answers = ", ".join(f"{k}: {v:,}" for k, v in sorted({**run.answers, **{
            f"HTTP {k}": v for k, v in run.statuses.items() if k != 200}}.items()))
        print(
            f"| {run.name} | {run.per_second:,.0f} | {run.percentile(0.5):.1f} | {run.percentile(0.99):.1f} | "
            f"{max(run.latencies_ms, default=float('nan')):.1f} | {answers} |"
        )
    print()
    checks: list[tuple[str, str, str, bool]] = [
        ("accepted per second vs the ceiling", f"{app.per_second:,.0f} / {ceiling.per_second:,.0f} = {share:.0%}",
         f">= {CEILING_SHARE_TARGET:.0%}", share >= CEILING_SHARE_TARGET),
        ("p99 time to answer", f"{p99:.1f} ms", f"< {P99_TARGET_MS:.0f} ms", p99 < P99_TARGET_MS),
        ("every request answered 200", f"{app.ok:,} of {len(workload.requests):,}", "all",
         app.ok == len(workload.requests)),
        ("duplicates recognised", f"{app.answers.get('duplicate', 0):,} of {workload.duplicates:,} re-sent",
         "all", app.answers.get("duplicate", 0) == workload.duplicates),
        ("stored deliveries = sent - duplicates", f"{stored:,} = {len(workload.requests):,} - "
         f"{workload.duplicates:,} ({expected:,})", "equal", stored == expected),
        ("lost", f"{lost:,}", "0", lost == 0),
        ("inbox drained", f"{in_flight:,} left after {drain_s:.1f} s (processed {counts.get('done', 0):,}, "
         f"dead-lettered {counts.get('dead', 0):,})", "0 left, 0 dead", in_flight == 0 and not counts.get("dead")),
        ("orders stored", f"{counts['orders']:,}", f"{expected:,}", counts["orders"] == expected),
    ]
    print("| check | result | target | met |")
    print("|---|---|---|---|")
    for name, value, target, ok in checks:
        timing = name in ("accepted per second vs the ceiling", "p99 time to answer")
        met = "n/a (quick)" if args.quick and timing else ("yes" if ok else "**NO**")
        print(f"| {name} | {value} | {target} | {met} |")
    missed = [name for name, _, _, ok in checks if not ok and not (args.quick and name in (
        "accepted per second vs the ceiling", "p99 time to answer"))]
    for name in missed:
        print(f"TARGET MISSED: {name}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
