"""GET /healthz: is the database reachable, and how deep are the inbox and the outbox."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from connector.bootstrap import Services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    services: Services = current_app.extensions["connector"]
    try:
        inbox = services.inbox.depth()
        outbox = services.outbox.depth()
    except SQLAlchemyError as exc:
        return jsonify(status="error", error=f"database unavailable: {type(exc).__name__}"), 503
    return jsonify(
        status="ok",
        inbox={
            "pending": inbox.get("pending", 0) + inbox.get("processing", 0),
            "dead": inbox.get("dead", 0),
            "done": inbox.get("done", 0),
        },
        outbox={
            "pending": outbox.get("pending", 0) + outbox.get("running", 0),
            "failed": outbox.get("failed", 0),
            "dead": outbox.get("dead", 0),
            "done": outbox.get("done", 0),
        },
        # signed webhooks for shops that are not connected: answered, not stored
        ignored_webhooks={
            f"{platform}: {reason}": count for (platform, reason), count in sorted(services.ignored_webhooks.items())
        },
    ), 200
