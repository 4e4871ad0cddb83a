"""Error answers for machines: a webhook or JSON request that is too large gets a short JSON 413,
not Werkzeug's HTML page (stores log the body of a failed delivery; ours should say what failed)."""

from __future__ import annotations

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge


def _wants_json() -> bool:
    if request.path.startswith("/webhooks/") or request.mimetype == "application/json":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def too_large(exc: RequestEntityTooLarge) -> ResponseReturnValue:
    if not _wants_json():
        return exc  # a browser's form: Werkzeug's page
    return jsonify(error="request body too large"), 413


def register(app: Flask) -> None:
    app.register_error_handler(RequestEntityTooLarge, too_large)
