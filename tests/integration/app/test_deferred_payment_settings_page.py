"""The settings page explains the charge choices (issue 10) and refuses a bad retry schedule."""

from __future__ import annotations

from tests.integration.app.helpers import post
from tests.integration.app.test_settings_page import VALID


def test_the_page_explains_each_choice(merchant) -> None:  # type: ignore[no-untyped-def]
    html = merchant.get("/app/settings").get_data(as_text=True)
    assert "Pay when it ships (Shopify)" in html
    assert "Email a payment request, do not capture early (recommended)" in html
    assert "possibly weeks before anything ships" in html  # what capture_now means
    assert "Keep the goods until it is paid (recommended)" in html and "Ship anyway" in html
    assert 'value="24, 72, 168"' in html  # the default retry schedule, visible


def test_a_bad_retry_schedule_is_refused_and_nothing_saved(merchant, services, shop_id) -> None:  # type: ignore[no-untyped-def]
    before = services.shops.settings(shop_id)
    response = post(merchant, "/app/settings", {**VALID, "balance_retry_hours": "24, soon"})
    assert response.status_code == 422
    assert "whole number of hours" in response.get_data(as_text=True)
    assert services.shops.settings(shop_id) == before
