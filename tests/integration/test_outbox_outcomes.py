"""An action's outcome survives a database that blinks between the effect and its record.

The store call (or the email) is made; recording "done" then meets a dropped connection (a
PostgreSQL restart, a failover). Given up at once, the claim lapses and the action runs again: a
second call to the store, a second email to the customer. The record is retried while the claim
can still be ours, and the effect stays single."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from connector.dispatch.outbox import DrainResult, Outbox
from connector.storage.tables import ActionRow
from tests.integration.test_outbox_waves import waiting_orders


class Blinking:
    """`db.single_statement` (how the outbox records an outcome) failing like a restarting
    PostgreSQL the first `times` times."""

    def __init__(self, db, times: int) -> None:  # type: ignore[no-untyped-def]
        self.db, self.times, self.failed = db, times, 0
        self.real = db.single_statement

    def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.failed < self.times:
            self.failed += 1
            raise OperationalError("UPDATE actions ...", {}, Exception("server closed the connection unexpectedly"))
        return self.real(*args, **kwargs)


def test_a_done_action_is_recorded_through_a_database_blink_and_not_made_again(  # type: ignore[no-untyped-def]
        sandbox, services, clock, monkeypatch) -> None:
    waiting_orders(sandbox, services, clock, 1)
    sandbox.store.calls.clear()
    blink = Blinking(services.db, times=3)
    monkeypatch.setattr(services.db, "single_statement", blink)
    outbox = Outbox(services.db, services.client_for, services.outbox.send_mail, clock=clock)

    result = outbox.drain(limit=50)

    assert blink.failed == 3 and result.errors == []
    monkeypatch.undo()
    with services.db.read() as s:
        assert {row.status for row in s.scalars(select(ActionRow))} == {"done"}
    clock.advance(minutes=5)  # long past any claim: nothing is taken again
    assert Outbox(services.db, services.client_for, services.outbox.send_mail, clock=clock).drain(limit=50).done == 0
    calls = Counter(call[0] for call in sandbox.store.calls)
    assert calls["add_tags"] == calls["hold"] == calls["set_eta"] == 1


def test_a_database_down_for_longer_than_the_claim_gives_the_action_back(  # type: ignore[no-untyped-def]
        sandbox, services, clock, monkeypatch) -> None:
    """Past the claim's patience the record is given up (the claim lapses and the action runs again,
    the at-least-once that idempotent store calls are made for), not waited on forever."""
    waiting_orders(sandbox, services, clock, 1)
    monkeypatch.setattr(services.db, "single_statement", Blinking(services.db, times=10_000))
    outbox = Outbox(services.db, services.client_for, services.outbox.send_mail, clock=clock,
                    record_patience=0.2)
    with pytest.raises(OperationalError):
        outbox.drain(limit=50)


def order_action_states(services) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with services.db.read() as s:
        return {row.kind: row.status for row in s.scalars(select(ActionRow).where(ActionRow.order_id.is_not(None)))}


class Counting:
    """`db.single_statement`, counting the statements run through it (how outcomes are recorded)."""

    def __init__(self, db) -> None:  # type: ignore[no-untyped-def]
        self.real, self.count = db.single_statement, 0

    def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.count += 1
        return self.real(*args, **kwargs)


def test_a_store_action_done_is_recorded_with_the_next_email_in_one_statement(  # type: ignore[no-untyped-def]
        sandbox, services, clock, monkeypatch) -> None:
    """The start of an order's wait (idempotent, so safe to make again after a crash) is written down
    with the confirmation email that follows it: one write per waiting order, not two. The email is
    never left unrecorded after it went out."""
    waiting_orders(sandbox, services, clock, 3)
    counting = Counting(services.db)
    monkeypatch.setattr(services.db, "single_statement", counting)
    outbox = Outbox(services.db, services.client_for, services.outbox.send_mail, clock=clock)

    result = outbox.drain(limit=50)

    assert result.errors == []
    with services.db.read() as s:
        kinds = Counter((row.kind, row.status) for row in s.scalars(select(ActionRow)))
    assert kinds == {("start_backorder", "done"): 3, ("send_email", "done"): 3, ("publish_storefront", "done"): 1}
    assert result.done == 7
    # One per email, each with the store actions done before it, and the storefront's publication
    # after the last email at the wave's end: 4 writes where each action had one (7).
    assert counting.count == 4


def test_a_store_action_done_before_an_email_that_fails_is_still_recorded_done(  # type: ignore[no-untyped-def]
        sandbox, services, clock) -> None:
    """The email is retried later; the store call it followed is written down at the end of the wave
    and not made again."""
    waiting_orders(sandbox, services, clock, 1)
    sandbox.store.calls.clear()

    def failing_mail(payload, key):  # type: ignore[no-untyped-def]
        raise ConnectionError("the mail server did not answer")

    result = Outbox(services.db, services.client_for, failing_mail, clock=clock).drain(limit=50)

    assert result.retried == 1
    assert order_action_states(services) == {"start_backorder": "done", "send_email": "pending"}
    clock.advance(hours=1)  # the email is due again; the start is not made a second time
    assert Outbox(services.db, services.client_for, services.outbox.send_mail, clock=clock).drain(limit=50).done == 1
    assert Counter(call[0] for call in sandbox.store.calls)["add_tags"] == 1


def test_a_record_that_comes_too_late_for_one_claim_leaves_that_action_to_its_new_claimant(  # type: ignore[no-untyped-def]
        sandbox, services, clock) -> None:
    """Recorded together, each action is fenced by its own claim: one taken over meanwhile is not
    marked done by this worker, the other is."""
    waiting_orders(sandbox, services, clock, 1)
    outbox = Outbox(services.db, services.client_for, services.outbox.send_mail, clock=clock)
    rows = [row for row in outbox._claim(50) if row.order_id is not None]
    start = next(row for row in rows if row.kind == "start_backorder")
    with services.db.transaction() as connection:  # another worker took the start over (a new claim)
        connection.execute(ActionRow.__table__.update().where(ActionRow.id == start.id)
                           .values(attempts=ActionRow.attempts + 1))
    result = DrainResult()
    outbox._record(rows, result)
    assert (result.done, result.lapsed) == (1, 1)
    assert order_action_states(services) == {"start_backorder": "running", "send_email": "done"}
