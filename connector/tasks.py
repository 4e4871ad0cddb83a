"""Celery tasks: the in-process worker's and the scheduler's work, for any number of Celery workers.

Production runs `celery -A connector.tasks worker` processes on the Redis broker named by
CELERY_BROKER_URL. Web processes store a delivery and enqueue `process_inbox`; the one elected
scheduler process (`flask --app connector.web:create_cli_app scheduler`) enqueues the periodic
tasks. Every task is safe to run in several workers at once and to run twice: deliveries and
actions are claimed in the database (FOR UPDATE SKIP LOCKED on PostgreSQL), the work on one shop
is serialised by its row lock, and the whole-shop sweeps take a named lease so one runs at a time.
A lost or duplicated message therefore costs at most a delay, never a lost or repeated effect.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from celery.signals import worker_init
from dotenv import load_dotenv

from connector import sweeps
from connector.bootstrap import Services, build_services, preload_modules
from connector.celery_app import TASK_NAMES, app, configure
from connector.config import load_config
from connector.storage import leases

log = logging.getLogger(__name__)

PASSES = 20  # a task takes at most this many batches, then leaves the rest to the next task
# Deliveries a task claims at a time: one shop's are applied in one transaction and evaluated once
# (`Inbox.process_batch`), and an evaluation reads its SKUs' queues, so in a sale a larger claim
# spreads that read over more deliveries. A claim takes what is waiting: only a backlog makes it
# large. 1,000 (250 before): the flash sale's peak inbox backlog halved (issue 13, seventh round).
INBOX_CLAIM = 1000
# Actions a drain pass claims: small, so a backlog spreads over every free worker process (each
# action waits on a store or a mail server) and an order's next action becomes due sooner.
DRAIN_BATCH = 25
SWEEP_LEASE = leases.CLAIM_LEASE  # renewed while the sweep runs; a killed worker's lapses within it

_services: Services | None = None
_services_lock = threading.Lock()


def bind(services: Services | None) -> None:
    """Use these services in this process's tasks (tests, or a worker embedded in another process)."""
    global _services
    with _services_lock:
        _services = services


def services() -> Services:
    """This worker process's services, built from the environment (and `.env`) on first use."""
    global _services
    with _services_lock:
        if _services is None:
            load_dotenv()
            _services = build_services(load_config())
        return _services


@worker_init.connect
def _preload(**_kwargs: Any) -> None:
    """The worker's main process, before its pool forks: import what every task needs (see
    `preload_modules`). A failure here is logged, not raised: the first task imports it anyway."""
    load_dotenv()
    try:
        preload_modules(load_config().database_url)
    except Exception:  # noqa: BLE001 - a warm start is an optimisation; the task reports real errors
        log.warning("could not preload the worker's modules; each process imports them on first use", exc_info=True)


@contextmanager
def exclusive(svc: Services, name: str) -> Iterator[bool]:
    """Hold the lease `task:<name>` while the block runs; yields False when another worker holds it.

    The lease is short and renewed by a heartbeat while the sweep runs: a worker killed mid-sweep
    holds up the next one by at most SWEEP_LEASE."""
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    lease_name = f"task:{name}"
    held = leases.acquire(svc.db, lease_name, holder, SWEEP_LEASE, svc.clock())
    if not held:
        yield False
        return

    def renew() -> bool:
        return leases.acquire(svc.db, lease_name, holder, SWEEP_LEASE, svc.clock())

    try:
        with leases.Heartbeat(renew, leases.heartbeat_interval(SWEEP_LEASE), name=f"{name}-lease"):
            yield True
    finally:
        leases.release(svc.db, lease_name, holder)


@app.task(name="connector.process_inbox")
def process_inbox() -> dict[str, int]:
    """Normalise and apply stored deliveries, then have the actions they made executed."""
    svc = services()
    svc.task_started("process_inbox")
    done = dead = retried = 0
    for _ in range(PASSES):
        batch = svc.inbox.process_pending(INBOX_CLAIM)
        done, dead, retried = done + batch.done, dead + batch.dead, retried + batch.retried
        if batch.done + batch.dead + batch.retried == 0:
            break
        if batch.done:  # the actions decided so far go out now, not after every pass of a long backlog
            svc.notify("drain_outbox")
    else:  # more may be waiting: another task (in whichever worker process is free) goes on with it
        svc.notify("process_inbox")
    return {"done": done, "dead": dead, "retried": retried}


