"""The merchant's promotion calendar: add, list and remove promotions, and hand them to planning.

Planning takes known promotion days out of a SKU's baseline and puts the uplift they showed back on
the promotion days to come (`connector.domain.planning.promotions`). A promotion names its SKUs
(every one must be a SKU of the shop) or none, for a sale across the whole shop.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from connector.domain.planning.promotions import MAX_DAYS, Promotion
from connector.storage.chunks import chunks
from connector.storage.one_of import one_of
from connector.storage.tables import OrderLineRow, PromotionRow, ShopRow, StockLevelRow, VariantRow

MAX_PER_SHOP = 500
MAX_SKUS = 1_000
PAST_DAYS = 730  # older promotions are outside any history planning reads
AHEAD_DAYS = 366


class PromotionError(ValueError):
    """A promotion the calendar cannot take; `field` names the form field to mark."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def parse_skus(text: str) -> list[str]:
    """SKUs separated by commas, spaces or new lines, each once, in the order given."""
    return list(dict.fromkeys(s for s in re.split(r"[,\s]+", text or "") if s))


def add_promotion(session: Session, shop: ShopRow, name: str, starts_on: date, ends_on: date, skus: list[str],
                  today: date, now: datetime) -> PromotionRow:
    """Validate and store one promotion; raises `PromotionError` and stores nothing when it is wrong."""
    name = name.strip()
    if not name:
        raise PromotionError("name", "give the promotion a name")
    if ends_on < starts_on:
        raise PromotionError("ends_on", "the promotion must end on or after the day it starts")
    if (ends_on - starts_on).days + 1 > MAX_DAYS:
        raise PromotionError("ends_on", f"a promotion lasts at most {MAX_DAYS} days")
    if ends_on < today - timedelta(days=PAST_DAYS) or starts_on > today + timedelta(days=AHEAD_DAYS):
        raise PromotionError("starts_on", f"enter a promotion within {PAST_DAYS} days before and "
                                          f"{AHEAD_DAYS} days after today")
    if len(skus) > MAX_SKUS:
        raise PromotionError("skus", f"at most {MAX_SKUS} SKUs per promotion; leave it empty for the whole shop")
    unknown = _unknown_skus(session, shop.id, skus)
    if unknown:
        shown = ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else "")
        raise PromotionError("skus", f"not SKUs of this shop: {shown}")
    if len(calendar_rows(session, shop.id)) >= MAX_PER_SHOP:
        raise PromotionError("name", f"the calendar holds at most {MAX_PER_SHOP} promotions; remove old ones first")
    row = PromotionRow(shop_id=shop.id, name=name[:120], starts_on=starts_on, ends_on=ends_on, skus=skus,
                       created_at=now)
    session.add(row)
    session.flush()
    return row


def _unknown_skus(session: Session, shop_id: int, skus: list[str]) -> list[str]:
    """The SKUs planning would never plan: not a product, not stocked, never ordered in the shop."""
    known: set[str] = set()
    for chunk in chunks(skus):
        for table in (VariantRow, StockLevelRow, OrderLineRow):
            known.update(session.scalars(select(table.sku).where(table.shop_id == shop_id, one_of(table.sku, chunk))))
    return [s for s in skus if s not in known]


def remove_promotion(session: Session, shop_id: int, promotion_id: int) -> None:
    """Remove one of the shop's promotions; LookupError when the shop has no such promotion."""
    done = session.execute(delete(PromotionRow).where(PromotionRow.shop_id == shop_id,
                                                      PromotionRow.id == promotion_id))
    if not done.rowcount:  # type: ignore[attr-defined]
        raise LookupError(f"no promotion {promotion_id}")


def calendar_rows(session: Session, shop_id: int) -> list[PromotionRow]:
    return list(session.scalars(select(PromotionRow).where(PromotionRow.shop_id == shop_id)
                                .order_by(PromotionRow.starts_on.desc(), PromotionRow.id)))


def load_calendar(session: Session, shop_id: int, first_day: date, last_day: date) -> list[Promotion]:
    """The promotions touching [first_day, last_day], as planning takes them."""
    rows = session.scalars(select(PromotionRow).where(PromotionRow.shop_id == shop_id,
                                                      PromotionRow.ends_on >= first_day,
                                                      PromotionRow.starts_on <= last_day))
    return [Promotion(r.name, r.starts_on, r.ends_on, tuple(r.skus or ())) for r in rows]
