"""The install blueprint: `/shopify/install` starts OAuth, `/shopify/callback` finishes it.

The state nonce lives in the merchant's browser (Flask's signed session cookie) between the two,
so a callback can only complete the install that this browser started. After the token exchange
the shop is stored through the core's shop directory (`app.extensions["connector"].shops`, which
encrypts the credentials), its webhooks are subscribed, and the merchant lands in the app in their
Shopify admin. A re-install (or a scope change in the settings) runs the same path and updates the
stored token and scopes; the shop's settings are kept. Each launch of an installed app from the Shopify
admin re-checks the webhook subscriptions (Shopify drops ones that keep failing) and, when the stored
token no longer works or lacks a scope the app now asks for, sends the merchant through OAuth again.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from flask import Blueprint, Response, current_app, redirect, request, session
from flask.typing import ResponseReturnValue

from adapters.base import AuthRevoked, StoreError
from connector.domain.model import Platform

from . import storefront
from .config import ShopifyConfig
from .graphql import GraphQLClient
from .ids import InvalidShopDomain, shop_domain
from .install import ensure_webhooks, shop_details
from .oauth import InstallError, ShopifyOAuth, query_params

SESSION_KEY = "shopify_oauth"


def _text(message: str, status: int) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


def _top_level_redirect(url: str) -> Response:
    """Inside the Shopify admin's iframe a redirect to the OAuth page must replace the top window."""
    target = json.dumps(url)
    nonce = current_app.extensions.get("csp_nonce", lambda: "")()  # the page's Content-Security-Policy nonce
    page = (f"<!doctype html><meta charset=utf-8><title>Redirecting…</title>"
            f'<script nonce="{nonce}">window.top.location.href = {target};</script>'
            f'<a href="{escape(url)}" target="_top">Continue to Shopify</a>')
    return Response(page, mimetype="text/html")


def make_blueprint(config: ShopifyConfig) -> Blueprint:
    bp = Blueprint("shopify", __name__, url_prefix="/shopify")
    bp.register_error_handler(InstallError, _install_refused)
    bp.add_url_rule("/install", "install", lambda: _install(config), methods=["GET"])
    bp.add_url_rule("/callback", "callback", lambda: _callback(config), methods=["GET"])
    bp.add_url_rule("/installed", "installed", _installed, methods=["GET"])
    return bp


def _configured(config: ShopifyConfig) -> bool:
    return bool(config.api_key and config.api_secret and config.app_url)


def _shops() -> Any:
    return current_app.extensions["connector"].shops


def _admin_app_url(config: ShopifyConfig, shop: str) -> str:
    return f"https://{shop}/admin/apps/{config.api_key}"


def _install_refused(exc: InstallError) -> ResponseReturnValue:
    current_app.logger.warning("Shopify install refused: %s", exc)
    return _text(f"The install could not be completed: {exc}. Please start it again from Shopify.", 400)


def _install(config: ShopifyConfig) -> ResponseReturnValue:
    if not _configured(config):
        return _text("The Shopify app is not configured on this service (SHOPIFY_API_KEY/SECRET, APP_URL).", 503)
    params = query_params(request.args)
    flow = ShopifyOAuth(config)
    if "hmac" in params:
        shop = flow.verify_request(params)  # a launch from the Shopify admin
    else:
        try:
            shop = shop_domain(params.get("shop"))
        except InvalidShopDomain as exc:
            raise InstallError(str(exc)) from None
    ref = _shops().ref(Platform.SHOPIFY, shop)
    if ref is not None and ref.status == "active" and "hmac" in params and flow.fresh_launch(params):
        stored = _shops().credentials(Platform.SHOPIFY, shop) or {}
        if stored.get("access_token") and not flow.missing_scopes(stored.get("scopes")) and _webhooks_repaired(
                config, shop, str(stored["access_token"])):
            # Shopify signed this launch for the shop's staff: open the merchant app for that shop.
            if _sign_in(ref.id):
                return redirect(f"{request.script_root}/app")
            return redirect(f"{request.script_root}/shopify/installed?shop={shop}")
    state = flow.new_state()
    session[SESSION_KEY] = {"state": state, "shop": shop}
    url = flow.authorize_url(shop, state)
    return _top_level_redirect(url) if params.get("embedded") == "1" else redirect(url)


