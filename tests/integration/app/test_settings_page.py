"""The settings page: every merchant setting shown, saved, and refused with clear errors."""

from __future__ import annotations

import dataclasses

from connector.shops.shop_settings import ShopSettings
from tests.integration.app.helpers import post

VALID = {
    "default_lead_time_days": "21",
    "lead_time_spread_days": "4.5",
    "promise_quantile": "0.95",
    "handling_days": "2",
    "grace_days": "3",
    "refund_offer_valid_days": "10",
    "charge_policy": "capture_at_purchase",
    "capture_per_shipment": "y",
    "auth_expiry_policy": "request_payment",
    "auth_warning_hours": "36",
    "authorization_validity_days": "29",
    "payment_url": "https://oak-ash.example/pay",
    "retail_partial_shipments": "partial",
    "reseller_partial_shipments": "complete",
    "reseller_tags": "b2b, wholesale , b2b",
    "backorder_tag": "awaiting-stock",
    "notify_customers": "y",
    "email_languages": ["en", "it"],
    "sender_name": "Oak & Ash",
    "reply_to": "help@oak-ash.example",
    "merchant_email": "owner@oak-ash.example",
    "brand_color": "#aa3300",
    "logo_url": "https://oak-ash.example/logo.png",
    "po_receipt_updates_store_stock": "y",
    "dropship_value_threshold": "250.00",
    "dropship_shortage_threshold": "5",
    "dropship_margin_days": "4",
    "service_level": "0.97",
    "backorder_penalty_per_unit_day": "0.8",
    "max_order_quantity": "5000",
    "longest_wait_days": "45",  # selling limits (issue 10)
    # deferred payment (issue 10)
    "deposit_percent": "20",
    "balance_collection": "when_stock_arrives",
    "unpaid_balance_shipping": "ship",
    "balance_retry_hours": "12, 48",
    "customer_ship_ahead": "y",
    "ship_ahead_shipping_paid_by": "customer",
    "ship_ahead_shipping_fee": "4.90",
}

MERCHANT_FIELDS = {f.name for f in dataclasses.fields(ShopSettings)} - {"extra"}


def test_the_form_covers_every_setting(merchant) -> None:  # type: ignore[no-untyped-def]
    html = merchant.get("/app/settings").get_data(as_text=True)
    for name in MERCHANT_FIELDS:
        assert f'name="{name}"' in html, name
    assert set(VALID) == MERCHANT_FIELDS


def test_valid_settings_are_saved(merchant, services, shop_id) -> None:  # type: ignore[no-untyped-def]
    response = post(merchant, "/app/settings", VALID)
    assert response.status_code == 302
    assert "Settings saved" in merchant.get("/app/settings").get_data(as_text=True)
    saved = services.shops.settings(shop_id)
    assert saved.default_lead_time_days == 21 and saved.lead_time_spread_days == 4.5
    assert saved.promise_quantile == 0.95 and saved.handling_days == 2
    assert saved.grace_days == 3 and saved.refund_offer_valid_days == 10
    assert (saved.charge_policy, saved.auth_expiry_policy, saved.auth_warning_hours) == (
        "capture_at_purchase", "request_payment", 36)
    assert (saved.authorization_validity_days, saved.payment_url) == (29, "https://oak-ash.example/pay")
    assert saved.capture_per_shipment is True
    assert saved.retail_partial_shipments is True and saved.reseller_partial_shipments is False
    assert saved.reseller_tags == ("b2b", "wholesale") and saved.backorder_tag == "awaiting-stock"
    assert saved.email_languages == ("en", "it") and saved.notify_customers is True
    assert (saved.customer_ship_ahead, saved.ship_ahead_shipping_paid_by, saved.ship_ahead_shipping_fee) == (
        True,
        "customer",
        4.9,
    )
    assert (saved.sender_name, saved.reply_to, saved.merchant_email) == (
        "Oak & Ash", "help@oak-ash.example", "owner@oak-ash.example")
    assert (saved.brand_color, saved.logo_url) == ("#aa3300", "https://oak-ash.example/logo.png")
    assert saved.dropship_value_threshold == 250.0 and saved.dropship_shortage_threshold == 5
    assert saved.service_level == 0.97 and saved.backorder_penalty_per_unit_day == 0.8
    assert saved.max_order_quantity == 5000
    assert (saved.deposit_percent, saved.balance_collection, saved.unpaid_balance_shipping) == (
        20, "when_stock_arrives", "ship")
    assert saved.balance_retry_hours == (12, 48)
    page = merchant.get("/app/settings").get_data(as_text=True)
    assert 'value="awaiting-stock"' in page and 'value="b2b, wholesale"' in page


