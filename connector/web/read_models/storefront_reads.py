"""The storefront pages' reads: the shop's variants."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.storage.tables import VariantRow

VariantRecord = VariantRow  # what pages receive (and may annotate with) for a variant


def variants_by_title(session: Session, shop_id: int) -> list[VariantRow]:
    return list(session.scalars(select(VariantRow).where(VariantRow.shop_id == shop_id).order_by(VariantRow.title)))


def variant_for_sku(session: Session, shop_id: int, sku: str) -> VariantRow | None:
    return session.scalar(select(VariantRow).where(VariantRow.shop_id == shop_id, VariantRow.sku == sku))
