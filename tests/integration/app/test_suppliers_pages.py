"""Suppliers and the SKUs they supply, through the merchant app; CSV in and out."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from connector.storage.tables import BackorderRow, SupplierOfferRow, SupplierRow
from tests.integration.app.helpers import post

ACME = {"name": "Acme Textiles", "email": "orders@acme.example", "phone": "+39 055 123",
        "lead_time_mean_days": "12", "lead_time_spread_days": "2", "dropship_capable": "y",
        "urgent_unit_premium": "3.50", "urgent_lead_time_days": "4"}


def add_supplier(merchant, **overrides) -> int:  # type: ignore[no-untyped-def]
    response = post(merchant, "/app/suppliers/new", {**ACME, **overrides})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/app/suppliers/(\d+)", response.headers["Location"]).group(1))


def upload(merchant, url: str, text: str):  # type: ignore[no-untyped-def]
    return post(merchant, url, {"file": (io.BytesIO(text.encode()), "offers.csv")},
                content_type="multipart/form-data")


def test_create_a_supplier_and_list_it(merchant, services, shop_id) -> None:  # type: ignore[no-untyped-def]
    supplier_id = add_supplier(merchant)
    with services.db.session() as s:
        row = s.get(SupplierRow, supplier_id)
        assert (row.shop_id, row.name, row.email, row.phone) == (shop_id, "Acme Textiles", "orders@acme.example",
                                                                 "+39 055 123")
        assert (row.lead_time_mean_days, row.lead_time_spread_days, row.dropship_capable) == (12, 2, True)
        assert (float(row.urgent_unit_premium), row.urgent_lead_time_days) == (3.5, 4)
    page = merchant.get("/app/suppliers").get_data(as_text=True)
    assert "Acme Textiles" in page and "12 ± 2 d" in page


def test_supplier_errors_are_shown_and_nothing_is_saved(merchant, services) -> None:  # type: ignore[no-untyped-def]
    add_supplier(merchant)
    response = post(merchant, "/app/suppliers/new", {**ACME, "name": "acme textiles", "email": "nope",
                                                     "lead_time_mean_days": "-1"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "enter an email address" in html and "Number must be between 0 and 365" in html
    response = post(merchant, "/app/suppliers/new", {**ACME, "name": "ACME TEXTILES"})
    assert response.status_code == 422 and "already a supplier called" in response.get_data(as_text=True)
    response = post(merchant, "/app/suppliers/new", {**ACME, "name": "Quick", "urgent_lead_time_days": ""})
    assert "urgent terms need both" in response.get_data(as_text=True)
    response = post(merchant, "/app/suppliers/new", {**ACME, "name": "Slow", "urgent_lead_time_days": "30"})
    assert "sooner than a normal one" in response.get_data(as_text=True)
    with services.db.session() as s:
        assert s.scalar(select(SupplierRow.name).where(SupplierRow.name != "Acme Textiles")) is None


def test_offers_primary_and_alternative_and_promises_follow_the_supplier(  # type: ignore[no-untyped-def]
    merchant, sandbox, services, backordered
) -> None:
    acme = add_supplier(merchant, urgent_unit_premium="", urgent_lead_time_days="", lead_time_spread_days="0")
    other = add_supplier(merchant, name="Backup Mills", urgent_unit_premium="", urgent_lead_time_days="")
    order_id = backordered["id"]
    assert sandbox.store.orders[order_id]["eta"] == "2026-11-17"  # the variant's 10 days (spread 3, P90) + 1 handling
    # the variant's lead time override wins over suppliers; without it the primary supplier's lead time counts
    with services.db.session() as s:
        from connector.storage.tables import VariantRow

        for v in s.scalars(select(VariantRow).where(VariantRow.sku == "TEE")):
            v.lead_time_days = None
    response = post(merchant, f"/app/suppliers/{acme}/offers", {"sku": "TEE", "cost": "6.20", "primary": "primary",
                                                                "lead_time_days": ""})
    assert response.status_code == 302
    sandbox.work()
    assert sandbox.store.orders[order_id]["eta"] == "2026-11-15"  # Acme: 12 days + 1 handling
    post(merchant, f"/app/suppliers/{other}/offers", {"sku": "TEE", "cost": "7", "primary": "primary",
                                                      "lead_time_days": "5"})
    with services.db.session() as s:
        roles = dict(s.execute(select(SupplierOfferRow.supplier_id, SupplierOfferRow.primary)).all())
    assert roles == {acme: False, other: True}  # one primary per SKU
    page = merchant.get(f"/app/suppliers/{acme}").get_data(as_text=True)
    assert "alternative" in page and "TEE" in page
    # editing the supplier's lead time moves the promise at once
    post(merchant, f"/app/suppliers/{other}/offers", {"sku": "TEE", "cost": "7", "primary": "alternative",
                                                      "lead_time_days": "5"})
    post(merchant, f"/app/suppliers/{acme}/offers", {"sku": "TEE", "cost": "6.20", "primary": "primary"})
    response = post(merchant, f"/app/suppliers/{acme}", {**ACME, "urgent_unit_premium": "", "urgent_lead_time_days": "",
                                                         "lead_time_mean_days": "20", "lead_time_spread_days": "0"})
    assert response.status_code == 302
    with services.db.session() as s:
        assert s.scalar(select(BackorderRow.promised_on)).isoformat() == "2026-11-23"
    bad = post(merchant, f"/app/suppliers/{acme}/offers", {"sku": "", "cost": "-1", "primary": "primary"})
    assert bad.status_code == 422 and "This field is required" in bad.get_data(as_text=True)


def test_remove_an_offer_and_delete_a_supplier(merchant, services) -> None:  # type: ignore[no-untyped-def]
    acme = add_supplier(merchant)
    post(merchant, f"/app/suppliers/{acme}/offers", {"sku": "TEE", "cost": "6", "primary": "primary"})
    with services.db.session() as s:
        offer_id = s.scalar(select(SupplierOfferRow.id))
    assert post(merchant, f"/app/suppliers/offers/{offer_id}/delete").status_code == 302
    assert post(merchant, f"/app/suppliers/{acme}/delete").status_code == 302
    with services.db.session() as s:
        assert s.scalar(select(SupplierRow.id)) is None and s.scalar(select(SupplierOfferRow.id)) is None


def test_csv_export_and_import_round_trip(merchant, services) -> None:  # type: ignore[no-untyped-def]
    add_supplier(merchant)
    add_supplier(merchant, name="Backup Mills")
    text = "supplier,sku,cost,lead_time_days,primary\nAcme Textiles,TEE-S,6.2,,yes\nBackup Mills,TEE-S,7,5,no\n" \
           "acme textiles,TEE-M,6.4,,\n"
    response = upload(merchant, "/app/suppliers/offers.csv", text)
    assert response.status_code == 302, response.get_data(as_text=True)
    exported = merchant.get("/app/suppliers/offers.csv")
    assert exported.headers["Content-Type"].startswith("text/csv")
    assert exported.get_data(as_text=True) == (
        "supplier,sku,cost,lead_time_days,primary\nAcme Textiles,TEE-M,6.4,,yes\nAcme Textiles,TEE-S,6.2,,yes\n"
        "Backup Mills,TEE-S,7,5,no\n")
    # importing the export again changes nothing but counts the rows as updated
    again = upload(merchant, "/app/suppliers/offers.csv", exported.get_data(as_text=True))
    assert again.status_code == 302
    assert "0 new, 3 updated" in merchant.get("/app/suppliers").get_data(as_text=True)


def test_a_bad_csv_imports_nothing_and_names_every_bad_line(merchant, services) -> None:  # type: ignore[no-untyped-def]
    add_supplier(merchant)
    text = ("supplier,sku,cost,primary\n"
            "Acme Textiles,TEE-S,6.2,yes\n"  # fine
            "Nobody Ltd,TEE-M,6,yes\n"  # unknown supplier
            "Acme Textiles,TEE-L,cheap,maybe\n"  # bad cost and flag
            "\n"
            "Acme Textiles,TEE-S,6.3,yes\n")  # listed twice
    response = upload(merchant, "/app/suppliers/offers.csv", text)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Nothing was imported" in html
    assert "line 3</span>: no supplier called &#39;Nobody Ltd&#39;" in html
    assert "line 4</span>: cost &#39;cheap&#39; is not a number; primary &#39;maybe&#39; must be yes or no" in html
    assert "line 6</span>: Acme Textiles / TEE-S is already on line 2" in html
    assert '<span class="mono">line 2</span>' not in html
    with services.db.session() as s:
        assert s.scalar(select(SupplierOfferRow.id)) is None
    header = upload(merchant, "/app/suppliers/offers.csv", "vendor,sku,price\nAcme,TEE,1\n")
    assert "missing column(s): supplier, cost" in header.get_data(as_text=True)
    assert "unknown column(s): vendor, price" in header.get_data(as_text=True)
    empty = post(merchant, "/app/suppliers/offers.csv", {}, content_type="multipart/form-data")
    assert empty.status_code == 422 and "choose a CSV file" in empty.get_data(as_text=True)
