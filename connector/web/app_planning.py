"""Planning in the merchant app: per-SKU forecasts and reorder figures, draft purchase orders per
supplier (approve, discard), supplier exports (CSV, email), supplier agility, and "run now"."""

from __future__ import annotations

import logging
import threading

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from connector.bootstrap import Services
from connector.plans import planning_actions as actions
from connector.plans import promotion_calendar as calendar
from connector.plans.planning_runs import (
    latest_run,
    plan_detached,
    run_plan,
    running,
    shop_size,
    start_run,
)
from connector.shops.shop_days import shop_today
from connector.web.app_common import services, shop_session, signed_in
from connector.web.auth import login_required
from connector.web.forecast_chart import forecast_geometry
from connector.web.forms import ActionForm, PromotionForm
from connector.web.read_models.planning_reads import (
    planning_overview,
    promotions_of,
    purchase_order_reference,
    sku_plan_detail,
    supplier_name,
)

bp = Blueprint("app_planning", __name__, url_prefix="/app/planning")
log = logging.getLogger(__name__)


def _check() -> None:
    if not ActionForm().validate_on_submit():
        abort(400)


@bp.get("")
@login_required
def index() -> ResponseReturnValue:
    return _page(PromotionForm(formdata=None))


def _page(promotion_form: PromotionForm, status: int = 200) -> ResponseReturnValue:
    with shop_session() as (s, shop):
        last = latest_run(s, shop.id)
        done = latest_run(s, shop.id, done=True)
        overview = planning_overview(s, shop.id)
        suppliers = overview.suppliers
        exported = {e["supplier_id"] for e in (done.exports if done else [])}
        approved = {sid: bool(actions.approved_plan_orders(s, shop, sid, done)) for sid in exported} if done else {}
        context = dict(
            last=last, done=done, plans=overview.plans, suppliers=suppliers, by_supplier=overview.drafts_by_supplier,
            exported=sorted(exported, key=lambda sid: suppliers[sid].name if sid in suppliers else ""),
            approved=approved, agility=done.agility if done else [],
            ordered=actions.ordered_from_plan(s, shop, done) if done else {},
        )
        return render_template("app/planning.html", form=ActionForm(), promotion_form=promotion_form,
                               promotions=promotions_of(s, shop.id), **context), status


@bp.post("/promotions")
@login_required
def add_promotion() -> ResponseReturnValue:
    form = PromotionForm()
    if form.validate_on_submit():
        now = services().clock()
        try:
            with shop_session() as (s, shop):
                row = calendar.add_promotion(s, shop, form.name.data or "", form.starts_on.data, form.ends_on.data,
                                             calendar.parse_skus(form.skus.data or ""), shop_today(shop, now), now)
                name = row.name
        except calendar.PromotionError as exc:
            getattr(form, exc.field).errors = [*getattr(form, exc.field).errors, str(exc)]
        else:
            flash(f"Promotion “{name}” added: the next planning run keeps its days out of the baseline.", "success")
            return redirect(url_for(".index", _anchor="promotions"))
    return _page(form, 422)


@bp.post("/promotions/<int:promotion_id>/remove")
@login_required
def remove_promotion(promotion_id: int) -> ResponseReturnValue:
    _check()
    try:
        with shop_session() as (s, shop):
            calendar.remove_promotion(s, shop.id, promotion_id)
    except LookupError:
        abort(404)
    flash("Promotion removed.", "success")
    return redirect(url_for(".index", _anchor="promotions"))


SYNC_SKUS = 2_000  # shops up to this size are planned while the merchant waits (about a second)


def _plan_in_background(svc: Services, shop_id: int, run_id: int) -> None:
    try:
        plan_detached(svc.db, shop_id, svc.clock, "merchant", run_id=run_id)
    except Exception:  # noqa: BLE001 - e.g. the database went away: the run stays "running" and expires
        log.exception("background planning of shop %s failed", shop_id)


