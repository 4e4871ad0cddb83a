"""Google Merchant Center supplemental feed rows: availability and availability date per item. Pure.

Google's text format (TSV): a header row of attribute names, then one row per item; `id` matches the
item's id in the merchant's primary feed. `availability` is `in_stock`, `out_of_stock`, `preorder`
or `backorder`; `availability_date` is required for `preorder` / `backorder`, "YYYY-MM-DDThh:mm±hhmm"
(ISO 8601 with the offset), at most one year ahead. A backordered item whose date is further away is
listed `out_of_stock` (a date Google would refuse helps no one). `preorder` is for products not yet
released, which this service does not know about: it never claims it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from connector.domain.model import StorefrontValue

HEADER = ("id", "availability", "availability_date")
MAX_AHEAD = timedelta(days=365)
ID_FORMATS = ("sku", "variant", "gla")  # and "shopify_<COUNTRY>", e.g. "shopify_US"


@dataclass(frozen=True, slots=True)
class FeedRow:
    id: str
    availability: str
    availability_date: str = ""


def availability_date(day: date, zone: ZoneInfo) -> str:
    """Midnight of `day` in the shop's time zone, with that day's UTC offset: "2026-12-01T00:00+0100"."""
    return datetime.combine(day, time(0, 0), zone).strftime("%Y-%m-%dT%H:%M%z")


def item_id(value: StorefrontValue, id_format: str) -> str | None:
    """The item's id as the primary feed has it (None: this format cannot name the item)."""
    if id_format == "sku":
        return value.sku
    if id_format == "variant":
        return value.variant_id
    if id_format == "gla":  # WooCommerce's Google Listings & Ads: gla_<product or variation id>
        ident = value.variant_id or value.product_id
        return f"gla_{ident}" if ident else None
    if id_format.startswith("shopify_") and len(id_format) == 10 and id_format[8:].isalpha():
        if value.product_id and value.variant_id:  # Shopify's Google & YouTube channel
            return f"shopify_{id_format[8:].upper()}_{value.product_id}_{value.variant_id}"
        return None
    raise ValueError(f"unknown id format {id_format!r}")


def feed_row(value: StorefrontValue, today: date, zone: ZoneInfo, id_format: str = "sku") -> FeedRow | None:
    ident = item_id(value, id_format)
    if not ident:
        return None
    if value.status == "backorder" and value.ships_by is not None:
        if value.ships_by - today > MAX_AHEAD:
            return FeedRow(ident, "out_of_stock")
        return FeedRow(ident, "backorder", availability_date(max(value.ships_by, today), zone))
    if value.status in ("in_stock", "untracked"):
        return FeedRow(ident, "in_stock")
    return FeedRow(ident, "out_of_stock")


def feed_tsv(values: Iterable[StorefrontValue], today: date, zone: ZoneInfo, id_format: str = "sku") -> str:
    """The whole feed: header and one row per item, sorted by id; tabs and newlines never inside a cell."""
    rows = [r for r in (feed_row(v, today, zone, id_format) for v in values) if r is not None]
    lines = ["\t".join(HEADER)]
    for row in sorted(rows, key=lambda r: r.id):
        lines.append("\t".join(_cell(c) for c in (row.id, row.availability, row.availability_date)))
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return " ".join(text.replace("\t", " ").split())
