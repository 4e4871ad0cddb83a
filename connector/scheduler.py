"""Periodic jobs (APScheduler 3): evaluate, reconcile, drain the outbox, lifecycle timers, nightly
planning, pruning the inbox.

Any number of processes may start a scheduler; only the holder of the `scheduler` lease runs
jobs, so a job never runs in two processes at once. Every job is safe to run twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from connector.bootstrap import Services
from connector.storage import leases
from connector.sweeps import (
    PLAN_CHECK_SECONDS,
    PRUNE_SECONDS,
    evaluate_all,
    plan_all,
    prune_inbox,
    reconcile_all,
    timers_all,
)

log = logging.getLogger(__name__)

LEASE_NAME = "scheduler"


class Scheduler:
    def __init__(self, services: Services, ttl: timedelta | None = None) -> None:
        self.services = services
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.ttl = ttl or timedelta(seconds=max(services.config.outbox_interval_seconds * 6, 60))
        self._scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})

    def is_leader(self) -> bool:
        return leases.acquire(self.services.db, LEASE_NAME, self.holder, self.ttl, self.services.clock())

    def _guarded(self, name: str, job: Callable[[Services], object]) -> Callable[[], None]:
        def run() -> None:
            try:
                if self.is_leader():
                    job(self.services)
            except Exception:  # noqa: BLE001 - logged; the next run tries again
                log.exception("scheduled job %s failed", name)

        return run

    def jobs(self) -> dict[str, tuple[Callable[[Services], object], int]]:
        cfg = self.services.config
        enqueue = self.services.enqueue
        if enqueue is None:
            return {
                "drain_outbox": (lambda s: s.outbox.drain(), cfg.outbox_interval_seconds),
                "evaluate": (lambda s: (evaluate_all(s), timers_all(s)), cfg.evaluate_interval_seconds),
                "reconcile": (reconcile_all, cfg.reconcile_interval_seconds),
                "plan": (plan_all, PLAN_CHECK_SECONDS),
                "prune_inbox": (prune_inbox, PRUNE_SECONDS),
            }
        # With Celery the workers do the work and the leader only enqueues it, sweeping the inbox
        # too: a delivery whose task was lost (broker down when it arrived) waits one interval.
        every = {
            "process_inbox": cfg.outbox_interval_seconds,
            "evaluate_settled": cfg.outbox_interval_seconds,
            "drain_outbox": cfg.outbox_interval_seconds,
            "evaluate_all": cfg.evaluate_interval_seconds,
            "timers_all": cfg.evaluate_interval_seconds,
            "reconcile_all": cfg.reconcile_interval_seconds,
            "plan_all": PLAN_CHECK_SECONDS,
            "prune_inbox": PRUNE_SECONDS,
        }
        return {name: (lambda _s, task=name: enqueue(task), seconds) for name, seconds in every.items()}

    def run_until(self, stop: threading.Event) -> None:
        """Run in the foreground (the `flask scheduler` command) until `stop` is set."""
        self.start()
        try:
            while not stop.wait(1.0):
                pass
        finally:
            self.stop()

    def start(self) -> None:
        for name, (job, seconds) in self.jobs().items():
            self._scheduler.add_job(
                self._guarded(name, job), "interval", seconds=seconds, id=name, replace_existing=True
            )
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        leases.release(self.services.db, LEASE_NAME, self.holder)
