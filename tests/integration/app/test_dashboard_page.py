"""The dashboard: backlog, risk, held charges, actions, dead letters, the chart; expedite, retry, replay; emails."""

from __future__ import annotations

from sqlalchemy import select, update

from connector.domain.model import CustomerRedactRequested
from connector.intake import compliance
from connector.storage.tables import ActionRow, BackorderRow, DeliveryRow, OrderRow, ShopRow
from tests.integration.app.conftest import OTHER_CUSTOMER
from tests.integration.app.helpers import post
from tests.integration.app.test_purchase_order_pages import create_po


def test_the_dashboard_shows_the_backlog_held_charges_and_the_chart(merchant, backordered) -> None:  # type: ignore[no-untyped-def]
    html = merchant.get("/app").get_data(as_text=True)
    assert 'data-kpi="waiting-units">2<' in html and 'data-kpi="waiting-orders">1<' in html
    sku_row = html.split('<tr data-sku="TEE">')[1].split("</tr>")[0]
    assert "Organic tee" in sku_row and "17 Nov" in sku_row
    assert 'data-atp="-2"' in sku_row  # nothing on hand or coming, two promised: shown negative, as it is
    order_row = html.split('<tr data-order="#1001">')[1].split("</tr>")[0]
    assert "Ada Lovelace" in order_row and "Expedite" in order_row and "authorized" in order_row
    charges = html.split('id="charges"')[1].split("</section>")[0]
    assert "#1001" in charges and "€64.00" in charges  # nothing captured yet: 2 tees and a mug
    chart = html.split('id="chart"')[1].split("</section>")[0]
    assert '<svg class="chart"' in chart and 'class="line-backlog"' in chart and "TEE" in chart


def _promises(services) -> dict[str, tuple]:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        rows = s.execute(select(OrderRow.external_id, BackorderRow.promised_on, BackorderRow.source)
                         .join(OrderRow, OrderRow.id == BackorderRow.order_id)).all()
    return {ext: (promised.isoformat(), source) for ext, promised, source in rows}


def test_expedite_moves_an_order_to_the_front(merchant, sandbox, services, backordered) -> None:  # type: ignore[no-untyped-def]
    later = sandbox.store.place_order(OTHER_CUSTOMER, [("TEE", 1)])
    sandbox.settle()
    create_po(merchant, lines=(("TEE", 2),))  # two units on 6 Nov: enough for the first order only
    sandbox.work()
    first, second = backordered["id"], later["id"]
    assert sandbox.store.orders[first]["eta"] == "2026-11-07"
    assert _promises(services) == {first: ("2026-11-07", "po:1"), second: ("2026-11-17", "variant")}
    with services.db.session() as s:
        later_id = s.scalar(select(OrderRow.id).where(OrderRow.external_id == second))
    response = post(merchant, f"/app/orders/{later_id}/expedite")
    assert response.status_code == 302
    assert services.wake.is_set()
    sandbox.work()
    assert _promises(services) == {first: ("2026-11-17", "variant"), second: ("2026-11-07", "po:1")}
    assert sandbox.store.orders[second]["eta"] == "2026-11-07"
    html = merchant.get("/app").get_data(as_text=True)
    assert "moved to the front of the queue" in html
    assert "expedited" in html.split(f'<tr data-order="#{second}">')[1].split("</tr>")[0]


def test_a_promise_back_to_an_earlier_date_is_written_again(merchant, sandbox, services, backordered) -> None:  # type: ignore[no-untyped-def]
    later = sandbox.store.place_order(OTHER_CUSTOMER, [("TEE", 1)])
    sandbox.settle()
    create_po(merchant, lines=(("TEE", 2),))
    sandbox.work()
    with services.db.session() as s:
        later_id = s.scalar(select(OrderRow.id).where(OrderRow.external_id == later["id"]))
    post(merchant, f"/app/orders/{later_id}/expedite")
    sandbox.work()
    assert sandbox.store.orders[backordered["id"]]["eta"] == "2026-11-17"


def test_lines_past_their_promise_are_at_risk(merchant, clock, backordered) -> None:  # type: ignore[no-untyped-def]
    clock.advance(days=20)
    risk = merchant.get("/app").get_data(as_text=True).split('id="risk"')[1].split("</section>")[0]
    assert "overdue: promised for 17 Nov" in risk


