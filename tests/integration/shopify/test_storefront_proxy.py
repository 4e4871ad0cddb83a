"""The app proxy (`/apps/backorders` on the shop's domain -> `/proxy/shopify` here): signature, freshness,
one path only, the landing page as Liquid and the availability JSON."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

import pytest

from adapters.shopify.proxy import signed_message
from tests.shopify_webhooks import TEST_SECRET, TEST_SHOP

from .app_harness import ShopifyHarness
from .test_install_to_backorder import catalogue

PREFIX = "/apps/backorders"


def proxied(h: ShopifyHarness, extra: dict[str, str] | None = None, *, secret: str = TEST_SECRET,
            timestamp: int | None = None) -> list[tuple[str, str]]:
    """The query Shopify sends: the shopper's parameters, its own, and the signature over all of them."""
    pairs = [*(extra or {}).items(), ("shop", TEST_SHOP), ("logged_in_customer_id", ""),
             ("path_prefix", PREFIX), ("timestamp", str(timestamp or int(h.clock.now.timestamp())))]
    # the algorithm as Shopify documents it, written out independently of the code under test
    grouped: dict[str, list[str]] = {}
    for k, v in pairs:
        grouped.setdefault(k, []).append(v)
    message = "".join(f"{k}={','.join(v)}" for k, v in sorted(grouped.items()))
    assert message == signed_message(pairs)
    return [*pairs, ("signature", hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest())]


@pytest.fixture
def shop(harness: ShopifyHarness) -> ShopifyHarness:
    h = harness
    h.install()
    product = catalogue()
    h.store.add_product(product)
    assert h.webhook("products/update", product).status_code == 200
    for variant in product["variants"]:
        level = {"inventory_item_id": variant["inventory_item_id"], "location_id": 905684977,
                 "available": 0 if variant["sku"] == "IPOD2008RED" else 9,
                 "updated_at": "2026-11-25T09:00:00-05:00"}
        assert h.webhook("inventory_levels/update", level).status_code == 200
    h.settle(wait_seconds=60)
    return h


def test_a_signed_request_gets_the_landing_page_as_liquid(shop: ShopifyHarness) -> None:
    response = shop.http.get("/proxy/shopify?" + urlencode(proxied(shop)))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/liquid")
    page = response.get_data(as_text=True)
    assert "<html" not in page  # a fragment: Shopify puts it inside the shop's theme
    assert 'data-sku="IPOD2008RED"' in page and "IPOD2008GREEN" not in page
    assert "Spedizione entro il" in page  # the shop's language (Italian)


def test_the_availability_json_through_the_proxy(shop: ShopifyHarness) -> None:
    response = shop.http.get("/proxy/shopify?" + urlencode(proxied(shop, {"sku": "IPOD2008RED"})))
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "backorder" and body["ships_by"] and body["message"].startswith("Spedizione entro")
    green = shop.http.get("/proxy/shopify?" + urlencode(proxied(shop, {"sku": "IPOD2008GREEN"}))).get_json()
    assert green["status"] == "in_stock"


def _bare_401(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 401 and response.data == b""


def test_bad_missing_stale_or_repeated_signatures_get_401_and_nothing_else(shop: ShopifyHarness) -> None:
    good = proxied(shop, {"sku": "IPOD2008RED"})
    _bare_401(shop.http.get("/proxy/shopify?" + urlencode([p for p in good if p[0] != "signature"])))  # missing
    _bare_401(shop.http.get("/proxy/shopify?" + urlencode(proxied(shop, secret="not-the-app-secret"))))  # bad
    tampered = [("sku", "IPOD2008GREEN") if k == "sku" else (k, v) for k, v in good]  # another SKU, same signature
    _bare_401(shop.http.get("/proxy/shopify?" + urlencode(tampered)))
    stale = proxied(shop, timestamp=int(shop.clock.now.timestamp()) - 600)  # a URL captured ten minutes ago
    _bare_401(shop.http.get("/proxy/shopify?" + urlencode(stale)))
    _bare_401(shop.http.get("/proxy/shopify?" + urlencode([*good, ("shop", "other.myshopify.com")])))  # twice
    _bare_401(shop.http.get("/proxy/shopify/anything"))  # no query at all


def test_a_signed_query_replayed_on_another_path_is_served_nothing(shop: ShopifyHarness) -> None:
    """Shopify does not sign the path after the proxy's subpath, so the path chooses nothing: what is
    asked is in the signed query, and any other path is not found (never another resource)."""
    good = urlencode(proxied(shop, {"sku": "IPOD2008RED"}))
    assert shop.http.get("/proxy/shopify?" + good).status_code == 200
    for path in ("/proxy/shopify/availability/IPOD2008GREEN", "/proxy/shopify/admin", "/proxy/shopify/x/y"):
        response = shop.http.get(f"{path}?{good}")
        assert response.status_code == 404 and b"IPOD2008" not in response.data


def test_a_shop_not_installed_is_not_found(harness: ShopifyHarness) -> None:
    response = harness.http.get("/proxy/shopify?" + urlencode(proxied(harness)))
    assert response.status_code == 404


def test_product_titles_cannot_inject_liquid(shop: ShopifyHarness) -> None:
    product = catalogue()
    red = next(v for v in product["variants"] if v["sku"] == "IPOD2008RED")
    product["title"] = "{{ shop.secret }} {% render 'x' %} <script>alert(1)</script>"
    red["title"] = "Red"
    assert shop.webhook("products/update", product, event_id="evt-title").status_code == 200
    shop.settle()
    page = shop.http.get("/proxy/shopify?" + urlencode(proxied(shop))).get_data(as_text=True)
    assert "{{" not in page and "{%" not in page and "<script>" not in page
    assert "&#123;&#123; shop.secret &#125;&#125;" in page