@app.task(name="connector.drain_outbox")
def drain_outbox() -> dict[str, int]:
    """Execute the due actions (an order's next action becomes due when the one before it is done)."""
    svc = services()
    svc.task_started("drain_outbox")
    totals = {"done": 0, "retried": 0, "failed": 0, "dead": 0}
    for _ in range(PASSES):
        result = svc.outbox.drain(limit=DRAIN_BATCH)
        for key in totals:
            totals[key] += getattr(result, key)
        if result.full:  # more is due: another task (in whichever worker process is free) joins in
            svc.notify("drain_outbox")
        if result.done + result.retried + result.failed + result.dead == 0:
            break
    return totals


@app.task(name="connector.evaluate_settled")
def evaluate_settled() -> int:
    """Re-evaluate the SKUs whose stock drop has settled (see `connector.intake.apply.SETTLE`)."""
    svc = services()
    with exclusive(svc, "evaluate_settled") as held:
        actions = svc.inbox.evaluate_settled() if held else 0
    if actions:
        svc.notify("drain_outbox")
    return actions


def _sweep(name: str, sweep: Callable[[Services], int]) -> int:
    """Run a sweep of `connector.sweeps` over every shop, in one worker at a time (0 when another has it)."""
    svc = services()
    with exclusive(svc, name) as held:
        return sweep(svc) if held else 0


@app.task(name="connector.evaluate_all")
def evaluate_all() -> int:
    return _sweep("evaluate_all", sweeps.evaluate_all)


@app.task(name="connector.timers_all")
def timers_all() -> int:
    """Promises that passed and authorizations about to lapse (see `connector.backorders.timers`)."""
    return _sweep("timers_all", sweeps.timers_all)


@app.task(name="connector.reconcile_all")
def reconcile_all() -> int:
    return _sweep("reconcile_all", sweeps.reconcile_all)


@app.task(name="connector.prune_inbox")
def prune_inbox() -> int:
    """Delete the handled webhooks older than their retention, empty the data exports as old
    (see `connector.storage.retention`)."""
    return _sweep("prune_inbox", sweeps.prune_inbox)


# The nightly planning task's limits. A 20,000-SKU shop plans in about a minute and a half of one
# core (benchmarks/nightly_plan.py, README "Planning benchmark"); the soft limit leaves room for a
# shop ten times that size on a busy worker. At the soft limit Celery raises SoftTimeLimitExceeded
# inside the task: the shop being planned is recorded as failed with that reason and keeps its
# previous plan. At the hard limit the worker's child process is killed (its run row expires).
PLAN_SOFT_LIMIT = 1800
PLAN_TIME_LIMIT = PLAN_SOFT_LIMIT + 120
PLAN_SWEEP_BUDGET = PLAN_SOFT_LIMIT // 2  # no shop is started after this; a new task plans the rest


@app.task(name="connector.plan_all", soft_time_limit=PLAN_SOFT_LIMIT, time_limit=PLAN_TIME_LIMIT)
def plan_all() -> int:
    """The nightly planning of every shop whose day's plan is still to do (see `sweeps.plan_all`).

    Shops are planned one after another until PLAN_SWEEP_BUDGET has passed; then the task hands the
    shops still due to a fresh task, so no task runs into its time limit for planning many shops."""
    svc = services()
    with exclusive(svc, "plan_all") as held:
        if not held:
            return 0
        runs, finished = sweeps.plan_all_within(svc, PLAN_SWEEP_BUDGET)
    if not finished:
        svc.notify("plan_all")
    return runs


TASKS: dict[str, Any] = {
    "process_inbox": process_inbox,
    "drain_outbox": drain_outbox,
    "evaluate_settled": evaluate_settled,
    "evaluate_all": evaluate_all,
    "timers_all": timers_all,
    "reconcile_all": reconcile_all,
    "plan_all": plan_all,
    "prune_inbox": prune_inbox,
}
if set(TASKS) != TASK_NAMES:  # connector/celery_app.py sends by these names
    raise RuntimeError(f"connector.celery_app.TASK_NAMES {sorted(TASK_NAMES)} differ from the tasks {sorted(TASKS)}")

# `celery -A connector.tasks worker`: the broker comes from the environment (or `.env`).
load_dotenv()
configure(os.environ.get("CELERY_BROKER_URL", ""))
