"""The no-code storefront in a real headless Chromium: the theme app extension's product block (rendered
with python-liquid from sample metafields, switching variants with no request), and the long-lead
landing page served through the app proxy route and shown inside a theme. Screenshots go to
``test-artifacts/screenshots/``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from cryptography.fernet import Fernet
from werkzeug.serving import make_server

from adapters.shopify.proxy import sign
from connector.bootstrap import build_services
from connector.config import load_config
from connector.domain.model import Platform
from connector.storage.tables import StockLevelRow, VariantRow
from connector.web import create_app
from tests.e2e.conftest import free_port
from tests.e2e.test_app_browser import SHOTS
from tests.theme_render import EXTENSION, render_block, variant

pytestmark = pytest.mark.e2e

SHOP = "oak-ash.myshopify.com"
APP_SECRET = "e2e-app-secret"
BACKORDER = {"status": "backorder", "ships_by": "2026-12-17", "ships_p50": "2026-12-10", "ships_p90": "2026-12-17",
             "message": "Ships by 17 December 2026"}
IN_STOCK = {"status": "in_stock", "ships_by": None, "ships_p50": None, "ships_p90": None, "message": "In stock"}


def theme_page(body: str, title: str) -> str:
    """A minimal theme layout around `body`, with the extension's stylesheet and scripts as Shopify adds them."""
    css = (EXTENSION / "assets" / "backorder-eta.css").read_text()
    js = (EXTENSION / "assets" / "backorder-eta.js").read_text()
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
            f"<style>body{{font-family:sans-serif;max-width:48rem;margin:2rem auto}}{css}</style></head>"
            f"<body><header><strong>Oak &amp; Ash</strong></header><main>{body}</main>"
            f"<script>{js}</script></body></html>")


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_product_block_switches_variants_instantly(chromium) -> None:  # type: ignore[no-untyped-def]
    red = variant(8001, "TEE-RED", 2500, BACKORDER)
    blue = variant(8002, "TEE-BLUE", 2500, IN_STOCK)
    product = {"id": 7001, "title": "Organic tee", "url": "/products/tee",
               "selected_or_first_available_variant": red, "variants": [red, blue]}
    block = render_block("backorder-eta", "en", product=product, primary=True)
    form = ("<h1>Organic tee</h1><form action='/cart/add' method='post'><select name='id'>"
            "<option value='8001' selected>Red</option><option value='8002'>Blue</option></select>"
            "<button type='button'>Add to cart</button></form>")
    context = chromium.new_context(viewport={"width": 900, "height": 700})
    requests_made: list[str] = []
    context.on("request", lambda r: requests_made.append(r.url))
    page = context.new_page()
    page.set_content(theme_page(form + block, "Organic tee"))
    assert page.inner_text("[data-backorder-eta-line]") == "Ships by 17 December 2026"
    assert "Most likely December 10, 2026" in page.inner_text("[data-backorder-eta-window]")
    shot(page, "theme-block-backordered-variant")
    page.select_option("select[name=id]", "8002")
    page.wait_for_function("() => document.querySelector('[data-backorder-eta-line]').textContent === 'In stock'")
    assert page.inner_text("[data-backorder-eta-window]") == ""
    shot(page, "theme-block-in-stock-variant")
    page.select_option("select[name=id]", "8001")
    page.wait_for_function("() => document.querySelector('[data-backorder-eta-line]').textContent.startsWith('Ships')")
    assert requests_made == []  # switching variants asked no one: the data was in the page
    context.close()


@pytest.fixture
def proxy_app(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    config = load_config({
        "SECRET_KEY": "e2e-secret-key", "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "INSTANCE_PATH": str(tmp_path / "instance"), "DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.sqlite3'}",
        "APP_URL": f"http://127.0.0.1:{port}", "WORKER_ENABLED": "0", "SCHEDULER_ENABLED": "0",
        "SANDBOX_ENABLED": "0", "SHOPIFY_API_KEY": "e2e-key", "SHOPIFY_API_SECRET": APP_SECRET,
    })
    services = build_services(config)
    app = create_app(config, services, background=False)
    ref = services.shops.connect(Platform.SHOPIFY, SHOP, name="Oak & Ash", credentials={"access_token": "x"},
                                 currency="EUR", locale="en", timezone="Europe/Rome")
    now = datetime.now(UTC)
    with services.db.session() as s:
        for sku, title, stock in (("TEE", "Organic tee", 0), ("MUG", "Ceramic mug", 40)):
            s.add(VariantRow(shop_id=ref.id, sku=sku, title=title, price=Decimal("25.00"), variant_id="1",
                             sells_when_out_of_stock=True, lead_time_days=None, updated_at=now))
            s.add(StockLevelRow(shop_id=ref.id, sku=sku, location="1", available=stock, updated_at=now))
    server = make_server("127.0.0.1", port, app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, name="e2e-proxy", daemon=True)
    serving.start()
    try:
        yield config.app_url
    finally:
        server.shutdown()
        serving.join(timeout=10)
        services.db.dispose()


def test_the_landing_page_through_the_proxy_inside_a_theme(proxy_app: str, chromium) -> None:  # type: ignore[no-untyped-def]
    pairs = [("shop", SHOP), ("logged_in_customer_id", ""), ("path_prefix", "/apps/backorders"),
             ("timestamp", str(int(datetime.now(UTC).timestamp())))]
    query = urlencode([*pairs, ("signature", sign(pairs, APP_SECRET))])
    response = requests.get(f"{proxy_app}/proxy/shopify?{query}", timeout=10)  # as Shopify forwards it
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/liquid")
    assert requests.get(f"{proxy_app}/proxy/shopify?{query.replace('signature=', 'signature=0')}",
                        timeout=10).status_code == 401
    context = chromium.new_context(viewport={"width": 1000, "height": 800})
    page = context.new_page()
    page.set_content(theme_page(response.text, "When things ship"))  # Shopify renders it inside the theme
    assert page.inner_text("h1") == "Made to wait for"
    items = page.locator("[data-sku]")
    assert items.count() == 1 and items.first.get_attribute("data-sku") == "TEE"
    assert page.inner_text("[data-sku=TEE] .backorder-connector-eta").startswith("Ships by ")
    shot(page, "proxy-landing-in-theme")
    context.close()
