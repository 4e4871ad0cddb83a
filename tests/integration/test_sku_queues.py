"""An evaluation reads each SKU's head and the tail lines that changed, not the whole queue
(`sku_queues`). Checked here against the whole queue on random histories: after every evaluation,
every open line's stored record is what the engine allocates it from *all* the open lines, and
every quote is what the engine answers behind all of them."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from connector.backorders import sku_queues
from connector.backorders.availability import load_quotes, quote
from connector.backorders.evaluation import evaluate, load_open_lines, load_supplies
from connector.domain import engine
from connector.domain.model import BackorderState
from connector.shops.shop_days import shop_today, shop_zone
from connector.shops.shop_settings import ShopSettings
from connector.storage.tables import (
    BackorderRow,
    OrderLineRow,
    OrderRow,
    PurchaseOrderLineRow,
    PurchaseOrderRow,
    ShopRow,
    StockLevelRow,
    VariantRow,
)
from tests.sandbox_helpers import Harness

SKUS = ("TEE", "CAP", "MUG")


@dataclass
class Seen:
    """What the histories exercised: a check that cannot pass by reading everything every time."""

    unread: int = 0
    tail_checks_failed: int = 0
    evaluations: int = 0
    kinds: set[str] = field(default_factory=set)


def full_allocation(s, shop: ShopRow, now) -> dict[int, engine.LineAllocation]:  # type: ignore[no-untyped-def]
    settings = ShopSettings.from_mapping(shop.settings)
    supplies = load_supplies(s, shop.id, list(SKUS), settings)
    lines = load_open_lines(s, shop.id, list(SKUS), shop_zone(shop))
    policy = engine.Policy(settings.promise_quantile, settings.handling_days)
    return engine.allocate(supplies, lines, shop_today(shop, now), policy)


def assert_records_are_the_full_allocation(s, shop: ShopRow, now) -> None:  # type: ignore[no-untyped-def]
    wanted = full_allocation(s, shop, now)
    waiting = {row.line_id: row for row in s.scalars(
        select(BackorderRow).where(BackorderRow.shop_id == shop.id, BackorderRow.state == BackorderState.WAITING))}
    for key, alloc in wanted.items():
        row = waiting.pop(key, None)
        if not alloc.backordered:
            assert row is None, f"line {key} ships now but its record still waits"
            continue
        assert row is not None, f"line {key} waits but has no waiting record"
        assert (row.sku, row.quantity, row.in_stock_quantity, row.eta_p50, row.eta_p90, row.promised_on,
                row.source) == (alloc.sku, alloc.backordered, alloc.in_stock, alloc.eta_p50, alloc.eta_p90,
                                alloc.promised_on, alloc.source), f"line {key}"
    assert not waiting, f"waiting records of lines no longer open: {sorted(waiting)}"


def assert_quotes_are_the_full_queue(s, shop: ShopRow, now, skus: tuple[str, ...] = SKUS) -> None:  # type: ignore[no-untyped-def]
    settings = ShopSettings.from_mapping(shop.settings)
    supplies = load_supplies(s, shop.id, list(skus), settings)
    lines = load_open_lines(s, shop.id, list(skus), shop_zone(shop))
    policy = engine.Policy(settings.promise_quantile, settings.handling_days)
    got = load_quotes(s, shop, list(skus), now)
    for sku in skus:
        mine = [li for li in lines if li.sku == sku]
        expected = quote(supplies.get(sku), mine, shop_today(shop, now), now, policy, quantity=1)
        assert got[sku].quote == expected, sku


def step(s, shop: ShopRow, rng: random.Random, now, n: int, seen: Seen) -> None:  # type: ignore[no-untyped-def]
    """One random change to the shop's orders, stock, supply or settings."""
    open_orders = list(s.scalars(select(OrderRow).where(OrderRow.shop_id == shop.id, OrderRow.cancelled.is_(False))))
    kind = rng.choices(
        ["order", "stock", "cancel", "fulfil", "expedite", "lead", "po", "receive", "unpaid", "quantile"],
        weights=[40, 14, 5, 5, 8, 3, 4, 3, 3, 2],
    )[0]
    seen.kinds.add(kind)
    if kind == "order" or not open_orders:
        # out of order now and then: a webhook that arrives after later orders'
        placed = now - timedelta(minutes=rng.choice([0, 0, 0, 1, 30, 600, -3]))  # -3: the store's clock runs ahead
        order = OrderRow(shop_id=shop.id, external_id=f"o{n}", name=f"#{n}", currency="USD", placed_at=placed,
                         source_updated_at=placed, payment_status="paid", priority=0)
        s.add(order)
        s.flush()
        for j, sku in enumerate(rng.sample(SKUS, rng.choice([1, 1, 2]))):
            s.add(OrderLineRow(order_id=order.id, shop_id=shop.id, external_id=f"l{n}-{j}", sku=sku, title=sku,
                               quantity=rng.choice([1, 1, 2, 3]), unit_price=Decimal("10")))
    elif kind == "stock":
        level = s.scalars(select(StockLevelRow).where(StockLevelRow.shop_id == shop.id,
                                                      StockLevelRow.sku == rng.choice(SKUS))).first()
        level.available = rng.randint(-15, 9)
        level.updated_at = now
    elif kind == "cancel":
        rng.choice(open_orders).cancelled = True
    elif kind == "fulfil":
        lines = [li for o in open_orders for li in o.lines if li.quantity > li.fulfilled_quantity]
        if lines:
            line = rng.choice(lines)
            line.fulfilled_quantity += 1
    elif kind == "expedite":
        order = rng.choice(open_orders)
        order.priority = -1 if order.priority == 0 else 0
    elif kind == "lead":
        s.execute(update(VariantRow).where(VariantRow.shop_id == shop.id, VariantRow.sku == rng.choice(SKUS))
                  .values(lead_time_days=rng.choice([None, 10, 20, 45])))
    elif kind == "po":
        po = PurchaseOrderRow(shop_id=shop.id, reference=f"PO-{n}", draft=False, created_at=now,
                              expected_on=now.date() + timedelta(days=rng.randint(3, 30)))
        po.lines = [PurchaseOrderLineRow(sku=rng.choice(SKUS), quantity=rng.randint(1, 8))]
        s.add(po)
    elif kind == "receive":
        po = s.scalars(select(PurchaseOrderRow).where(PurchaseOrderRow.shop_id == shop.id,
                                                      PurchaseOrderRow.received_on.is_(None))).first()
        if po is not None:
            po.received_on = now.date()
    elif kind == "unpaid":
        order = rng.choice(open_orders)
        order.reserves_stock = not order.reserves_stock
    elif kind == "quantile":
        shop.settings = {**shop.settings, "promise_quantile": rng.choice([0.5, 0.9, 0.95])}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_reading_heads_and_changed_tails_records_what_the_whole_queue_does(
    sandbox: Harness, services, clock, monkeypatch, seed: int  # type: ignore[no-untyped-def]
) -> None:
    for sku in SKUS:
        sandbox.store.add_product(sku, sku.title(), "10.00", 3)
    sandbox.work()
    shop_id = services.shops.ref("sandbox", sandbox.store.domain).id
    seen = Seen()
    real_load, real_check = sku_queues.load_queues, sku_queues._tail_check_fails

    def load(*args, **kwargs):  # type: ignore[no-untyped-def]
        queues = real_load(*args, **kwargs)
        seen.unread += sum(queues.unread.values())
        seen.evaluations += 1
        return queues

    def check(*args, **kwargs):  # type: ignore[no-untyped-def]
        failed = real_check(*args, **kwargs)
        seen.tail_checks_failed += len(failed)
        return failed

    monkeypatch.setattr("connector.backorders.evaluation.load_queues", load)
    monkeypatch.setattr(sku_queues, "_tail_check_fails", check)
    rng = random.Random(seed)
    for n in range(160):
        if n % 40 == 39:  # a new day in the shop: today moves, waiting lines keep their day
            clock.advance(days=1)
        else:
            clock.advance(minutes=7)
        now = clock()
        with services.db.session() as s:
            shop = s.get(ShopRow, shop_id)
            step(s, shop, rng, now, n, seen)
            s.flush()
            evaluate(s, shop, list(SKUS), now)
            s.flush()
            assert_records_are_the_full_allocation(s, shop, now)
            assert_quotes_are_the_full_queue(s, shop, now)
    assert seen.evaluations == 160
    assert seen.unread > 0, "no evaluation left a tail unread: the histories test nothing"
    assert seen.tail_checks_failed > 0, "no lead-time or policy change was caught by the tail check"
    assert {"order", "stock", "cancel", "fulfil", "expedite", "lead"} <= seen.kinds


