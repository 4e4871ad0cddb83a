"""The backorder decision's transitions, table-driven, on plain values (no database)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from connector.domain.backorder_decision import (
    Decision,
    Flags,
    Line,
    Order,
    OrderPicture,
    Payment,
    Released,
    Settings,
    Shop,
    Waiting,
    decide,
    signature,
)
from connector.domain.model import ActionKind as K

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NOV17, NOV20, NOV10 = date(2026, 11, 17), date(2026, 11, 20), date(2026, 11, 10)
SHOP = Shop("Cups & Co", "cups.example", "Europe/Rome", "it")
MUG = Line(1, "L1", "MUG", "Mug", 5, 0, Decimal("10.00"))
TEE = Line(2, "L2", "TEE", "Tee", 4, 0, Decimal("20.00"))
CARD = Line(3, "L3", "CARD", "Gift card", 1, 0, Decimal("15.00"), requires_shipping=False)
AUTHORIZED = Payment("authorized", Decimal("145.00"), authorized_at=NOW - timedelta(days=2))
RETAIL = Order("1001", "#1001", "EUR", "ada@example.com", "Ada", "it-IT")
RESELLER = replace(RETAIL, is_reseller=True)
PER_SHIPMENT = Settings(capture_per_shipment=True)
SIG_COMPLETE = signature(["L1x5", "L2x4"])  # the whole order is held
SIG_TEE, SIG_BOTH = signature(["L2x4"]), signature(["L1x2", "L2x4"])
HELD = Flags(1, True, True, NOV17, SIG_TEE, 1)  # a reseller order waiting on the tees


def picture(**changes: object) -> OrderPicture:
    base = OrderPicture(SHOP, Settings(), RESELLER, (MUG, TEE, CARD), payment=AUTHORIZED, now=NOW)
    return replace(base, **changes)  # type: ignore[arg-type]


TEE_WAITS = (Waiting(2, 4, NOV17),)
MUG_RELEASED = (Released(70, 1, "MUG", 2),)

# name, picture, (kind, key) of each action in order, new flags, announced releases
CASES: list[tuple[str, OrderPicture, list[tuple[K, str]], Flags, set[int]]] = [
    (
        "retail lines start waiting: the whole order is held (ship complete)",
        picture(order=RETAIL, waiting=TEE_WAITS),
        [(K.START_BACKORDER, "g1:start"),
         (K.EMAIL, "g1:email:confirmation")],
        Flags(1, True, True, NOV17, SIG_COMPLETE, 1),
        set(),
    ),
    (
        "reseller lines start waiting: only they are held, what ships now is captured (per shipment)",
        picture(waiting=TEE_WAITS, settings=PER_SHIPMENT),
        [(K.START_BACKORDER, "g1:start"),
         (K.CAPTURE, "g1:capture:start"), (K.EMAIL, "g1:email:confirmation")],
        HELD,
        set(),
    ),
    (
        "reseller lines start waiting without capture per shipment: nothing is captured yet",
        picture(waiting=TEE_WAITS),
        [(K.START_BACKORDER, "g1:start"),
         (K.EMAIL, "g1:email:confirmation")],
        HELD,
        set(),
    ),
    (
        "lines start waiting on an order charged at purchase, customer emails off: no capture, no email",
        picture(waiting=TEE_WAITS, settings=Settings(notify_customers=False, capture_per_shipment=True),
                payment=Payment("paid", Decimal("145.00"), Decimal("145.00"))),
        [(K.START_BACKORDER, "g1:start")],
        HELD,
        set(),
    ),
    (
        "the order waits anew after a release: the generation grows",
        picture(waiting=TEE_WAITS, flags=Flags(1, False, False, None, None, 2)),
        [(K.START_BACKORDER, "g2:start"),
         (K.EMAIL, "g2:email:confirmation")],
        Flags(2, True, True, NOV17, SIG_TEE, 3),
        set(),
    ),
    (
        "nothing changed: nothing to do",
        picture(waiting=TEE_WAITS, flags=HELD),
        [],
        HELD,
        set(),
    ),
    (
        "the waiting set changes: the hold moves, the mugs that ship are captured and announced",
        picture(waiting=TEE_WAITS, released=MUG_RELEASED, settings=PER_SHIPMENT,
                flags=replace(HELD, hold_signature=SIG_BOTH)),
        [(K.HOLD, f"g1:hold:{SIG_TEE}"), (K.CAPTURE, f"g1:capture:{SIG_TEE}"),
         (K.EMAIL, f"g1:email:shipping:{SIG_TEE}")],
        HELD,
        {70},
    ),
    (
        "the waiting set changes without capture per shipment: announced, not captured",
        picture(waiting=TEE_WAITS, released=MUG_RELEASED, flags=replace(HELD, hold_signature=SIG_BOTH)),
        [(K.HOLD, f"g1:hold:{SIG_TEE}"), (K.EMAIL, f"g1:email:shipping:{SIG_TEE}")],
        HELD,
        {70},
    ),
    (
        "the waiting set changes on a ship-complete order: the hold moves, nothing ships yet",
        picture(order=RETAIL, waiting=TEE_WAITS, released=MUG_RELEASED, flags=replace(HELD, hold_signature="old")),
        [(K.HOLD, f"g1:hold:{SIG_COMPLETE}")],
        replace(HELD, hold_signature=SIG_COMPLETE),
        set(),
    ),
    (
        "the promise moves later: new date, an apology",
        picture(waiting=(Waiting(2, 4, NOV20),), flags=HELD),
        [(K.SET_ETA, "g1:eta:v2"), (K.EMAIL, "g1:email:eta_later:v2")],
        replace(HELD, promised_on=NOV20, promise_version=2),
        set(),
    ),
    (
        "the promise moves earlier: new date, good news",
        picture(waiting=(Waiting(2, 4, NOV10),), flags=HELD),
        [(K.SET_ETA, "g1:eta:v2"), (K.EMAIL, "g1:email:eta_earlier:v2")],
        replace(HELD, promised_on=NOV10, promise_version=2),
        set(),
    ),
    (
        "the promise is lost (no date known): the date is cleared, no email",
        picture(waiting=(Waiting(2, 4, None),), flags=HELD),
        [(K.SET_ETA, "g1:eta:v2")],
        replace(HELD, promised_on=None, promise_version=2),
        set(),
    ),
    (
        "all released: release, untag, capture the rest, email on its way",
        picture(released=(Released(71, 2, "TEE", 4),), flags=HELD),
        [(K.RELEASE, "g1:release:final"), (K.REMOVE_TAGS, "g1:untag"), (K.CAPTURE, "g1:capture:final"),
         (K.EMAIL, "g1:email:on_its_way")],
        Flags(1, False, False, None, None, 1),
        {71},
    ),
    (
        "all released on an order already paid in full: nothing to capture",
        picture(released=(Released(71, 2, "TEE", 4),), flags=HELD, payment=Payment("paid", Decimal("145.00"))),
        [(K.RELEASE, "g1:release:final"), (K.REMOVE_TAGS, "g1:untag"), (K.EMAIL, "g1:email:on_its_way")],
        Flags(1, False, False, None, None, 1),
        {71},
    ),
    (
        "an order that never waited: nothing to do",
        picture(),
        [],
        Flags(),
        set(),
    ),
    (
        "cancelled: our state is dropped, nothing is sent",
        picture(order=replace(RESELLER, cancelled=True), waiting=TEE_WAITS, flags=HELD),
        [],
        Flags(1, False, False, None, None, 1),
        set(),
    ),
]


@pytest.mark.parametrize(("name", "pic", "actions", "flags", "announced"), CASES, ids=[c[0] for c in CASES])
def test_transition(name: str, pic: OrderPicture, actions: list, flags: Flags, announced: set[int]) -> None:
    decision = decide(pic)
    assert [(a.kind, a.key) for a in decision.actions] == actions
    assert decision.flags == flags
    assert decision.announced == announced
    assert decision.cancel_pending == pic.order.cancelled


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_the_same_decision_made_again_does_nothing_new(case: tuple) -> None:
    pic = case[1]
    first = decide(pic)
    released = tuple(r for r in pic.released if r.backorder_id not in first.announced)
    again = decide(replace(pic, flags=first.flags, released=released))
    assert again.actions == ()
    assert again.flags == first.flags


def _by_key(decision: Decision) -> dict:
    return {a.key: a for a in decision.actions}


def test_payloads_of_a_start() -> None:
    acts = _by_key(decide(picture(order=RETAIL, waiting=TEE_WAITS, settings=PER_SHIPMENT)))
    assert acts["g1:start"].payload == {
        "tags": ["backorder"],
        "lines": [{"line_id": "L1", "quantity": 5}, {"line_id": "L2", "quantity": 4}],  # ship complete: all
        "reason": "awaiting stock",
        "eta": "2026-11-17",
        "note": "Backordered items are promised to ship by 2026-11-17.",
    }
    email = acts["g1:email:confirmation"].payload
    assert email["template"] == "backorder_confirmation" and email["to"] == "ada@example.com"
    assert email["locale"] == "it-IT" and email["promised_on"] == "2026-11-17"
    assert email["shop"]["sender_name"] == "Cups & Co" and email["shop"]["currency"] == "EUR"
    assert email["order"] == {"id": "1001", "name": "#1001", "customer_name": "Ada"}
    assert email["lines"] == [
        {"line_id": "L2", "sku": "TEE", "title": "Tee", "quantity": 4, "promised_on": "2026-11-17"}
    ]


def test_capture_amounts_follow_what_ships() -> None:
    start = _by_key(decide(picture(waiting=(Waiting(2, 3, NOV17),), settings=PER_SHIPMENT)))["g1:capture:start"]
    assert start.payload == {"amount": "70.00", "currency": "EUR"}  # 5 mugs and 1 of the 4 tees ship now
    assert start.captures == Decimal("70.00")
    moved = decide(picture(waiting=TEE_WAITS, released=MUG_RELEASED, settings=PER_SHIPMENT,
                           flags=replace(HELD, hold_signature=SIG_BOTH)))
    assert _by_key(moved)[f"g1:capture:{SIG_TEE}"].payload["amount"] == "20.00"  # peak 2 mugs
    final = decide(picture(released=(Released(71, 2, "TEE", 4),), flags=HELD,
                           payment=replace(AUTHORIZED, captured=Decimal("70.00"), refunded=Decimal("5.00"))))
    assert _by_key(final)["g1:capture:final"].payload["amount"] == "70.00"  # 145 - 70 captured - 5 refunded


def test_on_its_way_lists_what_ships_and_what_still_waits() -> None:
    moved = decide(picture(waiting=TEE_WAITS, released=MUG_RELEASED, flags=replace(HELD, hold_signature=SIG_BOTH)))
    email = _by_key(moved)[f"g1:email:shipping:{SIG_TEE}"].payload
    assert email["template"] == "on_its_way"
    assert email["lines"] == [{"line_id": "L1", "sku": "MUG", "title": "Mug", "quantity": 2}]
    assert [w["line_id"] for w in email["still_waiting"]] == ["L2"]
    final = decide(picture(released=(Released(71, 2, "TEE", 4),), flags=HELD,
                           lines=(replace(MUG, fulfilled_quantity=5), TEE, CARD)))
    email = _by_key(final)["g1:email:on_its_way"].payload
    assert email["lines"] == [{"line_id": "L2", "sku": "TEE", "title": "Tee", "quantity": 4}]
    assert email["still_waiting"] == []


def test_eta_emails_name_both_dates() -> None:
    later = _by_key(decide(picture(waiting=(Waiting(2, 4, NOV20),), flags=HELD)))["g1:email:eta_later:v2"]
    assert later.payload["promised_on"] == "2026-11-20" and later.payload["previous_promised_on"] == "2026-11-17"


def test_emails_that_only_tell_the_decision_do_not_wait_for_the_store() -> None:
    """The wait and its date are the customer's news as soon as they are decided; what was charged,
    or what ships, is told only once the store has done it."""
    start = _by_key(decide(picture(order=RETAIL, waiting=TEE_WAITS)))
    assert start["g1:email:confirmation"].waits_for_store is False
    later = _by_key(decide(picture(waiting=(Waiting(2, 4, NOV20),), flags=HELD)))
    assert later["g1:email:eta_later:v2"].waits_for_store is False
    charged = _by_key(decide(picture(waiting=(Waiting(2, 3, NOV17),), settings=PER_SHIPMENT)))
    assert "g1:capture:start" in charged and charged["g1:email:confirmation"].waits_for_store is True
    moved = _by_key(decide(picture(waiting=TEE_WAITS, released=MUG_RELEASED,
                                   flags=replace(HELD, hold_signature=SIG_BOTH))))
    assert moved[f"g1:email:shipping:{SIG_TEE}"].waits_for_store is True
    # some mugs ship and are charged, and the tees' date moves: that email also tells the charge
    charged_and_later = _by_key(decide(picture(waiting=(Waiting(2, 4, NOV20),), released=MUG_RELEASED,
                                               settings=PER_SHIPMENT, flags=replace(HELD, hold_signature=SIG_BOTH))))
    assert f"g1:capture:{SIG_TEE}" in charged_and_later
    assert charged_and_later["g1:email:eta_later:v2"].waits_for_store is True
    final = _by_key(decide(picture(released=(Released(71, 2, "TEE", 4),), flags=HELD)))
    assert final["g1:email:on_its_way"].waits_for_store is True
    decided = (start, later, charged, moved, charged_and_later, final)
    assert all(a.waits_for_store for d in decided for a in d.values() if a.kind != K.EMAIL)


def test_a_customer_without_email_gets_no_email() -> None:
    decision = decide(picture(order=replace(RESELLER, customer_email=None), waiting=TEE_WAITS))
    assert K.EMAIL not in {a.kind for a in decision.actions}


def test_the_decision_modules_import_no_database_framework_or_http() -> None:
    code = (
        "import sys, connector.domain.backorder_decision, connector.domain.authorization_decision\n"
        "bad = sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'flask', 'requests', 'werkzeug'})\n"
        "assert not bad, bad\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False,
                          env={"PYTHONPATH": str(root)})
    assert done.returncode == 0, done.stderr
