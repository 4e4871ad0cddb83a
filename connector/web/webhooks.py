"""POST /webhooks/<platform>: verify on the raw body, store, answer at once."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, make_response, request
from flask.typing import ResponseReturnValue

from adapters.base import Delivery, Ping, PlatformAdapter, SignatureInvalid, UnknownShop
from connector.bootstrap import Services
from connector.domain.model import Platform

bp = Blueprint("webhooks", __name__)


def adapter_for(platform: str) -> PlatformAdapter:
    """The adapter of the platform named in the path; 404 when there is none."""
    services: Services = current_app.extensions["connector"]
    try:
        return services.adapters[Platform(platform)]
    except (ValueError, KeyError):
        abort(404)


def signed_request(adapter: PlatformAdapter, what: str) -> Delivery | Ping:
    """The request as the platform's verifier reads it, on the raw body (signatures are over exactly
    those bytes); a bad signature answers 401."""
    services: Services = current_app.extensions["connector"]
    body = request.get_data(cache=False)
    try:
        try:
            return adapter.verifier.verify(request.headers, body, services.secret_lookup(adapter.platform))
        except (SignatureInvalid, UnknownShop):
            # the cached secret may be older than a re-connect made by another process: read it afresh
            return adapter.verifier.verify(request.headers, body, services.secret_lookup(adapter.platform, True))
    except (SignatureInvalid, UnknownShop) as exc:
        current_app.logger.warning("rejected %s %s: %s", adapter.platform, what, exc)
        abort(make_response(jsonify(error="signature could not be verified"), 401))


@bp.post("/webhooks/<platform>")
def receive(platform: str) -> ResponseReturnValue:
    services: Services = current_app.extensions["connector"]
    adapter = adapter_for(platform)
    result = signed_request(adapter, "webhook")
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