def test_a_new_day_does_not_move_a_waiting_tail(sandbox: Harness, services, clock) -> None:  # type: ignore[no-untyped-def]
    """The tail's dates are counted from each line's own waiting day, so a tail evaluated on a later
    day is not read (and not moved)."""
    sandbox.store.add_product("TEE", "Tee", "10.00", 1)
    sandbox.work()
    for i in range(6):
        sandbox.store.place_order({"email": f"c{i}@example.com", "name": "C", "locale": "en", "id": f"c{i}"},
                                  [("TEE", 1)])
    sandbox.work()
    clock.advance(days=3)
    shop_id = services.shops.ref("sandbox", sandbox.store.domain).id
    with services.db.session() as s:
        shop = s.get(ShopRow, shop_id)
        settings = ShopSettings.from_mapping(shop.settings)
        policy = engine.Policy(settings.promise_quantile, settings.handling_days)
        supplies = load_supplies(s, shop_id, ["TEE"], settings)
        queues = sku_queues.load_queues(s, shop_id, ["TEE"], supplies, shop_zone(shop), policy)
        before = {row.id: row.promised_on for row in s.scalars(select(BackorderRow))}
        evaluate(s, shop, ["TEE"], clock())
        s.flush()
        after = {row.id: row.promised_on for row in s.scalars(select(BackorderRow))}
    assert [li.key for li in queues.lines] == [min(li.key for li in queues.lines)]  # the one unit's line
    assert queues.unread == {"TEE": 5} and queues.open_lines == {"TEE": 6}
    assert after == before and all(isinstance(d, date) for d in after.values())


