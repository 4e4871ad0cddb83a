"""The shop's privacy requests and their data exports.

A customer asks the shop for their data; Shopify sends us `customers/data_request` (on WooCommerce,
WordPress's export tool does, through the plugin: `adapters.woocommerce.privacy_requests`) and the shop
owner must hand the customer what we hold. This page lists every request and what we did about it,
and gives each export as a JSON file to download (`connector.intake.compliance`)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, render_template
from flask.typing import ResponseReturnValue

from connector.web.app_common import services, shop_session
from connector.web.auth import login_required
from connector.web.read_models import privacy_reads

bp = Blueprint("app_privacy", __name__, url_prefix="/app/privacy")

KIND_NAMES = {
    "customer_export": "Customer data request",
    "customer_redact": "Customer data erasure",
    "shop_redact": "Shop data erasure",
}


@bp.app_template_filter("privacy_kind")
def privacy_kind(kind: str) -> str:
    return KIND_NAMES.get(kind, kind.replace("_", " ").capitalize())


@bp.get("")
@login_required
def index() -> ResponseReturnValue:
    with shop_session() as (s, shop):
        requests = privacy_reads.privacy_requests(s, shop.id)
    return render_template("app/privacy.html", requests=requests,
                           kept_days=services().config.delivery_retention_days)


@bp.get("/<int:request_id>/export.json")
@login_required
def export(request_id: int) -> ResponseReturnValue:
    with shop_session() as (s, shop):
        data = privacy_reads.export_of_shop(s, shop.id, request_id)
    if data is None:
        abort(404)
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True),
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="customer-data-{request_id}.json"',
            "Cache-Control": "no-store",  # a customer's personal data: no copy left in a cache
        },
    )
