"""Apply normalised events to storage, inside the caller's transaction.

Returns what the events touched so the caller re-evaluates exactly those SKUs. Stale order
updates (an `updated_at` older than the one stored) are ignored: webhooks arrive out of order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from connector.backorders import order_edits as edits
from connector.domain.model import (
    AppUninstalled,
    CustomerDataRequested,
    CustomerRedactRequested,
    Event,
    Order,
    OrderCancelled,
    OrderUpserted,
    PaymentStatus,
    ShopRedactRequested,
    StockChanged,
    StockLevel,
    VariantChanged,
)
from connector.domain.safe_url import http_url
from connector.intake import compliance
from connector.storage.chunks import chunks
from connector.storage.one_of import one_of
from connector.storage.tables import ActionRow, OrderLineRow, OrderRow, ShopRow, StockLevelRow, VariantRow
from connector.storage.types import as_utc, utcnow

UNRESOLVED_PREFIX = "~item:"  # stock for an inventory item whose SKU we have not learnt yet
SETTLE = timedelta(seconds=30)
# How long one held level stands while drops keep coming (see _set_stock): then the hold moves on to
# the last report, once the orders that report counts have all been applied (Inbox.evaluate_settled).
MAX_HOLD = timedelta(minutes=5)


@dataclass
class Applied:
    skus: set[str] = field(default_factory=set)  # re-evaluate now
    stale: int = 0
    uninstalled: bool = False
    notes: list[str] = field(default_factory=list)
    # Orders whose lines changed (added, removed, quantities): decided on again even when none of
    # their SKUs still has a line (removing the only waiting line must release the order).
    edited: list[OrderRow] = field(default_factory=list)

    def edited_ids(self) -> set[int]:
        """Ids of the edited orders (after a flush)."""
        return {row.id for row in self.edited if row.id is not None}

    # Deferred-payment orders whose payment status changed (the balance was paid, or a charge failed):
    # decided on again, since a release may have been waiting for the payment (issue 10).
    repaid: list[OrderRow] = field(default_factory=list)

    def decide_ids(self) -> set[int]:
        """Orders to decide on again besides the SKUs' own: the edited and the repaid (after a flush)."""
        return self.edited_ids() | {row.id for row in self.repaid if row.id is not None}


def apply_events(
    session: Session, shop: ShopRow, events: Iterable[Event], now: datetime | None = None, settle: timedelta = SETTLE
) -> Applied:
    now = now or utcnow()
    applied = Applied()
    for event in events:
        match event:
            case OrderUpserted(order=order):
                _upsert_order(session, shop, order, applied, now)
            case OrderCancelled(external_id=external_id):
                row = _order(session, shop.id, external_id)
                if row is not None and not row.cancelled:
                    row.cancelled = True
                    applied.skus.update(li.sku for li in row.lines)
            case StockChanged(levels=levels):
                for level in levels:
                    _set_stock(session, shop, level, applied, now, settle)
            case VariantChanged(variants=variants):
                for variant in variants:
                    _upsert_variant(session, shop, variant, applied)
            case AppUninstalled():
                _uninstall(session, shop)
                applied.uninstalled = True
            case CustomerDataRequested():
                applied.notes.append(compliance.export_customer(session, shop, event))
            case CustomerRedactRequested():
                applied.notes.append(compliance.redact_customer(session, shop, event))
            case ShopRedactRequested():
                applied.notes.append(compliance.redact_shop(session, shop))
            case _:
                raise TypeError(f"unknown event {type(event).__name__}")
    return applied


# session.info keys: the orders and stock rows this unit of work has looked up or created, by key. A
# batch of a sale's deliveries touches the same few stock rows again and again, and each order more
# than once; looked up through these, neither is queried twice, and a look-up never flushes (a flush
# per order was a third of a batch's time): a row created here is in the map before it is flushed.
_ORDERS = "connector.intake.apply:orders"
_STOCK_ROWS = "connector.intake.apply:stock_rows"


