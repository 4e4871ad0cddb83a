import numpy as np
import pytest

from connector.domain.planning.bullwhip import damped_plan, period_sums, simulate_orders, variance_ratio


@pytest.mark.parametrize("lead_periods", [1, 2, 4])
def test_undamped_order_up_to_amplifies_and_the_damped_policy_does_not(lead_periods):
    rng = np.random.default_rng(lead_periods)
    demand = rng.poisson(50, (200, 150)).astype(float)
    undamped = simulate_orders(demand, lead_periods, alpha=0.3, damping_periods=1, max_change_ratio=None)
    damped = simulate_orders(demand, lead_periods, alpha=0.3, damping_periods=3, max_change_ratio=0.25)
    vr_u = np.median(variance_ratio(undamped[:, 10:], demand[:, 10:]))
    vr_d = np.median(variance_ratio(damped[:, 10:], demand[:, 10:]))
    assert vr_u > 1.5
    assert 0.5 < vr_d < 1.25
    # orders still follow demand on average: nothing is lost by damping
    assert damped[:, 10:].mean() == pytest.approx(demand[:, 10:].mean(), rel=0.03)


def test_damped_plan_respects_the_change_cap_and_settles_on_the_forecast():
    forecast = np.full((2, 12), 70.0)
    plan = damped_plan(forecast, position=np.array([0.0, 400.0]), buffer=np.array([30.0, 30.0]),
                       lead_periods=np.array([2.0, 2.0]), damping_periods=3, max_change_ratio=0.25)
    steps = np.abs(np.diff(np.c_[forecast[:, :1], plan.orders], axis=1))
    assert (steps <= 0.25 * 70 + 0.5).all()  # +0.5: orders are rounded to units
    assert plan.orders[0, 0] > 70 and plan.orders[1, 0] < 70  # short raises, long lowers orders
    assert plan.orders[:, -1] == pytest.approx([70, 70], abs=8)


def test_period_sums_need_a_long_enough_horizon():
    assert period_sums(np.ones((1, 14)), 7, 2).tolist() == [[7.0, 7.0]]
    with pytest.raises(ValueError, match="shorter"):
        period_sums(np.ones((1, 10)), 7, 2)
