"""Dropship routing of backordered lines: the route is recorded once, the line's ETA follows the
supplier's lead time, the merchant gets a private note and the supplier a dropship request."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from connector.mail.send import list_outbox
from connector.storage.tables import ActionRow, BackorderRow, LineRouteRow
from tests.integration.app.conftest import CUSTOMER
from tests.integration.app.helpers import post
from tests.integration.app.test_suppliers_pages import add_supplier


def local_dropshipper(merchant, **overrides) -> int:  # type: ignore[no-untyped-def]
    supplier = add_supplier(merchant, name="Local Print", email="ship@local.example", lead_time_mean_days="3",
                            lead_time_spread_days="0", urgent_unit_premium="", urgent_lead_time_days="",
                            local="y", **overrides)
    assert post(merchant, f"/app/suppliers/{supplier}/offers", {"sku": "TEE", "cost": "9", "primary": "primary",
                                                                "lead_time_days": ""}).status_code == 302
    return supplier


def test_a_backordered_line_goes_to_a_faster_dropship_supplier(merchant, sandbox, services, config) -> None:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("TEE", "Organic tee", "25.00", 0, lead_time_days=10)
    supplier = local_dropshipper(merchant)
    order = sandbox.store.place_order(CUSTOMER, [("TEE", 2)])
    sandbox.settle()
    with services.db.session() as s:
        route = s.scalar(select(LineRouteRow))
        assert (route.supplier_id, route.quantity, route.eta) == (supplier, 2, date(2026, 11, 5))
        assert "arrives" in route.reason and "local" in route.reason
        bo = s.scalar(select(BackorderRow))
        # the restock would be 10 days + 1 handling (13 Nov); the supplier ships directly in 3
        assert (bo.quantity, bo.promised_on, bo.source) == (2, date(2026, 11, 5), f"dropship:{supplier}")
    stored = sandbox.store.orders[order["id"]]
    assert stored["eta"] == "2026-11-05"
    assert any("routed to dropship supplier Local Print" in n["text"] and not n["customer_visible"]
               for n in stored["notes"])
    outbox = list_outbox(config.effective_mail_url.removeprefix("file://"))
    [request] = [e for e in outbox if e.to == "ship@local.example"]
    assert "dropship request" in request.subject and "2 × TEE" in request.text
    # evaluating again changes nothing and sends nothing new
    with services.db.session() as s:
        actions = s.scalar(select(ActionRow.id).order_by(ActionRow.id.desc()).limit(1))
    post(merchant, f"/app/suppliers/{supplier}/offers", {"sku": "TEE", "cost": "9.5", "primary": "primary"})
    sandbox.work()
    with services.db.session() as s:
        assert s.scalar(select(ActionRow.id).order_by(ActionRow.id.desc()).limit(1)) == actions
        assert len(s.scalars(select(LineRouteRow)).all()) == 1
    page = merchant.get("/app").get_data(as_text=True)
    assert "dropship via Local Print" in page
    with services.db.session() as s:
        email = s.scalar(select(ActionRow.id).where(ActionRow.idempotency_key.endswith("dropship_request")))
    assert "Dropship request to a supplier" in merchant.get("/app/emails").get_data(as_text=True)
    preview = merchant.get(f"/app/emails/{email}").get_data(as_text=True)
    assert "dropship request for order" in preview and "cannot be rendered" not in preview


def test_no_route_when_dropship_gives_no_advantage(merchant, sandbox, services) -> None:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("TEE", "Organic tee", "25.00", 0, lead_time_days=4)
    local_dropshipper(merchant)
    sandbox.store.place_order(CUSTOMER, [("TEE", 2)])
    sandbox.settle()
    with services.db.session() as s:
        assert s.scalar(select(LineRouteRow)) is None
        assert s.scalar(select(BackorderRow.source)) == "variant"


def test_cheap_items_go_to_dropship_under_the_shops_value_threshold(merchant, sandbox, services) -> None:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("TEE", "Organic tee", "25.00", 0, lead_time_days=4)
    local_dropshipper(merchant)
    response = post(merchant, "/app/settings", {**_settings_form(merchant), "dropship_value_threshold": "30"})
    assert response.status_code in (200, 302)
    sandbox.store.place_order(CUSTOMER, [("TEE", 1)])
    sandbox.settle()
    with services.db.session() as s:
        route = s.scalar(select(LineRouteRow))
        assert route is not None and "under threshold" in route.reason


def _settings_form(merchant) -> dict:  # type: ignore[no-untyped-def]
    import re

    html = merchant.get("/app/settings").get_data(as_text=True)
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html))
    for name, value in re.findall(r'<select[^>]*name="([^"]+)".*?<option[^>]*selected[^>]*value="([^"]*)"', html, re.S):
        fields[name] = value
    fields.pop("csrf_token", None)
    return fields


def test_a_line_routed_after_midnight_in_the_shop_keeps_its_dropship_date(merchant, sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    """The route's day is the shop's (00:30 in Rome is the day before in UTC): evaluated again,
    the routed line keeps the date it was promised, and the customer hears of it once."""
    clock.now = clock.now.replace(hour=23, minute=30)  # 00:30 on 3 Nov in the shop (Europe/Rome)
    sandbox.store.add_product("TEE", "Organic tee", "25.00", 0, lead_time_days=10)
    supplier = local_dropshipper(merchant)
    sandbox.store.place_order(CUSTOMER, [("TEE", 2)])
    sandbox.settle()
    sandbox.store.place_order(dict(CUSTOMER, id="c2", email="b@example.com"), [("TEE", 1)])  # evaluated again
    sandbox.settle()
    with services.db.session() as s:
        first = s.scalars(select(BackorderRow).order_by(BackorderRow.id)).first()
        assert (first.promised_on, first.source) == (date(2026, 11, 6), f"dropship:{supplier}")
        keys = s.scalars(select(ActionRow.idempotency_key).where(ActionRow.order_id == first.order_id)).all()
    assert not [k for k in keys if ":email:eta_" in k]