def prefetch_orders(session: Session, shop_id: int, events: Iterable[Event]) -> None:
    """Look up, in one query with their lines, the orders that `events` upsert or cancel."""
    wanted = {e.order.external_id for e in events if isinstance(e, OrderUpserted)}
    wanted |= {e.external_id for e in events if isinstance(e, OrderCancelled)}
    _orders(session, shop_id, wanted)


def _order(session: Session, shop_id: int, external_id: str) -> OrderRow | None:
    return _orders(session, shop_id, (external_id,))[(shop_id, external_id)]


def _orders(
    session: Session, shop_id: int, external_ids: Iterable[str]
) -> dict[tuple[int, str], OrderRow | None]:
    """The unit of work's orders by (shop, external id), these looked up (with their lines) if not yet."""
    known: dict[tuple[int, str], OrderRow | None] = session.info.setdefault(_ORDERS, {})
    wanted = sorted({external_id for external_id in external_ids if (shop_id, external_id) not in known})
    with session.no_autoflush:  # every row created in this unit of work is in `known` already
        for chunk in chunks(wanted):
            for row in session.scalars(
                select(OrderRow)
                .where(OrderRow.shop_id == shop_id, one_of(OrderRow.external_id, chunk))
                .options(selectinload(OrderRow.lines))
            ):
                known[(shop_id, row.external_id)] = row
    for external_id in wanted:
        known.setdefault((shop_id, external_id), None)
    return known


def _stock_row(session: Session, shop_id: int, sku: str, location: str) -> StockLevelRow | None:
    known: dict[tuple[int, str, str], StockLevelRow | None] = session.info.setdefault(_STOCK_ROWS, {})
    key = (shop_id, sku, location)
    if key not in known:
        with session.no_autoflush:
            known[key] = session.get(StockLevelRow, key)
    return known[key]


def _upsert_order(session: Session, shop: ShopRow, order: Order, applied: Applied, now: datetime) -> None:
    row = _order(session, shop.id, order.external_id)
    new_order = row is None
    if row is None:
        row = OrderRow(shop_id=shop.id, external_id=order.external_id, placed_at=order.created_at, priority=0)
        session.add(row)
        session.info[_ORDERS][(shop.id, order.external_id)] = row
    elif row.source_updated_at > order.updated_at:
        applied.stale += 1
        return
    customer = order.customer
    row.name = order.name
    row.customer_email = customer.email
    row.customer_name = customer.name
    row.customer_locale = customer.locale
    row.customer_external_id = customer.external_id
    row.is_reseller = customer.is_reseller or _has_reseller_tag(shop, order.tags)
    row.currency = order.currency
    row.placed_at = order.created_at
    row.source_updated_at = order.updated_at
    if order.deferred_payment and not new_order and row.payment_status != str(order.payment_status):
        applied.repaid.append(row)
    row.payment_status = str(order.payment_status)
    row.deferred_payment = order.deferred_payment
    row.payment_url = order.payment_url
    row.cancelled = order.cancelled  # a failed order later paid, or a trashed one restored, is live again
    row.reserves_stock = order.reserves_stock
    row.tags = list(order.tags)
    row.total_price = order.total
    if order.authorized_at is not None:
        row.authorized_at = order.authorized_at
    elif order.payment_status == PaymentStatus.AUTHORIZED and row.authorized_at is None:
        row.authorized_at = order.created_at
    existing = {li.external_id: li for li in row.lines}
    applied.skus.update(li.sku for li in existing.values())
    seen: set[str] = set()
    edited = False
    cut_to_nothing: list[OrderLineRow] = []  # lines kept by the store with quantity 0 (Shopify)
    for line in order.lines:
        seen.add(line.external_id)
        li = existing.get(line.external_id)
        if li is None:
            li = OrderLineRow(external_id=line.external_id, shop_id=shop.id)
            row.lines.append(li)
            edited = True
        else:
            edited = edited or (li.sku, li.quantity, li.fulfilled_quantity, li.requires_shipping) != (
                line.sku, line.quantity, line.fulfilled_quantity, line.requires_shipping
            )
            if line.quantity == 0 and li.quantity:
                cut_to_nothing.append(li)
        li.sku = line.sku
        li.title = line.title[:500]
        li.quantity = line.quantity
        li.fulfilled_quantity = line.fulfilled_quantity
        li.unit_price = line.unit_price
        li.product_id = line.product_id
        li.variant_id = line.variant_id
        li.location = line.location
        li.requires_shipping = line.requires_shipping
        applied.skus.add(line.sku)
    removed = [external_id for external_id in existing if external_id not in seen]
    for external_id in removed:
        row.lines.remove(existing[external_id])  # its backorder goes with it (ON DELETE CASCADE)
    if removed or cut_to_nothing:
        edits.supersede_removed_lines(session, row, [*removed, *(li.external_id for li in cut_to_nothing)])
        edits.cancel_backorders(session, [li.id for li in cut_to_nothing], now)
    if (edited or removed) and not new_order:
        applied.edited.append(row)


