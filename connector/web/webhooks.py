"""POST /webhooks/<platform>: verify on the raw body, store, answer at once."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from adapters.base import Ping, SignatureInvalid, UnknownShop
from connector.bootstrap import Services
from connector.model import Platform

bp = Blueprint("webhooks", __name__)


@bp.post("/webhooks/<platform>")
def receive(platform: str) -> ResponseReturnValue:
    services: Services = current_app.extensions["connector"]
    try:
        adapter = services.adapters[Platform(platform)]
    except (ValueError, KeyError):
        abort(404)
    body = request.get_data(cache=False)  # the raw bytes: signatures are over exactly these
    try:
        try:
            result = adapter.verifier.verify(request.headers, body, services.secret_lookup(adapter.platform))
        except (SignatureInvalid, UnknownShop):
            # the cached secret may be older than a re-connect made by another process: read it afresh
            result = adapter.verifier.verify(request.headers, body, services.secret_lookup(adapter.platform, True))
    except (SignatureInvalid, UnknownShop) as exc:
        current_app.logger.warning("rejected %s webhook: %s", platform, exc)
        return jsonify(error="signature could not be verified"), 401
    if isinstance(result, Ping):
        return jsonify(status="pong"), 200
    stored = services.inbox.store(result)
    if stored:
        services.note_intake()
    return jsonify(status="accepted" if stored else "duplicate"), 200
