"""Issue 15, items 4 and 5: edited orders are decided on again at once, and what no store can send is
dead-lettered at once with its reason, never retried.

Everything but the hosted stores' HTTP APIs is real: Flask's webhook route, SQLite, the inbox, the
engine, the outbox (WooCommerce's REST API is the `responses`-backed fake store)."""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, StatementError

from adapters.sandbox.webhooks import build_delivery
from connector.domain.model import Platform
from connector.intake.inbox import is_permanent
from connector.storage.tables import ActionRow, BackorderRow, DeliveryRow, OrderLineRow, OrderRow
from connector.web import create_app
from tests.integration.woocommerce.conftest import (  # noqa: F401 - the WooCommerce service and fake store
    app,
    mails,
    rsps,
    store,
    woo_clock,
    woo_config,
    woo_services,
)
from tests.integration.woocommerce.flows import connect, deliver, work
from tests.integration.woocommerce.test_backorder_flow import bar3, single_product
from tests.sandbox_helpers import SECRET, Harness, connect_sandbox
from tests.shared_files import load_fixture
from tests.shopify_webhooks import body_bytes, webhook_headers
from tests.woocommerce_support import fixture

CUSTOMER = {"id": "c1", "email": "ada@example.com", "name": "Ada", "locale": "en", "reseller": False}
from tests.conftest import SHOPIFY_API_SECRET as SHOPIFY_SECRET  # noqa: E402

SHOPIFY_SHOP = "edge-test.myshopify.com"


@pytest.fixture
def sandbox(config, services, clock) -> Harness:  # type: ignore[no-untyped-def]
    flask_app = create_app(config, services, background=False)
    return connect_sandbox(services, flask_app.test_client(), clock)


def errors_from_us(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("connector")]


def sandbox_order(order_id: str = "9001", **line: Any) -> dict[str, Any]:
    item = {"id": "l1", "sku": "TEE", "title": "Tee", "quantity": 1, "price": "20.00", "fulfilled_quantity": 0}
    return {
        "id": order_id,
        "name": f"#{order_id}",
        "created_at": "2026-11-02T08:00:00+00:00",
        "updated_at": "2026-11-02T08:00:00+00:00",
        "currency": "EUR",
        "financial_status": "paid",
        "customer": CUSTOMER,
        "total": "20.00",
        "line_items": [item | line],
    }


def post_sandbox(sandbox: Harness, topic: str, payload: dict[str, Any]) -> None:
    headers, body = build_delivery(sandbox.store.domain, SECRET, topic, payload)
    sandbox.post(headers, body)


def deliveries(services) -> list[DeliveryRow]:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        rows = s.scalars(select(DeliveryRow).order_by(DeliveryRow.id)).all()
        s.expunge_all()
        return list(rows)


# ---- validation at the edge ----------------------------------------------------------------------