def _has_reseller_tag(shop: ShopRow, tags: Iterable[str]) -> bool:
    wanted = {t.strip().lower() for t in (shop.settings or {}).get("reseller_tags", ("reseller", "wholesale"))}
    return any(t.strip().lower() in wanted for t in tags)


# session.info key: the SKU of each inventory item looked up or written (`_upsert_variant`) in this
# unit of work. A batch of a sale's deliveries reports the same few items again and again.
_ITEM_SKUS = "connector.intake.apply:item_skus"


def _resolve_sku(session: Session, shop_id: int, item_ref: str | None) -> str | None:
    if not item_ref:
        return None
    known: dict[tuple[int, str], str | None] = session.info.setdefault(_ITEM_SKUS, {})
    if (shop_id, item_ref) not in known:
        with session.no_autoflush:  # a variant written in this unit of work is in `known` (_upsert_variant)
            known[(shop_id, item_ref)] = session.scalar(
                select(VariantRow.sku).where(VariantRow.shop_id == shop_id, VariantRow.item_ref == item_ref)
            )
    return known[(shop_id, item_ref)]


def _set_stock(
    session: Session, shop: ShopRow, level: StockLevel, applied: Applied, now: datetime, settle: timedelta
) -> None:
    sku = level.sku or _resolve_sku(session, shop.id, level.item_ref) or f"{UNRESOLVED_PREFIX}{level.item_ref}"
    row = _stock_row(session, shop.id, sku, level.location)
    if row is None:
        row = StockLevelRow(shop_id=shop.id, sku=sku, location=level.location)
        session.add(row)
        session.info[_STOCK_ROWS][(shop.id, sku, level.location)] = row
    else:
        if row.checkpoint_at is not None and level.updated_at is not None:
            _follow_checkpoint(row, level)  # a late report too: it may be the last of the checkpoint's second
        if level.updated_at and row.updated_at and row.updated_at > level.updated_at:
            applied.stale += 1
            return
    # Good news acts at once, bad news settles first. A drop in stock usually announces an order
    # whose own webhook is a moment behind (or ahead); evaluating the drop alone would backorder an
    # earlier customer's line for an instant, and email them. So a drop re-evaluates the SKU after
    # SETTLE, by when the order has arrived; an order or a restock re-evaluates at once. Meanwhile
    # evaluation keeps using the level from before the first unsettled drop, with that report's
    # time: the orders we know of placed after it are counted against it one by one, in order,
    # while an order whose webhook is still on its way takes nothing from an earlier customer (in
    # a flash sale, a report counting a later order reached us before that order and backordered,
    # then released, the customer ahead of it). A rise ends the hold at once.
    dropped = row.available is not None and level.available < row.available
    rose = row.available is not None and level.available > row.available
    if dropped and row.held_at is None and row.updated_at is not None:
        row.held_available, row.held_at, row.held_since = row.available, row.updated_at, now
    elif rose:
        end_hold(row)
    row.available = level.available
    row.item_ref = level.item_ref or row.item_ref
    row.updated_at = level.updated_at or now
    if dropped:
        # each drop settles from its own arrival; in a long sale (drops every second, never a quiet
        # SETTLE) the hold moves on every MAX_HOLD instead (Inbox.evaluate_settled), so neither the
        # level from before the sale nor one that ignores a drop no order explains stands for good
        row.settle_at = now + settle
    else:
        applied.skus.add(sku)