@bp.post("/run")
@login_required
def run_now() -> ResponseReturnValue:
    _check()
    svc = services()
    with shop_session() as (s, shop):
        if running(s, shop.id, svc.clock()) is not None:
            flash("Planning is already running; this page shows the result when it is done.", "info")
            return redirect(url_for(".index"))
        if shop_size(s, shop.id) > SYNC_SKUS:
            run_id = start_run(s, shop, svc.clock()).id
            background = True
        else:
            run = run_plan(s, shop, svc.clock(), trigger="merchant")
            status, skus, drafts, error = run.status, run.skus, run.drafts, run.error
            seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0
            background = False
    if background:  # committed: the page shows it running meanwhile
        threading.Thread(target=_plan_in_background, args=(svc, signed_in().id, run_id), name="planning",
                         daemon=True).start()
        flash("Planning started; reload this page in a minute for the results.", "info")
        return redirect(url_for(".index"))
    if status == "done":
        flash(f"Planned {skus} SKU(s) in {max(seconds, 0):.2f} s: {drafts} draft purchase order(s).", "success")
    else:
        flash(f"Planning failed: {error}. The previous plan is kept.", "error")
    return redirect(url_for(".index"))


@bp.get("/sku/<path:sku>")
@login_required
def sku_detail(sku: str) -> ResponseReturnValue:
    with shop_session() as (s, shop):
        detail = sku_plan_detail(s, shop.id, sku)
        if detail is None:
            abort(404)
        plan, run = detail.plan, detail.run
        today = run.as_of if run else shop_today(shop, services().clock())
        chart = forecast_geometry(list(plan.history or []), list(plan.forecast or []), today)
        return render_template("app/planning_sku.html", plan=plan, run=run, chart=chart, supplier=detail.supplier)


@bp.post("/drafts/<int:po_id>/approve")
@login_required
def approve(po_id: int) -> ResponseReturnValue:
    _check()
    try:
        with shop_session() as (s, shop):
            skus = actions.approve_draft(s, shop, po_id, services().clock())
            reference = purchase_order_reference(s, po_id)
    except LookupError:
        abort(404)
    except actions.PlanActionError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".index"))
    services().notify("drain_outbox")
    flash(f"{reference} approved: ordered today, its {len(skus)} SKU(s) now count as incoming and promises "
          "of waiting orders follow.", "success")
    return redirect(url_for(".index"))


@bp.post("/drafts/<int:po_id>/discard")
@login_required
def discard(po_id: int) -> ResponseReturnValue:
    _check()
    try:
        with shop_session() as (s, shop):
            reference = actions.discard_draft(s, shop, po_id)
    except LookupError:
        abort(404)
    except actions.PlanActionError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".index"))
    flash(f"Draft {reference} discarded.", "success")
    return redirect(url_for(".index"))


@bp.get("/suppliers/<int:supplier_id>/export.csv")
@login_required
def export_csv(supplier_id: int) -> ResponseReturnValue:
    try:
        with shop_session() as (s, shop):
            filename, text = actions.export_csv(s, shop, supplier_id)
    except LookupError:
        abort(404)
    except actions.PlanActionError:
        abort(404)
    return Response(text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.post("/suppliers/<int:supplier_id>/email")
@login_required
def email_supplier(supplier_id: int) -> ResponseReturnValue:
    _check()
    try:
        with shop_session() as (s, shop):
            sent = actions.email_export(s, shop, supplier_id, services().clock())
            name = supplier_name(s, supplier_id)
    except LookupError:
        abort(404)
    except actions.PlanActionError as exc:
        flash(f"Not sent: {exc}.", "error")
        return redirect(url_for(".index"))
    services().notify("drain_outbox")
    flash(f"Forecast and planned orders emailed to {name}." if sent else f"Already emailed to {name} for this plan.",
          "success")
    return redirect(url_for(".index"))
