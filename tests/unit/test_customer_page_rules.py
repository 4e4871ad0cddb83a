"""The pure rules behind the customer's page (issue 16): charges, why a promise moved, the page link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from connector.domain.charges import Charges, charges
from connector.domain.promise_causes import CAUSES, promise_cause
from connector.mail.links import (
    OrderPageClaim,
    RefundOffer,
    RefundTokenExpired,
    RefundTokenInvalid,
    make_order_token,
    make_refund_token,
    read_order_token,
)
from connector.mail.payload import with_order_link

D = Decimal
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def test_an_authorization_captured_on_shipping() -> None:
    assert charges("authorized", D("64"), [], D("0"), D("0"), True) == Charges(D("0.00"), D("64.00"))
    assert charges("partially_paid", D("64"), [], D("14"), D("0"), True) == Charges(D("14.00"), D("50.00"))
    assert charges("partially_paid", D("64"), [], D("14"), D("50"), True) == Charges(D("14.00"), D("0.00"))


def test_paid_at_purchase_or_nothing_honest_to_say() -> None:
    assert charges("paid", None, [D("50"), D("14")], D("64"), D("0"), False) == Charges(D("64.00"), D("0.00"))
    assert charges("paid", D("64"), [], D("64"), D("14"), False) == Charges(D("50.00"), D("0.00"))
    assert charges("authorized", D("64"), [], D("0"), D("0"), False) == Charges(D("64.00"), D("0.00"))
    for status in ("pending", "refunded", "voided"):
        assert charges(status, D("64"), [], D("0"), D("0"), True) is None


@pytest.mark.parametrize(
    ("before", "after", "first", "cause"),
    [
        (None, "po:7", True, "incoming_shipment"),
        (None, "lead_time", True, "restock"),
        (None, "supplier:3", True, "restock"),
        (None, "dropship:2", True, "dropship"),
        ("po:7", "po:7", False, "shipment_moved"),
        ("po:7", "po:9", False, "new_shipment"),
        ("lead_time", "po:9", False, "new_shipment"),
        ("po:7", "supplier:3", False, "shipment_short"),
        ("supplier:3", "supplier:3", False, "restock_estimate"),
        ("po:7", "dropship:2", False, "dropship"),
    ],
)
def test_why_a_promise_was_made_or_moved(before: str | None, after: str, first: bool, cause: str) -> None:
    assert promise_cause(before, after, first) == cause
    assert cause in CAUSES


def test_an_order_link_is_signed_and_expires() -> None:
    claim = OrderPageClaim("shopify", "oak-ash.myshopify.com", "5550001")
    token = make_order_token("k", claim, now=NOW)
    assert read_order_token("k", token, now=NOW + timedelta(days=179)) == claim
    with pytest.raises(RefundTokenExpired):
        read_order_token("k", token, now=NOW + timedelta(days=181))
    with pytest.raises(RefundTokenInvalid):
        read_order_token("other-secret", token, now=NOW)
    with pytest.raises(RefundTokenInvalid):
        read_order_token("k", token[:-3] + "abc", now=NOW)


def test_a_refund_token_is_no_order_link() -> None:
    refund = make_refund_token("k", RefundOffer("shop", "1", ("l1",), "9"), now=NOW)
    with pytest.raises(RefundTokenInvalid):
        read_order_token("k", refund, now=NOW)


def test_the_link_goes_into_customer_emails_only() -> None:
    def link(platform: str, domain: str, order: str) -> str:
        return f"https://c.example/backorder/{platform}.{domain}.{order}"

    shop = {"platform": "sandbox", "domain": "s.sandbox"}
    confirmation = {"template": "backorder_confirmation", "shop": shop, "order": {"id": "1001"}}
    assert with_order_link(confirmation, link)["order_url"] == "https://c.example/backorder/sandbox.s.sandbox.1001"
    payment = {"template": "payment_request", "shop": shop, "order": {"id": "1001"}}
    assert with_order_link(payment, link)["order_url"].endswith("sandbox.s.sandbox.1001")
    merchant = {"template": "authorization_expiring", "shop": shop, "order": {"id": "1001"}}
    assert "order_url" not in with_order_link(merchant, link)
    refund_done = {"template": "refund_confirmation", "shop": shop, "order": {"id": "1001"}}
    assert "order_url" not in with_order_link(refund_done, link)  # its content shows no page link
    old = {"template": "backorder_confirmation", "shop": {"domain": "s.sandbox"}, "order": {"id": "1001"}}
    assert "order_url" not in with_order_link(old, link)  # enqueued before the shop's platform was in payloads
