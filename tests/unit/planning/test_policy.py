import numpy as np
import pytest
from scipy import stats

from connector.domain.planning import policy
from connector.domain.planning.simulate import simulate_policy


def arr(*x: float) -> np.ndarray:
    return np.array(x, dtype=float)


def test_lead_time_demand_combines_demand_and_lead_time_spreads():
    daily = np.full((1, 60), 4.0)
    mean, sd = policy.demand_over(daily, arr(2.0), arr(10.0), arr(3.0))
    assert mean[0] == pytest.approx(40.0)
    assert sd[0] == pytest.approx(np.sqrt(10 * 2.0**2 + 4.0**2 * 3.0**2))
    _, sd_level = policy.demand_over(daily, arr(2.0), arr(10.0), arr(0.0), level_spread=arr(0.5))
    assert sd_level[0] == pytest.approx(np.sqrt(10 * 4 + 100 * 0.25))
    # fractional lead times interpolate the forecast
    assert policy.cumulative(np.arange(1.0, 6.0)[None, :], arr(2.5))[0] == pytest.approx(1 + 2 + 1.5)


def test_reorder_point_is_the_service_level_quantile_and_stockout_probability_agrees():
    daily = np.full((2, 60), 5.0)
    pol = policy.reorder_policy(daily, arr(2.0, 0.0), arr(10.0, 10.0), arr(2.0, 0.0), 0.95, 7)
    mean, sd = 50.0, np.sqrt(10 * 4 + 25 * 4)
    under = (4 + 25) / 10 - 0.5
    k, theta = (mean + under) ** 2 / sd**2, sd**2 / (mean + under)
    assert pol.reorder_point[0] == pytest.approx(stats.gamma.ppf(0.95, k, scale=theta))
    assert pol.safety_stock[0] == pytest.approx(pol.reorder_point[0] - 50)
    assert pol.order_up_to[0] > pol.reorder_point[0] + 30  # covers the review period too
    # no spread at all: lead-time demand plus the undershoot of steady demand, (5 - 1) / 2
    assert pol.reorder_point[1] == pytest.approx(52.0)
    assert pol.order_up_to[1] == pytest.approx(85.0)
    p = policy.exceed_probability(pol.reorder_point[:1], np.array([mean + under]), np.array([sd]))
    assert p[0] == pytest.approx(0.05, abs=1e-6)


def test_suggested_quantity_orders_up_to_only_at_or_below_the_reorder_point():
    pol = policy.Policy(arr(5, 5, 5), arr(20, 20, 20), arr(50, 50, 50), arr(15, 15, 15), arr(3, 3, 3))
    assert list(policy.suggested_quantity(arr(21, 20, -4.5), pol)) == [0, 30, 55]


def test_eoq_is_wilsons_formula_and_off_without_costs():
    q = policy.economic_order_quantity(arr(10.0, 10.0), arr(4.0, 0.0), ordering_cost=50, holding_rate=0.25)
    assert q[0] == pytest.approx(np.sqrt(2 * 3650 * 50 / 1.0))
    assert q[1] == 0
    assert policy.economic_order_quantity(arr(10.0), arr(4.0), 0.0, 0.25)[0] == 0


def test_expected_shortage_matches_monte_carlo_and_counts_waiting_customers():
    rng = np.random.default_rng(1)
    mean, sd = 20.0, 8.0
    k, theta = mean**2 / sd**2, sd**2 / mean
    draws = rng.gamma(k, theta, 400_000)
    for a in (0.0, 15.0, 30.0):
        mc = np.maximum(draws - a, 0).mean()
        assert policy.expected_shortage(arr(a), arr(mean), arr(sd))[0] == pytest.approx(mc, rel=0.02)
    assert policy.expected_shortage(arr(-5.0), arr(mean), arr(sd))[0] == pytest.approx(25.0)
    assert policy.expected_shortage(arr(3.0), arr(5.0), arr(0.0))[0] == pytest.approx(2.0)


def test_expected_backorder_unit_days_deterministic_case():
    daily = np.full((1, 10), 2.0)
    available = np.full((1, 10), 3.0)  # 3 units, nothing arriving
    # shortage by end of day t: max(2t - 3, 0) = 0, 1, 3, 5 for t = 1..4
    days = policy.expected_backorder_unit_days(daily, arr(0.0), available, arr(4.0))
    assert days[0] == pytest.approx(0 + 1 + 3 + 5)


def test_undershoot_of_steady_integer_demand_is_half_a_day_less_one_half():
    assert policy.undershoot(arr(4.0, 0.0), arr(0.0, 0.0)) == pytest.approx([1.5, 0.0])


def test_policy_achieves_the_service_level_asked_for_in_simulation():
    """Known Poisson demand and lead times: the achieved cycle service level is near the target."""
    rng = np.random.default_rng(42)
    n, days = 400, 365
    rate = rng.uniform(2, 12, n)
    lead, lead_sd = np.full(n, 10.0), np.full(n, 2.0)
    daily = np.repeat(rate[:, None], days + 40, axis=1)
    for target in (0.9, 0.97):
        pol = policy.reorder_policy(daily, np.sqrt(rate), lead, lead_sd, target, 7)
        sim = simulate_policy(rng.poisson(rate[:, None], (n, days)).astype(float), pol.reorder_point,
                              pol.order_up_to, lead, lead_sd, rng)
        achieved = sim.cycles_ok.sum() / sim.cycles.sum()
        assert achieved == pytest.approx(target, abs=0.03)
        assert sim.cycles.min() >= 10
