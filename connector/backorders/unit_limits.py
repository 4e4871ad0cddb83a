"""The merchant's per-SKU limits of units on backorder: set, changed or removed from the merchant app.

A limit names a SKU the shop has (a variant we know); 0 means "never sell it on backorder while
this limit stands", empty removes the limit. The selling limit (`selling_limits.limit_selling`)
reads them on every evaluation of the SKU.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.storage.tables import BackorderLimitRow, VariantRow

MAX_UNITS = 1_000_000


class LimitError(ValueError):
    """A limit that cannot be saved; `errors` maps each field to a message a merchant can act on."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def set_unit_limit(session: Session, shop_id: int, sku: str, max_units: int | None, now: datetime) -> str:
    """Save (or with None remove) the limit of `sku`. Returns the SKU as stored; raises `LimitError`."""
    sku = (sku or "").strip()
    errors: dict[str, str] = {}
    if not sku:
        errors["sku"] = "enter a SKU"
    elif session.scalar(select(VariantRow.id).where(VariantRow.shop_id == shop_id, VariantRow.sku == sku)) is None:
        errors["sku"] = f"no item with SKU {sku[:100]!r} in your store (as last synchronised)"
    if max_units is not None and (
        isinstance(max_units, bool) or not isinstance(max_units, int) or not 0 <= max_units <= MAX_UNITS
    ):
        errors["max_units"] = f"a whole number of units from 0 to {MAX_UNITS:,}, or empty for no limit"
    if errors:
        raise LimitError(errors)
    row = session.scalar(
        select(BackorderLimitRow).where(BackorderLimitRow.shop_id == shop_id, BackorderLimitRow.sku == sku)
    )
    if max_units is None:
        if row is not None:
            session.delete(row)
        return sku
    if row is None:
        row = BackorderLimitRow(shop_id=shop_id, sku=sku)
        session.add(row)
    row.max_units = max_units
    row.updated_at = now
    return sku
