"""POST /webhooks/woocommerce/privacy-export: the export WordPress's tool waits for (the plugin's
exporter asks; tests/integration/woocommerce/test_plugin_php.py runs it end to end). Hostile
requests: forged, replayed late, the wrong kind, another platform's route, a body that is not one."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from adapters.woocommerce.verify import signature
from connector.storage.tables import ComplianceRequestRow
from tests.integration.woocommerce.flows import connect, deliver, work
from tests.woocommerce_support import fixture

ROUTE = "/webhooks/woocommerce/privacy-export"


@pytest.fixture
def shop(app, store, woo_services):  # type: ignore[no-untyped-def]
    http = app.test_client()
    connect(http, store)
    order = store.add_order(fixture("rest_v3_order_retrieve.json"))
    assert deliver(http, store, "order.created", order) == "accepted"
    work(woo_services)
    return http


def ask(http, store, body: dict | bytes, *, topic: str = "privacy.export_requested", secret: str | None = None):  # type: ignore[no-untyped-def]
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    key = (secret or next(iter(store.webhook_secrets.values()))).encode()
    headers = {"Content-Type": "application/json", "X-WC-Webhook-Source": store.home_url,
               "X-WC-Webhook-Topic": topic, "X-WC-Webhook-Signature": signature(key, raw)}
    return http.post(ROUTE, data=raw, headers=headers)


def exports(services) -> int:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        return s.scalar(select(func.count()).select_from(ComplianceRequestRow))


def request(**changes):  # type: ignore[no-untyped-def]
    return {"email": "john.doe@example.com", "customer_id": None, "order_ids": [727], "sent_at": time.time()} | changes


def test_a_fresh_signed_request_is_answered_with_the_data_and_recorded(shop, store, woo_services) -> None:  # type: ignore[no-untyped-def]
    answer = ask(shop, store, request())
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    data = answer.get_json()
    assert data["summary"] == "exported 1 order(s) and 1 stored webhook(s) for the customer"
    assert [o["id"] for o in data["export"]["orders"]] == ["727"]
    assert exports(woo_services) == 1


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"sent_at": time.time() - 600}, "too old"),           # a copy sent again ten minutes later
        ({"sent_at": time.time() + 3600}, "clock is wrong"),
        ({"sent_at": None}, "sent_at"),
        ({"sent_at": "now"}, "sent_at"),
        ({"email": "john.doe@example.com\r\nBcc: x@example.com"}, "not an email address"),
        ({"order_ids": list(range(1, 10_002))}, "more than"),
    ],
)
def test_a_late_request_or_not_one_is_refused_and_nothing_recorded(  # type: ignore[no-untyped-def]
    shop, store, woo_services, changes, why
) -> None:
    answer = ask(shop, store, request(**changes))
    assert answer.status_code == 400 and why in answer.get_json()["error"]
    assert exports(woo_services) == 0


def test_infinity_is_no_time(shop, store, woo_services) -> None:  # type: ignore[no-untyped-def]
    infinite = json.dumps(request(sent_at=0)).encode().replace(b'"sent_at": 0', b'"sent_at": Infinity')
    not_a_number = infinite.replace(b"Infinity", b"NaN")
    assert b"Infinity" in infinite
    for hostile in (infinite, not_a_number, b"[1, 2]", b"not json"):
        assert ask(shop, store, hostile).status_code == 400
    assert exports(woo_services) == 0


def test_forged_or_of_another_kind_or_platform_is_refused(shop, store, woo_services) -> None:  # type: ignore[no-untyped-def]
    assert ask(shop, store, request(), secret="guessed").status_code == 401
    assert ask(shop, store, request(), topic="privacy.erase_requested").status_code == 400
    assert ask(shop, store, request(), topic="order.created").status_code == 400
    assert shop.post("/webhooks/shopify/privacy-export", data=b"{}").status_code == 404
    assert shop.post("/webhooks/nowhere/privacy-export", data=b"{}").status_code == 404
    ping = shop.post(ROUTE, data=b"webhook_id=3", content_type="application/x-www-form-urlencoded")
    assert ping.status_code == 400
    assert exports(woo_services) == 0