def _follow_checkpoint(row: StockLevelRow, level: StockLevel) -> None:
    """A later report of the checkpoint's own second becomes the checkpoint: the hold moves on to the
    last report of a second (Inbox.evaluate_settled), which counts every order of that second.

    Orders carry whole seconds (Shopify's `created_at`) and reports the instant, so any report but a
    second's last leaves out orders the comparison with the held time counts: moving on to one gave
    their units to waiting customers until the next report took them back (issue 13, full size)."""
    checkpoint = as_utc(row.checkpoint_at)
    at = as_utc(level.updated_at)
    if at > checkpoint and whole_second(at) == whole_second(checkpoint):
        row.checkpoint_available, row.checkpoint_at = level.available, level.updated_at


def whole_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def end_hold(row: StockLevelRow) -> None:
    """The held level (and any checkpoint) gives way to the last report."""
    row.held_available = row.held_at = row.held_since = None
    row.checkpoint_available = row.checkpoint_at = row.checkpoint_until = None


PRODUCT_URL_MAX = 1000  # VariantRow.product_url's column


def _upsert_variant(session: Session, shop: ShopRow, variant, applied: Applied) -> None:  # type: ignore[no-untyped-def]
    # its stock rows may move from its item to its SKU (below); the query next flushes what is pending,
    # so a stock row created earlier in this unit of work is found again by key
    session.info.pop(_STOCK_ROWS, None)
    row = session.scalar(select(VariantRow).where(VariantRow.shop_id == shop.id, VariantRow.sku == variant.sku))
    if row is None:
        row = VariantRow(shop_id=shop.id, sku=variant.sku)
        session.add(row)
    row.title = variant.title[:500]
    row.price = variant.price
    row.sells_when_out_of_stock = variant.sells_when_out_of_stock
    row.product_id = variant.product_id
    row.variant_id = variant.variant_id
    row.item_ref = variant.item_ref or row.item_ref
    if variant.lead_time_days is not None:
        row.lead_time_days = variant.lead_time_days
    if variant.product_url:  # stored only as an http(s) link (it becomes an href on the storefront)
        url = http_url(variant.product_url)
        row.product_url = url if url is not None and len(url) <= PRODUCT_URL_MAX else None
    row.updated_at = variant.updated_at or utcnow()
    applied.skus.add(variant.sku)
    known: dict[tuple[int, str], str | None] = session.info.setdefault(_ITEM_SKUS, {})
    for key in [key for key, sku in known.items() if key[0] == shop.id and sku == variant.sku]:
        known[key] = None  # the variant's item changed (an item belongs to one variant)
    if row.item_ref:
        known[(shop.id, row.item_ref)] = variant.sku
    if variant.item_ref:  # stock that arrived before we knew its SKU
        placeholder = f"{UNRESOLVED_PREFIX}{variant.item_ref}"
        for level in session.scalars(
            select(StockLevelRow).where(StockLevelRow.shop_id == shop.id, StockLevelRow.sku == placeholder)
        ):
            if session.get(StockLevelRow, (shop.id, variant.sku, level.location)) is None:
                session.add(
                    StockLevelRow(
                        shop_id=shop.id,
                        sku=variant.sku,
                        location=level.location,
                        available=level.available,
                        item_ref=variant.item_ref,
                        updated_at=level.updated_at,
                    )
                )
            session.delete(level)
            session.flush()  # (rare) what _stock_row looks up without flushing must see the move


def _uninstall(session: Session, shop: ShopRow) -> None:
    """Stop all work for the shop: no token kept, nothing more sent to it."""
    shop.status = "uninstalled"
    shop.status_reason = "the app was uninstalled from the store"
    shop.credentials = None
    session.execute(
        update(ActionRow)
        .where(ActionRow.shop_id == shop.id, ActionRow.status.in_(("pending", "running")))
        .values(status="cancelled", last_error="app uninstalled")
    )

