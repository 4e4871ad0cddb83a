"""The chart's series from the database: the day's most waiting units, stock due and received."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from connector.storage.tables import ShopRow
from connector.web.read_models.dashboard_reads import chart_data
from tests.integration.app.conftest import OTHER_CUSTOMER
from tests.integration.app.helpers import post
from tests.integration.app.test_purchase_order_pages import create_po


def series(services, shop_id: int, today: date) -> dict[date, tuple[int, int, int]]:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        data = chart_data(s, s.get(ShopRow, shop_id), "TEE", today)
    return {d: (b, i, r) for d, b, i, r in zip(data.days, data.backordered, data.incoming, data.received, strict=True)
            if b or i or r}


def test_a_backlog_released_the_same_day_still_shows_that_day(merchant, sandbox, services, clock, shop_id,
                                                               backordered) -> None:  # type: ignore[no-untyped-def]
    clock.advance(days=1)
    sandbox.store.place_order(OTHER_CUSTOMER, [("TEE", 1)])
    sandbox.settle()
    create_po(merchant, lines=(("TEE", 5),), expected="2026-11-08")
    assert series(services, shop_id, date(2026, 11, 3)) == {
        date(2026, 11, 2): (2, 0, 0), date(2026, 11, 3): (3, 0, 0), date(2026, 11, 8): (0, 5, 0)}
    clock.advance(hours=3)
    with services.db.session() as s:
        from connector.storage.tables import PurchaseOrderRow

        po_id = s.scalar(select(PurchaseOrderRow.id))
    post(merchant, f"/app/purchase-orders/{po_id}/receive")
    sandbox.work()
    assert series(services, shop_id, date(2026, 11, 3)) == {
        date(2026, 11, 2): (2, 0, 0), date(2026, 11, 3): (3, 0, 5)}  # all released today; 5 came in
