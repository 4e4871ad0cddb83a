"""Claims of outbox actions and inbox deliveries: a dead worker's claims are taken over within 30 s,
a slow but living worker keeps its claims (heartbeat), and the late result of a claim that lapsed
is never applied twice. Time is the injected clock; no test sleeps for a lease.
(SQLite by default; CONNECTOR_TEST_DATABASE=postgresql runs the same on PostgreSQL.)"""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from connector.dispatch.outbox import Kind, Outbox, enqueue
from connector.domain.model import Platform
from connector.storage.leases import CLAIM_LEASE, Heartbeat
from connector.storage.tables import ActionRow, DeliveryRow
from connector.storage.types import utcnow

CUSTOMER = {"id": "c1", "email": "ada@example.com", "name": "Ada", "locale": "en", "reseller": False}


def add_tag_action(sandbox, services) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    """An order in the sandbox store and one queued action tagging it."""
    sandbox.store.add_product("TEE", "Tee", "20.00", 5)
    order = sandbox.store.place_order(CUSTOMER, [("TEE", 1)])
    sandbox.work()
    shop_id = services.shops.ref(Platform.SANDBOX, sandbox.store.domain).id
    with services.db.session() as s:
        enqueue(
            s,
            shop_id=shop_id,
            order_id=None,
            kind=Kind.ADD_TAGS,
            key="t:vip",
            payload={"order": order["id"], "tags": ["vip"]},
            now=services.clock(),
        )
        action_id = s.scalar(select(ActionRow.id).where(ActionRow.idempotency_key == "t:vip"))
    return order["id"], action_id


def action(services, action_id: int) -> ActionRow:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        return s.get(ActionRow, action_id)


def store_calls(sandbox, name: str) -> int:  # type: ignore[no-untyped-def]
    return [c[0] for c in sandbox.store.calls].count(name)


def test_the_claim_lease_is_short_enough_for_recovery_within_30_seconds() -> None:
    assert timedelta(seconds=25) >= CLAIM_LEASE  # lapsed, then taken at the next pass (polls every 1-5 s)


