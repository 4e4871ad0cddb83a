"""The headers that keep our pages ours: a Content-Security-Policy with a nonce per request,
``X-Content-Type-Options``, ``Referrer-Policy``, and the session cookie's flags.

Content-Security-Policy, on every response:

- HTML pages: scripts and styles only from this origin or carrying this response's nonce
  (`csp_nonce()` in templates), plus Shopify's App Bridge on the pages that load it (the merchant
  app of a signed-in Shopify shop, when the Shopify app is configured); no plugins
  (``object-src 'none'``), no ``<base>`` (``base-uri 'none'``), forms post here only (the
  WooCommerce connect form, whose answer redirects to the store's approval page, may also leave
  for an http(s) store), fetches and images from here only. The email preview shows the email in
  a ``sandbox`` iframe (no script runs in it) whose ``srcdoc`` inherits the page's policy, so that
  one page also allows style attributes and https images: what an email client would show.
- Anything else (JSON, text, CSV, static files): ``default-src 'none'``: nothing in it may load.
- ``frame-ancestors``: the embedded Shopify app may be framed by its shop's admin only
  (``https://{shop}.myshopify.com https://admin.shopify.com``) — on ``/app`` pages for the
  signed-in Shopify shop, and on ``/shopify/*`` (install and launch open there, before anyone is
  signed in; the shop is the validated ``shop`` parameter). Every other response: ``'none'``. The
  public storefront pages included: they share the merchant app's origin, and shops embed our
  availability with the widget script and the CORS JSON, not with frames.

Referrer-Policy: ``strict-origin-when-cross-origin``; ``no-referrer`` on pages whose address is a
credential (refund-offer links, sign-in links, WooCommerce's return with its signed connect token,
the embedded app's ``id_token`` launch); ``same-origin`` on the customer's backorder page, whose
address is a credential and whose CSRF-protected forms need a same-origin Referer on https.

Session cookie: ``HttpOnly`` always; ``Secure`` when ``APP_URL`` is https (the plain-http dev
server keeps working); ``SameSite=None`` only when the Shopify app is configured on https — the
admin frames the app from another site, and a ``Lax`` cookie is not sent there — and ``Lax``
otherwise (WooCommerce and the sandbox open the app top-level).

Written here rather than with flask-talisman: its releases have stalled, and the parts we need
(a per-request nonce, frame-ancestors per signed-in shop) are a few lines over Flask's own hooks.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask import Flask, Response, current_app, g, request

from connector.config import Config

APP_BRIDGE = "https://cdn.shopify.com/shopifycloud/app-bridge.js"
SHOPIFY_ADMIN = "https://admin.shopify.com"
_MYSHOPIFY = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
_SECRET_LINK_PREFIXES = ("/offers/", "/app/sign-in/", "/woocommerce/return")
# The customer's page: its address is a credential too, but its forms post back to it with a CSRF
# token, and Flask-WTF demands a same-origin Referer on https; `same-origin` sends the address only
# to this service, never to another site.
_SAME_ORIGIN_LINK_PREFIXES = ("/backorder/",)
_EMAIL_PREVIEW = "app_emails.preview"
_CONNECT_BLUEPRINT = "woocommerce"


# ---- pure parts --------------------------------------------------------------------------


def page_policy(
    nonce: str,
    frame_ancestors: str,
    *,
    app_bridge: bool = False,
    email_preview: bool = False,
    form_targets: str = "",
) -> str:
    """The policy of an HTML page."""
    scripts = f"'self' 'nonce-{nonce}'" + (f" {APP_BRIDGE}" if app_bridge else "")
    directives = [
        "default-src 'self'",
        f"script-src {scripts}",
        f"style-src 'self' 'nonce-{nonce}'",
        "img-src 'self' data:" + (" https:" if email_preview else ""),
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'" + (f" {form_targets}" if form_targets else ""),
        f"frame-ancestors {frame_ancestors}",
    ]
    if email_preview:
        directives.insert(3, "style-src-attr 'unsafe-inline'")
    return "; ".join(directives)


def resource_policy(frame_ancestors: str) -> str:
    """The policy of anything that is not an HTML page: nothing in it loads or runs."""
    return f"default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors {frame_ancestors}"


def shop_admin_ancestors(shop_domain: str | None) -> str:
    """`frame-ancestors` for a Shopify shop's admin, or ``'none'`` unless the name is a real shop's."""
    if shop_domain and _MYSHOPIFY.match(shop_domain):
        return f"https://{shop_domain} {SHOPIFY_ADMIN}"
    return "'none'"


def session_cookie_settings(config: Config) -> dict[str, Any]:
    secure = config.app_url.startswith("https://")
    embedded = secure and bool(config.platform.get("SHOPIFY_API_KEY"))
    return {
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_COOKIE_SAMESITE": "None" if embedded else "Lax",
    }


# ---- per request -------------------------------------------------------------------------


def csp_nonce() -> str:
    """This response's nonce: give it to every inline ``<script>`` and ``<style>`` (``nonce="..."``)."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def _signed_in_shopify_shop() -> str | None:
    shop = g.get("shop")  # set by `login_required`
    if shop is not None and str(shop.platform) == "shopify":
        return str(shop.domain)
    return None


def loads_app_bridge() -> bool:
    """Whether this page loads App Bridge: the merchant app of a Shopify shop, with the app configured."""
    return _signed_in_shopify_shop() is not None and bool(current_app.config.get("SHOPIFY_API_KEY"))


def _frame_ancestors() -> str:
    if request.path == "/app" or request.path.startswith("/app/"):
        return shop_admin_ancestors(_signed_in_shopify_shop())
    if request.path.startswith("/shopify/"):
        return shop_admin_ancestors(request.args.get("shop"))
    return "'none'"


def _referrer_policy() -> str:
    if request.path.startswith(_SECRET_LINK_PREFIXES) or "id_token" in request.args:
        return "no-referrer"
    if request.path.startswith(_SAME_ORIGIN_LINK_PREFIXES):
        return "same-origin"
    return "strict-origin-when-cross-origin"


def set_headers(response: Response) -> Response:
    ancestors = _frame_ancestors()
    if response.mimetype == "text/html":
        plain_http_stores = not str(current_app.config["CONNECTOR"].app_url).startswith("https://")
        policy = page_policy(
            csp_nonce(),
            ancestors,
            app_bridge=loads_app_bridge(),
            email_preview=request.endpoint == _EMAIL_PREVIEW,
            form_targets=("https: http:" if plain_http_stores else "https:")
            if request.blueprint == _CONNECT_BLUEPRINT
            else "",
        )
    else:
        policy = resource_policy(ancestors)
    response.headers["Content-Security-Policy"] = policy
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = _referrer_policy()
    return response


def register(app: Flask, config: Config) -> None:
    """Call before any other blueprint or hook is registered: Flask runs ``after_request`` hooks in
    reverse order of registration, so this one runs last and its headers are the ones sent."""
    app.config.update(session_cookie_settings(config))
    app.add_template_global(csp_nonce)
    app.add_template_global(loads_app_bridge)
    app.after_request(set_headers)
    # for adapters' pages, which do not import `connector.web` (the Shopify top-level redirect)
    app.extensions["csp_nonce"] = csp_nonce
