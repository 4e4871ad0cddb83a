"""The storefront through the shop's own domain: Shopify's app proxy (`/apps/backorders`).

Shopify forwards `https://{shop}/apps/backorders...` to `/proxy/<platform>` here, signing the query.
The platform's adapter verifies the signature (`PlatformAdapter.proxy_verifier`); anything that
fails answers 401 with an empty body. One path is served: what is asked travels in the signed
query (the path after the proxy's subpath is not signed, so it must not choose what is served):

- no `sku` / `variant`: the long-lead landing page, as Liquid (`Content-Type: application/liquid`),
  which Shopify renders inside the shop's theme;
- `sku=<sku>` or `variant=<id>` (optional `quantity`): the availability JSON of the widget.

Dynamic text is HTML-escaped and its Liquid delimiters neutralised, so a product title can neither
inject markup nor Liquid into the shop's page.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from adapters.base import SignatureInvalid
from connector.backorders.availability import load_quote, sku_for_variant
from connector.backorders.storefront_values import storefront_message
from connector.bootstrap import Services
from connector.domain.model import Platform
from connector.shops.shop_days import shop_today
from connector.web.read_models.shop_reads import active_shop
from connector.web.storefront import long_lead_items, quote_json

bp = Blueprint("storefront_proxy", __name__, url_prefix="/proxy/<platform>")
LIQUID = "application/liquid"


def _services() -> Services:
    return current_app.extensions["connector"]


def _unauthorized() -> Response:
    return Response(b"", status=401)


@bp.route("", methods=["GET"], strict_slashes=False)
@bp.route("/<path:rest>", methods=["GET"])
def proxy(platform: str, rest: str | None = None) -> ResponseReturnValue:
    services = _services()
    try:
        adapter = services.adapters.get(Platform(platform))
    except ValueError:
        adapter = None
    if adapter is None or adapter.proxy_verifier is None:
        abort(404)
    try:
        verified = adapter.proxy_verifier(list(request.args.items(multi=True)), services.clock().timestamp())
    except SignatureInvalid:
        return _unauthorized()
    if rest:  # unsigned: a signed query replayed on another path asks for nothing else
        abort(404)
    params = verified.params
    with services.db.session() as s:
        shop = active_shop(s, platform, verified.shop)
        if shop is None:
            abort(404)
        sku = _first(params, "sku")
        variant = _first(params, "variant")
        if sku or variant:
            return _availability(s, shop, sku, variant, _first(params, "quantity"))
        now = services.clock()
        items = long_lead_items(s, shop, now)
        for item in items:
            q = item["quote"]
            item["message"] = storefront_message(q.status, q.ships_by, shop.locale)
        html = render_template("storefront/proxy_landing.html", items=items, currency=shop.currency,
                               prefix=verified.path_prefix, today=shop_today(shop, now))
    response = Response(neutralise_liquid(html), mimetype=LIQUID)
    response.headers["Cache-Control"] = "private, no-store"  # per shop, through Shopify
    return response


def _first(params: dict[str, list[str]], key: str) -> str | None:
    values = params.get(key) or []
    return values[0] if values and values[0] else None


def _availability(session, shop, sku: str | None, variant: str | None, quantity: str | None):  # type: ignore[no-untyped-def]
    if sku is None and variant:
        sku = sku_for_variant(session, shop.id, variant)
    if not sku:
        return jsonify(error="unknown product"), 404
    try:
        count = max(min(int(quantity or 1), 999), 1)
    except ValueError:
        count = 1
    now = _services().clock()
    found = load_quote(session, shop, sku, now, count)
    body = quote_json(shop, found, shop_today(shop, now))
    body["message"] = storefront_message(found.quote.status, found.quote.ships_by, shop.locale) \
        if body.get("message") is not None else None
    response = jsonify(body)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def neutralise_liquid(html: str) -> str:
    """Braces as HTML entities: the page shows them, and Shopify's Liquid sees no `{{` or `{%`.

    The template itself holds no braces (no inline CSS or JS), so every brace here came from data."""
    return html.replace("{", "&#123;").replace("}", "&#125;")
