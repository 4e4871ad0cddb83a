"""The privacy page: the shop's privacy requests, and the data export to hand the customer."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from connector.domain.model import CustomerDataRequested, CustomerRedactRequested
from connector.intake import compliance
from connector.storage.tables import ComplianceRequestRow, ShopRow
from tests.integration.app.conftest import CUSTOMER


def request(services, shop_id: int, event) -> None:  # type: ignore[no-untyped-def]
    """A privacy request applied as the inbox applies one (`connector.intake.apply`)."""
    with services.db.session() as s:
        shop = s.get(ShopRow, shop_id)
        if isinstance(event, CustomerDataRequested):
            compliance.export_customer(s, shop, event)
        else:
            compliance.redact_customer(s, shop, event)


def test_a_data_request_is_listed_and_its_export_downloaded(merchant, services, shop_id, backordered) -> None:  # type: ignore[no-untyped-def]
    request(services, shop_id, CustomerDataRequested(shop="", customer_email=CUSTOMER["email"], customer_id=None))
    page = merchant.get("/app/privacy").get_data(as_text=True)
    assert "Customer data request" in page and "exported 1 order(s) and 1 stored webhook(s)" in page
    with services.db.session() as s:
        export_id = s.scalar(select(ComplianceRequestRow.id))
    assert f"/app/privacy/{export_id}/export.json" in page
    download = merchant.get(f"/app/privacy/{export_id}/export.json")
    assert download.status_code == 200 and download.mimetype == "application/json"
    assert download.headers["Content-Disposition"] == f'attachment; filename="customer-data-{export_id}.json"'
    assert download.headers["Cache-Control"] == "no-store"
    data = json.loads(download.get_data())
    assert [o["name"] for o in data["orders"]] == [backordered["name"]]
    assert {li["sku"]: li["backordered"] for li in data["orders"][0]["lines"]} == {"TEE": 2, "MUG": 0}
    assert [w["topic"] for w in data["stored_webhooks"]] == ["orders/create"]

    request(services, shop_id, CustomerRedactRequested(shop="", customer_email=CUSTOMER["email"], customer_id=None))
    page = merchant.get("/app/privacy").get_data(as_text=True)
    assert "Customer data erasure" in page and "no longer kept" in page and "export.json" not in page
    assert merchant.get(f"/app/privacy/{export_id}/export.json").status_code == 404
    assert CUSTOMER["email"] not in page


def test_another_shops_export_is_not_found(merchant, services) -> None:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        other = ShopRow(platform="shopify", domain="other.myshopify.com", name="Other")
        s.add(other)
        s.flush()
        row = ComplianceRequestRow(shop_id=other.id, shop_domain=other.domain, kind="customer_export",
                                   customer_email="zed@example.com", export={"orders": []}, summary="exported",
                                   requested_at=datetime(2026, 11, 2, tzinfo=UTC))
        s.add(row)
        s.flush()
        other_export = row.id
    assert merchant.get(f"/app/privacy/{other_export}/export.json").status_code == 404
    assert "zed@example.com" not in merchant.get("/app/privacy").get_data(as_text=True)
    assert merchant.get("/app/privacy/999999/export.json").status_code == 404


def test_the_page_and_its_exports_need_the_shops_sign_in(app, services, shop_id, backordered) -> None:  # type: ignore[no-untyped-def]
    request(services, shop_id, CustomerDataRequested(shop="", customer_email=CUSTOMER["email"], customer_id=None))
    with services.db.session() as s:
        export_id = s.scalar(select(ComplianceRequestRow.id))
    stranger = app.test_client()
    for url in ("/app/privacy", f"/app/privacy/{export_id}/export.json"):
        answer = stranger.get(url)
        assert answer.status_code == 302 and "/app/sign-in" in answer.headers["Location"], url
