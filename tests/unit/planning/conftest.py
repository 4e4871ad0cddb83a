from datetime import UTC, date, datetime, timedelta

import pytest

from connector.domain.model import Backorder, BackorderState, Promise

AS_OF = date(2026, 6, 1)


def waiting(order_id: str, sku: str, qty: int, promised_in_days: int, made_days_ago: int = 1,
            line_id: str = "1") -> Backorder:
    made = datetime(2026, 6, 1, tzinfo=UTC) - timedelta(days=made_days_ago)
    due = AS_OF + timedelta(days=promised_in_days)
    return Backorder("shop", order_id, line_id, sku, qty, BackorderState.WAITING, Promise(due, due, due, made))


@pytest.fixture
def as_of() -> date:
    return AS_OF
