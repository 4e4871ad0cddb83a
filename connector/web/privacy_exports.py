"""POST /webhooks/<platform>/privacy-export: a customer's data, answered at once to the store that asks.

WordPress's export tool waits for each exporter's answer to put it in the file it makes for the
person (the WooCommerce plugin's exporter asks here). The request is signed as the platform's
webhooks are and checked by the same verifier; the platform's adapter reads it
(`PlatformAdapter.export_request`: a request too old to answer is refused, since the answer
carries personal data). The export is recorded like one that came as a webhook, so the merchant's
Privacy page lists it, and the answer is never cached.
"""

from __future__ import annotations

import time

from flask import Blueprint, abort, current_app, jsonify
from flask.typing import ResponseReturnValue

from adapters.base import NormalisationError, Ping
from connector.bootstrap import Services
from connector.domain.store_limits import OutOfBounds, check_events
from connector.intake.compliance import record_export
from connector.shops.directory import find_row
from connector.web.webhooks import adapter_for, signed_request

bp = Blueprint("privacy_exports", __name__)


@bp.post("/webhooks/<platform>/privacy-export")
def privacy_export(platform: str) -> ResponseReturnValue:
    services: Services = current_app.extensions["connector"]
    adapter = adapter_for(platform)
    if adapter.export_request is None:
        abort(404)
    delivery = signed_request(adapter, "privacy export")
    if isinstance(delivery, Ping):
        return jsonify(error="not an export request"), 400
    try:
        event = adapter.export_request(delivery, time.time())
        check_events([event])
    except (NormalisationError, OutOfBounds) as exc:
        current_app.logger.warning("refused %s privacy export for %s: %s", platform, delivery.shop[:255], exc)
        return jsonify(error=str(exc)), 400
    with services.db.session() as s:
        shop = find_row(s, delivery.platform, delivery.shop)
        if shop is None:
            abort(404)
        summary, data = record_export(s, shop, event)
    answer = jsonify(summary=summary, export=data)
    answer.headers["Cache-Control"] = "no-store"  # a customer's personal data: no copy left in a cache
    return answer
