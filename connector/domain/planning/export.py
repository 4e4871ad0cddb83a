"""The supplier export: per supplier, the damped forecast and planned orders as CSV, and the email.

Nothing is sent from here: `supplier_email` builds the message only for an export the merchant
approved; the mail service sends it (with its retries).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage

from connector.domain.model import Supplier

COLUMNS = ("sku", "period_start", "period_end", "forecast_units", "planned_order_units", "firm_order_units")


class NotApproved(RuntimeError):
    """The merchant has not approved this export; it must not reach the supplier."""


@dataclass(frozen=True, slots=True)
class SupplierSkuPlan:
    sku: str
    forecast: tuple[float, ...]  # damped forecast per period
    planned_orders: tuple[int, ...]  # planned order per period
    firm_order: int = 0  # the quantity on the draft purchase order (period 1)


@dataclass(frozen=True, slots=True)
class SupplierExport:
    shop: str
    supplier: Supplier
    first_day: date  # start of period 1
    period_days: int
    items: tuple[SupplierSkuPlan, ...]
    approved_at: datetime | None = None

    def approve(self, when: datetime) -> SupplierExport:
        return SupplierExport(self.shop, self.supplier, self.first_day, self.period_days, self.items, when)


def to_csv(export: SupplierExport) -> str:
    """One row per SKU and period; quantities are units."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for item in sorted(export.items, key=lambda i: i.sku):
        if len(item.forecast) != len(item.planned_orders):
            raise ValueError(f"{item.sku}: forecast and planned orders cover different periods")
        for k, (fc, order) in enumerate(zip(item.forecast, item.planned_orders, strict=True)):
            start = export.first_day + timedelta(days=k * export.period_days)
            end = start + timedelta(days=export.period_days - 1)
            writer.writerow(
                (item.sku, start.isoformat(), end.isoformat(), f"{fc:.1f}", order, item.firm_order if k == 0 else 0)
            )
    return out.getvalue()


def supplier_email(export: SupplierExport, sender: str, shop_name: str, cc: Sequence[str] = ()) -> EmailMessage:
    """The email to the supplier's contact with the CSV attached; only for an approved export."""
    if export.approved_at is None:
        raise NotApproved(f"export for supplier {export.supplier.name!r} is not approved")
    if not export.supplier.email:
        raise ValueError(f"supplier {export.supplier.name!r} has no email address")
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = export.supplier.email
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = f"{shop_name}: demand forecast and planned orders from {export.first_day.isoformat()}"
    firm = sum(i.firm_order for i in export.items)
    msg.set_content(
        f"Hello {export.supplier.name},\n\n"
        f"attached is our demand forecast and order plan for {len(export.items)} items in periods of "
        f"{export.period_days} days from {export.first_day.isoformat()}. The first period's firm orders "
        f"({firm} units) come as a purchase order; later periods are a plan, smoothed so that it does not "
        f"swing with day-to-day noise.\n\n{shop_name}\n"
    )
    filename = f"forecast-{export.shop}-{export.first_day.isoformat()}.csv"
    msg.add_attachment(to_csv(export).encode(), maintype="text", subtype="csv", filename=filename)
    return msg
