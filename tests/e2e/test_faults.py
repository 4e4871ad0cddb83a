"""Fault injection on the production shape: two gunicorn web processes, two Celery worker processes,
the scheduler process, PostgreSQL, Redis, a real SMTP server (aiosmtpd) and the store behind HTTP
(tests/fault_store.py), all on loopback. While bursts of orders arrive, one fault at a time:

1. kill -9 of a web process mid-burst (the store re-sends what was not answered, to the other one);
2. kill -9 of a worker while it is inside a store call (its claims must be taken over within 30 s);
3. a PostgreSQL crash and restart mid-burst;
4. Redis down for a while (no task can be enqueued; the deliveries are stored all the same);
5. the mail server down and the store answering 503, then 429, for a while.

After each, the test waits until everything acknowledged is processed and counts: webhooks sent,
acknowledged (200), stored, acted on (processed, and every decided action done at the store or
the mail server), and emails; then asserts 0 lost (every acknowledged webhook stored and acted
on) and 0 double (each store mutation and each email exactly once), and reports how long each
recovery took (printed as FAULTS: ...; figures in benchmarks/RESULTS-faults.md).
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from adapters.sandbox import forget_stores, register_store
from adapters.sandbox.store import SandboxStore
from adapters.sandbox.webhooks import build_delivery
from connector.bootstrap import Services, build_services
from connector.config import load_config
from connector.domain.model import Platform
from connector.storage.tables import ActionRow, DeliveryRow, OrderRow, StockLevelRow
from tests.e2e.test_scale_out import service_env
from tests.fault_store import StoreServer
from tests.sandbox_calls import CALL_NAMES, calls_decided
from tests.services import PostgresServer, RedisServer, free_port, start_postgres, start_redis
from tests.smtp_server import HOST, _Handler

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "faults.sandbox"
SECRET = b"fault-suite-webhook-secret"
CUSTOMER = {"id": "c1", "email": "ada@example.com", "name": "Ada", "locale": "en", "reseller": False}
SETTLE_TIMEOUT = 150  # seconds: the longest recovery (mail and store retried after a 15-30 s back-off)


class Mail:
    """aiosmtpd on a fixed loopback port that can be stopped and started again."""

    def __init__(self) -> None:
        self.handler = _Handler(username="mailer", password="unused")
        self.port = free_port()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://{HOST}:{self.port}"

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname=HOST, port=self.port, server_hostname="faults.local")
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def message_ids(self) -> list[str]:
        with self.handler.lock:
            return [m.message["Message-ID"] for m in self.handler.messages]


@dataclass
class Rig:
    tmp: Path
    pg: PostgresServer
    redis: RedisServer
    mail: Mail
    store: SandboxStore
    server: StoreServer
    env: dict[str, str]
    services: Services  # the test's own view of the database
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    webs: dict[str, str] = field(default_factory=dict)  # name -> base URL of live web processes
    sent: set[str] = field(default_factory=set)  # event ids the store sent
    acknowledged: set[str] = field(default_factory=set)  # event ids answered 200
    refused_answers: Counter[int] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _turn: Iterator[int] = field(default_factory=itertools.count)

    # ---- processes -----------------------------------------------------------------------

    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = (self.tmp / f"{name}.log").open("a")
        process = subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **self.env}, stdout=log,
                                   stderr=subprocess.STDOUT)
        self.processes[name] = process
        return process

    def start_web(self, name: str) -> None:
        port = free_port()
        process = self.spawn(name, [sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{port}",
                                    "--workers", "1", "--threads", "4"])
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: process.poll() is None and healthy(url), 180, f"web {name} up")
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {self.tail(name)}") from None
        with self._lock:
            self.webs[name] = url

    def start_worker(self, name: str) -> None:
        self.spawn(name, [sys.executable, "-m", "celery", "-A", "tests.fault_worker", "worker", "--pool=solo",
                          "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
                          "-n", f"{name}@faults"])

    def tail(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text()[-3000:]

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        with self._lock:
            self.webs.pop(name, None)

    def kill_pid(self, pid: int) -> str:
        [name] = [n for n, p in self.processes.items() if p.pid == pid]
        self.kill(name)
        return name

    # ---- the store's webhooks ----------------------------------------------------------

    def post(self, topic: str, payload: dict) -> None:
        """Deliver as a store does: round-robin over the load balancer's live processes, and re-send
        (same event id) what was not answered 200, a bounded number of times."""
        headers, body = build_delivery(DOMAIN, SECRET, topic, payload)
        event = headers["X-Sandbox-Event-Id"]
        with self._lock:
            self.sent.add(event)
        for _ in range(120):
            with self._lock:
                urls = sorted(self.webs.values())
                url = urls[next(self._turn) % len(urls)] if urls else None
            if url is not None:
                try:
                    answer = requests.post(f"{url}/webhooks/sandbox", data=body, headers=headers, timeout=10)
                except requests.RequestException:
                    answer = None
                if answer is not None and answer.status_code == 200:
                    with self._lock:
                        self.acknowledged.add(event)
                    return
                with self._lock:
                    self.refused_answers[answer.status_code if answer is not None else 0] += 1
            time.sleep(0.25)

    def burst(self, n: int, first: int, sku: str = "TEE") -> list[str]:
        return [self.store.place_order(dict(CUSTOMER, id=f"c{first + i}"), [(sku, 1)])["id"] for i in range(n)]

    # ---- counting ------------------------------------------------------------------------

    def settled(self) -> bool:
        s_inbox = self.services.inbox.depth()
        s_outbox = self.services.outbox.depth()
        with self.services.db.session() as s:
            unsettled = s.scalar(select(func.count()).where(StockLevelRow.settle_at.is_not(None)))
            stored = set(s.scalars(select(DeliveryRow.event_id)))
        return (
            self.acknowledged <= stored
            and set(s_inbox) <= {"done"}
            and set(s_outbox) <= {"done"}
            and not unsettled
        )

    def wait_settled(self, since: float) -> float:
        try:
            wait_for(self.settled, SETTLE_TIMEOUT, "everything acknowledged processed and acted on", every=0.25)
        except AssertionError as exc:
            logs = {name: self.tail(name)[-1500:] for name in self.processes}
            with self.services.db.session() as s:
                unsettled = s.scalar(select(func.count()).where(StockLevelRow.settle_at.is_not(None)))
                missing = self.acknowledged - set(s.scalars(select(DeliveryRow.event_id)))
                open_actions = [(a.kind, a.idempotency_key, a.status, a.attempts, str(a.next_attempt_at),
                                 (a.last_error or "")[:300])
                                for a in s.scalars(select(ActionRow).where(ActionRow.status != "done"))]
            raise AssertionError(f"{exc}: inbox {self.services.inbox.depth()}, outbox "
                                 f"{self.services.outbox.depth()} {open_actions}, acknowledged but not stored "
                                 f"{len(missing)}, stock unsettled {unsettled}; logs {logs}") from None
        return round(time.monotonic() - since, 1)

    def figures(self, backordered: list[str]) -> dict[str, int]:
        with self.services.db.session() as s:
            deliveries = dict(s.execute(select(DeliveryRow.event_id, DeliveryRow.status)).all())
            actions = s.execute(
                select(ActionRow.kind, OrderRow.external_id, ActionRow.status, ActionRow.idempotency_key)
                .join(OrderRow, OrderRow.id == ActionRow.order_id)
            ).all()
        stored = sum(1 for e in self.acknowledged if e in deliveries)
        acted = sum(1 for e in self.acknowledged if deliveries.get(e) == "done")
        calls = Counter((call, order) for call, order, _ in self.store.calls if call in CALL_NAMES)
        decided = calls_decided((kind, order) for kind, order, _, _ in actions)
        emails_decided = {key for kind, _, status, key in actions if kind == "send_email" and status == "done"}
        message_ids = Counter(self.mail.message_ids())
        not_acted = [o for o in backordered
                     if self.store.orders[o]["tags"] != ["backorder"] or not self.store.orders[o]["holds"]]
        return {
            "sent": len(self.sent),
            "acknowledged": len(self.acknowledged),
            "stored": stored,
            "acted": acted,
            "store_mutations": sum(calls.values()),
            "emailed": sum(message_ids.values()),
            "lost": (len(self.acknowledged) - acted) + len(not_acted) + sum((decided - calls).values())
            + max(len(emails_decided) - len(message_ids), 0),
            "double": sum((calls - decided).values()) + sum(n - 1 for n in message_ids.values()),
        }


def healthy(url: str) -> bool:
    try:
        return requests.get(url + "/healthz", timeout=15).status_code == 200
    except requests.RequestException:
        return False


def wait_for(condition: Callable[[], bool], seconds: float, what: str, every: float = 0.1) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        time.sleep(every)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    pg = start_postgres(crash_safe=True)  # a committed delivery must survive the crash, as in production
    redis = start_redis()
    mail = Mail()
    mail.start()
    store = SandboxStore(domain=DOMAIN)
    register_store(store)
    server = StoreServer(store).start()
    database_url = pg.create_database()
    env = service_env(
        tmp_path,
        database_url,
        CELERY_BROKER_URL=redis.url,
        MAIL_URL=mail.url,
        STOCK_SETTLE_SECONDS="1",
        OUTBOX_INTERVAL_SECONDS="1",
        EVALUATE_INTERVAL_SECONDS="3600",
        RECONCILE_INTERVAL_SECONDS="3600",
        FAULT_STORE_DOMAIN=DOMAIN,
        FAULT_STORE_URL=server.url,
    )
    services = build_services(load_config(env))
    services.shops.connect(Platform.SANDBOX, DOMAIN, name="Fault Shop", credentials={}, webhook_secret=SECRET,
                           currency="EUR", locale="en", timezone="Europe/Rome")
    made = Rig(tmp_path, pg, redis, mail, store, server, env, services)
    store.listeners.append(made.post)
    try:
        yield made
    finally:
        for process in made.processes.values():
            process.terminate()
        for process in made.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        services.db.dispose()
        server.stop()
        mail.stop()
        redis.stop()
        pg.stop()
        forget_stores()


def test_no_webhook_lost_and_no_effect_doubled_across_crashes_and_outages(rig: Rig) -> None:
    started = time.monotonic()
    spawns = [threading.Thread(target=rig.start_web, args=(f"web{i}",)) for i in range(2)]
    for thread in spawns:
        thread.start()
    rig.start_worker("worker0")
    rig.start_worker("worker1")
    rig.spawn("scheduler", [sys.executable, "-m", "flask", "--app", "connector.web:create_cli_app", "scheduler"])
    for thread in spawns:
        thread.join(timeout=200)
    assert set(rig.webs) == {"web0", "web1"}
    rig.store.add_product("TEE", "Tee", "20.00", 0)  # every order of a tee waits: tagged, held, emailed
    rig.store.add_product("MUG", "Mug", "10.00", 1000)
    backordered: list[str] = []
    recovery: dict[str, float] = {}

    # 0. no fault: the baseline
    t = time.monotonic()
    backordered += rig.burst(4, 0)
    rig.burst(2, 100, "MUG")
    recovery["baseline (no fault)"] = rig.wait_settled(t)

    # 1. kill -9 of a web process mid-burst
    before = len(rig.store.orders)
    burst = threading.Thread(target=lambda: backordered.extend(rig.burst(10, 200)))
    burst.start()
    wait_for(lambda: len(rig.store.orders) >= before + 3, 30, "the burst under way")
    rig.kill("web0")
    killed = time.monotonic()
    burst.join(timeout=90)
    recovery["kill -9 web process"] = rig.wait_settled(killed)  # the other web process serves on

    # 2. kill -9 of a worker inside a store call: its claims lapse and are taken over
    rig.server.hold_next_call()
    backordered += rig.burst(4, 300)
    victim = rig.kill_pid(rig.server.wait_held(180))
    killed = time.monotonic()
    rig.server.drop_held()  # its request never completed
    rig.start_worker("worker2")  # the supervisor restarts it (the other worker goes on meanwhile)
    recovery["kill -9 worker (mid store call)"] = rig.wait_settled(killed)
    assert victim.startswith("worker")

    # 3. PostgreSQL crashes and restarts mid-burst
    before = len(rig.store.orders)
    burst = threading.Thread(target=lambda: backordered.extend(rig.burst(6, 400)))
    burst.start()
    wait_for(lambda: len(rig.store.orders) >= before + 2, 30, "the burst under way")
    rig.pg.restart(down_for=2.0)
    back = time.monotonic()
    burst.join(timeout=90)
    recovery["PostgreSQL restart (2 s down)"] = rig.wait_settled(back)

    # 4. Redis down for a while: deliveries are stored, tasks cannot be enqueued
    rig.redis.pause()
    backordered += rig.burst(4, 500)
    time.sleep(2.0)
    rig.redis.resume()
    back = time.monotonic()
    recovery["Redis down (about 3 s)"] = rig.wait_settled(back)

    # 5. the mail server down, the store answering 503 then 429
    rig.mail.stop()
    rig.server.failing = (503, 429)  # in turn: unavailable, throttled
    backordered += rig.burst(4, 600)
    wait_for(lambda: rig.server.refused[503] + rig.server.refused[429] >= 4, 60, "the store refused calls")
    rig.server.failing = ()
    rig.mail.start()
    back = time.monotonic()
    recovery["SMTP down + store 503/429"] = rig.wait_settled(back)

    time.sleep(1.0)  # anything still queued would show now as a second call or email
    figures = rig.figures(backordered)
    report = {**figures, "recovery_seconds": recovery, "refused_webhook_answers": dict(rig.refused_answers),
              "store_refusals": dict(rig.server.refused), "total_seconds": round(time.monotonic() - started, 1)}
    print("FAULTS:", json.dumps(report, sort_keys=True))
    assert figures["sent"] == figures["acknowledged"] == figures["stored"] == figures["acted"]
    assert (figures["lost"], figures["double"]) == (0, 0), report
    assert figures["emailed"] >= len(backordered) > 0  # at least the confirmation of each waiting order
    assert recovery["kill -9 worker (mid store call)"] <= 30 + 10, report  # 20 s lease, slack for a busy machine
