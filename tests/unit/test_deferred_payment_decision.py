"""Deferred-payment orders in the pure decisions (issue 10): nothing authorized, nothing captured,
nothing lapses; the balance charged at release when the shop collects it, the goods waiting for it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from connector.domain.authorization_decision import authorization_due
from connector.domain.backorder_decision import (
    Flags,
    Line,
    Order,
    OrderPicture,
    Payment,
    Settings,
    Shop,
    Waiting,
    balance_key,
    decide,
)
from connector.domain.model import ActionKind as K

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SHOP = Shop("Cups & Co", "cups.example", "Europe/Rome", "it")
MUG = Line(1, "L1", "MUG", "Mug", 2, 0, Decimal("10.00"))
ORDER = Order("1001", "#1001", "EUR", "ada@example.com", "Ada", "it-IT")
HELD = Flags(3, True, True, date(2027, 1, 20), "sig", 1)
DEFERRED = Payment("pending", Decimal("20.00"), deferred=True)
CHARGE_ON_ARRIVAL = Settings(balance_collection="when_stock_arrives")


def picture(**changes: object) -> OrderPicture:
    base = OrderPicture(SHOP, CHARGE_ON_ARRIVAL, ORDER, (MUG,), flags=HELD, payment=DEFERRED, now=NOW)
    return replace(base, **changes)  # type: ignore[arg-type]


def kinds(p: OrderPicture) -> list[tuple[K, str]]:
    return [(a.kind, a.key) for a in decide(p).actions]


def test_the_goods_wait_for_the_balance_by_default() -> None:
    d = decide(picture())
    assert [(a.kind, a.key) for a in d.actions] == [(K.COLLECT_BALANCE, "g3:balance:a1")]
    assert d.actions[0].payload == {"currency": "EUR"}
    assert d.flags == HELD, "still held: released once the store reports the payment"
    assert decide(picture()).actions == d.actions  # the same decision again: the same key, nothing new


def test_paid_releases_without_charging_again() -> None:
    paid = kinds(picture(payment=replace(DEFERRED, status="paid")))
    assert (K.RELEASE, "g3:release:final") in paid
    assert not [k for k, _ in paid if k in (K.COLLECT_BALANCE, K.CAPTURE)]


def test_ship_anyway_releases_first_and_charges_after() -> None:
    keys = kinds(picture(settings=replace(CHARGE_ON_ARRIVAL, unpaid_balance_shipping="ship")))
    assert keys[0] == (K.RELEASE, "g3:release:final") and keys[-1] == (K.COLLECT_BALANCE, "g3:balance:a1")


@pytest.mark.parametrize("status", ["pending", "partially_paid"])
def test_shopify_collects_on_fulfilment_by_default(status: str) -> None:
    keys = kinds(picture(settings=Settings(), payment=replace(DEFERRED, status=status)))
    assert (K.RELEASE, "g3:release:final") in keys
    assert not [k for k, _ in keys if k in (K.COLLECT_BALANCE, K.CAPTURE)], "no capture: nothing was authorized"


def test_a_deposit_order_is_never_captured_nor_acted_on_at_a_lapse() -> None:
    deposit = replace(DEFERRED, status="partially_paid", authorized_at=NOW - timedelta(days=7), captured=Decimal(4))
    p = picture(settings=Settings(merchant_email="o@cups.example"), payment=deposit,
                waiting=(Waiting(1, 2, date(2027, 1, 20)),), now=NOW - timedelta(hours=3))
    assert authorization_due(p).warning == () and authorization_due(p).policy == ()
    assert not p.captures_later


def test_balance_keys_name_generation_and_attempt() -> None:
    assert balance_key(2) == "g2:balance:a1" and balance_key(2, 3) == "g2:balance:a3"
