"""A flash sale worked off from a backlog longer than a stock hold's limit (issue 13's full size, made
small): the benchmark's Shopify webhooks, stored as they arrive, applied in claims while the clock runs
on, the holds moving on through checkpoints. No customer is told their order waits and then that it
ships: an order that waits after one batch waits after every later one."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from benchmarks.flash_workload import APP_SECRET, make_workload, store_in_process
from connector.bootstrap import build_services
from connector.config import load_config
from connector.intake import apply, inbox
from connector.storage.tables import BackorderRow, OrderRow, StockLevelRow
from tests.conftest import Clock


class Waiting:
    """The orders that wait, looked at again and again; those that waited and then did not."""

    def __init__(self) -> None:
        self.now: set[str] = set()
        self.taken_back: set[str] = set()

    def look(self, services) -> None:  # type: ignore[no-untyped-def]
        with services.db.session() as s:
            now = set(s.scalars(select(OrderRow.external_id).join(BackorderRow, BackorderRow.order_id == OrderRow.id)
                                .where(BackorderRow.state == "waiting")))
        self.taken_back |= self.now - now
        self.now = now


def test_a_sale_worked_off_from_a_backlog_takes_no_decision_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(apply, "MAX_HOLD", timedelta(seconds=20))
    monkeypatch.setattr(inbox, "MAX_HOLD", timedelta(seconds=20))
    workload = make_workload(400, 8, 2, (15, 25), 0.05, seed=11)
    start = workload.orders[0].placed_at
    clock = Clock(start - timedelta(minutes=1))
    env = {"SECRET_KEY": "t", "ENCRYPTION_KEY": Fernet.generate_key().decode(), "INSTANCE_PATH": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'sale.sqlite3'}", "SANDBOX_ENABLED": "0",
           "MAIL_URL": f"file://{tmp_path / 'mail'}", "SHOPIFY_API_KEY": "k", "SHOPIFY_API_SECRET": APP_SECRET,
           "STOCK_SETTLE_SECONDS": "5"}
    services = build_services(load_config(env), clock=clock)
    try:
        store_in_process(services, workload, clock, timezone="UTC", pace=3)  # over 24 s: the web tier is behind
        seen = Waiting()
        checkpoints = 0
        while True:  # the inbox works off 25 deliveries a second: a backlog of about 40 s
            done = services.inbox.process_pending(limit=50).done
            clock.advance(seconds=2)
            services.inbox.evaluate_settled()
            seen.look(services)
            with services.db.session() as s:
                checkpoints += len(s.scalars(select(StockLevelRow.sku).where(
                    StockLevelRow.checkpoint_until.is_not(None))).all())
            if not done and services.inbox.depth().get("pending", 0) == 0:
                break
        for _ in range(5):  # the holds settle
            clock.advance(seconds=30)
            services.inbox.evaluate_settled()
            seen.look(services)
        with services.db.session() as s:
            assert s.scalar(select(StockLevelRow.sku).where(StockLevelRow.settle_at.is_not(None))) is None
    finally:
        services.db.dispose()
    assert checkpoints > 0  # the holds did move on through checkpoints
    assert len(seen.now) > 100  # most orders wait: the sale sold out
    assert sorted(seen.taken_back) == []  # no order waited and then shipped
