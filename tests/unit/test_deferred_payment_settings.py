"""The deferred-payment settings (issue 10): defaults, round trip, and what is refused."""

from __future__ import annotations

import pytest

from connector.shops.shop_settings import SettingsError, ShopSettings


def test_defaults_never_charge_early() -> None:
    s = ShopSettings()
    assert s.auth_expiry_policy == "request_payment"  # email a payment request, never capture before shipping
    assert (s.deposit_percent, s.balance_collection, s.unpaid_balance_shipping) == (0, "on_fulfillment", "wait")
    assert s.balance_retry_hours == (24, 72, 168)


def test_round_trip_keeps_the_retry_schedule_a_tuple() -> None:
    s = ShopSettings.from_mapping({"balance_retry_hours": [6, 30], "deposit_percent": 25})
    assert s.balance_retry_hours == (6, 30) and s.deposit_percent == 25
    assert ShopSettings.from_mapping(s.to_mapping()) == s


@pytest.mark.parametrize(("values", "field"), [
    ({"deposit_percent": 100}, "deposit_percent"),
    ({"deposit_percent": -1}, "deposit_percent"),
    ({"deposit_percent": True}, "deposit_percent"),
    ({"balance_collection": "whenever"}, "balance_collection"),
    ({"unpaid_balance_shipping": "maybe"}, "unpaid_balance_shipping"),
    ({"balance_retry_hours": [0]}, "balance_retry_hours"),
    ({"balance_retry_hours": ["x"]}, "balance_retry_hours"),
    ({"balance_retry_hours": [24] * 11}, "balance_retry_hours"),
    ({"balance_retry_hours": [24 * 31]}, "balance_retry_hours"),
])
def test_bad_values_are_refused_with_the_field(values: dict, field: str) -> None:
    with pytest.raises(SettingsError) as info:
        ShopSettings.from_mapping(values)
    assert set(info.value.errors) == {field}
