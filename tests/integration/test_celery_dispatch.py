"""How the web side and the scheduler hand work to Celery (no broker needed: see
tests/e2e/test_scale_out.py for the real Redis and workers)."""

from __future__ import annotations

from dataclasses import replace

from connector import tasks
from connector.bootstrap import Worker, build_services
from connector.scheduler import Scheduler
from connector.web import create_app, stop_background
from tests.sandbox_helpers import connect_sandbox
from tests.services import free_port


def test_a_stored_delivery_enqueues_process_inbox(sandbox, services) -> None:  # type: ignore[no-untyped-def]
    sent: list[str] = []
    services.enqueue = sent.append
    sandbox.store.add_product("TEE", "Tee", "20.00", 0)  # two deliveries: product, stock
    assert services.wake_relay.flush()  # sent by the relay thread, not the requests
    # one message per delivery, or one for both when the second was stored while the first was sent
    assert sent in (["process_inbox"], ["process_inbox", "process_inbox"])
    before = list(sent)
    headers, body = sandbox.sent[0]
    assert sandbox.post(headers, body).json["status"] == "duplicate"
    assert services.wake_relay.flush()
    assert sent == before  # a duplicate stores nothing, so wakes nothing


def test_broker_down_the_webhook_is_still_stored_and_answered(config, clock) -> None:  # type: ignore[no-untyped-def]
    down = replace(config, celery_broker_url=f"redis://127.0.0.1:{free_port()}/0", worker_enabled=True)
    services = build_services(down, clock=clock)
    app = create_app(down, services, background=True)
    try:
        assert services.enqueue is not None
        assert not any(isinstance(item, Worker) for item in services.background)  # Celery's job, not ours
        harness = connect_sandbox(services, app.test_client(), clock)
        harness.store.add_product("TEE", "Tee", "20.00", 0)  # posts answered 200 (checked by the harness)
        assert services.inbox.depth() == {"pending": 2}  # for the scheduler's periodic process_inbox
    finally:
        stop_background(services)
        services.db.dispose()


def test_the_scheduler_enqueues_every_task_the_workers_have(services) -> None:  # type: ignore[no-untyped-def]
    sent: list[str] = []
    services.enqueue = sent.append
    jobs = Scheduler(services).jobs()
    assert set(jobs) == set(tasks.TASKS)
    for job, _seconds in jobs.values():
        job(services)
    assert sorted(sent) == sorted(tasks.TASKS)
    assert {task.name for task in tasks.TASKS.values()} == {f"connector.{name}" for name in tasks.TASKS}
