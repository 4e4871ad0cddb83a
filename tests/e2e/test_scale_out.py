"""The production shape: PostgreSQL, concurrent workers, one elected scheduler, Celery on Redis,
stateless web processes. Real servers (tests/services.py), all on loopback, stopped at teardown."""

from __future__ import annotations

import itertools
import logging
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from cryptography.fernet import Fernet
from sqlalchemy import func, inspect, select, text

from adapters.sandbox import forget_stores, register_store
from adapters.sandbox.store import SandboxStore
from adapters.sandbox.webhooks import build_delivery
from connector.bootstrap import Services, build_services
from connector.config import Config, load_config
from connector.domain.model import Platform
from connector.scheduler import Scheduler
from connector.storage import leases
from connector.storage.db import Database
from connector.storage.tables import ActionRow, BackorderRow, DeliveryRow, OrderRow, ShopRow, StockLevelRow
from connector.web import create_app
from tests.conftest import Clock
from tests.sandbox_calls import CALL_NAMES, STORE_CALLS, calls_decided
from tests.sandbox_helpers import DOMAIN, SECRET, connect_sandbox
from tests.services import PostgresServer, RedisServer, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.services]

ROOT = Path(__file__).resolve().parents[2]
CUSTOMER = {"id": "c1", "email": "ada@example.com", "name": "Ada", "locale": "en", "reseller": False}


def service_env(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    return {
        "SECRET_KEY": "scale-secret",
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "APP_URL": "https://connector.test",
        "WORKER_ENABLED": "0",
        "SCHEDULER_ENABLED": "0",
        "MAIL_URL": f"file://{tmp_path / 'mail'}",
        **extra,
    }


@pytest.fixture
def pg_config(tmp_path: Path, postgres_url: str) -> Config:
    return load_config(service_env(tmp_path, postgres_url))


@pytest.fixture
def built(pg_config: Config) -> Iterator[Callable[..., Services]]:
    """Build Services on the test's PostgreSQL database, each with its own Database (as processes have)."""
    made: list[Services] = []

    def build(config: Config = pg_config, **kwargs: object) -> Services:
        services = build_services(config, **kwargs)  # type: ignore[arg-type]
        made.append(services)
        return services

    yield build
    for services in made:
        services.db.dispose()
    forget_stores()


def count(services: Services, table: type, *where: object) -> int:
    with services.db.session() as s:
        return s.scalar(select(func.count()).select_from(table).where(*where))


def calls_by_order(store: SandboxStore) -> Counter[tuple[str, str]]:
    return Counter((call, order) for call, order, _ in store.calls if call in CALL_NAMES)


def actions_by_order(services: Services, domain: str = DOMAIN) -> Counter[tuple[str, str]]:
    with services.db.session() as s:
        rows = s.execute(
            select(ActionRow.kind, OrderRow.external_id, ActionRow.status)
            .join(OrderRow, OrderRow.id == ActionRow.order_id)
            .join(ShopRow, ShopRow.id == ActionRow.shop_id)
            .where(ShopRow.domain == domain)
        ).all()
    assert {status for kind, _, status in rows if kind in STORE_CALLS} <= {"done"}, rows
    return calls_decided((kind, order) for kind, order, _ in rows)


# ---- (a) PostgreSQL: schema, types, the webhook flow ---------------------------------------


def test_migration_on_postgresql_makes_the_expected_types(postgres_server: PostgresServer) -> None:
    url = postgres_server.create_database()
    databases = [Database(url) for _ in range(3)]
    errors: list[BaseException] = []

    def migrate(db: Database) -> None:
        try:
            db.migrate()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=migrate, args=(db,)) for db in databases]  # processes starting together
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    db = databases[0]
    try:
        columns = {c["name"]: c["type"] for c in inspect(db.engine).get_columns("deliveries")}
        assert type(columns["id"]).__name__ == "BIGINT"
        assert type(columns["body"]).__name__ == "BYTEA"
        assert columns["received_at"].timezone is True
        assert type(columns["headers"]).__name__ == "JSON"
        money = {c["name"]: c["type"] for c in inspect(db.engine).get_columns("orders")}["total_price"]
        assert (money.precision, money.scale) == (18, 4)
        with db.engine.connect() as c:
            assert c.execute(text("select version_num from alembic_version")).scalar() is not None
    finally:
        for each in databases:
            each.dispose()


