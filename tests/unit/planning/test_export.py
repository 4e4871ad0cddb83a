from datetime import UTC, date, datetime

import pytest

from connector.domain.model import Supplier
from connector.domain.planning.export import NotApproved, SupplierExport, SupplierSkuPlan, supplier_email, to_csv

SUP = Supplier(1, "shop", "Acme", email="orders@acme.test")
EXPORT = SupplierExport("shop", SUP, date(2026, 6, 1), 7, (
    SupplierSkuPlan("B", (2.0, 2.5), (0, 3), 0),
    SupplierSkuPlan("A", (21.04, 21.0), (30, 20), 30),
))


def test_csv_has_one_row_per_sku_and_period():
    assert to_csv(EXPORT) == (
        "sku,period_start,period_end,forecast_units,planned_order_units,firm_order_units\n"
        "A,2026-06-01,2026-06-07,21.0,30,30\n"
        "A,2026-06-08,2026-06-14,21.0,20,0\n"
        "B,2026-06-01,2026-06-07,2.0,0,0\n"
        "B,2026-06-08,2026-06-14,2.5,3,0\n"
    )


def test_email_only_after_approval_to_the_supplier_contact_with_the_csv():
    with pytest.raises(NotApproved):
        supplier_email(EXPORT, "shop@example.test", "Shop")
    msg = supplier_email(EXPORT.approve(datetime(2026, 6, 1, tzinfo=UTC)), "shop@example.test", "Shop")
    assert msg["To"] == "orders@acme.test"
    assert "2026-06-01" in msg["Subject"]
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_filename() == "forecast-shop-2026-06-01.csv"
    assert attachment.get_content() == to_csv(EXPORT)
    assert "30 units" in msg.get_body(("plain",)).get_content()


def test_supplier_without_email_is_a_clear_error():
    export = SupplierExport("shop", Supplier(2, "shop", "Nomail"), date(2026, 6, 1), 7, (),
                            approved_at=datetime(2026, 6, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="no email"):
        supplier_email(export, "shop@example.test", "Shop")