def _sign_in(shop_id: int) -> bool:
    """Sign the browser in to the merchant app (the core's hook; absent when the app is not mounted)."""
    sign_in = current_app.extensions.get("merchant_sign_in")
    if sign_in is None:
        return False
    sign_in(shop_id)
    return True


def _webhooks_repaired(config: ShopifyConfig, shop: str, token: str) -> bool:
    """On each launch, put back any webhook subscription Shopify dropped (it deletes ones that keep
    failing). False when the token no longer works: the launch then goes through OAuth again."""
    try:
        report = ensure_webhooks(GraphQLClient(shop, token, config.api_version), config.webhook_url)
    except AuthRevoked:
        return False
    except StoreError as exc:  # Shopify is slow or down: the app opens anyway, the next launch retries
        current_app.logger.warning("could not check %s's webhook subscriptions: %s", shop, exc)
        return True
    if report.created or report.updated:
        current_app.logger.info("repaired %s's webhooks: created %s, repointed %s", shop, report.created,
                                report.updated)
    return True


def _callback(config: ShopifyConfig) -> ResponseReturnValue:
    if not _configured(config):
        return _text("The Shopify app is not configured on this service.", 503)
    params = query_params(request.args)
    pending = session.pop(SESSION_KEY, None) or {}
    flow = ShopifyOAuth(config)
    shop = flow.verify_callback(params, pending.get("state"))
    if pending.get("shop") != shop:
        raise InstallError("the callback is for another shop than the install this browser started")
    grant = flow.exchange_code(shop, str(params["code"]))
    missing = flow.missing_scopes(grant.scopes)
    if missing:
        raise InstallError(f"Shopify granted fewer permissions than the app needs: {', '.join(missing)}")
    gql = GraphQLClient(shop, grant.access_token, config.api_version)
    try:
        details = shop_details(gql, shop)
    except StoreError as exc:
        return _text(f"Shopify could not be reached to finish the install ({exc}). Please try again.", 502)
    ref = _shops().connect(Platform.SHOPIFY, shop, name=details.name, credentials=grant.credentials(),
                           currency=details.currency, locale=details.locale, timezone=details.timezone)
    _sign_in(ref.id)
    try:
        report = ensure_webhooks(gql, config.webhook_url)
        storefront.ensure_definition(gql)  # the variant metafield the theme app extension reads
    except StoreError as exc:
        # The token is stored and reconciliation already covers the shop; opening the app again retries.
        return _text(f"Installed, but subscribing to Shopify's webhooks failed ({exc}). Please open the app "
                     "again from Shopify to retry.", 502)
    current_app.logger.info("Shopify shop %s installed: webhooks created %s, repointed %s",
                            shop, report.created, report.updated)
    _after_install(ref.id)
    return redirect(_admin_app_url(config, shop))


def _after_install(shop_id: int) -> None:
    """The core's install-time setup (the "pay when it ships" purchase option); a failure is logged and
    left to the next reconciliation, which does the same."""
    hook = current_app.extensions.get("after_install")
    if hook is None:
        return
    try:
        hook(shop_id)
    except Exception:  # noqa: BLE001 - the install stands; the sweep retries the setup
        current_app.logger.exception("install-time setup of shop %s failed; the next reconciliation retries", shop_id)


def _installed() -> ResponseReturnValue:
    try:
        shop = shop_domain(request.args.get("shop"))
    except InvalidShopDomain:
        return _text("Unknown shop.", 404)
    ref = _shops().ref(Platform.SHOPIFY, shop)
    if ref is None:
        return _text("This shop has not installed Backorder Connector.", 404)
    return _text(f"Backorder Connector is {ref.status.replace('_', ' ')} on {shop}.", 200)
