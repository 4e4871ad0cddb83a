"""The Celery application and how work is handed to it: by task name, through the broker.

Sending needs only the name, so the composition root (connector/bootstrap.py) can give web and
scheduler processes an `enqueue` without importing the tasks themselves (connector/tasks.py, an
entry point, which imports the composition root). Celery is needed only when CELERY_BROKER_URL is set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import Celery

log = logging.getLogger(__name__)

# The tasks connector/tasks.py defines, each registered as `connector.<name>`.
TASK_NAMES = frozenset(
    {"process_inbox", "drain_outbox", "evaluate_settled", "evaluate_all", "timers_all", "reconcile_all", "plan_all"}
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
