"""POST /webhooks/<platform>: verify on the raw body, store, answer at once."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from adapters.base import Delivery, Ping, PlatformAdapter, SignatureInvalid, UnknownShop
from connector.bootstrap import Services
from connector.domain.model import Platform

bp = Blueprint("webhooks", __name__)


def verified(services: Services, adapter: PlatformAdapter, headers: Mapping[str, str], body: bytes) -> Delivery | Ping:
    """The request as the platform's verifier reads it; raises SignatureInvalid or UnknownShop."""
    try:
        return adapter.verifier.verify(headers, body, services.secret_lookup(adapter.platform))
    except (SignatureInvalid, UnknownShop):
        # the cached secret may be older than a re-connect made by another process: read it afresh
        return adapter.verifier.verify(headers, body, services.secret_lookup(adapter.platform, True))


@bp.post("/webhooks/<platform>")
def receive(platform: str) -> ResponseReturnValue:
    services: Services = current_app.extensions["connector"]
    try:
        adapter = services.adapters[Platform(platform)]
    except (ValueError, KeyError):
        abort(404)
    body = request.get_data(cache=False)  # the raw bytes: signatures are over exactly these
    try:
        result = verified(services, adapter, request.headers, body)
    except (SignatureInvalid, UnknownShop) as exc:
        current_app.logger.warning("rejected %s webhook: %s", platform, exc)
        return jsonify(error="signature could not be verified"), 401
    if isinstance(result, Ping):
        return jsonify(status="pong"), 200
    if result.topic not in adapter.privacy_topics and not services.shops.is_connected(result.platform, result.shop):
        # Signed with the app's secret (Shopify signs every shop's webhooks with it) for a shop that
        # never installed the app or has uninstalled it: no merchant would ever see it stored. 200, so
        # the store does not retry it for hours; counted on /healthz and logged for the operator.
        # Privacy requests are stored whatever the shop's state: they must be honoured.
        services.ignored_webhooks[(str(result.platform), "no connected shop")] += 1
        current_app.logger.warning(
            "ignored %s webhook %s for %s: no connected shop", platform, result.topic[:100], result.shop[:255]
        )
        return jsonify(status="ignored"), 200
    stored = services.inbox.store(result)
    if stored:
        services.note_intake()
    return jsonify(status="accepted" if stored else "duplicate"), 200
