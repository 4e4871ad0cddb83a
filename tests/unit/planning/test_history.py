from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from connector.domain.model import Customer, Order, OrderLine, PaymentStatus
from connector.domain.planning.history import DemandRecord, build_history, records_from_orders

from .conftest import waiting

AS_OF = date(2026, 6, 1)


def test_backordered_demand_counts_and_cancelled_lines_do_not_except_their_backordered_part():
    day = AS_OF - timedelta(days=2)
    h = build_history([
        DemandRecord("A", day, 5, backordered_quantity=3),  # 5 wanted, 3 of them backordered: demand 5
        DemandRecord("A", day, 2, backordered_quantity=0, cancelled=True),  # cancelled: no demand
        DemandRecord("A", day, 4, backordered_quantity=1, cancelled=True),  # gave up waiting: 1 lost sale
    ], AS_OF, history_days=10)
    assert h.skus == ("A",)
    assert h.values[0, -2] == 6
    assert h.last_day == AS_OF - timedelta(days=1)


def test_days_before_first_sale_are_missing_not_zero_and_unsold_skus_are_zero():
    h = build_history([DemandRecord("new", AS_OF - timedelta(days=3), 2)], AS_OF, history_days=10, skus=["idle"])
    new = h.values[h.skus.index("new")]
    assert np.isnan(new[:7]).all() and list(new[7:]) == [2, 0, 0]
    assert (h.values[h.skus.index("idle")] == 0).all()
    assert list(h.series("new")) == [2, 0, 0]


def test_first_sale_given_by_caller_wins_and_old_records_fall_outside_the_window():
    recs = [DemandRecord("A", AS_OF - timedelta(days=40), 9), DemandRecord("A", AS_OF - timedelta(days=1), 1)]
    h = build_history(recs, AS_OF, history_days=10, first_sale={"A": AS_OF - timedelta(days=5)})
    assert np.isnan(h.values[0, :5]).all()
    assert np.nansum(h.values[0]) == 1


def test_bad_record_is_refused_with_the_sku_in_the_message():
    with pytest.raises(ValueError, match="'A'"):
        DemandRecord("A", AS_OF, 1, backordered_quantity=2)
    with pytest.raises(ValueError, match="negative"):
        DemandRecord("A", AS_OF, -1)


def test_records_from_orders_use_the_shop_day_and_mark_backordered_units():
    created = datetime(2026, 5, 31, 23, 30, tzinfo=UTC)  # already June 1st in Rome
    order = Order("shop", "o1", "#1", Customer("a@b.test"), "EUR", created, created, PaymentStatus.PAID, (
        OrderLine("1", "A", "A", 3, Decimal("5")),
        OrderLine("2", "GIFT", "card", 1, Decimal("5"), requires_shipping=False),
    ))
    recs = records_from_orders([order], [waiting("o1", "A", 2, 10)], timezone="Europe/Rome")
    assert recs == [DemandRecord("A", date(2026, 6, 1), 3, 2, False)]
