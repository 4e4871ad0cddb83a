"""The Celery application and how work is handed to it: by task name, through the broker.

Sending needs only the name, so the composition root (connector/bootstrap.py) can give web and
scheduler processes an `enqueue` without importing the tasks themselves (connector/tasks.py, an
entry point, which imports the composition root). Celery is needed only when CELERY_BROKER_URL is set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from celery import Celery
from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# The tasks connector/tasks.py defines, each registered as `connector.<name>`.
TASK_NAMES = frozenset(
    {"process_inbox", "drain_outbox", "evaluate_settled", "evaluate_all", "timers_all", "reconcile_all", "plan_all",
     "prune_inbox"}
)

app = Celery("connector")
app.conf.update(
    task_default_queue="connector",
    task_ignore_result=True,
    task_acks_late=True,  # a worker killed mid-task leaves the message for another worker
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


def configure(broker_url: str) -> Celery:
    if broker_url:
        app.conf.broker_url = broker_url
    return app


def enqueuer(broker_url: str) -> Callable[[str], None]:
    """`Services.enqueue` for a process that sends tasks (web, scheduler, and the workers themselves)."""
    configure(broker_url)
    return enqueue


def enqueue(name: str) -> None:
    """Send the task `name`. A broker outage is logged, not raised: the work is already in the
    database and the scheduler's periodic tasks pick it up."""
    if name not in TASK_NAMES:
        raise KeyError(f"no task {name!r}")
    try:
        app.send_task(f"connector.{name}", retry=True, retry_policy={"max_retries": 2, "interval_start": 0.1})
    except Exception:  # noqa: BLE001 - the delivery is stored; answering the store matters more
        log.warning("could not enqueue %s; the scheduler's sweep will run it", name, exc_info=True)


# ---- coalesced wake-ups -------------------------------------------------------------------

# The tasks that take everything due when they start: a second message sent while one still waits
# in the queue only makes a worker claim nothing (in a sale, one per webhook: thousands).
COALESCED = frozenset({"process_inbox", "drain_outbox"})
WAKE_TTL_SECONDS = 10  # a flag whose message was lost holds up nothing longer (the scheduler sweeps every 5 s)


class Wakeups:
    """Wake-ups of the queue-draining tasks, at most one of each waiting in the broker.

    `wake` sets a Redis flag per task (SET NX, expiring) and sends the task only when it set it;
    the task clears the flag as it starts (`started`), *before* it claims, so work stored after
    that sends a new message, and work stored before it is claimed by the task that cleared it.
    Redis refusing means the task is sent anyway: a wake-up is never lost to coalescing. The
    scheduler's periodic sends go through `enqueue`, never coalesced."""

    def __init__(self, redis: Redis, send: Callable[[str], None] = enqueue, ttl: int = WAKE_TTL_SECONDS) -> None:
        self.redis = redis
        self.send = send
        self.ttl = ttl

    @staticmethod
    def key(name: str) -> str:
        return f"connector:wake:{name}"

    def wake(self, name: str) -> None:
        if name in COALESCED:
            try:
                if not self.redis.set(self.key(name), "1", nx=True, ex=self.ttl):
                    return  # one is queued and has not started: it will claim this work too
            except RedisError:
                log.warning("could not coalesce %s; sending it", name, exc_info=True)
        self.send(name)

    def started(self, name: str) -> None:
        if name not in COALESCED:
            return
        try:
            self.redis.delete(self.key(name))
        except RedisError:  # the flag expires by itself; until then the scheduler's sends still run us
            log.warning("could not clear the wake-up flag of %s", name, exc_info=True)


def wakeups(broker_url: str) -> Wakeups | None:
    """Coalesced wake-ups on a Redis broker (None for another broker: every wake-up is sent). They
    send through `enqueue`, so the app must be configured (`enqueuer`) first."""
    if urlsplit(broker_url).scheme not in ("redis", "rediss"):
        return None
    return Wakeups(Redis.from_url(broker_url, socket_timeout=1.0, socket_connect_timeout=1.0))
