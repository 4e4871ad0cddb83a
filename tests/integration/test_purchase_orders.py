"""Receiving a purchase order starts the shipping cycle for the lines waiting on it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from connector.storage.tables import BackorderRow, PurchaseOrderLineRow, PurchaseOrderRow, ShopRow
from connector.supply.receiving import ReceiveError, receive_purchase_order

CUSTOMER = {"id": "c1", "email": "ada@example.com", "name": "Ada", "locale": "en", "reseller": False}


def make_po(services, shop_id: int, lines: dict[str, int], expected: date, draft: bool = False) -> int:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        po = PurchaseOrderRow(shop_id=shop_id, reference=f"PO-{expected}", expected_on=expected, draft=draft,
                              created_at=services.clock())
        po.lines = [PurchaseOrderLineRow(sku=sku, quantity=q) for sku, q in lines.items()]
        s.add(po)
        s.flush()
        return po.id


def test_incoming_po_sets_the_promise_and_receiving_it_ships(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("TEE", "Tee", "20.00", 0)
    shop_id = services.shops.ref("sandbox", sandbox.store.domain).id
    po_id = make_po(services, shop_id, {"TEE": 5}, date(2026, 11, 9))
    order = sandbox.store.place_order(CUSTOMER, [("TEE", 2)])
    sandbox.settle()
    # promised: the PO's date plus a day of handling (the shop's default)
    assert sandbox.store.orders[order["id"]]["eta"] == "2026-11-10"
    clock.advance(days=6)
    with services.db.session() as s:
        shop = s.get(ShopRow, shop_id)
        result = receive_purchase_order(s, shop, po_id, clock())
    assert result.units == {"TEE": 5} and result.complete
    sandbox.work()
    assert sandbox.store.products["TEE"]["stock"] == 3  # -2 + 5, adjusted in the store once
    assert [c for c in sandbox.store.calls if c[0] == "adjust_stock"][0][2]["delta"] == 5
    stored = sandbox.store.orders[order["id"]]
    assert stored["tags"] == [] and stored["holds"] == []
    assert stored["financial_status"] == "paid"
    with services.db.session() as s:
        assert s.scalar(select(BackorderRow.state)) == "released"
        assert s.get(PurchaseOrderRow, po_id).received_on == date(2026, 11, 8)
    sandbox.work()  # the store's inventory webhook comes back: nothing more happens
    assert [c[0] for c in sandbox.store.calls].count("release") == 1


def test_receiving_checks_quantities(sandbox, services) -> None:  # type: ignore[no-untyped-def]
    shop_id = services.shops.ref("sandbox", sandbox.store.domain).id
    po_id = make_po(services, shop_id, {"TEE": 5}, date(2026, 11, 9))
    draft_id = make_po(services, shop_id, {"TEE": 5}, date(2026, 11, 10), draft=True)
    with services.db.session() as s:
        shop = s.get(ShopRow, shop_id)
        with pytest.raises(ReceiveError, match="only 5 outstanding"):
            receive_purchase_order(s, shop, po_id, services.clock(), {"TEE": 6})
        with pytest.raises(ReceiveError, match="draft"):
            receive_purchase_order(s, shop, draft_id, services.clock())
        partial = receive_purchase_order(s, shop, po_id, services.clock(), {"TEE": 2})
        assert not partial.complete
        rest = receive_purchase_order(s, shop, po_id, services.clock())
        assert rest.units == {"TEE": 3} and rest.complete


def test_a_purchase_order_received_after_midnight_in_the_shop_is_received_that_day(sandbox, services, clock) -> None:  # type: ignore[no-untyped-def]
    """The planner learns lead times from ordered_on -> received_on, both the shop's days."""
    sandbox.store.add_product("TEE", "Tee", "20.00", 0)
    shop_id = services.shops.ref("sandbox", sandbox.store.domain).id
    po_id = make_po(services, shop_id, {"TEE": 5}, date(2026, 11, 9))
    clock.now = clock.now.replace(day=8, hour=23, minute=30)  # 00:30 on 9 Nov in the shop (Europe/Rome)
    with services.db.session() as s:
        receive_purchase_order(s, s.get(ShopRow, shop_id), po_id, clock())
    with services.db.read() as s:
        assert s.get(PurchaseOrderRow, po_id).received_on == date(2026, 11, 9)