def test_types_round_trip_on_postgresql(built: Callable[..., Services]) -> None:
    services = built()
    services.shops.connect(Platform.SANDBOX, DOMAIN, name="Shop", credentials={"k": "é"}, webhook_secret=SECRET)
    with services.db.engine.begin() as c:  # ids beyond 32 bits must work everywhere (BIGINT, not INTEGER)
        c.execute(text("ALTER SEQUENCE orders_id_seq RESTART WITH 3000000000"))
    rome = datetime(2026, 11, 2, 10, 30, 15, 123456, tzinfo=UTC).astimezone(ZoneInfo("Europe/Rome"))
    with services.db.session() as s:
        shop = s.scalar(select(ShopRow))
        order = OrderRow(shop_id=shop.id, external_id="1", name="#1", currency="EUR", placed_at=rome,
                         source_updated_at=rome, payment_status="authorized", tags=["a", "é"],
                         total_price=Decimal("12345678901234.5678"))
        s.add(order)
    with services.db.session() as s:
        row = s.scalar(select(OrderRow))
        assert row.id == 3_000_000_000
        assert row.placed_at == rome and row.placed_at.tzinfo == UTC  # aware, in UTC, microseconds kept
        assert row.total_price == Decimal("12345678901234.5678")
        assert row.tags == ["a", "é"]
        shop = s.scalar(select(ShopRow))
        assert isinstance(shop.credentials, bytes)
    assert services.shops.credentials(Platform.SANDBOX, DOMAIN) == {"k": "é"}
    assert services.shops.webhook_secret(Platform.SANDBOX, DOMAIN) == SECRET


def test_webhook_flow_on_postgresql_tags_and_holds_once(built: Callable[..., Services], pg_config: Config) -> None:
    clock = Clock()
    services = built(clock=clock)
    harness = connect_sandbox(services, create_app(pg_config, services, background=False).test_client(), clock)
    harness.store.add_product("MUG", "Mug", "10.00", 1)
    harness.store.add_product("TEE", "Tee", "20.00", 0)
    order = harness.store.place_order(CUSTOMER, [("MUG", 1), ("TEE", 2)])
    harness.settle()
    stored = harness.store.orders[order["id"]]
    assert stored["tags"] == ["backorder"]
    assert {h["line_id"] for h in stored["holds"]} == {f"{order['id']}-1", f"{order['id']}-2"}
    headers, body = next((h, b) for h, b in harness.sent if h["X-Sandbox-Topic"] == "orders/create")
    for _ in range(3):  # the store re-sends the same delivery
        assert harness.post(headers, body).json["status"] == "duplicate"
    harness.deliver("orders/updated", harness.store.order_payload(order["id"]))  # same content, new event id
    harness.settle()
    assert calls_by_order(harness.store) == Counter({("add_tags", order["id"]): 1, ("hold", order["id"]): 1,
                                                    ("set_eta", order["id"]): 1})
    assert count(services, DeliveryRow, DeliveryRow.topic == "orders/create") == 1
    with services.db.session() as s:
        [backorder] = s.scalars(select(BackorderRow)).all()
        assert (backorder.sku, backorder.quantity, backorder.state) == ("TEE", 2, "waiting")
        assert backorder.promised_on.isoformat() == stored["eta"]
    assert services.inbox.depth() == {"done": count(services, DeliveryRow)}


def test_claims_skip_rows_another_worker_has_locked(built: Callable[..., Services]) -> None:
    """A claim takes what is free instead of queueing behind another worker's claim (SKIP LOCKED)."""
    from adapters.base import Delivery
    from connector.dispatch.outbox import Kind, enqueue

    services, other = built(), built()
    ref = services.shops.connect(Platform.SANDBOX, DOMAIN, name="Shop", credentials={}, webhook_secret=SECRET)
    for shop, n in [("a.sandbox", 0), ("a.sandbox", 1), ("b.sandbox", 0)]:
        services.inbox.store(Delivery(Platform.SANDBOX, shop, "products/update", f"{shop}-{n}", b"{}"))
    with services.db.session() as s:
        for n in range(3):
            enqueue(s, shop_id=ref.id, order_id=None, kind=Kind.ADJUST_STOCK, key=f"k{n}", payload={})
    with other.db.engine.connect() as held:  # another worker, in the middle of its claim
        held.execute(text("SELECT id FROM deliveries WHERE shop_domain = 'a.sandbox' FOR UPDATE"))
        held.execute(text("SELECT id FROM actions WHERE idempotency_key = 'k0' FOR UPDATE"))
        claims: dict[str, list] = {}
        thread = threading.Thread(target=lambda: claims.update(
            inbox=services.inbox._claim(10), outbox=[row.idempotency_key for row in services.outbox._claim(10)]))
        thread.start()
        thread.join(timeout=5)
        assert not thread.is_alive(), "a claim waited for rows another worker holds"
        held.rollback()
    with services.db.session() as s:
        b_delivery = s.scalar(select(DeliveryRow.id).where(DeliveryRow.shop_domain == "b.sandbox"))
    assert claims == {"inbox": [b_delivery], "outbox": ["k1", "k2"]}  # a's wait their turn, in order


