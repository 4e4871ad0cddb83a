"""Lifecycle rules on the sandbox store: partial shipments, cancellations, authorization expiry."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import select

from connector.backorders.evaluation import evaluate
from connector.storage.tables import ActionRow, OrderRow, ShopRow
from connector.sweeps import timers_all
from tests.sandbox_helpers import connect_sandbox

RETAIL = {"id": "c1", "email": "ada@example.com", "name": "Ada", "locale": "en", "reseller": False}
RESELLER = {"id": "c9", "email": "buyer@partner.example", "name": "Partner", "locale": "en", "reseller": True}


def kinds(services, order_external_id: str) -> Counter:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        order_id = s.scalar(select(OrderRow.id).where(OrderRow.external_id == order_external_id))
        return Counter(
            (a.kind, a.payload.get("template")) if a.kind == "send_email" else a.kind
            for a in s.scalars(select(ActionRow).where(ActionRow.order_id == order_id))
        )


def test_reseller_gets_available_lines_now_and_the_rest_in_batches(app, services, clock) -> None:  # type: ignore[no-untyped-def]
    sandbox = connect_sandbox(services, app.test_client(), clock, capture_per_shipment=True)
    store = sandbox.store
    store.add_product("MUG", "Mug", "10.00", 5)
    store.add_product("TEE", "Tee", "20.00", 0)
    order = store.place_order(RESELLER, [("MUG", 5), ("TEE", 4)])
    sandbox.settle()
    stored = store.orders[order["id"]]
    assert [h["line_id"] for h in stored["holds"]] == [f"{order['id']}-2"]  # only the tee waits
    assert stored["captured"] == "50.00"  # the mugs ship now and are charged now
    store.fulfil_unheld()
    sandbox.settle()
    assert store.orders[order["id"]]["line_items"][0]["fulfilled_quantity"] == 5
    clock.advance(days=2)
    store.restock("TEE", 4)
    sandbox.settle()
    stored = store.orders[order["id"]]
    assert stored["holds"] == [] and stored["tags"] == []
    assert stored["captured"] == "130.00" and stored["financial_status"] == "paid"


def test_without_multi_capture_the_charge_is_captured_once_at_the_end(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    store = sandbox.store
    store.add_product("MUG", "Mug", "10.00", 5)
    store.add_product("TEE", "Tee", "20.00", 0)
    order = store.place_order(RESELLER, [("MUG", 5), ("TEE", 4)])
    sandbox.settle()
    assert store.orders[order["id"]]["captured"] == "0"  # the mugs ship, the authorization stays whole
    store.fulfil_unheld()
    clock.advance(days=2)
    store.restock("TEE", 4)
    sandbox.settle()
    assert store.orders[order["id"]]["captured"] == "130.00"
    assert kinds(services, order["id"])["capture_payment"] == 1


def test_retail_order_ships_complete_by_default(sandbox, services) -> None:  # type: ignore[no-untyped-def]
    store = sandbox.store
    store.add_product("MUG", "Mug", "10.00", 5)
    store.add_product("TEE", "Tee", "20.00", 0)
    order = store.place_order(RETAIL, [("MUG", 1), ("TEE", 1)])
    sandbox.settle()
    assert len(store.orders[order["id"]]["holds"]) == 2
    assert store.orders[order["id"]]["captured"] == "0"
    store.fulfil_unheld()
    assert store.orders[order["id"]]["line_items"][0]["fulfilled_quantity"] == 0


def test_cancellation_releases_stock_and_sends_nothing_further(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    store = sandbox.store
    store.add_product("TEE", "Tee", "20.00", 0)
    first = store.place_order(RETAIL, [("TEE", 1)])
    second = store.place_order(dict(RETAIL, id="c2", email="b@example.com"), [("TEE", 1)])
    sandbox.settle()
    before = kinds(services, first["id"])
    store.cancel_order(first["id"])
    clock.advance(days=1)
    store.restock("TEE", 1)  # one unit arrives: it goes to the second order, not the cancelled first
    sandbox.settle()
    assert kinds(services, first["id"]) == before
    assert store.orders[second["id"]]["tags"] == []
    assert kinds(services, second["id"])[("send_email", "on_its_way")] == 1


def test_pending_emails_of_a_cancelled_order_are_not_sent(sandbox, services) -> None:  # type: ignore[no-untyped-def]
    store = sandbox.store
    store.add_product("TEE", "Tee", "20.00", 0)
    order = store.place_order(RETAIL, [("TEE", 1)])
    services.inbox.process_pending()
    sandbox.clock.advance(minutes=1)
    services.inbox.evaluate_settled()  # decided, not yet sent
    store.cancel_order(order["id"])
    sandbox.settle()
    with services.db.session() as s:
        statuses = Counter((a.kind, a.status) for a in s.scalars(select(ActionRow)))
    assert statuses[("send_email", "cancelled")] == 1
    assert ("send_email", "done") not in statuses


def test_expedited_order_jumps_the_queue(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    store = sandbox.store
    store.add_product("TEE", "Tee", "20.00", 0)
    first = store.place_order(RETAIL, [("TEE", 1)])
    second = store.place_order(dict(RETAIL, id="c2", email="b@example.com"), [("TEE", 1)])
    sandbox.settle()
    with services.db.session() as s:
        row = s.scalar(select(OrderRow).where(OrderRow.external_id == second["id"]))
        row.priority = -1
        evaluate(s, s.get(ShopRow, row.shop_id), {"TEE"}, clock())
    clock.advance(days=1)
    store.restock("TEE", 1)
    sandbox.settle()
    assert store.orders[second["id"]]["tags"] == []
    assert store.orders[first["id"]]["tags"] == ["backorder"]


def test_authorization_expiry_warns_then_captures(app, services, clock) -> None:  # type: ignore[no-untyped-def]
    sandbox = connect_sandbox(services, app.test_client(), clock, merchant_email="owner@example.com",
                              auth_expiry_policy="capture_now")  # no longer the default (issue 10)
    sandbox.store.add_product("TEE", "Tee", "20.00", 0)
    order = sandbox.store.place_order(RETAIL, [("TEE", 2)])
    sandbox.settle()
    clock.advance(days=5, hours=12)  # 36 h before the 7-day authorization lapses: nothing yet
    timers_all(services)
    assert kinds(services, order["id"])[("send_email", "authorization_expiring")] == 0
    clock.advance(hours=13)  # 23 h before: warn the merchant, once
    timers_all(services)
    timers_all(services)
    sandbox.work()
    assert kinds(services, order["id"])[("send_email", "authorization_expiring")] == 1
    clock.advance(hours=18)  # 5 h before: the policy (capture now) acts, once
    timers_all(services)
    timers_all(services)
    sandbox.work()
    stored = sandbox.store.orders[order["id"]]
    assert stored["captured"] == "40.00" and stored["holds"]  # charged, still waiting for the goods
    assert kinds(services, order["id"])["capture_payment"] == 1
    clock.advance(days=1)
    sandbox.store.restock("TEE", 2)
    sandbox.settle()
    assert sandbox.store.orders[order["id"]]["captured"] == "40.00"  # nothing captured twice
    assert kinds(services, order["id"])["capture_payment"] == 1


def test_authorization_expiry_can_ask_the_customer_to_pay_again(app, services, clock) -> None:  # type: ignore[no-untyped-def]
    sandbox = connect_sandbox(services, app.test_client(), clock)  # request_payment is the default (issue 10)
    sandbox.store.add_product("TEE", "Tee", "20.00", 0)
    order = sandbox.store.place_order(RETAIL, [("TEE", 1)])
    sandbox.settle()
    clock.advance(days=6, hours=20)
    timers_all(services)
    sandbox.work()
    got = kinds(services, order["id"])
    assert got[("send_email", "payment_request")] == 1
    assert got["capture_payment"] == 0
    assert got[("send_email", "authorization_expiring")] == 0  # no merchant address set: no warning to send


def test_an_order_ahead_of_its_stock_report_releases_no_one(sandbox, services) -> None:  # type: ignore[no-untyped-def]
    """The store reports the new order before its own stock drop: the stored level does not count it yet."""
    store = sandbox.store
    store.add_product("TEE", "Tee", "20.00", 0)
    first = store.place_order(RETAIL, [("TEE", 1)])
    sandbox.settle()
    assert store.orders[first["id"]]["tags"] == ["backorder"]
    store.listeners.clear()  # hold back the stock webhook the next order causes
    second = store.place_order(dict(RETAIL, id="c2", email="b@example.com"), [("TEE", 1)])
    sandbox.deliver("orders/create", store.order_payload(second["id"]))
    sandbox.work()
    calls = [c[0] for c in store.calls if c[1] == first["id"]]
    assert calls == ["add_tags", "hold", "set_eta"]  # no release, no capture of the first customer
    assert store.orders[second["id"]]["tags"] == ["backorder"]  # and the new order waits too
    sandbox.deliver("inventory/update", store.stock_payload("TEE"))  # the stock report arrives
    sandbox.settle()
    assert [c[0] for c in store.calls if c[1] == first["id"]] == ["add_tags", "hold", "set_eta"]


def test_an_order_awaiting_payment_claims_no_stock(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from adapters.sandbox.normalise import _order
    from connector.domain.model import OrderUpserted

    store = sandbox.store
    store.add_product("TEE", "Tee", "20.00", 0)
    sandbox.settle()
    clock.advance(minutes=1)
    store.listeners.clear()  # the order and its payment are fed in by hand below
    unpaid = store.place_order(RETAIL, [("TEE", 1)])
    shop_id = services.shops.ref("sandbox", store.domain).id

    def feed(**changes):  # type: ignore[no-untyped-def]
        with services.db.session() as s:
            order = replace(_order(store.domain, store.order_payload(unpaid["id"])), **changes)
            services.inbox.apply(s, s.get(ShopRow, shop_id), [OrderUpserted(order)])
        sandbox.settle()

    feed(reserves_stock=False)
    assert kinds(services, unpaid["id"]) == Counter()  # not a sale yet: no hold, no tag, no email
    clock.advance(minutes=5)
    feed(reserves_stock=True, updated_at=clock())  # paid: now it waits like any other order
    assert kinds(services, unpaid["id"])[("send_email", "backorder_confirmation")] == 1
    assert store.orders[unpaid["id"]]["tags"] == ["backorder"]


def one_unit_webhooks_held_back(sandbox, clock):  # type: ignore[no-untyped-def]
    """One unit of TEE; from now on the store's webhooks are held back, to be delivered by hand in
    the order a test's race needs."""
    store = sandbox.store
    store.add_product("TEE", "Tee", "20.00", 1)
    sandbox.settle()
    store.listeners.clear()
    clock.advance(seconds=5)
    return store


