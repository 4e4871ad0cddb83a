from datetime import date

import numpy as np
import pytest

from connector.domain.planning.forecast import forecast_demand
from connector.domain.planning.history import DemandHistory
from connector.domain.planning.plan_settings import PlanSettings
from connector.domain.planning.screen import Promotions, after_shift, screen, with_promotions, without_promotions
from connector.domain.planning.simulate import simulate_policy, simulate_replanned

SETTINGS = PlanSettings(history_days=182, holdout_days=28, min_train_days=28)


def poisson(rate: np.ndarray, seed: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).poisson(rate).astype(float)


def test_screen_flags_trends_and_shifts_but_not_flat_or_noisy_demand():
    t = np.arange(182)
    flat = np.tile(np.full(182, 8.0), (20, 1))
    lumpy = np.where(np.random.default_rng(1).random((20, 182)) < 0.1, 12.0, 0.0)
    trend = np.tile(4 + 0.05 * t, (20, 1))  # 4 -> 13 a day
    step = np.tile(np.where(t >= 150, 16.0, 8.0), (20, 1))  # doubles from day 150
    found = screen(np.vstack([poisson(flat), lumpy, poisson(trend), poisson(step)]))
    assert found.trend[:40].sum() <= 1 and (found.shift_at[:40] < 0).sum() >= 39
    assert found.trend[40:60].all()
    shifted = found.shift_at[60:]
    assert (shifted >= 0).all() and np.abs(shifted - 150).max() <= 5
    assert not found.trend[60:].any()


def test_screen_ignores_skus_not_on_sale_long_enough():
    values = np.full((1, 182), np.nan)
    values[0, -20:] = np.arange(20.0)
    found = screen(values)
    assert not found.trend[0] and found.shift_at[0] == -1


def test_after_shift_blanks_the_days_before_the_shift():
    values = np.ones((2, 6))
    out = after_shift(values, np.array([3, -1]))
    assert np.isnan(out[0, :3]).all() and (out[0, 3:] == 1).all() and (out[1] == 1).all()


def test_promotions_leave_the_baseline_and_their_uplift_comes_back_on_known_days():
    values = np.array([[2.0, 2, 8, 8, 2, 2], [1.0, 1, 1, 1, 1, 1]])
    past = np.array([[False, False, True, True, False, False]] * 2)
    cleaned, uplift = without_promotions(values, past)
    assert cleaned[0].tolist() == [2.0] * 6 and uplift[0] == pytest.approx(4.0) and uplift[1] == pytest.approx(1.0)
    none_yet = np.array([np.nan])
    daily = np.full((1, 4), 3.0)
    assert with_promotions(daily, np.array([[False, True, False, False]]), none_yet).tolist() == [[3.0] * 4]
    lifted = with_promotions(np.full((2, 4), 3.0), np.array([[False, True, False, False]] * 2), uplift)
    assert lifted[0].tolist() == [3.0, 12.0, 3.0, 3.0] and lifted[1].tolist() == [3.0] * 4


def test_a_known_promotion_does_not_inflate_the_forecast_after_it():
    t = np.arange(182)
    rate = np.where((t >= 160) & (t < 167), 20.0, 5.0)
    values = poisson(np.tile(rate, (10, 1)))
    hist = DemandHistory(tuple(f"S{i}" for i in range(10)), date(2026, 1, 1), values)
    future = np.zeros((10, 14), bool)
    future[:, 7:10] = True
    known = forecast_demand(hist, 14, SETTINGS, Promotions(np.tile((t >= 160) & (t < 167), (10, 1)), future))
    assert known.daily[:, :7].mean() == pytest.approx(5.0, rel=0.12)
    assert known.daily[:, 7:10].mean() == pytest.approx(20.0, rel=0.2)  # the next promotion is planned for
    unknown = forecast_demand(hist, 14, SETTINGS)
    assert unknown.daily[:, :7].mean() > known.daily[:, :7].mean()


def test_trend_screen_sends_only_trending_skus_to_the_trend_model():
    t = np.arange(182)
    values = np.vstack([poisson(np.tile(np.full(182, 6.0), (6, 1))), poisson(np.tile(3 + 0.08 * t, (6, 1)))])
    fc = forecast_demand(DemandHistory(tuple(f"S{i}" for i in range(12)), date(2026, 1, 1), values), 14, SETTINGS)
    assert "trend_line" not in set(fc.model[:6]) and set(fc.model[6:]) == {"trend_line"}
    assert np.all(fc.daily[6:, 0] > 0.9 * (3 + 0.08 * 182))


def test_simulate_replanned_counts_orders_in_flight_and_replans_on_its_cadence():
    demand = np.full((1, 28), 2.0)
    calls = []

    def replan(t, stocked_out):
        calls.append((t, stocked_out.shape))
        return np.full((1, 7), 10.0), np.full((1, 7), 30.0)

    in_flight = np.zeros((1, 5))
    in_flight[0, 3] = 50
    sim = simulate_replanned(demand, replan, 7, np.array([4.0]), np.array([0.0]), np.random.default_rng(0),
                             np.array([4.0]), in_flight)
    assert calls == [(0, (1, 0)), (7, (1, 7)), (14, (1, 14)), (21, (1, 21))]
    # day 0: position 4 + 50 on order > 10: no order until the position falls to 10 (day 22)
    assert sim.orders[0, :22].sum() == 0 and sim.orders[0, 22] == 20
    assert sim.backorder_unit_days[0] == 2  # stock 4 lasts two days; day 2 waits for the 50 of day 3
    assert sim.fill_rate[0] == pytest.approx(54 / 56)


def test_simulate_policy_is_simulate_replanned_with_fixed_values():
    demand = np.random.default_rng(2).poisson(3.0, (5, 40)).astype(float)
    s, up = np.full(5, 12.0), np.full(5, 30.0)
    a = simulate_policy(demand, s, up, np.full(5, 5.0), np.full(5, 1.0), np.random.default_rng(4))
    b = simulate_replanned(demand, lambda t, _: (np.tile(s[:, None], 40)[:, t:], np.tile(up[:, None], 40)[:, t:]),
                           40, np.full(5, 5.0), np.full(5, 1.0), np.random.default_rng(4), np.round(up))
    assert (a.orders == b.orders).all() and (a.cycles_ok == b.cycles_ok).all()
    assert (a.on_hand >= 0).all()