def test_work_on_one_shop_waits_for_another_transaction_working_on_it(built: Callable[..., Services]) -> None:
    """Evaluations of one shop run one at a time (its row lock); other shops are not held up."""
    from connector.backorders.evaluation import evaluate
    from connector.shops.directory import lock_shop

    services, other = built(), built()
    a = services.shops.connect(Platform.SANDBOX, "a.sandbox", name="A", credentials={}, webhook_secret=SECRET)
    b = services.shops.connect(Platform.SANDBOX, "b.sandbox", name="B", credentials={}, webhook_secret=SECRET)
    finished: list[str] = []

    def evaluate_shop(name: str, shop_id: int) -> None:
        with other.db.session() as s:
            evaluate(s, s.get(ShopRow, shop_id), None, datetime.now(UTC))
        finished.append(name)

    with services.db.session() as s:
        lock_shop(s, a.id)  # a worker is applying a delivery of shop a
        waiting = threading.Thread(target=evaluate_shop, args=("a", a.id))
        waiting.start()
        evaluate_shop("b", b.id)
        waiting.join(timeout=0.5)
        assert finished == ["b"] and waiting.is_alive()
    waiting.join(timeout=10)
    assert finished == ["b", "a"]


# ---- (b) two workers claiming at once ----------------------------------------------------


def outstanding(services: Services) -> int:
    with services.db.session() as s:
        inbox = s.scalar(select(func.count()).where(DeliveryRow.status.in_(("pending", "processing"))))
        outbox = s.scalar(select(func.count()).where(ActionRow.status.in_(("pending", "running"))))
    return inbox + outbox


def run_workers(workers: list[Services], batch: int = 3) -> list[int]:
    """Each worker (its own Database) processes the inbox and drains the outbox in small batches until
    nothing is left to do. Returns how many items each handled."""
    handled = [0] * len(workers)
    errors: list[BaseException] = []
    deadline = time.monotonic() + 60

    def loop(i: int, services: Services) -> None:
        try:
            while time.monotonic() < deadline:
                inbox = services.inbox.process_pending(limit=batch)
                outbox = services.outbox.drain(limit=batch)
                assert inbox.retried == inbox.dead == 0, inbox
                assert outbox.retried == outbox.failed == outbox.dead == 0, outbox.errors
                n = inbox.done + outbox.done + services.inbox.evaluate_settled()
                handled[i] += n
                if not n:
                    if outstanding(services) == 0:
                        return
                    time.sleep(0.005)  # the other worker holds the next batch of these shops
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            errors.append(exc)

    threads = [threading.Thread(target=loop, args=(i, s)) for i, s in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(deadline - time.monotonic(), 0.1) + 5)
    assert errors == [], errors
    assert not any(t.is_alive() for t in threads), "workers did not finish"
    return handled


