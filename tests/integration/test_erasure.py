"""A privacy request erases the customer from every copy we keep, not only from the order rows.

On SQLite here and on PostgreSQL with CONNECTOR_TEST_DATABASE=postgresql (the body prefilter is a
LIKE over bytes, which each database evaluates its own way)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from connector.domain.model import ActionKind, CustomerDataRequested, CustomerRedactRequested
from connector.intake import compliance
from connector.intake.erasure import ERASED_NOTE
from connector.storage.tables import ActionRow, ComplianceRequestRow, DeliveryRow, OrderRow, ShopRow

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DOMAIN = "erase.myshopify.com"
BOB = {"id": 820982911946154508, "email": "Bob.Norman@hostmail.com", "customer": {"id": 115310627314723954}}
ALICE = {"id": 8209829119461545, "email": "alice@example.com", "customer": {"id": 2}}  # Bob's id is not hers


def delivery(n: int, body: dict | bytes, *, status: str = "done", topic: str = "orders/create",
             domain: str = DOMAIN) -> DeliveryRow:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return DeliveryRow(platform="shopify", shop_domain=domain, topic=topic, event_id=f"{domain}-{n}", headers={},
                       body=raw, status=status, attempts=1, received_at=NOW, processed_at=NOW)


def order(shop_id: int, body: dict) -> OrderRow:
    return OrderRow(shop_id=shop_id, external_id=str(body["id"]), name=f"#{body['id'] % 1000}", currency="USD",
                    customer_email=body["email"].lower(), customer_name="Bob Norman",
                    customer_external_id=str(body["customer"]["id"]), placed_at=NOW, source_updated_at=NOW,
                    payment_status="paid")


def email(shop_id: int, order_id: int | None, key: str, to: str, status: str = "done") -> ActionRow:
    payload = {"template": "backorder_confirmation", "to": to, "order": {"name": "#508", "customer_name": "Bob"}}
    return ActionRow(shop_id=shop_id, order_id=order_id, kind=str(ActionKind.EMAIL), idempotency_key=key,
                     payload=payload, status=status, attempts=0, next_attempt_at=NOW, created_at=NOW)


def test_a_customer_redaction_erases_their_webhooks_emails_and_exports(services) -> None:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        shop = ShopRow(platform="shopify", domain=DOMAIN, name="Erase")
        s.add(shop)
        s.flush()
        bob, alice = order(shop.id, BOB), order(shop.id, ALICE)
        s.add_all([bob, alice])
        s.flush()
        s.add_all([
            delivery(1, BOB),                                               # Bob's order: by id and email
            delivery(2, {**BOB, "email": None, "note": "updated"}, topic="orders/updated"),  # by its id alone
            delivery(3, ALICE),                                             # Alice's order: kept
            delivery(4, {"inventory_item_id": 8209829119461545089}, topic="inventory_levels/update"),  # no token
            delivery(5, {"email": "bob.norman@hostmail.com"}, status="dead"),  # a dead one: erased too
            delivery(6, BOB, status="pending"),                            # arrived after the request: left
            delivery(7, BOB, domain="other.myshopify.com"),                # another shop's: left
        ])
        s.add_all([
            email(shop.id, bob.id, "bob-sent", "bob.norman@hostmail.com"),
            email(shop.id, bob.id, "bob-waiting", "bob.norman@hostmail.com", status="pending"),
            email(shop.id, None, "bob-orderless", "BOB.NORMAN@hostmail.com"),
            email(shop.id, alice.id, "alice-sent", "alice@example.com"),
        ])
        s.add(ComplianceRequestRow(shop_id=shop.id, shop_domain=DOMAIN, kind="customer_export",
                                   customer_email="bob.norman@hostmail.com", export={"orders": [BOB]},
                                   summary="exported", requested_at=NOW))
        s.flush()
        request = CustomerRedactRequested(shop=DOMAIN, customer_email="bob.norman@hostmail.com",
                                          customer_id=str(BOB["customer"]["id"]), order_ids=())
        summary = compliance.redact_customer(s, shop, request)
    assert summary == ("redacted the customer's details on 1 order(s); erased them from 3 stored webhook(s), "
                       "3 email(s) and 1 earlier export(s)")

    with services.db.session() as s:
        bodies = {d.event_id.rsplit("-", 1)[1]: d for d in s.scalars(select(DeliveryRow))}
        assert {n for n, d in bodies.items() if d.body == b""} == {"1", "2", "5"}
        assert bodies["1"].error == ERASED_NOTE and bodies["1"].status == "done"
        assert bodies["5"].status == "dead" and bodies["5"].error == ERASED_NOTE
        assert json.loads(bodies["3"].body) == ALICE and json.loads(bodies["6"].body) == BOB
        assert b"hostmail" not in b"".join(d.body for n, d in bodies.items() if n not in {"6", "7"})
        actions = {a.idempotency_key: a for a in s.scalars(select(ActionRow))}
        for key in ("bob-sent", "bob-waiting", "bob-orderless"):
            assert actions[key].payload == {"template": "backorder_confirmation", "erased": True}
        assert actions["bob-sent"].status == "done" and actions["bob-waiting"].status == "cancelled"
        assert actions["alice-sent"].payload["to"] == "alice@example.com"
        export = s.scalar(select(ComplianceRequestRow).where(ComplianceRequestRow.kind == "customer_export"))
        assert export.export is None and export.customer_email is None
        assert s.scalar(select(OrderRow.customer_email).where(OrderRow.external_id == str(ALICE["id"])))


def test_a_shop_redaction_deletes_the_webhooks_it_sent(services) -> None:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        shop = ShopRow(platform="shopify", domain=DOMAIN, name="Erase")
        s.add(shop)
        s.add_all([delivery(1, BOB), delivery(2, ALICE, status="dead"),
                   delivery(3, {"shop_domain": DOMAIN}, status="processing", topic="shop/redact"),
                   delivery(4, BOB, domain="other.myshopify.com")])
        s.flush()
        compliance.redact_shop(s, shop)
    with services.db.session() as s:
        left = {(d.shop_domain, d.topic) for d in s.scalars(select(DeliveryRow))}
    assert left == {(DOMAIN, "shop/redact"), ("other.myshopify.com", "orders/create")}


def test_an_export_lists_the_stored_webhooks_that_name_the_customer(services) -> None:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        shop = ShopRow(platform="shopify", domain=DOMAIN, name="Erase")
        s.add(shop)
        s.add_all([delivery(1, BOB), delivery(2, ALICE),
                   delivery(3, b'{"email": "bob.norman@hostmail.com", "total": NaN', status="dead"),  # not JSON
                   delivery(4, BOB, status="processing", topic="customers/data_request"),  # the request itself
                   delivery(5, '{"email": "Zoë@Example.com"}'.encode())])  # as the store wrote it: UTF-8
        s.flush()
        bob = CustomerDataRequested(shop=DOMAIN, customer_email="bob.norman@hostmail.com", customer_id=None)
        summary = compliance.export_customer(s, shop, bob)  # Bob.Norman@ in his order's copy
        zoe = CustomerDataRequested(shop=DOMAIN, customer_email="zoë@example.com", customer_id=None)
        compliance.export_customer(s, shop, zoe)
        exports = list(s.scalars(select(ComplianceRequestRow.export).order_by(ComplianceRequestRow.id)))
    assert summary == "exported 0 order(s) and 2 stored webhook(s) for the customer"
    assert [w["body"] for w in exports[0]["stored_webhooks"]] == [
        BOB, '{"email": "bob.norman@hostmail.com", "total": NaN']
    assert [w["body"] for w in exports[1]["stored_webhooks"]] == [{"email": "Zoë@Example.com"}]


def test_a_request_naming_hundreds_of_orders_finds_each_in_its_part(services) -> None:  # type: ignore[no-untyped-def]
    many = tuple(str(7_000_000_000 + n) for n in range(450))  # three statements' worth of needles
    with services.db.session() as s:
        shop = ShopRow(platform="shopify", domain=DOMAIN, name="Erase")
        s.add(shop)
        s.add_all([delivery(n, {"id": int(order_id), "note": "a.b (c) [d] *e* ^f$ | g+h? \\\\ i"})
                   for n, order_id in enumerate((many[0], many[250], many[-1]))])
        s.add(delivery(9, {"id": 7_000_000_450}))  # the next number: not named
        s.flush()
        summary = compliance.redact_customer(
            s, shop, CustomerRedactRequested(shop=DOMAIN, customer_email=None, customer_id=None, order_ids=many))
    assert "erased them from 3 stored webhook(s)" in summary
    with services.db.session() as s:
        assert [d.event_id for d in s.scalars(select(DeliveryRow).where(DeliveryRow.body != b""))] == [f"{DOMAIN}-9"]


def test_a_short_id_finds_nothing_by_itself_where_any_number_could_hold_it(services) -> None:  # type: ignore[no-untyped-def]
    """WooCommerce's ids are the shop's counters (order 727, customer 12): another customer's order
    with 12 of product 727 must keep its body. The customer's own is found by their email."""
    jane = {"id": 727, "customer_id": 12, "billing": {"email": "jane@example.com"}, "line_items": [{"quantity": 1}]}
    max_ = {"id": 731, "customer_id": 40, "billing": {"email": "max@example.com"},
            "line_items": [{"product_id": 727, "quantity": 12}]}
    with services.db.session() as s:
        shop = ShopRow(platform="woocommerce", domain="woo.example.com", name="Woo")
        s.add(shop)
        s.flush()
        for n, body in enumerate((jane, max_)):
            raw = json.dumps(body).encode()
            s.add(DeliveryRow(platform="woocommerce", shop_domain="woo.example.com", topic="order.created",
                              event_id=f"woo-{n}", headers={}, body=raw, status="done", attempts=1,
                              received_at=NOW, processed_at=NOW))
        s.flush()
        summary = compliance.redact_customer(s, shop, CustomerRedactRequested(
            shop="woo.example.com", customer_email="jane@example.com", customer_id="12", order_ids=("727",)))
    assert "erased them from 1 stored webhook(s)" in summary
    with services.db.session() as s:
        kept = s.scalars(select(DeliveryRow).where(DeliveryRow.body != b"")).all()
        assert [json.loads(row.body)["id"] for row in kept] == [731]
