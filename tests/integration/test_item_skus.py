"""Stock reported by inventory item (Shopify) is resolved to its SKU once per unit of work, and a
variant written in the same unit of work is seen at once (issue 13: a sale's batch reports the same
few items hundreds of times)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from connector.domain.model import Platform, StockChanged, StockLevel, Variant, VariantChanged
from connector.intake.apply import SETTLE, UNRESOLVED_PREFIX, apply_events
from connector.shops.directory import find_row
from connector.storage.tables import StockLevelRow
from tests.sandbox_helpers import DOMAIN


def stock(available: int, at) -> StockChanged:  # type: ignore[no-untyped-def]
    return StockChanged((StockLevel(DOMAIN, "", "main", available, item_ref="77", updated_at=at),))


def test_an_item_known_later_in_the_same_unit_of_work_resolves_to_its_sku(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    now = clock()
    cap = Variant(DOMAIN, "CAP", "Cap", Decimal("9.00"), True, item_ref="77")
    with services.db.session() as s:
        shop = find_row(s, Platform.SANDBOX, DOMAIN)
        apply_events(s, shop, [stock(5, now)], now, SETTLE)  # no variant has item 77 yet
        apply_events(s, shop, [stock(4, now + timedelta(seconds=1))], now, SETTLE)  # looked up once, remembered
        apply_events(s, shop, [VariantChanged((cap,))], now, SETTLE)  # now one has
        apply_events(s, shop, [stock(7, now + timedelta(seconds=2))], now, SETTLE)
        s.flush()
        levels = {row.sku: row.available for row in s.scalars(select(StockLevelRow))}
    assert levels == {"CAP": 7}, levels
    assert not any(sku.startswith(UNRESOLVED_PREFIX) for sku in levels)


def test_a_variant_moved_to_another_item_in_the_same_unit_of_work_leaves_the_old_item_unresolved(
    sandbox, services, clock
) -> None:  # type: ignore[no-untyped-def]
    now = clock()
    with services.db.session() as s:
        shop = find_row(s, Platform.SANDBOX, DOMAIN)
        apply_events(s, shop, [VariantChanged((Variant(DOMAIN, "CAP", "Cap", Decimal("9.00"), True, item_ref="77"),))],
                     now, SETTLE)
        apply_events(s, shop, [stock(5, now)], now, SETTLE)  # item 77 is CAP's
        apply_events(s, shop, [VariantChanged((Variant(DOMAIN, "CAP", "Cap", Decimal("9.00"), True, item_ref="88"),))],
                     now, SETTLE)
        apply_events(s, shop, [stock(3, now + timedelta(seconds=1))], now, SETTLE)  # item 77 is no one's now
        s.flush()
        levels = {row.sku: row.available for row in s.scalars(select(StockLevelRow))}
    assert levels == {"CAP": 5, f"{UNRESOLVED_PREFIX}77": 3}, levels
