"""Coalesced wake-ups of the draining tasks on a real Redis (issue 13): a sale's thousands of
webhooks send a handful of `process_inbox` messages, not one each, and no wake-up is ever lost."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from redis import Redis

from connector import tasks
from connector.celery_app import Wakeups, wakeups
from tests.services import RedisServer, free_port, redis_server  # noqa: F401 - the fixture


@pytest.fixture
def redis(redis_server: RedisServer) -> Iterator[Redis]:  # noqa: F811
    client = Redis(port=redis_server.port)
    client.flushall()
    yield client
    client.close()


def test_wakes_while_one_is_queued_send_one_message(redis: Redis) -> None:
    sent: list[str] = []
    wake = Wakeups(redis, send=sent.append)
    for _ in range(50):
        wake.wake("process_inbox")
        wake.wake("drain_outbox")
    assert sorted(sent) == ["drain_outbox", "process_inbox"]
    wake.started("process_inbox")  # the task starts: what is stored from now on needs a new one
    wake.wake("process_inbox")
    wake.wake("drain_outbox")  # that one has not started yet
    assert sorted(sent) == ["drain_outbox", "process_inbox", "process_inbox"]


def test_other_tasks_are_always_sent(redis: Redis) -> None:
    sent: list[str] = []
    wake = Wakeups(redis, send=sent.append)
    wake.wake("evaluate_settled")
    wake.wake("evaluate_settled")
    assert sent == ["evaluate_settled", "evaluate_settled"]


def test_a_flag_whose_message_was_lost_expires(redis: Redis) -> None:
    sent: list[str] = []
    wake = Wakeups(redis, send=sent.append, ttl=1)
    wake.wake("process_inbox")  # suppose this message is lost with the broker: no task will clear the flag
    wake.wake("process_inbox")
    assert sent == ["process_inbox"]
    time.sleep(1.2)
    wake.wake("process_inbox")
    assert sent == ["process_inbox", "process_inbox"]


def test_without_redis_every_wake_is_sent() -> None:
    sent: list[str] = []
    down = Redis(port=free_port(), socket_timeout=0.5, socket_connect_timeout=0.5)
    wake = Wakeups(down, send=sent.append)
    wake.wake("process_inbox")
    wake.wake("process_inbox")
    wake.started("process_inbox")  # logged, not raised
    assert sent == ["process_inbox", "process_inbox"]


def test_only_a_redis_broker_coalesces() -> None:
    assert wakeups("amqp://guest@localhost//") is None
    assert isinstance(wakeups(f"redis://127.0.0.1:{free_port()}/0"), Wakeups)


def test_the_tasks_clear_their_flag_and_a_long_backlog_wakes_the_next(  # type: ignore[no-untyped-def]
    sandbox, services, redis: Redis, monkeypatch
) -> None:
    sent: list[str] = []
    services.wakeups = Wakeups(redis, send=sent.append)
    tasks.bind(services)
    try:
        sandbox.store.add_product("TEE", "Tee", "20.00", 0)  # two deliveries stored, one message
        assert services.wake_relay.flush()  # the web side's wake-ups go through its relay thread
        assert sent == ["process_inbox"]
        monkeypatch.setattr(tasks, "PASSES", 1)  # a backlog longer than one task takes
        tasks.process_inbox()
        # It cleared its flag as it started, woke the outbox, and, having used every pass, the next task.
        assert sent == ["process_inbox", "drain_outbox", "process_inbox"]
        assert redis.get(Wakeups.key("process_inbox")) is not None  # that next one is queued
        tasks.drain_outbox()
        assert redis.get(Wakeups.key("drain_outbox")) is None  # cleared as it started
    finally:
        tasks.bind(None)
