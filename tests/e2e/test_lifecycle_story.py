"""The whole backorder story on the sandbox store, in simulated time, with a real SMTP server.

Three customers order a chair that is out of stock and covered by a purchase order; the supplier
slips; the new date passes too; the customers are offered a refund; one takes it (through the
page the email links to); the goods arrive and the others' lines are released, captured and
announced. Every store action and every email happens exactly once.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from datetime import date
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from connector.bootstrap import build_services
from connector.storage.tables import ActionRow, PurchaseOrderLineRow, PurchaseOrderRow, ShopRow
from connector.supply.receiving import receive_purchase_order, reschedule_purchase_order
from connector.sweeps import evaluate_all, timers_all
from connector.web import create_app
from tests.sandbox_calls import STORE_CALLS
from tests.sandbox_helpers import connect_sandbox

ADA = {"id": "c1", "email": "ada@example.com", "name": "Ada Lovelace", "locale": "en", "reseller": False}
GIULIA = {"id": "c2", "email": "giulia@example.it", "name": "Giulia Rossi", "locale": "it", "reseller": False}
GRACE = {"id": "c3", "email": "grace@example.com", "name": "Grace Hopper", "locale": "en", "reseller": False}


@pytest.fixture
def story(config, clock, smtp_server):  # type: ignore[no-untyped-def]
    services = build_services(dataclasses.replace(config, mail_url=smtp_server.url), clock=clock)
    app = create_app(services.config, services, background=False)
    harness = connect_sandbox(services, app.test_client(), clock, merchant_email="owner@shop-one.example")
    yield services, harness, smtp_server
    services.db.dispose()


def mails(smtp_server) -> Counter:  # type: ignore[no-untyped-def]
    return Counter((m.rcpt_tos[0], m.message["X-Backorder-Kind"]) for m in smtp_server.messages)


def drain(services, harness, smtp_server, expected_total: int) -> None:  # type: ignore[no-untyped-def]
    harness.settle()
    smtp_server.wait_for(expected_total)


def test_backorder_story_end_to_end(story, clock) -> None:  # type: ignore[no-untyped-def]
    services, sandbox, smtp = story
    store = sandbox.store
    store.add_product("CHAIR", "Ash dining chair", "150.00", 0)
    store.add_product("LAMP", "Oak desk lamp", "80.00", 1)
    shop_id = services.shops.ref("sandbox", store.domain).id
    with services.db.session() as s:
        po = PurchaseOrderRow(shop_id=shop_id, reference="PO-1", expected_on=date(2026, 11, 12),
                              created_at=clock(), lines=[PurchaseOrderLineRow(sku="CHAIR", quantity=3)])
        s.add(po)
        s.flush()
        po_id = po.id

    # 1. Three orders; the chair waits for PO-1 (due 12 Nov + 1 day handling).
    ada = store.place_order(ADA, [("CHAIR", 1)])
    clock.advance(minutes=5)
    giulia = store.place_order(GIULIA, [("CHAIR", 1), ("LAMP", 1)])
    clock.advance(minutes=5)
    grace = store.place_order(GRACE, [("CHAIR", 1)])
    drain(services, sandbox, smtp, 3)
    for order in (ada, giulia, grace):
        stored = store.orders[order["id"]]
        assert stored["tags"] == ["backorder"] and stored["holds"] and stored["eta"] == "2026-11-13"
    assert mails(smtp) == Counter({(c["email"], "backorder_confirmation"): 1 for c in (ADA, GIULIA, GRACE)})
    italian = next(m for m in smtp.messages if m.rcpt_tos == ("giulia@example.it",))
    assert italian.message["Content-Language"].startswith("it")
    assert "13 nov" in italian.text.lower()  # the date in Italian, in the shop's time zone

    # 2. The supplier slips a week: every promise moves, every customer hears it at once.
    with services.db.session() as s:
        reschedule_purchase_order(s, s.get(ShopRow, shop_id), po_id, date(2026, 11, 20), clock())
    drain(services, sandbox, smtp, 6)
    assert all(store.orders[o["id"]]["eta"] == "2026-11-21" for o in (ada, giulia, grace))
    assert sum(1 for (_, kind) in mails(smtp) if kind == "eta_later") == 3

    # 3. 21 Nov passes, and the two days of grace: a delay email with a refund offer, once each.
    for day in (22, 23, 24):
        clock.now = clock.now.replace(day=day, hour=10)
        evaluate_all(services)
        timers_all(services)
        drain(services, sandbox, smtp, len(smtp.messages))
    smtp.wait_for(9)
    assert sum(1 for (_, kind) in mails(smtp) if kind == "delay_refund_offer") == 3

    # 4. Giulia takes the refund through the link in her email (the page asks for a click first).
    offer_mail = next(m for m in smtp.messages
                      if m.rcpt_tos == ("giulia@example.it",) and m.message["X-Backorder-Kind"] == "delay_refund_offer")
    accept = re.search(r"https?://\S+choice=refund", offer_mail.text).group(0)
    path = urlsplit(accept).path + "?" + urlsplit(accept).query
    page = sandbox.client.get(path)
    assert page.status_code == 200 and "Rimborsa gli articoli in ritardo" in page.get_data(as_text=True)  # her language
    assert store.calls.count(("refund",)) == 0
    done = sandbox.client.post(urlsplit(accept).path, data={"choice": "refund"})
    assert done.status_code == 200 and "ti stiamo rimborsando 150,00\xa0€" in done.get_data(as_text=True)
    again = sandbox.client.post(urlsplit(accept).path, data={"choice": "refund"})  # a double click
    assert again.status_code == 200
    drain(services, sandbox, smtp, 11)
    g = store.orders[giulia["id"]]
    assert Counter(c[0] for c in store.calls if c[1] == giulia["id"])["refund"] == 1
    # her card was only authorized: the chair's line comes off the order and no money moves back (none was
    # taken); the lamp ships now and is charged, the chair never is
    assert g["refunded"] == "0.00" and g["tags"] == [] and g["holds"] == []
    assert g["captured"] == "80.00"
    assert mails(smtp)[("giulia@example.it", "refund_confirmation")] == 1
    assert mails(smtp)[("giulia@example.it", "on_its_way")] == 1

    # 5. The chairs arrive: Ada and Grace are released, charged and told, first come first served.
    clock.now = clock.now.replace(day=25)
    with services.db.session() as s:
        receive_purchase_order(s, s.get(ShopRow, shop_id), po_id, clock())
    drain(services, sandbox, smtp, 13)
    for order in (ada, grace):
        stored = store.orders[order["id"]]
        assert stored["tags"] == [] and stored["holds"] == [] and stored["financial_status"] == "paid"
    assert store.products["CHAIR"]["stock"] == 1  # 3 received, 2 shipped, Giulia's refunded

    # Everything happened exactly once; nothing is left pending or failed.
    sandbox.settle()
    evaluate_all(services)
    timers_all(services)
    sandbox.settle()
    with services.db.session() as s:
        store_actions = s.scalars(select(ActionRow).where(ActionRow.kind != "send_email")).all()
    # each decided action reached the store exactly once (the start of a wait as its three calls)
    assert len(store.calls) == sum(len(STORE_CALLS.get(a.kind, (a.kind,))) for a in store_actions)
    per_order = Counter((c[0], c[1]) for c in store.calls)
    assert per_order[("refund", giulia["id"])] == 1 and per_order[("capture", giulia["id"])] == 1
    assert per_order[("add_note", giulia["id"])] == 2  # the delay, then the refund
    for order in (ada, grace):
        assert per_order[("add_note", order["id"])] == 1  # the delay
        assert per_order[("hold", order["id"])] == per_order[("release", order["id"])] == 1
        assert per_order[("add_tags", order["id"])] == 1
        assert per_order[("capture", order["id"])] == 1
        assert per_order[("set_eta", order["id"])] == 2  # the first promise and the supplier's new date
    expected = Counter()
    for c in (ADA, GIULIA, GRACE):
        expected.update({(c["email"], k): 1 for k in ("backorder_confirmation", "eta_later", "delay_refund_offer")})
    expected.update({("giulia@example.it", "refund_confirmation"): 1, ("giulia@example.it", "on_its_way"): 1,
                     ("ada@example.com", "on_its_way"): 1, ("grace@example.com", "on_its_way"): 1})
    assert mails(smtp) == expected
    with services.db.session() as s:
        statuses = Counter(s.scalars(select(ActionRow.status)))
    assert set(statuses) == {"done"}, statuses