def test_unchecked_boxes_turn_settings_off(merchant, services, shop_id) -> None:  # type: ignore[no-untyped-def]
    data = {k: v for k, v in VALID.items() if k not in ("notify_customers", "po_receipt_updates_store_stock")}
    assert post(merchant, "/app/settings", data).status_code == 302
    saved = services.shops.settings(shop_id)
    assert saved.notify_customers is False and saved.po_receipt_updates_store_stock is False


def test_bad_settings_are_refused_with_errors_next_to_the_fields(merchant, services, shop_id) -> None:  # type: ignore[no-untyped-def]
    before = services.shops.settings(shop_id)
    bad = {
        **VALID,
        "default_lead_time_days": "400",  # ShopSettings.validate
        "grace_days": "soon",  # not a number
        "backorder_tag": "a,b",  # ShopSettings.validate
        "reply_to": "not-an-email",
        "brand_color": "red",
        "logo_url": "http://insecure.example/logo.png",
        "email_languages": [],
        "promise_quantile": "0.3",  # not one of the choices (a tampered form)
        "dropship_margin_days": "-1",
    }
    response = post(merchant, "/app/settings", bad)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Nothing was saved" in html
    expected = {
        "grace_days": "Not a valid integer value",
        "reply_to": "enter an email address",
        "brand_color": "a colour like #1f6feb",
        "logo_url": "https://",
        "email_languages": "choose at least one language",
        "promise_quantile": "Not a valid choice",
        "dropship_margin_days": "Number must be between 0 and 90",
    }
    for name, message in expected.items():
        assert f'<p class="error" data-field="{name}">' in html, name
        assert message in html.split(f'data-field="{name}">')[1].split("</p>")[0], name
    assert services.shops.settings(shop_id) == before


def test_range_rules_of_the_settings_model_show_next_to_their_fields(merchant, services, shop_id) -> None:  # type: ignore[no-untyped-def]
    response = post(merchant, "/app/settings", {**VALID, "default_lead_time_days": "400", "backorder_tag": "a,b",
                                                 "auth_warning_hours": "0", "authorization_validity_days": "45"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-field="default_lead_time_days">must be between 0 and 365 days' in html
    assert 'data-field="backorder_tag">must be one tag, without commas' in html
    assert 'data-field="auth_warning_hours">must be between 1 and 144 hours' in html
    assert 'data-field="authorization_validity_days">must be between 1 and 30 days' in html
    assert services.shops.settings(shop_id).default_lead_time_days == 14


def test_promises_follow_new_settings_at_once(merchant, sandbox, services) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.app.conftest import CUSTOMER

    sandbox.store.add_product("BAG", "Tote bag", "18.00", 0)  # no lead time of its own: the shop's default
    order = sandbox.store.place_order(CUSTOMER, [("BAG", 1)])
    sandbox.settle()
    assert sandbox.store.orders[order["id"]]["eta"] == "2026-11-21"  # 14 days, spread 3 at P90, +1 handling
    data = {**VALID, "default_lead_time_days": "20", "lead_time_spread_days": "0", "promise_quantile": "0.9",
            "handling_days": "1", "notify_customers": ""}
    assert post(merchant, "/app/settings", data).status_code == 302
    sandbox.work()
    assert sandbox.store.orders[order["id"]]["eta"] == "2026-11-23"
