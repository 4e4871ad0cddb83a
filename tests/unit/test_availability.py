"""The storefront quote: a hypothetical next unit, queued behind every open line."""

from __future__ import annotations

from datetime import UTC, date, datetime

from connector.backorders.availability import Status, quote
from connector.domain.engine import Incoming, LeadTime, LineDemand, Policy, SkuSupply

NOW = datetime(2026, 11, 2, 9, tzinfo=UTC)
TODAY = date(2026, 11, 2)
POLICY = Policy(promise_quantile=0.9, handling_days=1)


def line(key: int, qty: int, *, priority: int = 0, hour: int = 8) -> LineDemand:
    return LineDemand(key, key, "TEE", qty, datetime(2026, 11, 1, hour, tzinfo=UTC), priority)


def test_stock_left_after_open_lines_is_in_stock() -> None:
    supply = SkuSupply(available=3, lead_time=LeadTime(10, 2))
    q = quote(supply, [line(1, 2)], TODAY, NOW, POLICY)
    assert q.status == Status.IN_STOCK and q.in_stock and q.available == 3
    assert q.ships_by is None


def test_last_units_taken_by_open_orders_means_backorder_at_the_lead_time() -> None:
    # the store reports 0: the two units there are committed to the open line
    supply = SkuSupply(available=0, lead_time=LeadTime(10, 0, "supplier:4"))
    q = quote(supply, [line(1, 2)], TODAY, NOW, POLICY)
    assert q.status == Status.BACKORDER and not q.in_stock
    assert q.ships_p50 == q.ships_p90 == q.ships_by == date(2026, 11, 13)  # 10 days + 1 handling
    assert q.source == "supplier:4"


def test_an_incoming_purchase_order_with_room_sets_the_date() -> None:
    supply = SkuSupply(available=-2, lead_time=LeadTime(30, 5), incoming=(Incoming(date(2026, 11, 9), 5, "po:7"),))
    q = quote(supply, [line(1, 2)], TODAY, NOW, POLICY)
    assert (q.status, q.ships_by, q.source) == (Status.BACKORDER, date(2026, 11, 10), "po:7")


def test_a_purchase_order_already_spoken_for_does_not_count() -> None:
    supply = SkuSupply(available=-5, lead_time=LeadTime(20, 0), incoming=(Incoming(date(2026, 11, 9), 5, "po:7"),))
    q = quote(supply, [line(1, 5)], TODAY, NOW, POLICY)
    assert q.source == "lead_time" and q.ships_by == date(2026, 11, 23)


def test_the_spread_widens_the_window_and_the_promise_is_the_shops_percentile() -> None:
    supply = SkuSupply(available=0, lead_time=LeadTime(10, 3))
    q = quote(supply, [], TODAY, NOW, POLICY)
    assert q.ships_p50 == date(2026, 11, 13)
    assert q.ships_p90 > q.ships_p50 and q.ships_by == q.ships_p90
    median = quote(supply, [], TODAY, NOW, Policy(promise_quantile=0.5, handling_days=1))
    assert median.ships_by == median.ships_p50


def test_the_next_order_queues_behind_expedited_orders_too() -> None:
    supply = SkuSupply(available=-1, lead_time=LeadTime(10, 0), incoming=(Incoming(date(2026, 11, 5), 1, "po:1"),))
    q = quote(supply, [line(1, 1, priority=-1)], TODAY, NOW, POLICY)
    assert q.source == "lead_time"  # the one incoming unit belongs to the expedited order


def test_quantity_beyond_stock_is_backordered() -> None:
    supply = SkuSupply(available=2, lead_time=LeadTime(7, 0))
    assert quote(supply, [], TODAY, NOW, POLICY, quantity=2).status == Status.IN_STOCK
    assert quote(supply, [], TODAY, NOW, POLICY, quantity=3).status == Status.BACKORDER


def test_no_backorders_allowed_means_sold_out() -> None:
    supply = SkuSupply(available=0, lead_time=LeadTime(7, 0))
    q = quote(supply, [], TODAY, NOW, POLICY, sells_when_out_of_stock=False)
    assert q.status == Status.SOLD_OUT and q.ships_by is None and not q.in_stock


def test_untracked_stock_ships() -> None:
    q = quote(None, [], TODAY, NOW, POLICY)
    assert q.status == Status.UNTRACKED and q.in_stock
