"""Selling limits (/app/selling-limits): the SKUs not sold on backorder because of a limit, and the
merchant's per-SKU limits of units on backorder (set, change, remove)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from connector.backorders.unit_limits import MAX_UNITS, LimitError, set_unit_limit
from connector.shops.shop_settings import ShopSettings
from connector.web.app_common import reevaluate, services, shop_session
from connector.web.auth import login_required
from connector.web.forms import errors_to_form
from connector.web.read_models import selling_reads

bp = Blueprint("app_selling", __name__, url_prefix="/app/selling-limits")


class UnitLimitForm(FlaskForm):
    sku = StringField("SKU", [InputRequired(), Length(max=255)])
    max_units = IntegerField(
        "Most units on backorder (empty: no limit)",
        [Optional(), NumberRange(min=0, max=MAX_UNITS)],
        description="At this many units waiting, the store stops selling the item on backorder; 0: never",
    )


def _page(form: UnitLimitForm, status: int = 200) -> ResponseReturnValue:
    with shop_session() as (s, shop):
        wait = ShopSettings.from_mapping(shop.settings).longest_wait_days
        stopped = selling_reads.stopped_skus(s, shop.id, wait)
        limits = selling_reads.unit_limits(s, shop.id)
    return render_template(
        "app/selling_limits.html", form=form, stopped=stopped, limits=limits, longest_wait=wait
    ), status


@bp.get("")
@login_required
def index() -> ResponseReturnValue:
    return _page(UnitLimitForm())


@bp.post("")
@login_required
def save() -> ResponseReturnValue:
    form = UnitLimitForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    try:
        with shop_session() as (s, shop):
            sku = set_unit_limit(s, shop.id, form.sku.data or "", form.max_units.data, services().clock())
            s.flush()
            reevaluate(s, shop, {sku})
    except LimitError as exc:
        errors_to_form(form, exc.errors)
        return _page(form, 422)
    if form.max_units.data is None:
        flash(f"{sku}: no limit of units on backorder.", "success")
    else:
        flash(f"{sku}: at most {form.max_units.data} units on backorder.", "success")
    return redirect(url_for(".index"))
