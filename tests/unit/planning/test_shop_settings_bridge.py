"""The shop's settings as planning settings (the dropship rules, service level, penalty)."""

from __future__ import annotations

import pytest

from connector.backorders.dropship_routing import NEVER, plan_settings_for
from connector.domain.planning.plan_settings import PlanningSettingsError
from connector.shops.shop_settings import ShopSettings


def test_shop_settings_become_planning_settings() -> None:
    shop = ShopSettings.from_mapping({"dropship_value_threshold": 12.5, "dropship_shortage_threshold": 6,
                                      "dropship_margin_days": 2, "service_level": 0.9,
                                      "backorder_penalty_per_unit_day": 1.25, "planning.model_set": "fast"})
    plan = plan_settings_for(shop)
    assert (plan.dropship_value_threshold, plan.dropship_large_shortage, plan.dropship_margin_days) == (12.5, 6, 2.0)
    assert (plan.service_level, plan.penalty_per_unit_day, plan.model_set) == (0.9, 1.25, "fast")
    assert plan_settings_for(shop, model_set="full").model_set == "full"


def test_a_shortage_threshold_of_zero_turns_that_rule_off() -> None:
    assert plan_settings_for(ShopSettings()).dropship_large_shortage == NEVER


def test_a_bad_planning_key_is_a_clear_error() -> None:
    with pytest.raises(PlanningSettingsError, match="review_period_days"):
        plan_settings_for(ShopSettings.from_mapping({"planning.review_period_days": "0"}))
