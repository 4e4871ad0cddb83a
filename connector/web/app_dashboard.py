"""The dashboard (/app) and the merchant's one-click actions: expedite, retry an action, replay a webhook."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from connector.plans.planning_runs import latest_run
from connector.shops.shop_days import shop_today
from connector.shops.shop_settings import ShopSettings
from connector.web.app_common import reevaluate, services, shop_session
from connector.web.auth import login_required
from connector.web.chart import geometry
from connector.web.forms import ActionForm
from connector.web.read_models import customer_reads, selling_reads
from connector.web.read_models import dashboard_reads as dashboard
from connector.web.read_models import deferred_payment_reads as deferred
from connector.web.read_models.order_reads import order_skus, shop_order

bp = Blueprint("app_dashboard", __name__, url_prefix="/app")


@bp.get("")
@bp.get("/")
@login_required
def dashboard_view() -> ResponseReturnValue:
    with shop_session() as (s, shop):
        now = services().clock()
        today = shop_today(shop, now)
        skus = dashboard.chart_skus(s, shop.id)
        by_sku = dashboard.backlog_by_sku(s, shop.id)
        chosen = request.args.get("sku") or (by_sku[0].sku if by_sku else (skus[0] if skus else None))
        if chosen is not None and chosen not in skus:
            chosen = skus[0] if skus else None
        context = dict(
            today=today,
            now=now,
            counts=dashboard.counts(s, shop.id),
            by_sku=by_sku,
            by_order=dashboard.backlog_by_order(s, shop.id),
            at_risk=dashboard.lines_at_risk(s, shop, today),
            held=dashboard.held_charges(s, shop),
            actions=dashboard.recent_actions(s, shop.id),
            dead=dashboard.dead_deliveries(s, shop),
            dead_kept_days=services().config.dead_delivery_retention_days,  # connector/storage/retention.py
            chart_skus=skus,
            chart_sku=chosen,
            chart=geometry(dashboard.chart_data(s, shop, chosen, today)) if chosen else None,
            shop_status=(shop.status, shop.status_reason),
            plan=latest_run(s, shop.id, done=True),
            # selling limits (issue 10)
            stopped=selling_reads.stopped_skus(s, shop.id, ShopSettings.from_mapping(shop.settings).longest_wait_days),
            # "pay when it ships" (issue 10)
            purchase_option=deferred.purchase_option(s, shop.id),
            balances=deferred.balances_to_collect(s, shop.id),
            reauthorize_url=f"{request.script_root}/shopify/install?shop={shop.domain}",
            customer_choices=customer_reads.recent_choices(s, shop.id),  # issue 16
        )
    return render_template("app/dashboard.html", form=ActionForm(), **context)


# The old name some templates and redirects use.
bp.add_url_rule("/dashboard", "dashboard", dashboard_view)


@bp.post("/orders/<int:order_id>/expedite")
@login_required
def expedite(order_id: int) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    with shop_session() as (s, shop):
        order = shop_order(s, shop.id, order_id)
        if order is None:
            abort(404)
        order.priority = -1
        reevaluate(s, shop, order_skus(s, order.id))
        name = order.name
    flash(f"Order {name} moved to the front of the queue.", "success")
    return redirect(url_for(".dashboard_view", _anchor="orders"))


@bp.post("/actions/<int:action_id>/retry")
@login_required
def retry_action(action_id: int) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    with shop_session() as (s, shop):
        if dashboard.get_action(s, shop.id, action_id) is None:
            abort(404)
        shop_id = shop.id
    if services().outbox.retry_now(action_id, shop_id):
        services().notify("drain_outbox")
        flash("The action will be tried again now.", "success")
    else:
        flash("That action is not failed any more.", "info")
    target = request.form.get("next", "")
    if not (target.startswith("/app") and "//" not in target):
        target = url_for(".dashboard_view", _anchor="actions")
    return redirect(target)


@bp.post("/deliveries/<int:delivery_id>/replay")
@login_required
def replay_delivery(delivery_id: int) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    with shop_session() as (s, shop):
        if dashboard.delivery_of_shop(s, shop, delivery_id) is None:
            abort(404)
    if services().inbox.replay(delivery_id):
        services().notify("process_inbox")
        flash("The webhook is queued again.", "success")
    else:
        flash("That webhook is not in the dead letter any more, or its content was erased.", "info")
    return redirect(url_for(".dashboard_view", _anchor="webhooks"))
