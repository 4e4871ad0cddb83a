import pytest

from connector.domain.planning.plan_settings import PlanningSettingsError, PlanSettings


def test_from_mapping_converts_form_strings_and_ignores_other_keys():
    s = PlanSettings.from_mapping({"planning.service_level": "0.98", "planning.review_period_days": "14",
                                   "planning.stock_nets_backorders": "false", "currency": "EUR"})
    assert s.service_level == 0.98 and s.review_period_days == 14 and s.stock_nets_backorders is False


@pytest.mark.parametrize(("values", "message"), [
    ({"planning.service_level": "1.2"}, "service_level"),
    ({"planning.service_level": "high"}, "planning.service_level must be a float"),
    ({"planning.colour": "1"}, "unknown planning setting"),
    ({"planning.stock_nets_backorders": "maybe"}, "true or false"),
    ({"planning.holdout_days": "200"}, "history_days"),
    ({"planning.model_set": "all"}, "model_set"),
])
def test_bad_settings_are_refused_by_name(values, message):
    with pytest.raises(PlanningSettingsError, match=message):
        PlanSettings.from_mapping(values)
