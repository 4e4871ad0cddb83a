"""The promotion calendar as day masks for the forecast: which rows, which days, past and to come."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from connector.domain.planning.history import DemandHistory
from connector.domain.planning.promotions import MAX_DAYS, Promotion, promotion_days


def _history(days: int = 10) -> DemandHistory:
    return DemandHistory(("A", "B", "C"), date(2026, 1, 1), np.ones((3, days)))


def test_a_promotion_marks_its_skus_on_its_days_in_history_and_forecast() -> None:
    # history 1..10 January; the forecast starts on 11 January
    promo = Promotion("Winter sale", date(2026, 1, 9), date(2026, 1, 12), ("B", "nope"))
    known = promotion_days([promo], _history(), horizon=5)
    assert known is not None
    assert known.past.shape == (3, 10) and known.future.shape == (3, 5)
    assert known.past[1].nonzero()[0].tolist() == [8, 9]  # 9 and 10 January
    assert known.future[1].nonzero()[0].tolist() == [0, 1]  # 11 and 12 January
    assert not known.past[[0, 2]].any() and not known.future[[0, 2]].any()


def test_a_promotion_without_skus_covers_the_whole_shop() -> None:
    known = promotion_days([Promotion("All", date(2026, 1, 14), date(2026, 1, 14))], _history(), horizon=5)
    assert known is not None and known.future[:, 3].all() and known.future.sum() == 3 and not known.past.any()


def test_nothing_known_when_no_promotion_touches_the_windows() -> None:
    assert promotion_days([], _history(), 5) is None
    far = Promotion("Old", date(2025, 1, 1), date(2025, 1, 3))
    assert promotion_days([far, Promotion("Later", date(2026, 3, 1), date(2026, 3, 2))], _history(), 5) is None
    assert promotion_days([Promotion("Unknown SKU", date(2026, 1, 5), date(2026, 1, 6), ("Z",))], _history(), 5) is None


def test_a_promotion_must_end_after_it_starts_and_be_short() -> None:
    with pytest.raises(ValueError, match="ends on or after"):
        Promotion("x", date(2026, 1, 2), date(2026, 1, 1))
    with pytest.raises(ValueError, match=f"at most {MAX_DAYS}"):
        Promotion("x", date(2026, 1, 1), date(2026, 6, 1))
