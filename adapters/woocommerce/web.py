"""The connect pages: ``/woocommerce/connect`` (form and paste-keys fallback), the key callback, the return page.

The merchant types the store address; we redirect to the store's ``/wc-auth/v1/authorize``
with a signed, time-limited token as ``user_id`` (it names the store the merchant asked for, so
the unauthenticated callback cannot be used to attach keys to anything else). WooCommerce
POSTs the keys to ``/woocommerce/callback``; there we check them with a real REST call, create
our hooks and store the shop with its keys and webhook secret (encrypted by the shop
directory), then answer 200. Any failure answers an error: WooCommerce then deletes the keys
it made and shows the merchant an error, and nothing half-connected is left. The store then
sends the browser to ``/woocommerce/return``.

The blueprint reaches the core only through the app's shop directory
(``current_app.extensions["connector"].shops``: `connect`, `webhook_secret`, `ref`, `active`,
`credentials`), the `ConnectShop` port of `adapters.base`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from itsdangerous import BadData, URLSafeTimedSerializer
from wtforms import ValidationError

from adapters.base import AuthRevoked, StoreError
from adapters.woocommerce.connect import (
    WEBHOOK_PATH,
    ConnectError,
    Connection,
    authorize_url,
    connect_store,
    parse_callback,
)
from adapters.woocommerce.rest import WooRest
from adapters.woocommerce.urls import InvalidStoreUrl, shop_key, store_url
from connector.model import Platform

log = logging.getLogger(__name__)

TOKEN_MAX_AGE = 3600  # seconds the merchant has to approve in the store
DEFAULT_APP_NAME = "Backorder Connector"

RestFactory = Callable[[Mapping[str, Any]], WooRest]


@dataclass(frozen=True)
class _Connect:
    """What the connect views need: where the store sends keys and hooks, and the name it shows."""

    app_url: str
    app_name: str
    rest_factory: RestFactory


def make_blueprint(config: Mapping[str, Any], rest_factory: RestFactory) -> Blueprint:
    bp = Blueprint("woocommerce", __name__, url_prefix="/woocommerce")
    cfg = _Connect(
        app_url=str(config.get("APP_URL", "")).rstrip("/"),
        app_name=str(config.get("WOOCOMMERCE_APP_NAME") or DEFAULT_APP_NAME),
        rest_factory=rest_factory,
    )
    bp.add_url_rule("/connect", "start", lambda: _form(cfg, store_url=request.args.get("store", "")), methods=["GET"])
    bp.add_url_rule("/connect", "begin", lambda: _begin(cfg), methods=["POST"])
    bp.add_url_rule("/callback", "callback", lambda: _callback(cfg), methods=["POST"])
    bp.add_url_rule("/return", "returned", _returned, methods=["GET"])
    bp.add_url_rule("/keys", "paste_keys", lambda: _paste_keys(cfg), methods=["POST"])
    return bp


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="woocommerce-connect")


def _shops() -> Any:
    return current_app.extensions["connector"].shops


def _form(cfg: _Connect, error: str | None = None, status: int = 200, **values: Any) -> ResponseReturnValue:
    page = render_template(
        "app/woocommerce/connect.html", error=error, app_name=cfg.app_name, csrf_token=generate_csrf(), **values
    )
    return page, status


def _result(
    title: str, message: str, shop: str | None = None, status: int = 200, app_url: str | None = None
) -> ResponseReturnValue:
    page = render_template("app/woocommerce/result.html", title=title, message=message, shop=shop, app_url=app_url)
    return page, status


def _csrf_ok() -> bool:
    try:
        validate_csrf(request.form.get("csrf_token"))
    except (ValidationError, CSRFError):
        return False
    return True


def _finish(cfg: _Connect, url: str, consumer_key: str, consumer_secret: str) -> Connection:
    """Check the keys, make the hooks, store the shop. Raises what `connect_store` raises."""
    rest = cfg.rest_factory({"url": url, "consumer_key": consumer_key, "consumer_secret": consumer_secret})
    directory = _shops()
    connection = connect_store(
        rest,
        consumer_key,
        consumer_secret,
        delivery_url=cfg.app_url + WEBHOOK_PATH,
        app_name=cfg.app_name,
        secret_for=lambda shop: directory.webhook_secret(Platform.WOOCOMMERCE, shop),
    )
    directory.connect(
        Platform.WOOCOMMERCE,
        connection.info.shop,
        name=connection.info.shop,
        credentials=connection.credentials,
        webhook_secret=connection.webhook_secret,
        currency=connection.info.currency,
        locale=connection.info.locale,
    )
    current_app.extensions["connector"].wake.set()
    log.info("connected WooCommerce store %s (hooks: %s)", connection.info.shop, connection.webhooks)
    return connection


def _failure_message(exc: Exception) -> str:
    if isinstance(exc, AuthRevoked):
        return "The store refused the keys. Check they are Read/Write keys of an administrator and try again."
    if isinstance(exc, StoreError):
        return f"The store could not be reached or answered an error: {exc}"
    return str(exc)


def _begin(cfg: _Connect) -> ResponseReturnValue:
    typed = request.form.get("store_url", "")
    if not _csrf_ok():
        return _form(cfg, "The form expired; please send it again.", 400, store_url=typed)
    try:
        url = store_url(typed)
        token = _serializer().dumps({"store": url, "n": secrets.token_urlsafe(8)})
        target = authorize_url(
            url,
            app_name=cfg.app_name,
            user_id=token,
            return_url=f"{cfg.app_url}/woocommerce/return",
            callback_url=f"{cfg.app_url}/woocommerce/callback",
        )
    except (InvalidStoreUrl, ConnectError) as exc:
        return _form(cfg, str(exc), 400, store_url=typed)
    return redirect(target, code=302)


def _callback(cfg: _Connect) -> ResponseReturnValue:
    try:
        grant = parse_callback(request.get_data(cache=False))
        asked = _serializer().loads(grant.user_id, max_age=TOKEN_MAX_AGE)["store"]
    except ConnectError as exc:
        return jsonify(error=str(exc)), 400
    except (BadData, KeyError, TypeError):
        return jsonify(error="unknown or expired connect request"), 400
    try:
        connection = _finish(cfg, asked, grant.consumer_key, grant.consumer_secret)
    except (StoreError, ConnectError) as exc:
        log.warning("WooCommerce connect of %s failed: %s", asked, exc)
        return jsonify(error=_failure_message(exc)), 502
    return jsonify(status="connected", shop=connection.info.shop), 200


def _returned() -> ResponseReturnValue:
    try:
        asked = _serializer().loads(request.args.get("user_id", ""), max_age=TOKEN_MAX_AGE * 24)["store"]
    except (BadData, KeyError, TypeError):
        return _result("Unknown connect request", "This link is not one of ours or has expired.", status=400)
    if request.args.get("success") != "1":
        return _result("Not connected", "The store did not approve the connection. You can try again.")
    shop = _find_shop(_shops(), asked)
    if shop is None:
        return _result(
            "Not connected yet",
            "The store approved, but its keys did not reach us. Try again, or paste REST API keys.",
            status=502,
        )
    signed_in = _sign_in(_shops().ref(Platform.WOOCOMMERCE, shop))
    return _result("Store connected", "Backorders from this store are now handled.", shop=shop,
                   app_url=f"{request.script_root}/app" if signed_in else None)


def _paste_keys(cfg: _Connect) -> ResponseReturnValue:
    typed = request.form.get("store_url", "")
    key = request.form.get("consumer_key", "").strip()
    secret = request.form.get("consumer_secret", "").strip()
    if not _csrf_ok():
        return _form(cfg, "The form expired; please send it again.", 400, store_url=typed, keys_open=True)
    if not (key.startswith("ck_") and secret.startswith("cs_")):
        return _form(
            cfg, "The consumer key starts with ck_ and the secret with cs_.", 400, store_url=typed, keys_open=True
        )
    try:
        connection = _finish(cfg, store_url(typed), key, secret)
    except (InvalidStoreUrl, StoreError, ConnectError) as exc:
        return _form(cfg, _failure_message(exc), 400, store_url=typed, keys_open=True)
    signed_in = _sign_in(_shops().ref(Platform.WOOCOMMERCE, connection.info.shop))
    return _result("Store connected", "Backorders from this store are now handled.", shop=connection.info.shop,
                   app_url=f"{request.script_root}/app" if signed_in else None)


def _sign_in(ref: Any) -> bool:
    """The merchant proved control of the store (approved in wp-admin, or pasted its keys): sign the
    browser in to the merchant app, through the core's hook (absent when the app is not mounted)."""
    sign_in = current_app.extensions.get("merchant_sign_in")
    if ref is None or sign_in is None:
        return False
    sign_in(ref.id)
    return True


def _find_shop(directory: Any, asked_url: str) -> str | None:
    """The connected shop for the address the merchant typed (its home URL may differ, e.g. www.)."""
    key = shop_key(asked_url)
    ref = directory.ref(Platform.WOOCOMMERCE, key)
    if ref is not None and ref.status == "active":
        return key
    for ref in directory.active():
        if ref.platform == Platform.WOOCOMMERCE:
            credentials = directory.credentials(Platform.WOOCOMMERCE, ref.domain) or {}
            if credentials.get("url") == asked_url:
                return ref.domain
    return None