def test_a_quote_from_the_head_stands_behind_every_line_of_the_queue(sandbox: Harness, services, clock) -> None:  # type: ignore[no-untyped-def]
    """The next order ranks behind every open line, the tail's too: with an expedited head, it takes the
    tail's priority, not the head's (else it would rank ahead of a head line the store's clock placed
    a little ahead of ours, and be quoted that line's unit)."""
    sandbox.store.add_product("TEE", "Tee", "10.00", 1)
    sandbox.work()
    shop_id = services.shops.ref("sandbox", sandbox.store.domain).id
    now = clock()
    with services.db.session() as s:
        s.execute(update(StockLevelRow).where(StockLevelRow.shop_id == shop_id)
                  .values(available=1, updated_at=now - timedelta(days=1)))
        for name, priority, placed in (("A", -1, now + timedelta(minutes=5)), ("B", 0, now - timedelta(hours=1)),
                                       ("C", 0, now - timedelta(minutes=30))):
            order = OrderRow(shop_id=shop_id, external_id=name, name=name, currency="USD", placed_at=placed,
                             source_updated_at=placed, payment_status="paid", priority=priority)
            s.add(order)
            s.flush()
            s.add(OrderLineRow(order_id=order.id, shop_id=shop_id, external_id=name, sku="TEE", title="Tee",
                               quantity=1, unit_price=Decimal("10")))
        s.flush()
        shop = s.get(ShopRow, shop_id)
        got = load_quotes(s, shop, ["TEE"], now)["TEE"].quote
        assert_quotes_are_the_full_queue(s, shop, now, ("TEE",))
    assert got.status == "backorder"
