"""Purchase orders through the merchant app: their dates set promises; receiving one ships the waiting orders."""

from __future__ import annotations

import io
import re
from datetime import date

from sqlalchemy import select

from connector.storage.tables import BackorderRow, PurchaseOrderRow
from tests.integration.app.helpers import post


def create_po(merchant, reference: str = "PO-1", expected: str = "2026-11-06", lines=(("TEE", 5),), **extra):  # type: ignore[no-untyped-def]
    data = {"reference": reference, "expected_on": expected, "ordered_on": "2026-11-02", **extra}
    for i, (sku, qty) in enumerate(lines):
        data[f"lines-{i}-sku"], data[f"lines-{i}-quantity"] = sku, str(qty)
    return post(merchant, "/app/purchase-orders/new", data)


def po_id(services, reference: str) -> int:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        return s.scalar(select(PurchaseOrderRow.id).where(PurchaseOrderRow.reference == reference))


def upload(merchant, text: str):  # type: ignore[no-untyped-def]
    return post(merchant, "/app/purchase-orders/import", {"file": (io.BytesIO(text.encode()), "po.csv")},
                content_type="multipart/form-data")


def test_a_new_purchase_order_moves_the_promise_and_receiving_it_ships(  # type: ignore[no-untyped-def]
    merchant, sandbox, services, backordered
) -> None:
    order = backordered["id"]
    assert sandbox.store.orders[order]["holds"]
    response = create_po(merchant)
    assert response.status_code == 302, response.get_data(as_text=True)
    sandbox.work()
    assert sandbox.store.orders[order]["eta"] == "2026-11-07"  # the PO's date + 1 day of handling
    listing = merchant.get("/app/purchase-orders").get_data(as_text=True)
    assert "PO-1" in listing and "on its way" in listing
    dashboard = merchant.get("/app").get_data(as_text=True)
    assert "06 Nov" in dashboard  # next arrival of TEE
    response = post(merchant, f"/app/purchase-orders/{po_id(services, 'PO-1')}/receive")
    assert response.status_code == 302
    sandbox.work()
    stored = sandbox.store.orders[order]
    assert stored["holds"] == [] and stored["tags"] == []
    assert sandbox.store.products["TEE"]["stock"] == 3  # -2 + 5
    listing = merchant.get("/app/purchase-orders").get_data(as_text=True)
    assert "Received 5 × TEE" in listing and "received 02 Nov" in listing
    with services.db.session() as s:
        assert s.scalar(select(BackorderRow.state)) == "released"
    again = post(merchant, f"/app/purchase-orders/{po_id(services, 'PO-1')}", {"reference": "PO-1",
                 "expected_on": "2026-11-20", "lines-0-sku": "TEE", "lines-0-quantity": "5"})
    assert again.status_code == 422 and "cannot be changed" in again.get_data(as_text=True)


def test_partial_receipt(merchant, sandbox, services, backordered) -> None:  # type: ignore[no-untyped-def]
    create_po(merchant, lines=(("TEE", 5), ("MUG", 10)))
    pid = po_id(services, "PO-1")
    page = merchant.get(f"/app/purchase-orders/{pid}").get_data(as_text=True)
    assert 'name="qty:TEE" value="5"' in page
    response = post(merchant, f"/app/purchase-orders/{pid}/receive", {"partial": "1", "qty:TEE": "2", "qty:MUG": "0"})
    assert response.status_code == 302
    sandbox.work()
    assert sandbox.store.orders[backordered["id"]]["holds"] == []  # the two units it waited for are in
    with services.db.session() as s:
        po = s.get(PurchaseOrderRow, pid)
        assert po.received_on is None and {li.sku: li.received_quantity for li in po.lines} == {"TEE": 2, "MUG": 0}
    too_many = post(merchant, f"/app/purchase-orders/{pid}/receive", {"partial": "1", "qty:TEE": "9"})
    assert too_many.status_code == 302
    assert "only 3 outstanding" in merchant.get(too_many.headers["Location"]).get_data(as_text=True)


def test_purchase_order_errors(merchant, services) -> None:  # type: ignore[no-untyped-def]
    assert create_po(merchant).status_code == 302
    cases = [
        (dict(reference="PO-1"), "purchase order PO-1 already exists"),
        (dict(reference="PO-2", expected="2026-11-01"), "cannot be before the order date"),
        (dict(reference="PO-3", expected=""), "when do you expect the goods?"),
        (dict(reference="PO-4", lines=()), "add at least one line"),
        (dict(reference="PO-5", lines=(("TEE", 1), ("TEE", 2))), "TEE is listed twice"),
        (dict(reference="PO-6", lines=(("TEE", 0),)), "at least 1"),
        (dict(reference="PO-7", lines=(("", 3),)), "every line needs a SKU"),
    ]
    for kwargs, message in cases:
        response = create_po(merchant, **kwargs)
        assert response.status_code == 422, kwargs
        assert message in response.get_data(as_text=True), message
    with services.db.session() as s:
        assert list(s.scalars(select(PurchaseOrderRow.reference))) == ["PO-1"]