def test_a_failed_action_can_be_retried(merchant, services, backordered) -> None:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        action_id = s.scalar(select(ActionRow.id).where(ActionRow.kind == "start_backorder"))
        s.execute(update(ActionRow).where(ActionRow.id == action_id).values(status="dead", last_error="store down"))
    html = merchant.get("/app").get_data(as_text=True)
    row = html.split(f'<tr data-action="{action_id}">')[1].split("</tr>")[0]
    assert "store down" in row and "Retry" in row
    assert post(merchant, f"/app/actions/{action_id}/retry").status_code == 302
    with services.db.session() as s:
        assert s.get(ActionRow, action_id).status == "pending"
    assert services.wake.is_set()


def test_a_dead_webhook_shows_its_reason_and_can_be_replayed(merchant, sandbox, services) -> None:  # type: ignore[no-untyped-def]
    sandbox.deliver("orders/create", {"id": "x"})
    sandbox.work()
    with services.db.session() as s:
        delivery = s.scalar(select(DeliveryRow).where(DeliveryRow.status == "dead"))
    html = merchant.get("/app").get_data(as_text=True)
    row = html.split(f'<tr data-delivery="{delivery.id}">')[1].split("</tr>")[0]
    assert "orders/create" in row and "cannot be read" in row and "Replay" in row
    assert "Each is kept 90 days after it failed" in html
    assert post(merchant, f"/app/deliveries/{delivery.id}/replay").status_code == 302
    with services.db.session() as s:
        assert s.get(DeliveryRow, delivery.id).status == "pending"


def test_a_dead_webhook_whose_body_a_redaction_erased_cannot_be_replayed(merchant, sandbox, services) -> None:  # type: ignore[no-untyped-def]
    sandbox.deliver("orders/create", {"id": "x", "email": "ada@example.com"})
    sandbox.work()
    with services.db.session() as s:
        delivery = s.scalar(select(DeliveryRow).where(DeliveryRow.status == "dead"))
        shop = s.scalar(select(ShopRow))
        compliance.redact_customer(s, shop, CustomerRedactRequested(shop="", customer_email="ada@example.com",
                                                                    customer_id=None))
    html = merchant.get("/app").get_data(as_text=True)
    row = html.split(f'<tr data-delivery="{delivery.id}">')[1].split("</tr>")[0]
    assert "erased: a customer's data was redacted" in row and "Replay" not in row
    assert post(merchant, f"/app/deliveries/{delivery.id}/replay").status_code == 302  # a form sent anyway
    with services.db.session() as s:
        assert s.get(DeliveryRow, delivery.id).status == "dead"


def test_sent_emails_are_listed_with_a_preview(merchant, sandbox, services, backordered) -> None:  # type: ignore[no-untyped-def]
    html = merchant.get("/app/emails").get_data(as_text=True)
    assert "Backorder confirmation" in html and "ada@example.com" in html
    with services.db.session() as s:
        action_id = s.scalar(select(ActionRow.id).where(ActionRow.kind == "send_email"))
    preview = merchant.get(f"/app/emails/{action_id}").get_data(as_text=True)
    assert '<iframe class="email-frame" sandbox=""' in preview and "srcdoc=" in preview
    assert "delivered to the file outbox" in preview and '<span class="badge badge-ok">done</span>' in preview
    assert "Organic tee" in preview  # in both parts
    with services.db.session() as s:
        tag_id = s.scalar(select(ActionRow.id).where(ActionRow.kind == "start_backorder"))
        assert s.scalar(select(BackorderRow.id)) is not None
    assert merchant.get(f"/app/emails/{tag_id}").status_code == 404  # not an email


def test_an_email_erased_by_a_redaction_shows_neither_recipient_nor_content(merchant, services, backordered) -> None:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        order = s.scalar(select(OrderRow).where(OrderRow.external_id == str(backordered["id"])))
        shop = s.get(ShopRow, order.shop_id)
        request = CustomerRedactRequested(shop=shop.domain, customer_email=order.customer_email, customer_id=None)
        compliance.redact_customer(s, shop, request)
        action_id = s.scalar(select(ActionRow.id).where(ActionRow.kind == "send_email"))
    html = merchant.get("/app/emails").get_data(as_text=True)
    assert "Backorder confirmation" in html and "ada@example.com" not in html
    preview = merchant.get(f"/app/emails/{action_id}").get_data(as_text=True)
    assert "erased when the shop asked us to redact" in preview
    assert "Organic tee" not in preview and "ada@example.com" not in preview and "file outbox" not in preview
