"""Public storefront endpoints: the availability JSON the widget reads, a landing page of long lead
times, and (for the sandbox store) a product page with the widget on it.

No sign-in: a shop is named by its public path ``/storefront/<platform>/<domain>``. Answers are
cacheable (``Cache-Control: public, max-age=60``, ETag / 304) and readable from any origin (CORS).
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue

from connector.backorders.availability import SkuQuote, Status, load_quote, load_quotes, sku_for_variant
from connector.backorders.evaluation import load_supplies
from connector.bootstrap import Services
from connector.domain.model import Platform
from connector.domain.safe_url import http_url
from connector.shops.shop_days import shop_today
from connector.shops.shop_settings import ShopSettings
from connector.web.read_models.dashboard_reads import incoming_by_sku
from connector.web.read_models.shop_reads import ShopRecord, active_shop
from connector.web.read_models.storefront_reads import VariantRecord, variant_for_sku, variants_by_title

bp = Blueprint("storefront", __name__, url_prefix="/storefront/<platform>/<domain>")
MAX_AGE = 60
LONG_LEAD_DAYS = 14  # the landing page lists items backordered now, or taking longer than two weeks to restock


def _services() -> Services:
    return current_app.extensions["connector"]


def _shop(session, platform: str, domain: str) -> ShopRecord:  # type: ignore[no-untyped-def]
    try:
        Platform(platform)
    except ValueError:
        abort(404)
    row = active_shop(session, platform, domain)
    if row is None:
        abort(404)
    return row


def _public(response: Response) -> Response:
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Vary"] = "Accept-Encoding"
    return response


def quote_json(shop: ShopRecord, found: SkuQuote, today: date) -> dict:
    q = found.quote
    body: dict = {
        "shop": shop.domain,
        "platform": shop.platform,
        "sku": found.sku,
        "title": found.title,
        "status": str(q.status),
        "in_stock": q.in_stock,
        "available": q.available,
        "ships_by": q.ships_by.isoformat() if q.ships_by else None,
        "window": {"p50": q.ships_p50.isoformat(), "p90": q.ships_p90.isoformat()}
        if q.ships_p50 and q.ships_p90
        else None,
        "product_url": http_url(found.product_url),
        "as_of": today.isoformat(),
    }
    if q.status == Status.BACKORDER and q.ships_by:
        body["message"] = f"Ships by {q.ships_by.day} {q.ships_by:%B %Y}"
    elif q.status == Status.SOLD_OUT:
        body["message"] = "Sold out"
    elif q.status == Status.UNKNOWN:  # a SKU the shop does not have: no claim about its stock
        body["message"] = None
    else:
        body["message"] = "In stock"
    return body


@bp.get("/availability/<path:sku>")
@bp.get("/availability")
def availability(platform: str, domain: str, sku: str | None = None) -> ResponseReturnValue:
    services = _services()
    now = services.clock()
    with services.db.session() as s:
        shop = _shop(s, platform, domain)
        variant = request.args.get("variant")
        if sku is None and variant:
            sku = sku_for_variant(s, shop.id, variant)
        if not sku:
            return _public(jsonify(error="unknown product: give a SKU in the path or ?variant=<id>")), 404
        quantity = max(min(request.args.get("quantity", default=1, type=int) or 1, 999), 1)
        found = load_quote(s, shop, sku, now, quantity)
        body = quote_json(shop, found, shop_today(shop, now))
    response = jsonify(body)
    response.add_etag()
    response = response.make_conditional(request)
    return _public(response)


@bp.get("/")
def landing(platform: str, domain: str) -> ResponseReturnValue:
    """Items that take a while: what each promises now, and when stock is expected."""
    services = _services()
    now = services.clock()
    with services.db.session() as s:
        shop = _shop(s, platform, domain)
        today = shop_today(shop, now)
        items = long_lead_items(s, shop, now)
        name, currency = shop.name, shop.currency
    html = render_template(
        "storefront/landing.html",
        shop_name=name,
        currency=currency,
        items=items,
        today=today,
        platform=platform,
        domain=domain,
    )
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response


def long_lead_items(session, shop: ShopRecord, now: datetime) -> list[dict]:  # type: ignore[no-untyped-def]
    """The items of the landing page: backordered now, or restocking in more than two weeks."""
    settings = ShopSettings.from_mapping(shop.settings)
    variants = variants_by_title(session, shop.id)
    supplies = load_supplies(session, shop.id, [v.sku for v in variants], settings)
    incoming = incoming_by_sku(session, shop.id)
    quotes = load_quotes(session, shop, [v.sku for v in variants], now)
    items = []
    for v in variants:
        supply = supplies.get(v.sku)
        found = quotes[v.sku]
        lead = supply.lead_time.mean_days if supply else float(v.lead_time_days or 0)
        if found.quote.status != Status.BACKORDER and lead <= LONG_LEAD_DAYS:
            continue
        items.append(
            {
                "sku": v.sku,
                "title": v.title,
                "price": v.price,
                "quote": found.quote,
                "lead_days": lead,
                "arrivals": [(d, q) for d, q, _ in incoming.get(v.sku, [])],
                "url": _product_link(shop, v),
            }
        )
    return items


def _product_link(shop: ShopRecord, variant: VariantRecord) -> str | None:
    """Where "View product" leads: an http(s) address or a path here, never a `javascript:` one."""
    if shop.platform == Platform.SANDBOX:  # the sandbox store's pages exist only here
        return url_for("storefront.demo_product", platform=shop.platform, domain=shop.domain, sku=variant.sku)
    return http_url(variant.product_url)


@bp.get("/demo-product/<path:sku>")
def demo_product(platform: str, domain: str, sku: str) -> ResponseReturnValue:
    """A product page of the sandbox store, with the widget on it as a theme would embed it."""
    if platform != Platform.SANDBOX:
        abort(404)
    services = _services()
    with services.db.session() as s:
        shop = _shop(s, platform, domain)
        variant = variant_for_sku(s, shop.id, sku)
        if variant is None:
            abort(404)
        product = {"sku": variant.sku, "title": variant.title, "price": variant.price}
        name, currency = shop.name, shop.currency
    return render_template(
        "storefront/demo_product.html",
        product=product,
        shop_name=name,
        currency=currency,
        platform=platform,
        domain=domain,
    )