@pytest.mark.parametrize("quantity", [10**18, 10**20])
def test_an_absurd_quantity_is_dead_lettered_at_once_with_its_reason_and_never_retried(
    sandbox, services, clock, caplog, quantity
) -> None:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("TEE", "Tee", "20.00", 0)
    sandbox.settle()
    caplog.set_level(logging.WARNING)
    post_sandbox(sandbox, "orders/create", sandbox_order(quantity=quantity))
    sandbox.work()
    [dead] = [d for d in deliveries(services) if d.topic == "orders/create"]
    assert dead.status == "dead" and dead.attempts == 1
    assert "out of bounds" in dead.error and "quantity" in dead.error and str(quantity) in dead.error
    clock.advance(hours=12)  # far past every retry back-off: it is not tried again
    sandbox.work()
    [again] = [d for d in deliveries(services) if d.topic == "orders/create"]
    assert (again.status, again.attempts) == ("dead", 1)
    with services.db.session() as s:
        assert s.scalar(select(OrderRow).where(OrderRow.external_id == "9001")) is None
        assert s.scalars(select(BackorderRow)).all() == []
    assert errors_from_us(caplog) == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"line": {"sku": "S" * 256}}, "SKU is 256 characters long"),
        ({"order": {"currency": "EURO"}}, "currency 'EURO'"),
        ({"order": {"currency": "€€€"}}, "currency"),
        ({"line": {"price": "1e15"}}, "unit price"),
        ({"line": {"id": "x" * 65}}, "line id is 65 characters long"),
        ({"order": {"id": "9" * 65}}, "order id is 65 characters long"),
        ({"order": {"created_at": "0001-01-01T00:00:00+00:00"}}, "not a plausible time"),
    ],
)
def test_values_beyond_the_columns_are_dead_lettered_alike_on_every_database(
    sandbox, services, caplog, change, reason
) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.WARNING)
    payload = sandbox_order(**change.get("line", {})) | change.get("order", {})
    post_sandbox(sandbox, "orders/create", payload)
    sandbox.work()
    [dead] = [d for d in deliveries(services) if d.topic == "orders/create"]
    assert dead.status == "dead" and dead.attempts == 1, dead.error
    assert reason in dead.error
    with services.db.session() as s:
        assert s.scalars(select(OrderRow)).all() == []
    assert errors_from_us(caplog) == []


def test_a_stock_level_beyond_bounds_is_dead_lettered(sandbox, services) -> None:  # type: ignore[no-untyped-def]
    level = {"sku": "TEE", "location": "main", "available": 10**12, "updated_at": "2026-11-02T09:00:00+00:00"}
    post_sandbox(sandbox, "inventory/update", level)
    sandbox.work()
    [dead] = deliveries(services)
    assert dead.status == "dead" and "available" in dead.error and "outside" in dead.error


def test_over_long_free_text_is_cut_to_the_column_not_refused(sandbox, services) -> None:  # type: ignore[no-untyped-def]
    payload = sandbox_order(title="T" * 5000)
    payload["customer"] = CUSTOMER | {"name": "N" * 1000, "locale": "x" * 40}
    post_sandbox(sandbox, "orders/create", payload)
    sandbox.work()
    assert [d.status for d in deliveries(services)] == ["done"]
    with services.db.session() as s:
        order = s.scalar(select(OrderRow))
        assert len(order.customer_name) == 255 and order.customer_locale is None
        assert len(order.lines[0].title) == 500