def test_a_dead_workers_action_is_taken_over_once_its_lease_lapses(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    order, action_id = add_tag_action(sandbox, services)
    [claimed] = services.outbox._claim(10)  # a worker claims it ... and is killed with -9
    assert claimed.id == action_id
    clock.advance(seconds=CLAIM_LEASE.total_seconds() - 1)
    assert services.outbox.drain().done == 0  # still within its lease
    clock.advance(seconds=2)
    assert services.outbox.drain().done == 1  # within 21 s of the last renewal
    assert sandbox.store.orders[order]["tags"] == ["vip"]
    assert action(services, action_id).status == "done"


def test_a_slow_worker_keeps_its_claim_by_renewing_it(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    _, action_id = add_tag_action(sandbox, services)
    [claimed] = services.outbox._claim(10)
    other = Outbox(services.db, services.client_for, clock=clock)
    for _ in range(4):  # a minute and a half of work, renewed every 15 s
        clock.advance(seconds=15)
        assert services.outbox.renew({claimed.id: claimed.attempts}) == 1
        assert other._claim(10) == []
    assert services.outbox.renew({claimed.id: claimed.attempts + 1}) == 0  # a token not ours renews nothing


def test_the_heartbeat_renews_the_running_claims_while_the_store_call_runs(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    order, action_id = add_tag_action(sandbox, services)
    outbox = Outbox(services.db, services.client_for, clock=clock, lease=timedelta(milliseconds=40))  # beats /10 ms
    renewed: list[int] = []
    beat = threading.Event()
    real_renew = outbox.renew

    def counting_renew(held):  # type: ignore[no-untyped-def]
        renewed.append(real_renew(held))
        if len(renewed) >= 3:
            beat.set()
        return renewed[-1]

    outbox.renew = counting_renew  # type: ignore[method-assign]
    real_run = outbox._run

    def slow_run(row, client_for):  # type: ignore[no-untyped-def]
        assert beat.wait(10), "the heartbeat did not beat while the action ran"
        real_run(row, client_for)

    outbox._run = slow_run  # type: ignore[method-assign]
    assert outbox.drain().done == 1
    assert renewed[:3] == [1, 1, 1]  # our one running claim, renewed each beat
    assert not any(t.name == "outbox-heartbeat" for t in threading.enumerate())  # stopped with the batch
    assert sandbox.store.orders[order]["tags"] == ["vip"]


def test_a_lapsed_claims_late_success_is_not_recorded_over_the_new_claim(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    _, action_id = add_tag_action(sandbox, services)
    stalled = Outbox(services.db, services.client_for, clock=clock)
    other = Outbox(services.db, services.client_for, clock=clock)
    real_run = stalled._run
    taken_over: list[int] = []

    def stall_then_run(row, client_for):  # type: ignore[no-untyped-def]
        clock.advance(seconds=CLAIM_LEASE.total_seconds() + 1)  # stalled past its lease, heartbeat unheard
        taken_over.append(other.drain().done)  # another worker takes the action over and finishes it
        real_run(row, client_for)  # the stalled call completes late (store calls are idempotent: tags are a set)

    stalled._run = stall_then_run  # type: ignore[method-assign]
    result = stalled.drain()
    assert taken_over == [1]
    assert (result.done, result.lapsed) == (0, 1)
    row = action(services, action_id)
    assert (row.status, row.attempts) == ("done", 2)  # the second claim's outcome stands


def test_a_lapsed_claims_late_failure_does_not_requeue_a_done_action(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    _, action_id = add_tag_action(sandbox, services)
    stalled = Outbox(services.db, services.client_for, clock=clock)
    other = Outbox(services.db, services.client_for, clock=clock)

    def stall_then_fail(row, client_for):  # type: ignore[no-untyped-def]
        clock.advance(seconds=CLAIM_LEASE.total_seconds() + 1)
        other.drain()
        raise TimeoutError("the store did not answer in time")

    stalled._run = stall_then_fail  # type: ignore[method-assign]
    result = stalled.drain()
    assert (result.retried, result.lapsed) == (0, 1)
    assert action(services, action_id).status == "done"  # not put back to run a third time
    assert store_calls(sandbox, "add_tags") == 1
    clock.advance(hours=1)
    assert services.outbox.drain().done == 0


def pending_deliveries(sandbox, services) -> list[int]:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("TEE", "Tee", "20.00", 0)
    sandbox.work()
    sandbox.store.place_order(CUSTOMER, [("TEE", 1)])  # the order and its stock change: stored, not processed
    with services.db.session() as s:
        return list(s.scalars(select(DeliveryRow.id).where(DeliveryRow.status == "pending").order_by(DeliveryRow.id)))


def actions(services) -> int:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        return s.scalar(select(func.count()).select_from(ActionRow))


def test_a_dead_workers_deliveries_are_taken_over_once_their_lease_lapses(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    ids = pending_deliveries(sandbox, services)
    assert [i for i, _ in services.inbox._claim_tokens(10)] == ids  # ... and the worker is killed with -9
    clock.advance(seconds=CLAIM_LEASE.total_seconds() - 1)
    assert services.inbox.process_pending().done == 0
    clock.advance(seconds=2)
    assert services.inbox.process_pending().done == len(ids)


def test_a_lapsed_delivery_claim_is_not_applied_twice(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    ids = pending_deliveries(sandbox, services)
    claims = services.inbox._claim_tokens(10)  # worker A claims, then stalls past its lease
    clock.advance(seconds=CLAIM_LEASE.total_seconds() + 1)
    assert services.inbox.process_pending().done == len(ids)  # worker B takes them over and applies them
    sandbox.settle()  # the stock drop settles: the backordered line is decided and acted on
    made = actions(services)
    assert made > 0  # tag, hold, email for the backordered line
    for delivery_id, token in claims:  # A wakes: nothing is applied again, nothing requeued
        assert services.inbox.process(delivery_id, token) == "lapsed"
        assert services.inbox._retry(delivery_id, "late error", token) == "lapsed"
        assert services.inbox._dead(delivery_id, "late error", token) == "lapsed"
    assert actions(services) == made
    with services.db.session() as s:
        assert set(s.scalars(select(DeliveryRow.status).where(DeliveryRow.id.in_(ids)))) == {"done"}


def test_the_inbox_heartbeat_renews_claims_waiting_their_turn(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    pending_deliveries(sandbox, services)
    held = dict(services.inbox._claim_tokens(10))
    clock.advance(seconds=15)
    assert services.inbox.renew(held) == len(held)
    clock.advance(seconds=15)  # 30 s after the claim, 15 s after the renewal: still ours
    assert services.inbox._claim_tokens(10) == []


def test_heartbeat_beats_until_stopped_and_survives_a_failed_renewal() -> None:
    beats: list[float] = []
    enough = threading.Event()

    def renew() -> None:
        beats.append(utcnow().timestamp())
        if len(beats) == 2:
            raise ConnectionError("the database blinked")
        if len(beats) >= 4:
            enough.set()

    with Heartbeat(renew, interval=0.005) as heart:
        assert enough.wait(10)
    count = len(beats)
    assert heart.beats >= 3  # the failed one is not counted, the next ones ran
    assert not heart._thread.is_alive()
    assert len(beats) == count  # no beat after the block


def test_a_sweep_lease_of_a_dead_worker_lapses_within_the_claim_lease(services, clock) -> None:  # type: ignore[no-untyped-def]
    from connector import tasks
    from connector.storage import leases

    assert leases.acquire(services.db, "task:evaluate_settled", "killed-worker", tasks.SWEEP_LEASE, clock())
    with tasks.exclusive(services, "evaluate_settled") as held:
        assert not held  # the dead worker's lease still runs
    clock.advance(seconds=CLAIM_LEASE.total_seconds() + 1)
    with tasks.exclusive(services, "evaluate_settled") as held:
        assert held
        with tasks.exclusive(services, "evaluate_settled") as again:
            assert not again  # one sweep at a time
    assert leases.acquire(services.db, "task:evaluate_settled", "next", tasks.SWEEP_LEASE, clock())  # released