def two_orders_for_the_last_unit(sandbox, clock):  # type: ignore[no-untyped-def]
    """One unit of TEE, two orders for it a second apart, their webhooks held back."""
    store = one_unit_webhooks_held_back(sandbox, clock)
    first = store.place_order(RETAIL, [("TEE", 1)])
    clock.advance(seconds=1)
    second = store.place_order(dict(RETAIL, id="c2", email="b@example.com"), [("TEE", 1)])
    assert store.products["TEE"]["stock"] == -1
    return store, first, second


def test_a_stock_report_counting_a_later_order_takes_nothing_from_an_earlier_one(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    """A flash sale's race: the store's report already counts a later order whose own webhook is still on
    its way. The earlier customer keeps the last unit (no backorder, nothing taken back), the later
    one waits, and the same holds once the drop has settled."""
    store, first, second = two_orders_for_the_last_unit(sandbox, clock)
    sandbox.deliver("inventory/update", store.stock_payload("TEE"))  # counts both orders
    sandbox.deliver("orders/create", store.order_payload(first["id"]))
    sandbox.work()
    assert [c[0] for c in store.calls if c[1] == first["id"]] == []  # in stock: nothing to do
    sandbox.deliver("orders/create", store.order_payload(second["id"]))
    sandbox.work()
    assert store.orders[second["id"]]["tags"] == ["backorder"]
    clock.advance(seconds=31)  # the drop has settled: the last report is used as it is
    services.inbox.evaluate_settled()
    sandbox.work()
    assert [c[0] for c in store.calls if c[1] == first["id"]] == []
    assert store.orders[second["id"]]["tags"] == ["backorder"]
    with services.db.session() as s:
        assert s.scalar(select(ActionRow.id).where(ActionRow.kind == "release_fulfillment")) is None


def test_a_drop_does_not_settle_while_the_orders_it_counts_wait_in_the_inbox(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    """A sale's backlog: the report counting a later order B has been applied, B's own webhook has
    arrived but waits in the inbox, and the settle period passes meanwhile. The drop settles only once
    the inbox has caught up: the earlier customer A keeps the unit, is never backordered, nothing is
    taken back (issue 13's full-size run saw 556 orders tagged, held and emailed, then released)."""
    from connector.storage.tables import StockLevelRow

    store, first, second = two_orders_for_the_last_unit(sandbox, clock)
    sandbox.deliver("inventory/update", store.stock_payload("TEE"))  # counts both orders
    sandbox.deliver("orders/create", store.order_payload(first["id"]))
    services.inbox.process_pending()
    sandbox.deliver("orders/create", store.order_payload(second["id"]))  # arrived; the inbox is behind
    clock.advance(seconds=31)  # the settle period passes while it waits

    assert services.inbox.evaluate_settled() == 0
    services.outbox.drain()  # a worker sends whatever was decided meanwhile
    with services.db.session() as s:
        level = s.scalar(select(StockLevelRow).where(StockLevelRow.sku == "TEE"))
        assert level.settle_at is not None and level.held_available == 1  # still the level from before the drop
    assert [c[0] for c in store.calls if c[1] == first["id"]] == []  # A was never backordered

    sandbox.work()  # the inbox catches up: B waits; then the drop settles
    clock.advance(seconds=1)
    services.inbox.evaluate_settled()
    sandbox.work()
    with services.db.session() as s:
        assert s.scalar(select(StockLevelRow.settle_at).where(StockLevelRow.sku == "TEE")) is None
        assert s.scalar(select(ActionRow.id).where(ActionRow.kind == "release_fulfillment")) is None
    assert [c[0] for c in store.calls if c[1] == first["id"]] == []
    assert store.orders[second["id"]]["tags"] == ["backorder"]


def test_a_stock_hold_ends_at_most_five_minutes_after_it_began(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    """Drops every few seconds (a long sale) do not keep the level from before the sale for good: the
    hold ends MAX_HOLD after it began, and the last report counts (here: a unit written off)."""
    from connector.intake.apply import MAX_HOLD
    from connector.storage.tables import StockLevelRow

    store = sandbox.store
    store.add_product("TEE", "Tee", "20.00", 50)
    sandbox.settle()
    store.listeners.clear()
    for _ in range(int(MAX_HOLD.total_seconds() // 20) + 3):  # a drop no order explains, every 20 s
        clock.advance(seconds=20)
        store.products["TEE"]["stock"] -= 1
        sandbox.deliver("inventory/update", store.stock_payload("TEE"))
        sandbox.work()
        services.inbox.evaluate_settled()
    with services.db.session() as s:
        row = s.scalar(select(StockLevelRow).where(StockLevelRow.sku == "TEE"))
        assert row.held_available is None or row.held_available < 50  # not the level of before the drops


def test_a_long_sale_moves_its_hold_on_only_once_the_orders_the_report_counts_are_in(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    """A sale longer than MAX_HOLD: drops keep coming, so the hold never settles quietly. When it moves
    on, the report it moves to counts a later order B whose webhook arrived after the hold's limit and
    waits in the inbox. The earlier customer A keeps the unit throughout (issue 13's full-size run: 51
    orders tagged, held and emailed, then released, when the hold moved straight to the last report)."""
    from connector.intake.apply import MAX_HOLD
    from connector.storage.tables import StockLevelRow

    store = one_unit_webhooks_held_back(sandbox, clock)
    first = store.place_order(RETAIL, [("TEE", 1)])
    sandbox.deliver("orders/create", store.order_payload(first["id"]))
    sandbox.deliver("inventory/update", store.stock_payload("TEE"))
    sandbox.work()
    later = []
    for n in range(int(MAX_HOLD.total_seconds() // 20) - 1):  # the sale goes on: an order every 20 s, all waiting
        clock.advance(seconds=20)
        later.append(store.place_order(dict(RETAIL, id=f"c{n + 10}", email=f"w{n}@example.com"), [("TEE", 1)]))
        sandbox.deliver("orders/create", store.order_payload(later[-1]["id"]))
        sandbox.deliver("inventory/update", store.stock_payload("TEE"))
        sandbox.work()
        services.inbox.evaluate_settled()
    clock.advance(seconds=21)  # just past MAX_HOLD since the hold began
    second = store.place_order(dict(RETAIL, id="c2", email="b@example.com"), [("TEE", 1)])
    checkpoint = store.products["TEE"]["stock"]
    sandbox.deliver("inventory/update", store.stock_payload("TEE"))  # counts B
    services.inbox.process_pending()
    sandbox.deliver("orders/create", store.order_payload(second["id"]))  # arrived, not applied yet
    services.inbox.evaluate_settled()  # the last report becomes a checkpoint, not the level
    services.outbox.drain()
    assert [c[0] for c in store.calls if c[1] == first["id"]] == []

    sandbox.work()  # B is applied and waits
    clock.advance(seconds=15)  # the sale goes on
    later.append(store.place_order(dict(RETAIL, id="c3", email="c@example.com"), [("TEE", 1)]))
    sandbox.deliver("orders/create", store.order_payload(later[-1]["id"]))
    sandbox.deliver("inventory/update", store.stock_payload("TEE"))
    sandbox.work()
    clock.advance(seconds=16)
    services.inbox.evaluate_settled()  # the checkpoint's orders are all in: the hold moves on to it
    sandbox.work()
    with services.db.session() as s:
        row = s.scalar(select(StockLevelRow).where(StockLevelRow.sku == "TEE"))
        assert (row.held_available, row.checkpoint_until) == (checkpoint, None)
    assert [c[0] for c in store.calls if c[1] == first["id"]] == []  # A was never backordered
    assert all(store.orders[o["id"]]["tags"] == ["backorder"] for o in [*later, second])
    with services.db.session() as s:
        assert s.scalar(select(ActionRow.id).where(ActionRow.kind == "release_fulfillment")) is None


def test_a_line_backordered_after_midnight_in_the_shop_keeps_its_date(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    """The day a line began to wait is the shop's day, as "today" is: at 00:30 in Rome it is still
    the day before in UTC, and a promise re-made on the UTC day moved every such date a day (with
    an "earlier date" email to each customer) at the order's next evaluation."""
    clock.now = datetime(2026, 11, 2, 23, 30, tzinfo=UTC)  # 00:30 on 3 Nov in the shop (Europe/Rome)
    store = sandbox.store
    store.add_product("TEE", "Tee", "20.00", 0)
    first = store.place_order(RETAIL, [("TEE", 1)])
    sandbox.settle()
    with services.db.read() as s:
        promised = s.scalar(select(OrderRow.bo_promised_on).where(OrderRow.external_id == first["id"]))
    assert promised is not None
    store.place_order(dict(RETAIL, id="c2", email="b@example.com"), [("TEE", 1)])  # the SKU is evaluated again
    sandbox.settle()
    with services.db.read() as s:
        assert s.scalar(select(OrderRow.bo_promised_on).where(OrderRow.external_id == first["id"])) == promised
    sent = kinds(services, first["id"])
    assert sent["start_backorder"] == 1 and sent["set_eta"] == 0, sent  # the date written once
    assert [k for k in sent if isinstance(k, tuple)] == [("send_email", "backorder_confirmation")]
