"""The selling-limit applier on a real database: what it records and enqueues, a resume that overtakes
its stop, our own switch coming back, and the merchant switching selling back on (before and after
our stop reached the store)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select, update

from connector.backorders.selling_limits import limit_selling
from connector.storage.tables import ActionRow, SellingStopRow, ShopRow, StockLevelRow, VariantRow
from tests.integration.app.helpers import connect_shop


def _shop(services, **settings):  # type: ignore[no-untyped-def]
    shop_id = connect_shop(services, "limits.sandbox")
    with services.db.session() as s:
        row = s.get(ShopRow, shop_id)
        row.settings = {"default_lead_time_days": 60, **settings}
        s.add(VariantRow(shop_id=shop_id, sku="TEE", title="Tee", price=Decimal("25"), sells_when_out_of_stock=True,
                         variant_id="11", product_id="1"))
        s.add(StockLevelRow(shop_id=shop_id, sku="TEE", location="default", available=0))
    return shop_id


def _run(services, shop_id: int, **settings):  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        shop = s.get(ShopRow, shop_id)
        if settings:
            shop.settings = {**shop.settings, **settings}
        return limit_selling(s, shop, ["TEE"], services.clock())


def _state(services) -> tuple[str, int, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        stop = s.scalar(select(SellingStopRow))
        rows = s.scalars(select(ActionRow).order_by(ActionRow.id))
        actions = [(a.idempotency_key.split(":", 3)[3], a.status) for a in rows]
        return stop.state, stop.switches, actions


def _store_says(services, shop_id: int, selling: bool, at) -> None:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        s.execute(update(VariantRow).where(VariantRow.shop_id == shop_id).values(
            sells_when_out_of_stock=selling, updated_at=at))


def test_off_by_default_nothing_is_decided(services) -> None:  # type: ignore[no-untyped-def]
    shop_id = _shop(services)
    assert _run(services, shop_id).actions == 0
    with services.db.session() as s:
        assert s.scalar(select(SellingStopRow)) is None and s.scalar(select(ActionRow)) is None


def test_a_resume_before_the_stop_was_sent_cancels_the_stop(services) -> None:  # type: ignore[no-untyped-def]
    shop_id = _shop(services, longest_wait_days=30)
    assert _run(services, shop_id).stopped == 1
    assert _run(services, shop_id).actions == 0  # decided again: nothing new
    assert _state(services) == ("stopped", 1, [("1:stop", "pending")])
    assert _run(services, shop_id, longest_wait_days=120).resumed == 1
    assert _state(services) == ("resumed", 1, [("1:stop", "cancelled")])  # the store never heard of it
    assert _run(services, shop_id, longest_wait_days=30).stopped == 1
    assert _state(services) == ("stopped", 2, [("1:stop", "cancelled"), ("2:stop", "pending")])


def test_our_echo_and_the_merchants_change_are_told_apart(services, clock) -> None:  # type: ignore[no-untyped-def]
    shop_id = _shop(services, longest_wait_days=30)
    _run(services, shop_id)
    # before our stop reached the store, a late webhook still says "selling": not the merchant
    _store_says(services, shop_id, True, clock() + timedelta(seconds=1))
    assert _run(services, shop_id).actions == 0 and _state(services)[0] == "stopped"
    with services.db.session() as s:
        s.execute(update(ActionRow).values(status="done", done_at=clock() + timedelta(seconds=5)))
    # our own switch comes back: "not selling"
    _store_says(services, shop_id, False, clock() + timedelta(seconds=4))
    assert _run(services, shop_id).actions == 0 and _state(services)[0] == "stopped"
    # the merchant turns selling back on, after our stop: respected, not stopped again
    _store_says(services, shop_id, True, clock() + timedelta(minutes=10))
    assert _run(services, shop_id).overridden == 1
    assert _run(services, shop_id).actions == 0
    assert _state(services) == ("overridden", 1, [("1:stop", "done")])
    # once the promise is within the limits, the SKU is the merchant's again; later it may be stopped anew
    assert _run(services, shop_id, longest_wait_days=120).actions == 0
    assert _state(services)[0] == "resumed"
    assert _run(services, shop_id, longest_wait_days=30).stopped == 1
    assert _state(services) == ("stopped", 2, [("1:stop", "done"), ("2:stop", "pending")])
