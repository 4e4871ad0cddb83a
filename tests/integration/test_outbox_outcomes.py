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

from connector.dispatch.outbox import Outbox
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
