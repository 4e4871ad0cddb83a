"""The flow of one webhook through Flask, the inbox, the engine and the outbox, on the sandbox store."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from adapters.sandbox.webhooks import build_delivery
from connector.storage.tables import ActionRow, BackorderRow, DeliveryRow, OrderRow
from tests.sandbox_helpers import SECRET

CUSTOMER = {"id": "c1", "email": "ada@example.com", "name": "Ada", "locale": "en", "reseller": False}


def count(services, table, *where) -> int:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        return s.scalar(select(func.count()).select_from(table).where(*where))


def test_bad_signature_is_401_and_nothing_is_stored(sandbox, services) -> None:  # type: ignore[no-untyped-def]
    headers, body = build_delivery(sandbox.store.domain, b"not-the-secret", "orders/create", {"id": "1"})
    response = sandbox.post(headers, body, expect=401)
    assert response.json == {"error": "signature could not be verified"}
    headers, _ = build_delivery(sandbox.store.domain, SECRET, "orders/create", {"id": "1"})
    sandbox.post(headers, body + b" ", expect=401)  # body changed after signing
    missing = {k: v for k, v in headers.items() if k != "X-Sandbox-Hmac-Sha256"}
    sandbox.post(missing, body, expect=401)
    unknown_shop, body2 = build_delivery("nobody.sandbox", SECRET, "orders/create", {"id": "1"})
    sandbox.post(unknown_shop, body2, expect=401)
    assert count(services, DeliveryRow) == 0


def test_unknown_platform_is_404(sandbox) -> None:  # type: ignore[no-untyped-def]
    assert sandbox.client.post("/webhooks/nowhere", data=b"{}").status_code == 404


def test_backordered_order_is_tagged_held_and_promised(sandbox, services) -> None:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("MUG", "Mug", "10.00", 1)
    sandbox.store.add_product("TEE", "Tee", "20.00", 0)
    order = sandbox.store.place_order(CUSTOMER, [("MUG", 1), ("TEE", 2)])
    sandbox.settle()
    stored = sandbox.store.orders[order["id"]]
    assert stored["tags"] == ["backorder"]
    # retail ships complete by default: the whole order is held while the tee waits
    assert {h["line_id"] for h in stored["holds"]} == {f"{order['id']}-1", f"{order['id']}-2"}
    assert stored["eta"] is not None
    with services.db.session() as s:
        [bo] = s.scalars(select(BackorderRow)).all()
        assert (bo.sku, bo.quantity, bo.in_stock_quantity, bo.state) == ("TEE", 2, 0, "waiting")
        assert bo.promised_on.isoformat() == stored["eta"]


def test_duplicate_delivery_is_processed_once(sandbox, services) -> None:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("TEE", "Tee", "20.00", 0)
    order = sandbox.store.place_order(CUSTOMER, [("TEE", 1)])
    headers, body = next((h, b) for h, b in sandbox.sent if h["X-Sandbox-Topic"] == "orders/create")
    for _ in range(3):
        assert sandbox.post(headers, body).json["status"] == "duplicate"
    sandbox.settle()
    for _ in range(2):
        sandbox.post(headers, body)
    sandbox.settle()
    assert count(services, DeliveryRow, DeliveryRow.topic == "orders/create") == 1
    assert [c[0] for c in sandbox.store.calls if c[1] == order["id"]].count("add_tags") == 1
    assert count(services, ActionRow, ActionRow.kind == "start_backorder") == 1


def test_same_content_with_a_new_event_id_does_not_repeat_actions(sandbox, services) -> None:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("TEE", "Tee", "20.00", 0)
    order = sandbox.store.place_order(CUSTOMER, [("TEE", 1)])
    sandbox.settle()
    sandbox.deliver("orders/updated", sandbox.store.order_payload(order["id"]))  # a store's re-send
    sandbox.settle()
    assert [c[0] for c in sandbox.store.calls].count("hold") == 1


def test_stale_update_is_ignored(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("TEE", "Tee", "20.00", 5)
    order = sandbox.store.place_order(CUSTOMER, [("TEE", 1)])
    old = sandbox.store.order_payload(order["id"])
    clock.advance(minutes=5)
    sandbox.store.cancel_order(order["id"])
    sandbox.work()
    stale = dict(old, line_items=[dict(old["line_items"][0], quantity=4)])
    sandbox.deliver("orders/updated", stale)  # arrives late, older updated_at
    sandbox.work()
    with services.db.session() as s:
        row = s.scalar(select(OrderRow))
        assert row.cancelled is True
        assert row.lines[0].quantity == 1


def test_malformed_body_goes_to_the_dead_letter_with_its_reason(sandbox, services) -> None:  # type: ignore[no-untyped-def]
    for topic, body in [
        ("orders/create", b"{not json"),
        ("orders/create", json.dumps({"id": "9"}).encode()),
        (
            "inventory/update",
            json.dumps(
                {"sku": "X", "location": "w", "available": "many", "updated_at": "2026-11-02T09:00:00+00:00"}
            ).encode(),
        ),
        ("mystery/topic", b"{}"),
    ]:
        headers, _ = build_delivery(sandbox.store.domain, SECRET, topic, {})
        from adapters.sandbox.webhooks import sign

        headers["X-Sandbox-Hmac-Sha256"] = sign(SECRET, body)
        sandbox.post(headers, body)
    sandbox.work()
    with services.db.session() as s:
        dead = s.scalars(select(DeliveryRow).order_by(DeliveryRow.id)).all()
        assert [d.status for d in dead] == ["dead"] * 4
        assert "not JSON" in dead[0].error
        assert "'line_items'" in dead[1].error
        assert "ValueError" in dead[2].error
        assert "unknown topic" in dead[3].error
        assert dead[0].body == b"{not json"  # kept, for the merchant to see and replay


def test_dead_letter_can_be_replayed_after_the_cause_is_fixed(sandbox, services) -> None:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("TEE", "Tee", "20.00", 0)
    sandbox.settle()
    order = sandbox.store.place_order(CUSTOMER, [("TEE", 1)])
    # The order's delivery names a shop we do not know (say, a typo in a replayed file): dead letter.
    with services.db.session() as s:
        s.execute(
            DeliveryRow.__table__.update().where(DeliveryRow.topic == "orders/create").values(shop_domain="x.sandbox")
        )
    sandbox.settle()
    with services.db.session() as s:
        delivery = s.scalar(select(DeliveryRow).where(DeliveryRow.topic == "orders/create"))
        assert delivery.status == "dead" and "no connected shop" in delivery.error
        delivery.shop_domain = sandbox.store.domain
    assert services.inbox.replay(delivery.id)
    sandbox.settle()
    assert sandbox.store.orders[order["id"]]["tags"] == ["backorder"]


def test_restart_in_the_middle_of_processing_loses_nothing_and_repeats_nothing(
    sandbox, services, clock, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("TEE", "Tee", "20.00", 0)
    order = sandbox.store.place_order(CUSTOMER, [("TEE", 1)])
    sandbox.settle()
    assert sandbox.store.orders[order["id"]]["tags"] == ["backorder"]
    actions_before = count(services, ActionRow)
    sandbox.store.restock("TEE", 1)  # the restock webhook is stored, not processed yet

    import connector.intake.inbox as inbox_module

    real_evaluate = inbox_module.evaluate

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        real_evaluate(*args, **kwargs)  # the release actions are enqueued in the transaction ...
        raise SystemExit("process killed")  # ... and the process dies before it commits

    monkeypatch.setattr(inbox_module, "evaluate", crash)
    [claimed] = services.inbox._claim(10)
    with pytest.raises(SystemExit):
        services.inbox.process(claimed)
    monkeypatch.setattr(inbox_module, "evaluate", real_evaluate)
    assert count(services, ActionRow) == actions_before  # nothing half-applied
    with services.db.session() as s:
        assert s.get(DeliveryRow, claimed).status == "processing"  # still claimed by the dead process
    sandbox.work()
    assert count(services, ActionRow) == actions_before  # its lease has not run out yet
    clock.advance(minutes=3)
    sandbox.work()
    assert sandbox.store.orders[order["id"]]["tags"] == []
    assert [c[0] for c in sandbox.store.calls].count("release") == 1
    assert [c[0] for c in sandbox.store.calls].count("remove_tags") == 1


def test_crash_after_a_store_call_but_before_recording_it(sandbox, services, clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("TEE", "Tee", "20.00", 0)
    order = sandbox.store.place_order(CUSTOMER, [("TEE", 1)])
    services.inbox.process_pending()
    clock.advance(minutes=1)
    services.inbox.evaluate_settled()
    original = services.outbox._run
    calls = []

    def run_then_die(row, client_for):  # type: ignore[no-untyped-def]
        original(row, client_for)
        if row.kind == "publish_storefront":  # the storefront values (no order) go before the order's actions
            return
        calls.append(row.kind)
        raise SystemExit("killed after the store call")

    monkeypatch.setattr(services.outbox, "_run", run_then_die)
    with pytest.raises(SystemExit):
        services.outbox.drain(limit=10)  # the start of the order's wait is made, and the worker dies
    monkeypatch.setattr(services.outbox, "_run", original)
    sandbox.work()
    assert [c[0] for c in sandbox.store.calls].count("add_tags") == 1  # its claim is not over yet
    clock.advance(minutes=6)  # the lease runs out; the action is claimed again
    sandbox.work()
    assert calls == ["start_backorder"]
    made = [c[0] for c in sandbox.store.calls]
    assert made.count("add_tags") == made.count("hold") == made.count("set_eta") == 2  # made again ...
    assert sandbox.store.orders[order["id"]]["tags"] == ["backorder"]  # ... harmlessly: tags are a set
    with services.db.session() as s:
        assert set(s.scalars(select(ActionRow.status).where(ActionRow.kind != "send_email"))) == {"done"}


def test_stock_arrival_releases_in_arrival_order(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("TEE", "Tee", "20.00", 0)
    first = sandbox.store.place_order(CUSTOMER, [("TEE", 2)])
    clock.advance(minutes=1)
    second = sandbox.store.place_order(dict(CUSTOMER, id="c2", email="b@example.com"), [("TEE", 1)])
    sandbox.settle()
    clock.advance(days=3)
    sandbox.store.restock("TEE", 2)  # enough for the first order only
    sandbox.settle()
    assert sandbox.store.orders[first["id"]]["tags"] == []
    assert sandbox.store.orders[first["id"]]["holds"] == []
    assert sandbox.store.orders[first["id"]]["financial_status"] == "paid"  # captured when released
    assert sandbox.store.orders[second["id"]]["tags"] == ["backorder"]
    assert sandbox.store.orders[second["id"]]["holds"]


def test_healthz_reports_queue_depth(sandbox) -> None:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("TEE", "Tee", "20.00", 0)
    body = sandbox.client.get("/healthz").json
    assert body["status"] == "ok"
    assert body["inbox"]["pending"] == 2  # product + stock, not processed yet
    sandbox.work()
    body = sandbox.client.get("/healthz").json
    assert body["inbox"] == {"pending": 0, "dead": 0, "done": 2}
