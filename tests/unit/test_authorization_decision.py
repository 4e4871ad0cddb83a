"""When a payment authorization nears its expiry: the pure decision, table-driven (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from connector.domain.authorization_decision import authorization_due
from connector.domain.backorder_decision import Flags, Line, Order, OrderPicture, Payment, Settings, Shop, Waiting
from connector.domain.model import ActionKind as K

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NOV17 = date(2026, 11, 17)
SHOP = Shop("Cups & Co", "cups.example", "Europe/Rome", "it")
MUG = Line(1, "L1", "MUG", "Mug", 5, 0, Decimal("10.00"))
TEE = Line(2, "L2", "TEE", "Tee", 4, 0, Decimal("20.00"))
CARD = Line(3, "L3", "CARD", "Gift card", 1, 0, Decimal("15.00"), requires_shipping=False)
AUTHORIZED = Payment("authorized", Decimal("145.00"), authorized_at=NOW - timedelta(days=2))
RESELLER = Order("1001", "#1001", "EUR", "ada@example.com", "Ada", "it-IT", is_reseller=True)
HELD = Flags(1, True, True, NOV17, "sig", 1)
TEE_WAITS = (Waiting(2, 4, NOV17),)


def picture(**changes: object) -> OrderPicture:
    base = OrderPicture(SHOP, Settings(), RESELLER, (MUG, TEE, CARD), payment=AUTHORIZED, now=NOW)
    return replace(base, **changes)  # type: ignore[arg-type]


MERCHANT = Settings(merchant_email="owner@cups.example")
AUTH_AT = NOW - timedelta(days=7)  # expires at NOW with the default 7 days' validity
STAMP = AUTH_AT.isoformat()

# name, hours before expiry, settings, (kind, key) of the warning, of the policy's actions
AUTH_CASES: list[tuple[str, float, Settings, list[tuple[K, str]], list[tuple[K, str]]]] = [
    ("two days ahead: nothing yet", 48, MERCHANT, [], []),
    ("within the warning window: the merchant is warned", 20, MERCHANT, [(K.EMAIL, f"auth:{STAMP}:warning")], []),
    ("no merchant email: no warning", 20, Settings(), [], []),
    (
        "shortly before expiry, capture policy: capture and note",
        5,
        replace(MERCHANT, auth_expiry_policy="capture_now"),
        [(K.EMAIL, f"auth:{STAMP}:warning")],
        [(K.CAPTURE, f"auth:{STAMP}:capture"), (K.NOTE, f"auth:{STAMP}:note")],
    ),
    (
        "shortly before expiry, payment request policy (the default): ask the customer and note",
        5,
        MERCHANT,
        [(K.EMAIL, f"auth:{STAMP}:warning")],
        [(K.EMAIL, f"auth:{STAMP}:payment_request"), (K.NOTE, f"auth:{STAMP}:note")],
    ),
    ("already expired: too late to act", -1, MERCHANT, [], []),
]


@pytest.mark.parametrize(("name", "hours", "settings", "warning", "policy"), AUTH_CASES,
                         ids=[c[0] for c in AUTH_CASES])
def test_authorization_near_expiry(name: str, hours: float, settings: Settings, warning: list, policy: list) -> None:
    pic = picture(waiting=TEE_WAITS, flags=HELD, settings=settings, payment=replace(AUTHORIZED, authorized_at=AUTH_AT),
                  now=NOW - timedelta(hours=hours))
    due = authorization_due(pic)
    assert [(a.kind, a.key) for a in due.warning] == warning
    assert [(a.kind, a.key) for a in due.policy] == policy


def test_authorization_payloads() -> None:
    pic = picture(waiting=TEE_WAITS, flags=HELD, settings=replace(MERCHANT, auth_expiry_policy="capture_now"),
                  now=NOW - timedelta(hours=5),
                  payment=replace(AUTHORIZED, authorized_at=AUTH_AT, captured=Decimal("45.00")))
    due = authorization_due(pic)
    warning = due.warning[0].payload
    assert warning["to"] == "owner@cups.example" and warning["locale"] == "it"
    assert warning["amount"] == "100.00" and warning["planned_action"] == "capture"
    assert warning["lines"] == [{"line_id": "L2", "sku": "TEE", "title": "Tee", "quantity": 4}]
    capture = due.policy[0]
    assert capture.payload == {"amount": "100.00", "currency": "EUR"} and capture.captures == Decimal("100.00")
    assert "captured" in due.policy[1].payload["text"]


def test_nothing_outstanding_or_not_authorized_needs_no_action() -> None:
    near = {"flags": HELD, "settings": MERCHANT, "now": NOW - timedelta(hours=5)}
    paid = picture(payment=Payment("paid", Decimal("145.00"), Decimal("145.00"), authorized_at=AUTH_AT), **near)
    captured = picture(payment=replace(AUTHORIZED, authorized_at=AUTH_AT, captured=Decimal("145.00")), **near)
    assert authorization_due(paid) == authorization_due(captured) == authorization_due(picture(**near))
    assert authorization_due(paid).warning == () and authorization_due(paid).policy == ()




def test_mail_lines_are_all_the_lines_when_none_waits() -> None:
    pic = picture(settings=MERCHANT, now=NOW - timedelta(hours=20), payment=replace(AUTHORIZED, authorized_at=AUTH_AT))
    lines = authorization_due(pic).warning[0].payload["lines"]
    assert [(x["line_id"], x["quantity"]) for x in lines] == [("L1", 5), ("L2", 4), ("L3", 1)]
