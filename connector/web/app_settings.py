"""The settings page: every setting of the shop, validated, saved through `ShopDirectory.update_settings`."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from connector.shops.feed_tokens import feed_token, rotate
from connector.shops.shop_settings import SettingsError
from connector.web.app_common import reevaluate, services, shop_session, signed_in
from connector.web.auth import login_required
from connector.web.settings_form import SettingsForm

bp = Blueprint("app_settings", __name__, url_prefix="/app/settings")


@bp.route("", methods=["GET", "POST"])
@login_required
def settings() -> ResponseReturnValue:
    shop = signed_in()
    directory = services().shops
    current = directory.settings(shop.id)
    form = SettingsForm() if request.method == "POST" else SettingsForm.from_settings(current)
    if form.is_submitted():
        valid = form.validate()
        problems = form.model_errors(current)
        form.add_errors(problems)
        if valid and not problems:
            try:
                directory.update_settings(shop.id, form.to_settings(current))
            except SettingsError as exc:  # the model's rules changed under us: show, never save half
                form.add_errors(exc.errors)
            else:
                with shop_session() as (s, row):  # lead times, percentile, handling: promises follow now
                    reevaluate(s, row, None)
                flash("Settings saved.", "success")
                return redirect(url_for(".settings"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("app/settings.html", form=form, feed=_feed()), status


# ---- the Google Merchant Center feed (issue 11) ---------------------------------------------------


def _feed() -> dict[str, str]:
    """The shop's feed address (its token made on first view) and what the storefront offers."""
    with shop_session() as (s, row):
        token = feed_token(s, row.id, services().clock())
        platform, domain = row.platform, row.domain
    base = services().config.app_url
    return {
        "url": f"{base}/feeds/{platform}/{domain}/{token}/google-merchant.tsv",
        "platform": platform,
    }


@bp.post("/feed/rotate")
@login_required
def rotate_feed() -> ResponseReturnValue:
    """A new feed address: the old one stops working at once (update it in Merchant Center)."""
    with shop_session() as (s, row):
        rotate(s, row.id, services().clock())
    flash("New feed address made: the old one no longer works. Update it in Merchant Center.", "success")
    return redirect(url_for(".settings") + "#feed")
