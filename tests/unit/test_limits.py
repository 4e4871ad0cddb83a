"""connector.domain.store_limits: the bounds every event is held to before it is stored."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connector.domain import store_limits as limits
from connector.domain.model import (
    Customer,
    CustomerRedactRequested,
    Order,
    OrderLine,
    OrderUpserted,
    PaymentStatus,
    StockChanged,
    StockLevel,
)

WHEN = datetime(2026, 11, 2, 9, tzinfo=UTC)
LINE = OrderLine("l1", "TEE", "Tee", 2, Decimal("20.00"))
ORDER = Order("s", "1", "#1", Customer("a@example.com"), "EUR", WHEN, WHEN, PaymentStatus.PAID, (LINE,))


def test_an_order_within_bounds_passes_unchanged() -> None:
    assert limits.check_events([OrderUpserted(ORDER)]) == [OrderUpserted(ORDER)]


@pytest.mark.parametrize(
    ("order", "message"),
    [
        (replace(ORDER, lines=(replace(LINE, quantity=10**18),)), "quantity 1000000000000000000 is outside"),
        (replace(ORDER, lines=(replace(LINE, quantity=limits.MAX_LINE_QUANTITY + 1),)), "quantity"),
        (replace(ORDER, lines=(replace(LINE, sku="S" * 256),)), "SKU is 256 characters long"),
        (replace(ORDER, lines=(replace(LINE, sku="A\x00B"),)), "NUL"),
        (replace(ORDER, lines=(replace(LINE, unit_price=Decimal("1e12")),)), "unit price"),
        (replace(ORDER, lines=(replace(LINE, unit_price=Decimal("NaN")),)), "unit price"),
        (replace(ORDER, currency="EURO"), "currency"),
        (replace(ORDER, currency="eur"), "currency"),
        (replace(ORDER, total=Decimal("-1e13")), "total"),
        (replace(ORDER, created_at=datetime(1, 1, 1, tzinfo=UTC)), "plausible"),
        (replace(ORDER, customer=Customer(["a@example.com"])), "not text"),  # type: ignore[arg-type]
        (replace(ORDER, tags=("t",) * 251), "tags"),
    ],
)
def test_what_no_store_sends_is_out_of_bounds_with_a_reason(order: Order, message: str) -> None:
    with pytest.raises(limits.OutOfBounds, match=message):
        limits.check_events([OrderUpserted(order)])


def test_free_text_is_cut_to_the_columns_not_refused() -> None:
    long = replace(ORDER, customer=Customer("a@example.com", name="N\x00" * 300, locale="x" * 30),
                   lines=(replace(LINE, title="T" * 900),))
    [checked] = limits.check_events([OrderUpserted(long)])
    assert isinstance(checked, OrderUpserted)
    assert checked.order.customer.name == "N" * 255 and checked.order.customer.locale is None
    assert len(checked.order.lines[0].title) == limits.TITLE_LENGTH


def test_stock_is_bounded_both_ways() -> None:
    level = StockLevel("s", "TEE", "main", -limits.MAX_STOCK)
    assert limits.check_events([StockChanged((level,))]) == [StockChanged((level,))]
    with pytest.raises(limits.OutOfBounds, match="available"):
        limits.check_events([StockChanged((replace(level, available=limits.MAX_STOCK + 1),))])


def test_privacy_requests_are_never_refused_only_trimmed_to_what_can_be_stored() -> None:
    request = CustomerRedactRequested("s", ["x"], "9" * 80, ("1", "2" * 70))  # type: ignore[arg-type]
    [checked] = limits.check_events([request])
    assert checked == CustomerRedactRequested("s", None, None, ("1",))
