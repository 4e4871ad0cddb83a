"""Feeds that other services fetch: the Google Merchant Center supplemental feed of a shop.

`GET /feeds/<platform>/<domain>/<token>/google-merchant.tsv[?id=sku|variant|gla|shopify_US]`: every
variant the shop has, with `availability` and, for backorders, `availability_date`. A wrong token
and an unknown shop get the same 404.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, request
from flask.typing import ResponseReturnValue

from connector.backorders.storefront_publication import compute_values
from connector.bootstrap import Services
from connector.domain.google_feed import ID_FORMATS, feed_tsv
from connector.shops.feed_tokens import token_matches
from connector.shops.shop_days import shop_today
from connector.web.read_models.shop_reads import active_shop

bp = Blueprint("feeds", __name__, url_prefix="/feeds/<platform>/<domain>/<token>")


def _id_format(text: str | None) -> str:
    value = (text or "sku").strip()
    if value in ID_FORMATS or (value.startswith("shopify_") and len(value) == 10 and value[8:].isalpha()):
        return value
    abort(400, description="id must be sku, variant, gla or shopify_<COUNTRY> (e.g. shopify_US)")


@bp.get("/google-merchant.tsv")
def google_merchant(platform: str, domain: str, token: str) -> ResponseReturnValue:
    services: Services = current_app.extensions["connector"]
    id_format = _id_format(request.args.get("id"))
    now = services.clock()
    with services.db.session() as s:
        shop = active_shop(s, platform, domain)
        if shop is None or not token_matches(s, shop.id, token):
            abort(404)
        values = compute_values(s, shop, None, now)
        body = feed_tsv(values, shop_today(shop, now), ZoneInfo(shop.timezone or "UTC"), id_format)
    response = Response(body, mimetype="text/tab-separated-values")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