def test_edit_a_purchase_order(merchant, sandbox, services, backordered) -> None:  # type: ignore[no-untyped-def]
    create_po(merchant)
    pid = po_id(services, "PO-1")
    page = merchant.get(f"/app/purchase-orders/{pid}").get_data(as_text=True)
    assert 'value="TEE"' in page and 'value="2026-11-06"' in page
    response = post(merchant, f"/app/purchase-orders/{pid}", {"reference": "PO-1", "expected_on": "2026-11-12",
                                                              "lines-0-sku": "TEE", "lines-0-quantity": "8",
                                                              "lines-1-sku": "MUG", "lines-1-quantity": "3"})
    assert response.status_code == 302
    sandbox.work()
    assert sandbox.store.orders[backordered["id"]]["eta"] == "2026-11-13"
    with services.db.session() as s:
        assert {li.sku: li.quantity for li in s.get(PurchaseOrderRow, pid).lines} == {"TEE": 8, "MUG": 3}


def test_a_draft_counts_only_once_approved_and_can_be_deleted(merchant, sandbox, services, backordered) -> None:  # type: ignore[no-untyped-def]
    create_po(merchant, reference="PO-D", draft="y")
    sandbox.work()
    pid = po_id(services, "PO-D")
    with services.db.session() as s:
        assert s.scalar(select(BackorderRow.source)) == "variant"
    assert "Approve" in merchant.get("/app/purchase-orders").get_data(as_text=True)
    assert post(merchant, f"/app/purchase-orders/{pid}/approve").status_code == 302
    with services.db.session() as s:
        assert s.scalar(select(BackorderRow.source)) == f"po:{pid}"
        assert s.get(PurchaseOrderRow, pid).ordered_on == date(2026, 11, 2)  # placed when approved
    assert post(merchant, f"/app/purchase-orders/{pid}/delete").status_code == 302
    with services.db.session() as s:
        assert s.scalar(select(PurchaseOrderRow.id)) is None
        assert s.scalar(select(BackorderRow.source)) == "variant"


def test_csv_import_and_export(merchant, services, sandbox) -> None:  # type: ignore[no-untyped-def]
    post(merchant, "/app/suppliers/new", {"name": "Acme", "lead_time_mean_days": "10", "lead_time_spread_days": "1"})
    text = ("reference,supplier,expected_on,sku,quantity,ordered_on,draft\n"
            "PO-10,Acme,2026-11-20,TEE,5,2026-11-01,no\n"
            "PO-10,Acme,2026-11-20,MUG,12,2026-11-01,no\n"
            "PO-11,,2026-12-01,TEE,3,,yes\n")
    response = upload(merchant, text)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "Imported 2 purchase order(s) with 3 line(s)" in merchant.get("/app/purchase-orders").get_data(as_text=True)
    exported = merchant.get("/app/purchase-orders/export.csv").get_data(as_text=True)
    assert exported.splitlines() == [
        "reference,supplier,expected_on,sku,quantity,ordered_on,draft,received_quantity,received_on",
        "PO-10,Acme,2026-11-20,TEE,5,2026-11-01,no,0,",
        "PO-10,Acme,2026-11-20,MUG,12,2026-11-01,no,0,",
        "PO-11,,2026-12-01,TEE,3,,yes,0,",
    ]
    # the same file again: every reference exists, nothing imported
    response = upload(merchant, exported)
    assert response.status_code == 422
    assert "purchase order PO-10 already exists" in response.get_data(as_text=True)


def test_a_bad_purchase_order_csv_imports_nothing(merchant, services) -> None:  # type: ignore[no-untyped-def]
    text = ("reference,expected_on,sku,quantity,supplier\n"
            "PO-20,2026-11-20,TEE,5,\n"
            "PO-20,2026-11-21,MUG,2,\n"  # a different date for the same PO
            "PO-21,20/11/2026,TEE,-1,Ghost\n"
            "PO-22,2026-11-20,TEE,2,\n"
            "PO-22,2026-11-20,TEE,2,\n")
    response = upload(merchant, text)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    messages = dict(re.findall(r'<span class="mono">line (\d+)</span>: ([^<]+)</li>', html))
    assert messages["3"] == "PO-20: date, supplier or draft differ from line 2"
    assert "is not a date (YYYY-MM-DD)" in messages["4"] and "quantity must be at least 1" in messages["4"]
    assert "no supplier called &#39;Ghost&#39;" in messages["4"]
    assert messages["6"] == "TEE is already on line 5 of PO-22"
    assert set(messages) == {"3", "4", "6"}
    with services.db.session() as s:
        assert s.scalar(select(PurchaseOrderRow.id)) is None