def test_errors_retrying_cannot_fix_are_permanent_and_the_rest_transient() -> None:
    assert is_permanent(OverflowError("Python int too large to convert to SQLite INTEGER"))
    assert is_permanent(StatementError("bind", "INSERT", {}, OverflowError("too large")))
    assert is_permanent(DataError("INSERT", {}, Exception("value too long for type character varying(3)")))
    assert is_permanent(ValueError("bad")) and is_permanent(TypeError("bad"))
    assert not is_permanent(OperationalError("SELECT", {}, Exception("database is locked")))
    assert not is_permanent(IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed")))
    assert not is_permanent(ConnectionError("refused"))


def test_an_overflow_while_applying_is_dead_lettered_at_once_without_an_error_traceback(
    sandbox, services, caplog, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import connector.intake.inbox as inbox_module

    def overflow(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    monkeypatch.setattr(inbox_module, "apply_events", overflow)
    caplog.set_level(logging.WARNING)
    post_sandbox(sandbox, "orders/create", sandbox_order())
    sandbox.work()
    [dead] = deliveries(services)
    assert (dead.status, dead.attempts) == ("dead", 1)
    assert "retrying cannot help" in dead.error and "OverflowError" in dead.error
    assert errors_from_us(caplog) == []


# ---- edited orders -------------------------------------------------------------------------------


def woo_order_727() -> dict[str, Any]:
    return copy.deepcopy(fixture("rest_v3_order_retrieve.json")) | {
        "date_created_gmt": "2026-11-02T08:00:00",
        "date_modified_gmt": "2026-11-02T08:00:00",
    }


def without_bar3(order: dict[str, Any]) -> dict[str, Any]:
    """The merchant removes the waiting line (Bar3) in the order editor: WooCommerce drops it."""
    edited = copy.deepcopy(order)
    edited["line_items"] = [li for li in edited["line_items"] if li["sku"] != "Bar3"]
    edited["date_modified_gmt"] = "2026-11-02T08:10:00"
    return edited


@pytest.fixture
def woo_backordered(app, store, woo_services):  # type: ignore[no-untyped-def]  # noqa: F811
    """Order 727 stored: product 93 in stock, Bar3 sold beyond stock, so line 316 waits."""
    http = app.test_client()
    connect(http, store)
    store.add_product(single_product(8))
    store.add_product(
        fixture("rest_v3_product_retrieve.json") | {"id": 22, "type": "variable", "variations": [23]},
        variations=[bar3(-1)],
    )
    order = store.add_order(woo_order_727())
    deliver(http, store, "product.updated", single_product(8))
    deliver(http, store, "product.updated", bar3(-1))
    deliver(http, store, "order.created", order)
    return http, order


def test_woocommerce_removing_the_only_waiting_line_before_anything_went_out_supersedes_it_all(
    woo_backordered, store, woo_services, mails  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    http, order = woo_backordered
    woo_services.inbox.process_pending()  # decided: the wait's start (tag, hold, date), confirmation
    with woo_services.db.session() as s:
        pending = s.scalars(select(ActionRow.kind).where(ActionRow.status == "pending")).all()
    assert "send_email" in pending and "start_backorder" in pending

    edited = without_bar3(order)
    store.orders[727] = copy.deepcopy(edited)
    deliver(http, store, "order.updated", edited)
    work(woo_services)

    assert store.orders[727]["status"] == "processing"  # never put on hold
    assert not store.meta(727, "_backorder_tags") and not store.meta(727, "_backorder_hold")
    assert not store.meta(727, "_backorder_eta")
    assert store.notes.get(727, []) == []  # no note about a backorder that no longer exists
    assert mails == []  # the pending confirmation was cancelled, and no "on its way" follows it
    with woo_services.db.session() as s:
        order_row = s.scalar(select(OrderRow).where(OrderRow.external_id == "727"))
        assert [li.sku for li in order_row.lines] == ["wc-product:93"]
        assert not order_row.bo_held and not order_row.bo_tagged
        assert s.scalars(select(BackorderRow)).all() == []
        confirmation = s.scalar(select(ActionRow).where(ActionRow.idempotency_key.like("%email:confirmation")))
        assert confirmation.status == "cancelled" and "superseded" in confirmation.last_error
        assert s.scalars(select(ActionRow).where(ActionRow.status == "pending")).all() == []


def test_woocommerce_removing_the_waiting_line_after_the_hold_releases_the_order_and_removes_our_meta(
    woo_backordered, store, woo_services, mails  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    http, order = woo_backordered
    work(woo_services)
    assert store.orders[727]["status"] == "on-hold"
    assert store.meta(727, "_backorder_tags") == "backorder"
    assert [m["template"] for m in mails] == ["backorder_confirmation"]

    edited = without_bar3(store.orders[727])
    store.orders[727]["line_items"] = copy.deepcopy(edited["line_items"])
    deliver(http, store, "order.updated", edited)
    work(woo_services)

    assert store.orders[727]["status"] == "processing"  # released at once
    assert not store.meta(727, "_backorder_tags") and not store.meta(727, "_backorder_hold")
    assert [m["template"] for m in mails] == ["backorder_confirmation", "on_its_way"]
    assert [li["sku"] for li in mails[-1]["lines"]] == ["wc-product:93"]  # the line that ships, not the removed one
    with woo_services.db.session() as s:
        order_row = s.scalar(select(OrderRow).where(OrderRow.external_id == "727"))
        assert not order_row.bo_held and not order_row.bo_tagged
        assert s.scalars(select(ActionRow).where(ActionRow.status.in_(("pending", "failed", "dead")))).all() == []


def test_woocommerce_order_body_without_line_items_is_dead_lettered_and_keeps_the_lines(
    woo_backordered, store, woo_services  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    http, order = woo_backordered
    work(woo_services)
    partial = {k: v for k, v in order.items() if k != "line_items"} | {"date_modified_gmt": "2026-11-02T08:20:00"}
    deliver(http, store, "order.updated", partial)
    work(woo_services)
    last = deliveries(woo_services)[-1]
    assert last.status == "dead" and "lacks its line_items" in last.error
    with woo_services.db.session() as s:
        assert len(s.scalar(select(OrderRow).where(OrderRow.external_id == "727")).lines) == 2
    assert store.orders[727]["status"] == "on-hold"


def test_sandbox_a_line_cut_to_nothing_is_decided_on_at_once(sandbox, services) -> None:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("TEE", "Tee", "20.00", 0)
    sandbox.store.add_product("MUG", "Mug", "8.00", 5)
    sandbox.settle()
    payload = sandbox_order() | {"created_at": "2026-11-02T10:00:00+00:00", "updated_at": "2026-11-02T10:00:00+00:00"}
    payload["line_items"].append(
        {"id": "l2", "sku": "MUG", "title": "Mug", "quantity": 1, "price": "8.00", "fulfilled_quantity": 0}
    )
    post_sandbox(sandbox, "orders/create", payload)
    services.inbox.process_pending()
    with services.db.session() as s:
        assert s.scalar(select(OrderRow)).bo_held
    edited = copy.deepcopy(payload)
    edited["line_items"][0]["quantity"] = 0  # as Shopify keeps a removed line: current_quantity 0
    edited["updated_at"] = "2026-11-02T10:05:00+00:00"
    post_sandbox(sandbox, "orders/updated", edited)
    sandbox.work()
    with services.db.session() as s:
        order = s.scalar(select(OrderRow))
        assert not order.bo_held
        assert {b.state for b in s.scalars(select(BackorderRow))} == {"cancelled"}
        emails = s.scalars(select(ActionRow).where(ActionRow.kind == "send_email")).all()
        assert all(e.status == "cancelled" for e in emails), [(e.idempotency_key, e.status) for e in emails]


def test_sandbox_a_line_removed_before_the_wait_went_out_leaves_the_start_holding_the_rest(
    sandbox, services, clock
) -> None:  # type: ignore[no-untyped-def]
    """The start of the wait (tag, hold, date) is one action: a removed line leaves its hold, the
    tag and the date stay, and nothing is held for the line that is gone."""
    shop = sandbox.store
    shop.add_product("TEE", "Tee", "20.00", 0)
    shop.add_product("CAP", "Cap", "9.00", 0)
    sandbox.settle()
    order = shop.place_order(CUSTOMER, [("TEE", 1), ("CAP", 1)])
    services.inbox.process_pending()
    clock.advance(minutes=1)
    services.inbox.evaluate_settled()
    tee, cap = (li["id"] for li in order["line_items"])
    with services.db.session() as s:
        start = s.scalar(select(ActionRow).where(ActionRow.kind == "start_backorder"))
        assert start.status == "pending" and {li["line_id"] for li in start.payload["lines"]} == {tee, cap}
    order["line_items"][1]["quantity"] = 0  # the merchant removes the cap
    clock.advance(minutes=1)
    order["updated_at"] = clock.now.isoformat()
    sandbox.deliver("orders/updated", shop.order_payload(order["id"]))
    services.inbox.process_pending()
    with services.db.session() as s:
        start = s.scalar(select(ActionRow).where(ActionRow.kind == "start_backorder"))
        assert start.status == "pending" and [li["line_id"] for li in start.payload["lines"]] == [tee]
        assert start.payload["tags"] == ["backorder"] and start.payload["eta"]
    sandbox.work()
    assert order["tags"] == ["backorder"] and order["eta"]
    assert [h["line_id"] for h in order["holds"]] == [tee]
    holds = [c for c in shop.calls if c[0] == "hold"]
    assert holds and all(c[2] == [tee] for c in holds), holds  # the cap was never held


# ---- Shopify -------------------------------------------------------------------------------------


def post_shopify(client, topic: str, payload: Any, shop: str = SHOPIFY_SHOP):  # type: ignore[no-untyped-def]
    body = body_bytes(payload)
    return client.post("/webhooks/shopify", data=body, headers=webhook_headers(topic, body, shop=shop,
                                                                              secret=SHOPIFY_SECRET))


@pytest.fixture
def shopify_http(config, services):  # type: ignore[no-untyped-def]
    services.shops.connect(Platform.SHOPIFY, SHOPIFY_SHOP, name="Edge", credentials={"access_token": "shpat_x"},
                           currency="USD")
    return create_app(config, services, background=False).test_client()


def test_shopify_orders_updated_without_line_items_is_dead_lettered_and_keeps_the_lines(
    shopify_http, services
) -> None:  # type: ignore[no-untyped-def]
    order = load_fixture("shopify", "rest_order.json")["order"]
    assert post_shopify(shopify_http, "orders/create", order).get_json()["status"] == "accepted"
    services.inbox.process_pending()
    with services.db.session() as s:
        assert len(s.scalar(select(OrderRow)).lines) == 3
    without = {k: v for k, v in order.items() if k != "line_items"} | {"updated_at": "2030-01-01T00:00:00Z"}
    assert post_shopify(shopify_http, "orders/updated", without).status_code == 200
    services.inbox.process_pending()
    last = deliveries(services)[-1]
    assert last.status == "dead" and "lacks its line_items" in last.error
    with services.db.session() as s:
        assert s.scalar(select(OrderRow)).lines and len(s.scalars(select(OrderLineRow)).all()) == 3


def test_shopify_webhook_for_a_shop_that_is_not_connected_is_answered_counted_and_not_stored(
    shopify_http, services, caplog
) -> None:  # type: ignore[no-untyped-def]
    order = load_fixture("shopify", "rest_order.json")["order"]
    caplog.set_level(logging.WARNING)
    answer = post_shopify(shopify_http, "orders/create", order, shop="stranger.myshopify.com")
    assert answer.status_code == 200 and answer.get_json()["status"] == "ignored"
    assert deliveries(services) == []
    assert any("no connected shop" in r.getMessage() for r in caplog.records)
    health = shopify_http.get("/healthz").get_json()
    assert health["ignored_webhooks"] == {"shopify: no connected shop": 1}

    # uninstalled: the same
    services.shops.set_status(Platform.SHOPIFY, SHOPIFY_SHOP, "uninstalled")
    assert post_shopify(shopify_http, "orders/create", order).get_json()["status"] == "ignored"
    assert deliveries(services) == []

    # privacy requests are stored and honoured whatever the shop's state
    raw = json.dumps(load_fixture("shopify", "compliance_shop_redact.json"))
    redact = json.loads(raw.replace("{shop}", "stranger"))
    assert post_shopify(shopify_http, "shop/redact", redact, shop="stranger.myshopify.com").get_json()["status"] == (
        "accepted"
    )
    redact_ours = json.loads(raw.replace("{shop}", "edge-test"))
    assert post_shopify(shopify_http, "shop/redact", redact_ours).get_json()["status"] == "accepted"
    services.inbox.process_pending()
    stored = deliveries(services)
    assert [(d.shop_domain, d.status) for d in stored] == [
        ("stranger.myshopify.com", "done"),
        (SHOPIFY_SHOP, "done"),
    ]
    assert "no data is held" in stored[0].error
