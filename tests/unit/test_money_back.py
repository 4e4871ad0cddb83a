"""Cancelling waiting lines pays back only money really taken for them, never money for items that ship."""

from __future__ import annotations

from decimal import Decimal

from connector.backorders.refunds import money_back
from connector.shops.shop_settings import ShopSettings
from connector.storage.tables import OrderRow

D = Decimal


def order(status: str, captured: str = "0", deferred: bool = False, refunded: str = "0") -> OrderRow:
    # item A (50) ships, item B (100) waits; the order's total is 150
    return OrderRow(payment_status=status, total_price=D("150"), captured_amount=D(captured),
                    refunded_amount=D(refunded), deferred_payment=deferred)


def test_a_paid_order_gets_the_waiting_lines_value_back() -> None:
    assert money_back(order("paid"), ShopSettings(), D("100")) == D("100")


def test_an_authorization_gives_back_nothing_it_never_took() -> None:
    assert money_back(order("authorized"), ShopSettings(), D("100")) == D("0")


def test_money_captured_for_the_items_that_ship_stays_with_the_shop() -> None:
    assert money_back(order("partially_paid", captured="50"), ShopSettings(), D("100")) == D("0")
    assert money_back(order("partially_paid", captured="120"), ShopSettings(), D("100")) == D("70")


def test_a_deferred_payment_gives_back_the_deposit_beyond_what_the_kept_items_owe() -> None:
    assert money_back(order("partially_paid", deferred=True), ShopSettings(deposit_percent=20), D("100")) == D("0")
    assert money_back(order("partially_paid", deferred=True), ShopSettings(deposit_percent=50), D("100")) == D("25")


def test_an_earlier_cancellation_counts() -> None:
    # 30 was cancelled before (the order now keeps 20 of A's value besides B): 150 paid, 100 back for B
    assert money_back(order("paid", refunded="30"), ShopSettings(), D("100")) == D("100")