def test_two_workers_process_every_delivery_and_action_exactly_once(
    built: Callable[..., Services], pg_config: Config
) -> None:
    clock = Clock()
    front = built(clock=clock)
    workers = [built(clock=clock), built(clock=clock)]
    harness = connect_sandbox(front, create_app(pg_config, front, background=False).test_client(), clock)
    other = SandboxStore(domain="shop-two.sandbox", clock=clock)  # a second shop: its work runs in parallel
    register_store(other)
    front.shops.connect(Platform.SANDBOX, other.domain, name="Shop Two", credentials={}, webhook_secret=SECRET)
    sent: list[object] = []

    def deliver_other(topic: str, payload: dict) -> None:
        headers, body = build_delivery(other.domain, SECRET, topic, payload)
        harness.post(headers, body)
        sent.append(headers)

    other.listeners.append(deliver_other)
    stores = [harness.store, other]
    orders: dict[str, list[dict]] = {store.domain: [] for store in stores}
    for store in stores:
        store.add_product("TEE", "Tee", "20.00", 0)
        store.add_product("MUG", "Mug", "10.00", 3)
    for i in range(24):
        for store in stores:
            items = [("TEE", 1)] if i % 2 else [("MUG", 1)]
            orders[store.domain].append(store.place_order(dict(CUSTOMER, id=f"c{i}"), items))
        clock.advance(seconds=1)
    first = run_workers(workers)
    clock.advance(minutes=5)  # stock drops settle
    run_workers(workers)
    assert all(h > 0 for h in first), f"each worker should have taken a share: {first}"

    with front.db.session() as s:
        deliveries = s.execute(select(DeliveryRow.status, DeliveryRow.attempts)).all()
        assert set(s.execute(select(ActionRow.status, ActionRow.attempts)).all()) == {("done", 1)}
    assert len(deliveries) == len(harness.sent) + len(sent) > 96
    assert set(deliveries) == {("done", 1)}  # every delivery claimed once and processed once
    for store in stores:
        tee = [o["id"] for o in orders[store.domain] if o["line_items"][0]["sku"] == "TEE"]
        mugs = [o["id"] for o in orders[store.domain] if o["line_items"][0]["sku"] == "MUG"]
        calls = calls_by_order(store)
        assert calls == actions_by_order(front, store.domain)  # each action reached the store exactly once
        # first come, first served, however the work was split: the first three mugs are in stock
        assert [store.orders[o]["tags"] for o in mugs] == [[]] * 3 + [["backorder"]] * 9
        assert all(store.orders[o]["tags"] == ["backorder"] for o in tee)
        for o in tee + mugs[3:]:  # tagged, held and promised once: never a decision made on half the facts
            assert (calls[("add_tags", o)], calls[("hold", o)], calls[("set_eta", o)]) == (1, 1, 1), o
            assert store.orders[o]["financial_status"] == "authorized"

    for store in stores:
        store.restock("TEE", 5)  # the first five waiting tees ship, in order of purchase
    assert sum(run_workers(workers)) > 0
    for store in stores:
        tee = [o["id"] for o in orders[store.domain] if o["line_items"][0]["sku"] == "TEE"]
        assert [store.orders[o]["tags"] for o in tee] == [[]] * 5 + [["backorder"]] * 7
        calls = calls_by_order(store)
        assert calls == actions_by_order(front, store.domain)
        for o in tee[:5]:
            assert (calls[("release", o)], calls[("remove_tags", o)], calls[("capture", o)]) == (1, 1, 1)


# ---- (c) one scheduler at a time -----------------------------------------------------------


