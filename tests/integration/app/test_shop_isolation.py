"""A merchant of one shop cannot read or change another shop's data by changing ids in URLs or forms."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from adapters.sandbox import register_store
from adapters.sandbox.store import SandboxStore
from connector.domain.model import Platform
from connector.storage.tables import ActionRow, DeliveryRow, OrderRow, PurchaseOrderRow, SupplierOfferRow, SupplierRow
from connector.supply import purchase_orders, suppliers
from tests.integration.app.helpers import csrf_token, post
from tests.sandbox_helpers import SECRET, Harness

ZED = {"id": "z1", "email": "zed@bravo.example", "name": "Zed Bravo", "locale": "en", "reseller": False}


@pytest.fixture
def other_shop(services, sandbox, clock) -> dict:  # type: ignore[no-untyped-def]
    """Shop B, with a supplier, an offer, a purchase order, a backordered order, a dead action and a dead webhook."""
    store = SandboxStore(domain="shop-two.sandbox", name="Shop Two", clock=clock)
    register_store(store)
    ref = services.shops.connect(Platform.SANDBOX, store.domain, name="Shop Two", credentials={},
                                 webhook_secret=SECRET, currency="EUR")
    b = Harness(services, sandbox.client, store, clock)
    store.listeners.append(b.deliver)
    store.add_product("LAMP", "Secret lamp", "90.00", 0)
    store.place_order(ZED, [("LAMP", 1)])
    b.deliver("orders/create", {"not": "an order"})  # dead-lettered
    b.settle()
    with services.db.session() as s:
        bravo = suppliers.SupplierInput("Bravo Supplies", lead_time_mean_days=9)
        supplier, _ = suppliers.save_supplier(s, ref.id, bravo)
        offer, _ = suppliers.save_offer(s, ref.id, supplier.id, suppliers.OfferInput("LAMP", cost=Decimal(40)))
        po, _ = purchase_orders.save_purchase_order(
            s, ref.id, purchase_orders.PurchaseOrderInput("PO-B1", date(2026, 12, 1), [("LAMP", 3)], supplier.id),
            clock())
        order_id = s.scalar(select(OrderRow.id).where(OrderRow.shop_id == ref.id))
        action_id = s.scalar(select(ActionRow.id).where(ActionRow.shop_id == ref.id, ActionRow.kind == "send_email"))
        s.execute(update(ActionRow).where(ActionRow.id == action_id).values(status="dead", last_error="boom"))
        delivery_id = s.scalar(select(DeliveryRow.id).where(DeliveryRow.shop_domain == store.domain,
                                                            DeliveryRow.status == "dead"))
        ids = {"shop": ref.id, "supplier": supplier.id, "offer": offer.id, "po": po.id, "order": order_id,
               "action": action_id, "delivery": delivery_id}
    assert all(ids.values()), ids
    return ids


def test_ids_of_another_shop_are_not_found(merchant, services, other_shop) -> None:  # type: ignore[no-untyped-def]
    b = other_shop
    for url in (f"/app/suppliers/{b['supplier']}", f"/app/purchase-orders/{b['po']}", f"/app/emails/{b['action']}"):
        assert merchant.get(url).status_code == 404, url
    posts = {
        f"/app/suppliers/{b['supplier']}": {"name": "Hijacked", "lead_time_mean_days": "1",
                                            "lead_time_spread_days": "0"},
        f"/app/suppliers/{b['supplier']}/offers": {"sku": "LAMP", "cost": "0.01", "primary": "primary"},
        f"/app/suppliers/offers/{b['offer']}/delete": {},
        f"/app/suppliers/{b['supplier']}/delete": {},
        f"/app/purchase-orders/{b['po']}": {"reference": "PO-B1", "expected_on": "2026-11-03",
                                            "lines-0-sku": "LAMP", "lines-0-quantity": "99"},
        f"/app/purchase-orders/{b['po']}/receive": {},
        f"/app/purchase-orders/{b['po']}/approve": {},
        f"/app/purchase-orders/{b['po']}/delete": {},
        f"/app/orders/{b['order']}/expedite": {},
        f"/app/actions/{b['action']}/retry": {},
        f"/app/deliveries/{b['delivery']}/replay": {},
    }
    for url, data in posts.items():
        assert post(merchant, url, data).status_code == 404, url
    with services.db.session() as s:
        supplier = s.get(SupplierRow, b["supplier"])
        assert (supplier.name, supplier.lead_time_mean_days) == ("Bravo Supplies", 9)
        assert s.get(SupplierOfferRow, b["offer"]).cost == 40
        po = s.get(PurchaseOrderRow, b["po"])
        assert po.received_on is None and po.expected_on == date(2026, 12, 1) and po.lines[0].quantity == 3
        assert s.get(OrderRow, b["order"]).priority == 0
        assert s.get(ActionRow, b["action"]).status == "dead"
        assert s.get(DeliveryRow, b["delivery"]).status == "dead"


def test_another_shops_supplier_cannot_be_chosen_in_a_form(merchant, services, other_shop) -> None:  # type: ignore[no-untyped-def]
    response = post(merchant, "/app/purchase-orders/new", {
        "reference": "PO-A1", "supplier_id": str(other_shop["supplier"]), "expected_on": "2026-11-20",
        "lines-0-sku": "TEE", "lines-0-quantity": "4"})
    assert response.status_code == 422
    with services.db.session() as s:
        assert s.scalar(select(PurchaseOrderRow).where(PurchaseOrderRow.reference == "PO-A1")) is None


def test_pages_and_exports_show_only_the_signed_in_shop(merchant, other_shop) -> None:  # type: ignore[no-untyped-def]
    for url in ("/app", "/app/suppliers", "/app/purchase-orders", "/app/emails", "/app/privacy",
                "/app/suppliers/offers.csv", "/app/purchase-orders/export.csv", "/app?sku=LAMP"):
        body = merchant.get(url).get_data(as_text=True)
        for secret in ("Bravo Supplies", "PO-B1", "Zed Bravo", "zed@bravo.example", "LAMP"):
            assert secret not in body, (url, secret)


def test_signing_in_to_one_shop_drops_the_other_shops_session(merchant, services, other_shop) -> None:  # type: ignore[no-untyped-def]
    old_token = csrf_token(merchant)
    from tests.integration.app.helpers import sign_in

    sign_in(merchant, services, other_shop["shop"])
    assert "Bravo Supplies" in merchant.get("/app/suppliers").get_data(as_text=True)
    stale = merchant.post(f"/app/orders/{other_shop['order']}/expedite", data={"csrf_token": old_token})
    assert stale.status_code == 400  # a form of the previous session is not accepted in the new one


def test_another_shops_sku_cannot_get_a_selling_limit(merchant, services, other_shop) -> None:  # type: ignore[no-untyped-def]
    """Selling limits (issue 10): a unit limit names a SKU of the signed-in shop only."""
    from connector.storage.tables import BackorderLimitRow

    answer = post(merchant, "/app/selling-limits", {"sku": "LAMP", "max_units": "1"})
    assert answer.status_code == 422 and "no item with SKU" in answer.get_data(as_text=True)
    with services.db.session() as s:
        assert s.scalar(select(BackorderLimitRow)) is None
