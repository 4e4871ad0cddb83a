"""Planning through the merchant app: run, per-SKU figures and chart, drafts approved or discarded,
supplier export as CSV and email, agility, the nightly job, and shop isolation."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from connector.domain.model import Platform
from connector.mail.send import list_outbox
from connector.plans.planning_runs import run_plan
from connector.storage.tables import (
    ActionRow,
    BackorderRow,
    OrderLineRow,
    OrderRow,
    PlanRunRow,
    PurchaseOrderLineRow,
    PurchaseOrderRow,
    ShopRow,
    SkuPlanRow,
    SupplierOfferRow,
    SupplierRow,
)
from connector.sweeps import plan_all
from tests.integration.app.helpers import post
from tests.integration.app.test_suppliers_pages import add_supplier


def add_history(services, shop_id: int, sku: str, daily: list[int], end: date) -> None:  # type: ignore[no-untyped-def]
    """Shipped orders of `sku`, one per day with demand, on the days before `end`."""
    with services.db.session() as s:
        for k, qty in enumerate(reversed(daily), start=1):
            if not qty:
                continue
            placed = datetime.combine(end - timedelta(days=k), datetime.min.time(), UTC) + timedelta(hours=10)
            order = OrderRow(shop_id=shop_id, external_id=f"h-{sku}-{k}", name=f"#H{sku}{k}", currency="USD",
                             placed_at=placed, source_updated_at=placed, payment_status="paid")
            order.lines = [OrderLineRow(shop_id=shop_id, external_id=f"hl-{k}", sku=sku, title=sku, quantity=qty,
                                        fulfilled_quantity=qty, unit_price=Decimal("25"))]
            s.add(order)


@pytest.fixture
def planned(merchant, sandbox, services, shop_id, backordered):  # type: ignore[no-untyped-def]
    """TEE (out of stock, 2 waiting) sold about 2 a day for 90 days, with a spike yesterday; Acme
    (not dropship) supplies it; planning has run from the app."""
    acme = add_supplier(merchant, dropship_capable="", lead_time_spread_days="0", urgent_unit_premium="",
                        urgent_lead_time_days="")
    assert post(merchant, f"/app/suppliers/{acme}/offers", {"sku": "TEE", "cost": "6", "primary": "primary",
                                                            "lead_time_days": "6"}).status_code == 302
    daily = [2, 1, 3, 2, 2, 1, 2, 3, 2, 2] * 9
    daily[-1] = 40
    add_history(services, shop_id, "TEE", daily, date(2026, 11, 2))
    response = post(merchant, "/app/planning/run")
    assert response.status_code == 302
    assert "Planned" in merchant.get("/app/planning").get_data(as_text=True)
    return acme


def test_planning_page_shows_each_sku_and_a_draft_per_supplier(merchant, planned, services, shop_id) -> None:  # type: ignore[no-untyped-def]
    page = merchant.get("/app/planning").get_data(as_text=True)
    assert 'data-sku="TEE"' in page and 'data-sku="MUG"' in page
    assert 'data-supplier="Acme Textiles"' in page and "Approve" in page
    assert "spike" in page  # yesterday's 40 units are flagged
    with services.db.session() as s:
        tee = s.scalar(select(SkuPlanRow).where(SkuPlanRow.sku == "TEE"))
        assert 1.5 < tee.forecast_per_day < 3.5 and tee.model
        assert tee.reorder_point > tee.safety_stock > 0 and tee.suggested_quantity > 0
        assert 0 <= tee.stockout_probability <= 1 and tee.expected_backorder_cost >= 0
        assert tee.stock == -2 and len(tee.history) == 56
        [draft] = s.scalars(select(PurchaseOrderRow).where(PurchaseOrderRow.draft.is_(True))).all()
        assert draft.supplier_id == planned and [li.sku for li in draft.lines] == ["TEE"]
        run = s.scalar(select(PlanRunRow))
        assert (run.status, run.trigger, run.skus, run.drafts) == ("done", "merchant", 2, 1)
    detail = merchant.get("/app/planning/sku/TEE").get_data(as_text=True)
    assert 'data-chart="forecast"' in detail and "class=\"line-forecast\"" in detail and "bar-history" in detail
    assert 'data-flag="spike"' in detail
    notice = re.search(r"data-plan-notice>(.*?)</div>", merchant.get("/app").get_data(as_text=True), re.S).group(1)
    assert "<strong>1</strong> SKU(s) show a demand spike" in notice and "<strong>1</strong> draft" in notice
    assert merchant.get("/app/planning/sku/NOPE").status_code == 404


def test_running_again_replaces_unapproved_drafts_but_keeps_approved_ones(merchant, planned, services) -> None:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        first = s.scalar(select(PurchaseOrderRow.id).where(PurchaseOrderRow.draft.is_(True)))
    post(merchant, f"/app/planning/drafts/{first}/approve")
    post(merchant, "/app/planning/run")
    post(merchant, "/app/planning/run")
    with services.db.session() as s:
        rows = s.scalars(select(PurchaseOrderRow).order_by(PurchaseOrderRow.id)).all()
        assert rows[0].id == first and rows[0].draft is False
        assert len([r for r in rows if r.draft]) <= 1  # the second run replaced the first run's draft
        assert s.scalar(select(SkuPlanRow.run_id).where(SkuPlanRow.sku == "TEE")) == max(
            s.scalars(select(PlanRunRow.id)))


def test_a_suggestion_above_the_shops_order_limit_is_capped_and_flagged(merchant, planned, services,
                                                                        shop_id) -> None:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        uncapped = s.scalar(select(PurchaseOrderLineRow.quantity).join(PurchaseOrderRow).where(
            PurchaseOrderRow.draft.is_(True), PurchaseOrderLineRow.sku == "TEE"))
    assert uncapped > 3
    settings = services.shops.settings(shop_id)
    services.shops.update_settings(shop_id, type(settings).from_mapping({**settings.to_mapping(),
                                                                         "max_order_quantity": 3}))
    post(merchant, "/app/planning/run")
    with services.db.session() as s:
        line = s.scalar(select(PurchaseOrderLineRow).join(PurchaseOrderRow).where(
            PurchaseOrderRow.draft.is_(True), PurchaseOrderLineRow.sku == "TEE"))
        assert line.quantity == 3
        tee = s.scalar(select(SkuPlanRow).where(SkuPlanRow.sku == "TEE"))
        assert tee.suggested_quantity <= 3
        [capped] = [f for f in tee.flags if f["kind"] == "capped"]
        assert "limit of 3" in capped["detail"]
    assert "capped" in merchant.get("/app/planning").get_data(as_text=True)


def test_approving_a_draft_makes_it_incoming_and_moves_the_promise(merchant, planned, sandbox, services,
                                                                   backordered) -> None:  # type: ignore[no-untyped-def]
    order_id = backordered["id"]
    before = sandbox.store.orders[order_id]["eta"]
    with services.db.session() as s:
        draft = s.scalar(select(PurchaseOrderRow).where(PurchaseOrderRow.draft.is_(True)))
        draft_id, expected = draft.id, draft.expected_on
    response = post(merchant, f"/app/planning/drafts/{draft_id}/approve")
    assert response.status_code == 302
    sandbox.work()
    with services.db.session() as s:
        po = s.get(PurchaseOrderRow, draft_id)
        assert po.draft is False and po.ordered_on == date(2026, 11, 2)
        units = sum(li.quantity for li in po.lines)
        bo = s.scalar(select(BackorderRow))
        assert bo.source == f"po:{draft_id}"
        assert bo.promised_on == expected + timedelta(days=1)  # + 1 handling day
    assert sandbox.store.orders[order_id]["eta"] == bo.promised_on.isoformat() != before
    row = re.search(r'data-sku="TEE">(.*?)</tr>', merchant.get("/app/planning").get_data(as_text=True), re.S).group(1)
    assert f"{units} ordered" in row
    # a second approval is refused without changing anything
    post(merchant, f"/app/planning/drafts/{draft_id}/approve")
    assert "not a draft any more" in merchant.get("/app/planning").get_data(as_text=True)


def test_discard_a_draft(merchant, planned, services) -> None:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        draft_id = s.scalar(select(PurchaseOrderRow.id).where(PurchaseOrderRow.draft.is_(True)))
    assert post(merchant, f"/app/planning/drafts/{draft_id}/discard").status_code == 302
    with services.db.session() as s:
        assert s.get(PurchaseOrderRow, draft_id) is None
        assert s.scalar(select(PurchaseOrderLineRow.id)) is None


def test_supplier_export_as_csv_and_email_only_after_approval(merchant, planned, services, sandbox,
                                                              config) -> None:  # type: ignore[no-untyped-def]
    response = merchant.get(f"/app/planning/suppliers/{planned}/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="forecast-Acme_Textiles-2026-11-02.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {r["sku"] for r in rows} == {"TEE"} and len(rows) == 8  # eight weekly periods
    assert int(rows[0]["firm_order_units"]) > 0 and rows[0]["period_start"] == "2026-11-02"
    # not before the merchant approved the supplier's order
    post(merchant, f"/app/planning/suppliers/{planned}/email")
    assert "approve the draft purchase order for Acme Textiles first" in merchant.get("/app/planning").get_data(
        as_text=True)
    with services.db.session() as s:
        assert s.scalar(select(ActionRow.id).where(ActionRow.kind == "send_email",
                                                   ActionRow.order_id.is_(None))) is None
        draft_id = s.scalar(select(PurchaseOrderRow.id).where(PurchaseOrderRow.draft.is_(True)))
    post(merchant, f"/app/planning/drafts/{draft_id}/approve")
    assert post(merchant, f"/app/planning/suppliers/{planned}/email").status_code == 302
    post(merchant, f"/app/planning/suppliers/{planned}/email")  # twice: one email
    sandbox.work()
    sent = [e for e in list_outbox(config.effective_mail_url.removeprefix("file://")) if e.to.endswith("acme.example")]
    assert len(sent) == 1 and "demand forecast and planned orders" in sent[0].subject
    raw = sent[0].message
    [attachment] = [p for p in raw.iter_attachments()]
    assert attachment.get_filename().endswith(".csv") and "firm_order_units" in attachment.get_content()


def test_agility_from_received_purchase_orders(merchant, planned, services, shop_id) -> None:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        for k, (ordered, received) in enumerate([(1, 8), (20, 26), (40, 49)]):
            po = PurchaseOrderRow(shop_id=shop_id, supplier_id=planned, reference=f"OLD-{k}",
                                  ordered_on=date(2026, 8, 1) + timedelta(days=ordered),
                                  expected_on=date(2026, 8, 1) + timedelta(days=ordered + 6),
                                  received_on=date(2026, 8, 1) + timedelta(days=received), draft=False,
                                  created_at=datetime(2026, 8, 1, tzinfo=UTC))
            po.lines = [PurchaseOrderLineRow(sku="TEE", quantity=20, received_quantity=20)]
            s.add(po)
    post(merchant, "/app/planning/run")
    page = merchant.get("/app/planning").get_data(as_text=True)
    row = re.search(r'data-agility="Acme Textiles">(.*?)</tr>', page, re.S).group(1)
    assert "7.3" in row and "± 1.5" in row and "33%" in row  # 7, 6, 9 days; one of three on time


def test_nightly_job_plans_each_shop_once_a_day(services, sandbox, clock, shop_id, backordered) -> None:  # type: ignore[no-untyped-def]
    assert plan_all(services, model_set="fast") == 1
    assert plan_all(services, model_set="fast") == 0  # today's plan exists
    clock.advance(days=1)
    assert plan_all(services, model_set="fast") == 1
    with services.db.session() as s:
        runs = s.scalars(select(PlanRunRow).order_by(PlanRunRow.id)).all()
        assert [(r.trigger, r.status, r.as_of) for r in runs] == [
            ("nightly", "done", date(2026, 11, 2)), ("nightly", "done", date(2026, 11, 3))]


def test_a_failed_run_is_recorded_and_keeps_the_previous_plan(services, sandbox, shop_id, backordered,
                                                              monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        first = run_plan(s, s.get(ShopRow, shop_id), services.clock(), model_set="fast")
        assert first.status == "done"
        first_id = first.id

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("no forecast today")

    monkeypatch.setattr("connector.domain.planning.plan.plan_shop", broken)  # imported when a run starts
    with services.db.session() as s:
        failed = run_plan(s, s.get(ShopRow, shop_id), services.clock(), model_set="fast")
        assert (failed.status, failed.error) == ("failed", "RuntimeError: no forecast today")
    with services.db.session() as s:
        shop = s.get(ShopRow, shop_id)
        shop.settings = {**shop.settings, "planning.review_period_days": "0"}  # invalid
    with services.db.session() as s:
        bad = run_plan(s, s.get(ShopRow, shop_id), services.clock())
        assert bad.status == "failed" and "review_period_days must be at least 1" in bad.error
    with services.db.session() as s:
        assert {r.run_id for r in s.scalars(select(SkuPlanRow))} == {first_id}  # the previous plan stays
        assert [r.status for r in s.scalars(select(PlanRunRow).order_by(PlanRunRow.id))] == ["done", "failed",
                                                                                              "failed"]


def test_other_shops_plans_are_out_of_reach(merchant, planned, services, clock) -> None:  # type: ignore[no-untyped-def]
    ref = services.shops.connect(Platform.SANDBOX, "shop-two.sandbox", name="Shop Two", credentials={},
                                 webhook_secret=b"x" * 32)
    with services.db.session() as s:
        supplier = SupplierRow(shop_id=ref.id, name="Bravo", email="b@bravo.example")
        s.add(supplier)
        s.flush()
        s.add(SupplierOfferRow(shop_id=ref.id, supplier_id=supplier.id, sku="LAMP", cost=Decimal(4)))
        s.flush()
        run_plan(s, s.get(ShopRow, ref.id), clock(), model_set="fast")
        po = PurchaseOrderRow(shop_id=ref.id, supplier_id=supplier.id, reference="PLAN-20261102-99-1",
                              expected_on=date(2026, 11, 20), draft=True, created_at=clock())
        po.lines = [PurchaseOrderLineRow(sku="LAMP", quantity=5)]
        s.add(po)
        s.flush()
        bravo, other_po = supplier.id, po.id
    with services.db.session() as s:
        assert s.scalar(select(SkuPlanRow.id).where(SkuPlanRow.shop_id == ref.id)) is not None
    assert merchant.get("/app/planning/sku/LAMP").status_code == 404
    assert "LAMP" not in merchant.get("/app/planning").get_data(as_text=True)
    assert merchant.get(f"/app/planning/suppliers/{bravo}/export.csv").status_code == 404
    assert post(merchant, f"/app/planning/drafts/{other_po}/approve").status_code == 404
    assert post(merchant, f"/app/planning/drafts/{other_po}/discard").status_code == 404
    assert post(merchant, f"/app/planning/suppliers/{bravo}/email").status_code == 404
    with services.db.session() as s:
        assert s.get(PurchaseOrderRow, other_po).draft is True


def test_actions_need_a_signed_in_merchant_and_a_csrf_token(sandbox, merchant, planned, services) -> None:  # type: ignore[no-untyped-def]
    assert merchant.post("/app/planning/run").status_code == 400
    with services.db.session() as s:
        draft_id = s.scalar(select(PurchaseOrderRow.id).where(PurchaseOrderRow.draft.is_(True)))
    assert merchant.post(f"/app/planning/drafts/{draft_id}/approve").status_code == 400
    anonymous = sandbox.client.application.test_client()
    assert anonymous.get("/app/planning").status_code in (302, 401)


def test_a_large_shop_is_planned_in_the_background(merchant, services, shop_id, backordered,
                                                    monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import time

    monkeypatch.setattr("connector.web.app_planning.SYNC_SKUS", 1)  # the shop's 2 SKUs count as large
    assert post(merchant, "/app/planning/run").status_code == 302
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with services.db.session() as s:
            status = s.scalar(select(PlanRunRow.status))
        if status != "running":
            break
        time.sleep(0.05)
    assert status == "done"
    page = merchant.get("/app/planning").get_data(as_text=True)
    assert "Planning started" in page and 'data-sku="TEE"' in page


def test_a_second_run_waits_for_the_one_running(merchant, services, shop_id, clock) -> None:  # type: ignore[no-untyped-def]
    with services.db.session() as s:
        s.add(PlanRunRow(shop_id=shop_id, as_of=clock().date(), trigger="merchant", model_set="full",
                         status="running", started_at=clock()))
    post(merchant, "/app/planning/run")
    page = merchant.get("/app/planning").get_data(as_text=True)
    assert "already running" in page and "running…" in page
    with services.db.session() as s:
        assert len(s.scalars(select(PlanRunRow)).all()) == 1


def test_the_celery_task_plans_each_shop_once_a_day(services, sandbox, shop_id, backordered) -> None:  # type: ignore[no-untyped-def]
    from connector import tasks

    tasks.bind(services)
    try:
        assert tasks.plan_all.run() == 1
        assert tasks.plan_all.run() == 0
    finally:
        tasks.bind(None)
    with services.db.read() as s:
        assert s.scalar(select(PlanRunRow.status)) == "done"
        assert s.scalar(select(SkuPlanRow.sku).where(SkuPlanRow.sku == "TEE")) == "TEE"


def test_the_plan_command(app, services, sandbox, backordered) -> None:  # type: ignore[no-untyped-def]
    runner = app.test_cli_runner()
    with app.app_context():  # as the `flask` command provides
        result = runner.invoke(args=["plan", "--platform", "sandbox", "--shop", sandbox.store.domain,
                                     "--models", "fast"])
        missing = runner.invoke(args=["plan", "--platform", "sandbox", "--shop", "nope.sandbox"])
    assert result.exit_code == 0, result.output
    assert "2 SKUs planned, 0 draft purchase orders" in result.output  # nobody supplies the tee yet
    assert missing.exit_code != 0 and "no shop" in missing.output


def test_the_celery_task_stays_inside_its_time_limit(services, sandbox, shop_id, backordered,
                                                     monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The task carries Celery's limits; past its budget it starts no shop and hands the rest to a new
    task; a shop stopped by the soft limit is recorded failed with a reason the merchant can read."""
    from celery.exceptions import SoftTimeLimitExceeded

    from connector import tasks

    assert (tasks.plan_all.soft_time_limit, tasks.plan_all.time_limit) == (tasks.PLAN_SOFT_LIMIT,
                                                                            tasks.PLAN_TIME_LIMIT)
    assert tasks.PLAN_SWEEP_BUDGET < tasks.PLAN_SOFT_LIMIT < tasks.PLAN_TIME_LIMIT
    sent: list[str] = []
    monkeypatch.setattr(services, "notify", sent.append)
    monkeypatch.setattr(tasks, "PLAN_SWEEP_BUDGET", 0)
    tasks.bind(services)
    try:
        assert tasks.plan_all.run() == 0 and sent == ["plan_all"]  # the shop is due, but the budget is spent
        monkeypatch.setattr(tasks, "PLAN_SWEEP_BUDGET", 60)

        def too_slow(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise SoftTimeLimitExceeded()

        monkeypatch.setattr("connector.domain.planning.plan.plan_shop", too_slow)
        sent.clear()
        assert tasks.plan_all.run() == 1 and sent == []
    finally:
        tasks.bind(None)
    with services.db.read() as s:
        run = s.scalar(select(PlanRunRow))
        assert run.status == "failed"
        assert run.error == "planning took longer than the nightly job's time limit; the previous plan is kept"
