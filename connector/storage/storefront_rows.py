"""Stored storefront values read back as common-model values (their JSON form is `StorefrontValue.fields`).

Shared by the publication (which stores a new version when a value changes) and the outbox (which
publishes the current version of the values an action names)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.domain.model import StorefrontValue
from connector.storage.chunks import chunks
from connector.storage.one_of import one_of
from connector.storage.tables import StorefrontValueRow


def value_from_fields(
    sku: str, product_id: str | None, variant_id: str | None, fields: Mapping[str, Any]
) -> StorefrontValue:
    def day(key: str) -> date | None:
        text = fields.get(key)
        return date.fromisoformat(text) if text else None

    return StorefrontValue(
        sku=sku,
        product_id=product_id,
        variant_id=variant_id,
        status=str(fields["status"]),
        ships_by=day("ships_by"),
        ships_p50=day("ships_p50"),
        ships_p90=day("ships_p90"),
        message=str(fields.get("message") or ""),
    )


def row_value(row: StorefrontValueRow) -> StorefrontValue:
    return value_from_fields(row.sku, row.product_id, row.variant_id, row.value)


def stored_rows(session: Session, shop_id: int, skus: Iterable[str] | None) -> dict[str, StorefrontValueRow]:
    """The stored rows of `skus` (None: all of the shop's), by SKU."""
    query = select(StorefrontValueRow).where(StorefrontValueRow.shop_id == shop_id)
    if skus is None:
        return {r.sku: r for r in session.scalars(query)}
    wanted = list(dict.fromkeys(skus))
    found: dict[str, StorefrontValueRow] = {}
    for chunk in chunks(wanted):
        for r in session.scalars(query.where(one_of(StorefrontValueRow.sku, chunk))):
            found[r.sku] = r
    return found


def current_values(session: Session, shop_id: int, skus: Iterable[str]) -> list[StorefrontValue]:
    """The current stored values of `skus`, in the order given (SKUs without a value are left out)."""
    rows = stored_rows(session, shop_id, skus)
    return [row_value(rows[s]) for s in dict.fromkeys(skus) if s in rows]
