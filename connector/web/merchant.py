"""Wire the merchant app and the storefront into the Flask app: CSRF, session cookie, blueprints, filters."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from connector.config import Config

csrf = CSRFProtect()


def register(app: Flask, config: Config, exempt: Iterable[Any] = ()) -> None:
    """CSRF protects every form post; the exempt blueprints (webhooks, adapters' JSON callbacks)
    authenticate their requests themselves (HMAC signatures, OAuth state)."""
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", timedelta(days=30))  # its flags: security_headers
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # the token lives as long as the session
    csrf.init_app(app)
    for blueprint in exempt:
        if blueprint is not None:
            csrf.exempt(blueprint)

    from connector.web import (
        app_common,
        app_dashboard,
        app_emails,
        app_planning,
        app_privacy,
        app_purchase_orders,
        app_selling,
        app_settings,
        app_suppliers,
        auth,
        feeds,
        storefront,
        storefront_proxy,
    )

    auth.register(app)
    app_common.register(app)
    for bp in (
        app_dashboard.bp,
        app_settings.bp,
        app_suppliers.bp,
        app_purchase_orders.bp,
        app_planning.bp,
        app_emails.bp,
        app_selling.bp,  # selling limits (issue 10)
        app_privacy.bp,  # privacy requests and their data exports
        storefront.bp,
        storefront_proxy.bp,
        feeds.bp,
    ):
        app.register_blueprint(bp)
