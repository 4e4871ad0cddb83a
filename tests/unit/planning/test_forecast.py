from datetime import date

import numpy as np
import pytest

from connector.domain.planning.forecast import ALL_NAMES, MEAN, ZERO, classify, forecast_demand
from connector.domain.planning.history import DemandHistory
from connector.domain.planning.plan_settings import PlanSettings

SETTINGS = PlanSettings(history_days=120, holdout_days=28, min_train_days=28)


def history(values: np.ndarray) -> DemandHistory:
    return DemandHistory(tuple(f"S{i}" for i in range(values.shape[0])), date(2026, 1, 1), values.astype(float))


def test_forecasts_of_known_poisson_demand_are_close_to_the_true_rate():
    rng = np.random.default_rng(11)
    rate = np.repeat([8.0, 2.0, 0.4], 12)  # smooth, frequent, intermittent
    fc = forecast_demand(history(rng.poisson(rate[:, None], size=(rate.size, 120))), 14, SETTINGS)
    level = fc.daily.mean(axis=1)
    rel = np.abs(level - rate) / rate
    assert np.mean(rel) < 0.2  # measured ~0.1
    assert np.all(rel < 0.6)
    assert set(fc.model) <= set(ALL_NAMES)
    # the reported error is the holdout error of the chosen model: close to the Poisson spread
    assert np.all(np.isfinite(fc.rmse)) and np.all(fc.rmse > 0)
    assert np.median(fc.rmse / np.sqrt(rate)) == pytest.approx(1.0, abs=0.25)
    assert np.all(fc.spread >= fc.rmse)


def test_a_strong_trend_is_followed():
    rng = np.random.default_rng(5)
    t = np.arange(120)
    rate = 5 + 0.15 * t  # 5 -> 23 a day
    fc = forecast_demand(history(rng.poisson(np.tile(rate, (4, 1)))), 7, SETTINGS)
    assert np.all(fc.daily[:, 0] > 18)  # far above the history mean of ~14


def test_no_demand_gives_zero_and_short_history_gives_the_mean():
    values = np.full((2, 120), np.nan)
    values[0] = 0
    values[1, -20:] = np.tile([1.0, 3.0], 10)
    fc = forecast_demand(history(values), 5, SETTINGS)
    assert list(fc.model) == [ZERO, MEAN]
    assert (fc.daily[0] == 0).all() and fc.rmse[0] == 0
    assert fc.daily[1] == pytest.approx([2.0] * 5)
    assert np.isnan(fc.rmse[1]) and fc.spread[1] > 0


def test_demand_classes():
    smooth = np.full(100, 4.0)
    intermittent = np.where(np.arange(100) % 4 == 0, 2.0, 0.0)
    lumpy = np.where(np.arange(100) % 5 == 0, np.tile([1.0, 20.0], 50), 0.0)
    assert list(classify(np.vstack([smooth, intermittent, lumpy, np.zeros(100)]))) == [
        "smooth", "intermittent", "lumpy", "none"]


def test_fast_model_set_skips_the_trend_model():
    rng = np.random.default_rng(5)
    rate = 5 + 0.15 * np.arange(120)
    fast = PlanSettings(history_days=120, holdout_days=28, min_train_days=28, model_set="fast")
    fc = forecast_demand(history(rng.poisson(np.tile(rate, (3, 1)))), 7, fast)
    assert "trend_line" not in set(fc.model)
