"""What a shopper is told before buying: in stock, or the ship-by window of the next unit.

`quote` is pure (plain values, the engine's own allocation): it appends a hypothetical order
line at the end of the SKU's queue, exactly as a new order would land, and reads what the engine
would promise it. `load_quote` gathers the facts for one SKU of a shop from the database.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.backorders.evaluation import load_open_lines, load_supplies
from connector.backorders.sku_queues import QueueLength, queue_lengths
from connector.domain import engine
from connector.shops.shop_days import shop_today, shop_zone
from connector.shops.shop_settings import ShopSettings
from connector.storage.chunks import chunks
from connector.storage.one_of import one_of
from connector.storage.tables import ShopRow, VariantRow

_NEXT_LINE_KEY = -1


class Status(StrEnum):
    IN_STOCK = "in_stock"
    BACKORDER = "backorder"  # sells now, ships later
    SOLD_OUT = "sold_out"  # out of stock and the store does not sell it on backorder
    UNTRACKED = "untracked"  # the store does not count this item's stock: it ships
    UNKNOWN = "unknown"  # no such item in the shop as we know it: nothing is claimed about it


@dataclass(frozen=True, slots=True)
class Quote:
    status: Status
    available: int  # units a shopper can have from stock now (never negative)
    ships_p50: date | None = None
    ships_p90: date | None = None
    ships_by: date | None = None  # the date promised (the shop's promise percentile)
    source: str | None = None  # what covers it: "po:<id>", "supplier:<id>", "lead_time", "variant"

    @property
    def in_stock(self) -> bool:
        return self.status in (Status.IN_STOCK, Status.UNTRACKED)


def quote(
    supply: engine.SkuSupply | None,
    lines: Sequence[engine.LineDemand],
    today: date,
    now: datetime,
    policy: engine.Policy = engine.Policy(),
    *,
    sells_when_out_of_stock: bool = True,
    quantity: int = 1,
) -> Quote:
    """The answer for `quantity` more units ordered now, behind every open line of the SKU.

    `lines` may stand for the queue (`load_quotes`: one line of its length, at its largest priority,
    with `supply.committed_elsewhere`)."""
    if supply is None:
        return Quote(Status.UNTRACKED, 0)
    sku = lines[0].sku if lines else "?"
    next_line = engine.LineDemand(
        key=_NEXT_LINE_KEY,
        order_key=_NEXT_LINE_KEY,
        sku=sku,
        quantity=quantity,
        placed_at=now,
        priority=max((li.priority for li in lines), default=0),  # behind everyone, expedited or not
        committed=False,  # the store has not subtracted an order that is not placed yet
    )
    ranked = [*lines, next_line]
    allocations = engine.allocate_sku(supply, ranked, today, policy)
    mine = next(a for a in allocations if a.key == _NEXT_LINE_KEY)
    free = max(supply.available, 0)
    if not mine.backordered:
        return Quote(Status.IN_STOCK, free)
    if not sells_when_out_of_stock:
        return Quote(Status.SOLD_OUT, free)
    return Quote(Status.BACKORDER, free, mine.eta_p50, mine.eta_p90, mine.promised_on, mine.source)


@dataclass(frozen=True, slots=True)
class SkuQuote:
    sku: str
    title: str | None
    product_url: str | None
    quote: Quote


def load_quote(session: Session, shop: ShopRow, sku: str, now: datetime, quantity: int = 1) -> SkuQuote:
    return load_quotes(session, shop, [sku], now, quantity)[sku]


def load_quotes(
    session: Session,
    shop: ShopRow,
    skus: Sequence[str] | None,
    now: datetime,
    quantity: int = 1,
    *,
    as_selling: Collection[str] = (),
) -> dict[str, SkuQuote]:
    """The answer for `quantity` more units of each SKU (None: every variant the shop has), read in batches.

    What the storefront, the pay-later purchase option and the selling limit all start from: one
    query per table per chunk of SKUs, not one per SKU. SKUs in `as_selling` are quoted as if the
    store sold them on backorder whatever it says now (the selling limit asks what a SKU it stopped
    would be promised if it sold again)."""
    settings = ShopSettings.from_mapping(shop.settings)
    query = select(VariantRow).where(VariantRow.shop_id == shop.id)
    if skus is not None:
        wanted = list(dict.fromkeys(skus))
        variants = {
            v.sku: v for chunk in chunks(wanted) for v in session.scalars(query.where(one_of(VariantRow.sku, chunk)))
        }
    else:
        variants = {v.sku: v for v in session.scalars(query)}
        wanted = list(variants)
    policy = engine.Policy(settings.promise_quantile, settings.handling_days)
    supplies = load_supplies(session, shop.id, wanted, settings)
    lengths, routed = queue_lengths(session, shop.id, wanted, now)
    by_sku: dict[str, list[engine.LineDemand]] = {}
    for li in load_open_lines(session, shop.id, sorted(routed), shop_zone(shop)) if routed else ():
        by_sku.setdefault(li.sku, []).append(li)
    today = shop_today(shop, now)
    quotes: dict[str, SkuQuote] = {}
    for sku in wanted:
        variant = variants.get(sku)
        if variant is None and sku not in supplies:  # neither a product nor stock of the shop: say nothing
            quotes[sku] = SkuQuote(sku, None, None, Quote(Status.UNKNOWN, 0))
            continue
        supply, lines, length = supplies.get(sku), by_sku.get(sku, []), lengths.get(sku)
        if supply is not None and length is not None and sku not in routed:
            # the queue ahead of the new order as one line of its length: FIFO gives the new order
            # what is left after that much open quantity, whichever lines make it up
            supply = replace(supply, committed_elsewhere=length.committed)
            lines = [_queue_ahead(sku, length)] if length.ahead else []
        result = quote(
            supply,
            lines,
            today,
            now,
            policy,
            sells_when_out_of_stock=variant.sells_when_out_of_stock if variant is not None and sku not in as_selling
            else True,
            quantity=quantity,
        )
        quotes[sku] = SkuQuote(
            sku, variant.title if variant else None, variant.product_url if variant else None, result
        )
    return quotes




def _queue_ahead(sku: str, length: QueueLength) -> engine.LineDemand:
    """A stand-in for the open lines ahead of a new order: their quantity, ranked before it, counted
    by the store through `committed_elsewhere` (so not committed itself)."""
    return engine.LineDemand(-2, -2, sku, length.ahead, datetime.min.replace(tzinfo=UTC), length.last_priority,
                             committed=False)


def sku_for_variant(session: Session, shop_id: int, variant_id: str) -> str | None:
    return session.scalar(
        select(VariantRow.sku).where(VariantRow.shop_id == shop_id, VariantRow.variant_id == str(variant_id))
    )
