"""An outbox pass follows its orders' chains: an order's next action runs in the same pass as soon
as the one before it is done, in order, one wave of orders at a time (issue 13: in a sale an
order's release, untagging, capture and email no longer wait a pass each)."""

from __future__ import annotations

from sqlalchemy import select

from connector.dispatch.outbox import Outbox
from connector.storage.tables import ActionRow
from tests.integration.test_webhook_intake import CUSTOMER


def waiting_orders(sandbox, services, clock, n: int, restocked: bool = False) -> list[str]:  # type: ignore[no-untyped-def]
    """`n` orders that wait; `restocked`: whose wait the store was told of, and whose stock then arrives,
    so that each order has a chain of store actions due (release the hold, capture, untag)."""
    sandbox.store.add_product("TEE", "Tee", "20.00", 0)
    orders = [sandbox.store.place_order(CUSTOMER, [("TEE", 1)])["id"] for _ in range(n)]
    services.inbox.process_pending()
    clock.advance(minutes=1)  # the stock report has settled
    services.inbox.evaluate_settled()
    if restocked:
        services.outbox.drain(limit=500)
        clock.advance(days=1)
        sandbox.store.restock("TEE", n)
        services.inbox.process_pending()
        clock.advance(minutes=1)
        services.inbox.evaluate_settled()
    return orders


def order_actions(services) -> list[tuple[int, str, str]]:  # type: ignore[no-untyped-def]
    with services.db.read() as s:
        return [
            (row.order_id, row.kind, row.status)
            for row in s.scalars(select(ActionRow).where(ActionRow.order_id.is_not(None)).order_by(ActionRow.id))
        ]


def test_one_pass_runs_each_orders_chain_to_its_end_in_order(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    orders = waiting_orders(sandbox, services, clock, 3, restocked=True)
    chains = order_actions(services)
    per_order = {order_id for order_id, _, _ in chains}
    assert len(per_order) == 3 and len([c for c in chains if c[2] == "pending"]) >= 3 * 3  # release, untag, email
    sandbox.store.calls.clear()

    result = Outbox(services.db, services.client_for, services.outbox.send_mail, clock=clock).drain(limit=50)

    assert {status for _, _, status in order_actions(services)} == {"done"}  # one pass, every wave
    assert result.done >= len([c for c in chains if c[2] == "pending"]) and not result.full
    for order in orders:  # each order's store calls in the order they were decided
        kinds = [call[0] for call in sandbox.store.calls if call[1] == order]
        assert kinds.index("release") < kinds.index("remove_tags")


def test_the_first_claim_takes_only_what_is_due_first(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    waiting_orders(sandbox, services, clock, 2)
    outbox = Outbox(services.db, services.client_for, services.outbox.send_mail, clock=clock)
    claimed = outbox._claim(50)
    # Each order's first store action, its later ones wait for it; and the confirmation email, which
    # tells the customer of the wait without waiting for the store.
    store = [row.order_id for row in claimed if row.order_id is not None and row.kind != "send_email"]
    assert len(store) == len(set(store)) == 2
    emails = [row for row in claimed if row.kind == "send_email"]
    assert sorted(row.order_id for row in emails) == sorted(store)
    assert {row.payload["template"] for row in emails} == {"backorder_confirmation"}
    assert all(row.status == "running" and row.attempts == 1 and row.lease_until is not None for row in claimed)
    assert outbox._claim(50) == []  # claimed rows are nobody else's; the rest is not due yet


def test_a_failed_action_stops_its_orders_chain_not_the_others(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    first, second = waiting_orders(sandbox, services, clock, 2, restocked=True)
    real = services.client_for

    class Refusing:
        def __init__(self, client):  # type: ignore[no-untyped-def]
            self.client = client

        def __getattr__(self, name):  # type: ignore[no-untyped-def]
            attribute = getattr(self.client, name)
            if name != "release_fulfillment":
                return attribute

            def release(order, *args, **kwargs):  # type: ignore[no-untyped-def]
                if order == first:
                    raise ConnectionError("the store did not answer")
                return attribute(order, *args, **kwargs)

            return release

    outbox = Outbox(services.db, lambda shop_id: Refusing(real(shop_id)), services.outbox.send_mail, clock=clock)
    result = outbox.drain(limit=50)

    assert result.retried == 1
    with services.db.read() as s:
        rows = s.scalars(select(ActionRow).where(ActionRow.order_id.is_not(None)).order_by(ActionRow.id)).all()
    by_order: dict[int, list[tuple[str, str]]] = {}
    for row in rows:
        by_order.setdefault(row.order_id, []).append((row.kind, row.status))
    first_chain, second_chain = by_order.values()
    assert first_chain[:2] == [("start_backorder", "done"), ("send_email", "done")]  # the wait, before
    assert first_chain[2:] == [("release_fulfillment", "pending"),  # retried after back-off,
                               ("remove_tags", "pending"),  # and the store actions that follow wait for it,
                               ("capture_payment", "pending"),
                               ("send_email", "pending")]  # as does the email that says it ships
    assert {status for _, status in second_chain} == {"done"}
    assert "release" in [call[0] for call in sandbox.store.calls if call[1] == second]
    assert "release" not in [call[0] for call in sandbox.store.calls if call[1] == first]
