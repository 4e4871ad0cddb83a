"""Rate limits on the endpoints that make the service call an address someone typed.

The WooCommerce connect endpoints are anonymous and make the service contact (or send a browser
to) an address someone typed, so they are limited per client address: ``CONNECT_RATE_LIMIT`` (default 10 a minute
and 100 an hour). Flask-Limiter counts in memory in a single process, or in Redis when
``RATE_LIMIT_STORAGE_URL`` (or else a ``redis://`` ``CELERY_BROKER_URL``) is set, so that every
web process shares the count. If the store is down the limits fall back to memory; requests are
never refused because counting failed. A client over the limit gets 429 and a plain page.

Behind a reverse proxy, the client address is the proxy's unless the app is told to trust its
``X-Forwarded-For`` (werkzeug's ``ProxyFix``): then every client shares one count.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from connector.config import Config

# (endpoint, methods) of the adapters' connect views; endpoints an installation lacks are skipped.
CONNECT_ENDPOINTS: tuple[tuple[str, list[str]], ...] = (
    ("woocommerce.begin", ["POST"]),
    ("woocommerce.paste_keys", ["POST"]),
    ("woocommerce.callback", ["POST"]),
)
# Not `shopify.install`: it calls nothing a stranger chose (an unsigned start only redirects to Shopify,
# a launch must carry Shopify's HMAC), and every open of the app from the Shopify admin passes through
# it, so a per-address limit there would mostly refuse merchants behind one proxy or office address.
TOO_MANY = "Too many attempts from your address. Please wait a minute and try again.\n"


def storage_uri(config: Config) -> str:
    if config.rate_limit_storage_url:
        return config.rate_limit_storage_url
    if config.celery_broker_url.startswith(("redis://", "rediss://")):
        return config.celery_broker_url
    return "memory://"


def register(app: Flask, config: Config) -> Limiter:
    """Limit the connect endpoints already registered on `app` (call after the adapters' blueprints)."""
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=storage_uri(config),
        default_limits=[],
        headers_enabled=True,
        swallow_errors=True,
        in_memory_fallback_enabled=True,
    )
    limited = {endpoint for endpoint, _ in CONNECT_ENDPOINTS}
    for endpoint, methods in CONNECT_ENDPOINTS:
        view = app.view_functions.get(endpoint)
        if view is not None:
            app.view_functions[endpoint] = limiter.limit(config.connect_rate_limit, methods=methods)(view)

    @limiter.request_filter
    def not_limited() -> bool:
        """Every other request skips the limiter at once: resolving its (absent) limits cost webhook
        intake about a tenth of its CPU per request."""
        return request.endpoint not in limited

    @app.errorhandler(429)
    def too_many(_: Any) -> Response:
        return Response(TOO_MANY, status=429, mimetype="text/plain")

    return limiter