def race_for_lease(dbs: list[Database], name: str, now: datetime) -> list[str]:
    """Every database handle tries to take the lease at the same instant; returns who got it."""
    barrier = threading.Barrier(len(dbs))
    won: list[str] = []

    def take(i: int, db: Database) -> None:
        barrier.wait()
        if leases.acquire(db, name, f"holder-{i}", timedelta(seconds=30), now):
            won.append(f"holder-{i}")

    threads = [threading.Thread(target=take, args=(i, db)) for i, db in enumerate(dbs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return won


def test_lease_is_taken_by_exactly_one_of_many_at_once(built: Callable[..., Services]) -> None:
    dbs = [built().db for _ in range(6)]
    now = datetime.now(UTC)
    assert len(race_for_lease(dbs, "fresh", now)) == 1  # nobody held it: the insert conflict decides
    assert leases.acquire(dbs[0], "expired", "gone", timedelta(seconds=1), now - timedelta(seconds=10))
    winner = race_for_lease(dbs, "expired", now)
    assert len(winner) == 1  # its holder is gone: the row lock decides
    assert race_for_lease(dbs, "expired", now + timedelta(seconds=5)) == winner  # only the holder renews it


def test_only_one_scheduler_runs_jobs_and_the_other_takes_over_after_the_ttl(
    built: Callable[..., Services], tmp_path: Path, postgres_url: str
) -> None:
    config = load_config(service_env(tmp_path, postgres_url, OUTBOX_INTERVAL_SECONDS="1"))
    ran: list[tuple[str, str, float]] = []  # (scheduler, task, when)
    ttl = timedelta(seconds=4)
    schedulers = {}
    for name in ("a", "b"):
        services = built(config)
        services.enqueue = lambda task, name=name: ran.append((name, task, time.monotonic()))
        schedulers[name] = Scheduler(services, ttl=ttl)
    a, b = schedulers["a"], schedulers["b"]
    try:
        a.start()
        wait_for(lambda: any(who == "a" for who, _, _ in ran), 5)
        b.start()
        time.sleep(2.5)
        assert {who for who, _, _ in ran} == {"a"}  # b runs its timers but is not the leader
        assert {task for _, task, _ in ran} >= {"process_inbox", "drain_outbox", "evaluate_settled"}
        a._scheduler.shutdown(wait=True)  # a dies without releasing its lease
        died = max(when for who, _, when in ran if who == "a")  # its last renewal was just before this
        wait_for(lambda: any(who == "b" for who, _, _ in ran), 15)
        took_over = min(when for who, _, when in ran if who == "b")
        # never before the lease ran out; soon after it (b tries every second; slack for a loaded machine)
        assert ttl.total_seconds() - 0.5 <= took_over - died <= ttl.total_seconds() + 6
        assert not any(who == "a" and when > died for who, _, when in ran)
        b.stop()  # a clean stop releases the lease at once
        assert leases.acquire(a.services.db, "scheduler", "someone-else", ttl, datetime.now(UTC))
    finally:
        for scheduler in schedulers.values():
            if scheduler._scheduler.running:
                scheduler._scheduler.shutdown(wait=False)


def wait_for(condition: Callable[[], bool], seconds: float, every: float = 0.05) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {seconds} s")
        time.sleep(every)


# ---- (d) Celery workers behind stateless web processes -------------------------------------


def start_web(env: dict[str, str], log: Path) -> tuple[str, subprocess.Popen]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--threads", "4"],
        cwd=ROOT, env={**os.environ, **env}, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    return f"http://127.0.0.1:{port}", process


def wait_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"web process exited: {log.read_text()[-3000:]}")
        try:
            if requests.get(url + "/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or still loading the app
            time.sleep(0.1)
    raise RuntimeError(f"web process did not start: {log.read_text()[-3000:]}")


def test_celery_worker_processes_webhooks_posted_to_two_stateless_web_processes(
    built: Callable[..., Services], tmp_path: Path, postgres_url: str, redis_server: RedisServer
) -> None:
    from celery.contrib.testing.worker import start_worker

    from connector import tasks

    env = service_env(tmp_path, postgres_url, CELERY_BROKER_URL=redis_server.url, STOCK_SETTLE_SECONDS="1",
                      OUTBOX_INTERVAL_SECONDS="1")
    config = load_config(env)
    services = built(config)  # the Celery worker's services (its own Database), in this process
    assert services.enqueue is not None
    store = SandboxStore(domain=DOMAIN)
    register_store(store)
    services.shops.connect(Platform.SANDBOX, DOMAIN, name="Shop", credentials={}, webhook_secret=SECRET,
                           currency="EUR")

    webs = [start_web(env, tmp_path / f"web{i}.log") for i in range(2)]
    scheduler_log = tmp_path / "scheduler.log"
    scheduler = subprocess.Popen(  # the one scheduler process: enqueues the periodic tasks
        [sys.executable, "-m", "flask", "--app", "connector.web:create_cli_app", "scheduler"],
        cwd=ROOT, env={**os.environ, **env}, stdout=scheduler_log.open("w"), stderr=subprocess.STDOUT,
    )
    try:
        for i, (url, process) in enumerate(webs):
            wait_healthy(url, process, tmp_path / f"web{i}.log")
        balancer = itertools.cycle([url for url, _ in webs])  # a round-robin load balancer
        answers: Counter[str] = Counter()
        lock = threading.Lock()

        def post(topic: str, payload: dict) -> None:
            headers, body = build_delivery(DOMAIN, SECRET, topic, payload)
            with lock:
                url = next(balancer)
            response = requests.post(f"{url}/webhooks/sandbox", data=body, headers=headers, timeout=10)
            assert response.status_code == 200, response.text
            answers[url] += 1
            if topic == "orders/create":  # a store re-sends: to the other process, same event id
                with lock:
                    other = next(balancer)
                again = requests.post(f"{other}/webhooks/sandbox", data=body, headers=headers, timeout=10)
                assert again.json()["status"] == "duplicate"

        store.listeners.append(post)
        store.add_product("TEE", "Tee", "20.00", 0)
        store.add_product("MUG", "Mug", "10.00", 2)
        orders = [store.place_order(dict(CUSTOMER, id=f"c{i}"), [("TEE" if i % 2 else "MUG", 1)]) for i in range(10)]
        assert set(answers) == {url for url, _ in webs}
        time.sleep(1.0)  # the web processes store and enqueue; no one there processes
        assert count(services, DeliveryRow, DeliveryRow.status != "pending") == 0

        tasks.bind(services)
        with start_worker(tasks.app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=15,
                          loglevel=logging.root.level):  # Celery sets the root level: keep the suite's
            def settled() -> bool:
                depth = services.inbox.depth()
                actions = services.outbox.depth()
                with services.db.session() as s:
                    unsettled = s.scalar(select(func.count()).where(StockLevelRow.settle_at.is_not(None)))
                return set(depth) == {"done"} and bool(actions) and set(actions) <= {"done"} and not unsettled

            wait_for(settled, 30, every=0.2)  # stock drops settle when the scheduler's task comes
            time.sleep(0.5)  # anything still queued would show as a second call now
        backordered = [o["id"] for o in orders if o["line_items"][0]["sku"] == "TEE"] + [
            o["id"] for o in orders if o["line_items"][0]["sku"] == "MUG"
        ][2:]
        calls = calls_by_order(store)
        assert calls == actions_by_order(services)
        for order_id in backordered:
            assert store.orders[order_id]["tags"] == ["backorder"] and store.orders[order_id]["holds"]
            assert (calls[("add_tags", order_id)], calls[("hold", order_id)]) == (1, 1)
        with services.db.session() as s:
            assert set(s.scalars(select(DeliveryRow.attempts))) == {1}
        assert "enqueuing Celery tasks" in scheduler_log.read_text()
    finally:
        for process in [scheduler, *(process for _, process in webs)]:
            process.terminate()
        for process in [scheduler, *(process for _, process in webs)]:
            process.wait(timeout=20)
        tasks.bind(None)


def test_celery_worker_command_processes_what_a_web_app_enqueued(
    built: Callable[..., Services], tmp_path: Path, postgres_url: str, redis_server: RedisServer
) -> None:
    """`celery -A connector.tasks worker` as its own process, configured from the environment alone."""
    from connector.bootstrap import Worker
    from connector.storage.tables import VariantRow

    env = service_env(tmp_path, postgres_url, CELERY_BROKER_URL=redis_server.url, WORKER_ENABLED="1")
    services = built(load_config(env))
    services.shops.connect(Platform.SANDBOX, DOMAIN, name="Shop", credentials={}, webhook_secret=SECRET)
    app = create_app(services.config, services, background=True)  # WORKER_ENABLED=1, yet Celery does the work
    try:
        assert not any(isinstance(item, Worker) for item in services.background)
        log = tmp_path / "celery.log"
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "connector.tasks", "worker", "--pool=solo", "--loglevel=INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env={**os.environ, **env}, stdout=log.open("w"), stderr=subprocess.STDOUT,
        )
        try:
            client = app.test_client()
            now = datetime.now(UTC).isoformat()
            product = {"sku": "TEE", "title": "Tee", "price": "20.00", "sells_when_out_of_stock": True,
                       "lead_time_days": None, "url": "https://x/tee", "updated_at": now}
            headers, body = build_delivery(DOMAIN, SECRET, "products/update", product)
            assert client.post("/webhooks/sandbox", data=body, headers=headers).json == {"status": "accepted"}
            wait_for(lambda: services.inbox.depth() == {"done": 1}, 30, every=0.1)
            with services.db.session() as s:
                assert s.scalar(select(VariantRow.title).where(VariantRow.sku == "TEE")) == "Tee"
            assert "connector.process_inbox" in log.read_text()
        finally:
            worker.terminate()
            worker.wait(timeout=20)
    finally:
        from connector.web import stop_background

        stop_background(services)
