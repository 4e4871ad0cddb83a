"""Catch what webhooks missed: read the store's recent orders and its stock, feed them through the inbox path.

WooCommerce does not retry failed deliveries (and disables a hook after repeated failures);
Shopify retries for a while, then gives up. Reconciliation makes a missed webhook cost at most
one reconciliation interval.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TypeVar

from adapters.base import AuthRevoked, PlatformAdapter, StoreClient, UpkeepContext
from connector.domain import store_limits as limits
from connector.domain.model import Event, OrderUpserted, StockChanged, VariantChanged
from connector.intake.inbox import Inbox
from connector.shops.directory import NEEDS_RECONNECT, ShopDirectory, ShopRef
from connector.storage.tables import ShopRow
from connector.storage.types import utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")

OVERLAP = timedelta(minutes=5)  # clocks differ; re-reading a little is harmless (stale updates are ignored)
FIRST_SYNC = timedelta(days=30)


def reconcile_shop(
    inbox: Inbox, shops: ShopDirectory, shop_id: int, client: StoreClient, clock: Callable[[], datetime] = utcnow
) -> int:
    """Returns how many events were applied."""
    started = clock()
    with inbox.db.session(background=True) as s:
        shop = s.get(ShopRow, shop_id)
        if shop is None or shop.status != "active":
            return 0
        since = (shop.reconciled_at - OVERLAP) if shop.reconciled_at else started - FIRST_SYNC
        platform, domain = shop.platform, shop.domain
    try:
        events: list[Event] = [VariantChanged(_bounded(client.variants(), limits.check_variant, domain))]
        events.append(StockChanged(_bounded(client.stock_levels(), limits.check_stock, domain)))
        events.extend(
            OrderUpserted(order) for order in _bounded(client.orders_updated_since(since), limits.check_order, domain)
        )
    except AuthRevoked as exc:
        shops.set_status(platform, domain, NEEDS_RECONNECT, f"the store refused our credentials: {exc}")
        return 0
    with inbox.db.session(background=True) as s:
        shop = s.get(ShopRow, shop_id)
        if shop is None:
            return 0
        inbox.apply(s, shop, events)
        shop.reconciled_at = started
    log.info("reconciled %s: %d events", domain, len(events))
    return len(events)


def _bounded(items: Iterable[T], check: Callable[[T], T], domain: str) -> tuple[T, ...]:
    """The items within `connector.domain.store_limits`; one outside them is skipped with a warning."""
    kept: list[T] = []
    for item in items:
        try:
            kept.append(check(item))
        except limits.OutOfBounds as exc:
            log.warning("reconcile %s: skipped, out of bounds: %s", domain, exc)
    return tuple(kept)


def upkeep_shop(adapter: PlatformAdapter, shops: ShopDirectory, ref: ShopRef, webhook_url: str) -> bool:
    """Run the adapter's connection upkeep for one shop (if it has one). False when the store refused us."""
    if adapter.upkeep is None or ref.status != "active":
        return True
    shop = shops.get(ref.platform, ref.domain)
    if shop is None:
        return True
    context = UpkeepContext(
        shop=shop,
        credentials=shops.credentials(ref.platform, ref.domain) or {},
        webhook_secret=shops.webhook_secret(ref.platform, ref.domain),
        webhook_url=webhook_url,
    )
    try:
        adapter.upkeep(context)
    except AuthRevoked as exc:
        shops.set_status(ref.platform, ref.domain, NEEDS_RECONNECT, f"the store refused our credentials: {exc}")
        return False
    return True
