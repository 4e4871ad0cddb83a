"""OAuth install pieces: authorize URL, signed callback checks, token exchange, webhooks, shop details."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import parse_qs, urlparse

import pytest
import responses

from adapters.shopify.config import DEFAULT_SCOPES, ShopifyConfig
from adapters.shopify.graphql import GraphQLClient
from adapters.shopify.install import ensure_webhooks, shop_details
from adapters.shopify.normalise import SUBSCRIBED_TOPICS
from adapters.shopify.oauth import Grant, InstallError, ShopifyOAuth
from tests.shared_files import load_fixture
from tests.shopify_fake_store import FakeShopifyStore
from tests.shopify_schema import ShopifyAdminMock
from tests.shopify_webhooks import TEST_SECRET, TEST_SHOP

CONFIG = ShopifyConfig.from_mapping({
    "SHOPIFY_API_KEY": "app-key", "SHOPIFY_API_SECRET": TEST_SECRET, "APP_URL": "https://backorders.example.com/",
    "SHOPIFY_SCOPES": "write_orders, read_products,read_inventory",
})


def _escape(text: str, *extra: str) -> str:
    text = text.replace("%", "%25").replace("&", "%26")
    return text.replace("=", "%3D") if "=" in extra else text


def signed(params: dict[str, str], secret: str = TEST_SECRET, *, escape: bool = True) -> dict[str, str]:
    """Sign a query the way Shopify documents it (computed here independently of the package):
    sorted `key=value` pairs joined by `&`, with `%` and `&` (and `=` in keys) percent-escaped."""
    message = "&".join(sorted(
        f"{_escape(k, '=')}={_escape(v)}" if escape else f"{k}={v}" for k, v in params.items()))
    return {**params, "hmac": hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()}


def callback(**overrides: str) -> dict[str, str]:
    params = {"code": "auth-code-1", "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYmFja29yZGVyLXRlc3Q",
              "shop": TEST_SHOP, "state": "nonce-1", "timestamp": str(int(time.time()))}
    params.update(overrides)
    return signed(params)


@pytest.fixture
def oauth() -> ShopifyOAuth:
    return ShopifyOAuth(CONFIG)


def test_config_reads_settings() -> None:
    assert CONFIG.scopes == ("write_orders", "read_products", "read_inventory")
    assert CONFIG.redirect_uri == "https://backorders.example.com/shopify/callback"
    assert CONFIG.webhook_url == "https://backorders.example.com/webhooks/shopify"
    assert ShopifyConfig.from_mapping({}).scopes == DEFAULT_SCOPES


def test_authorize_url(oauth: ShopifyOAuth) -> None:
    url = urlparse(oauth.authorize_url("Backorder-Test.myshopify.com", "nonce-1"))
    assert (url.scheme, url.netloc, url.path) == ("https", TEST_SHOP, "/admin/oauth/authorize")
    query = parse_qs(url.query)
    assert query == {"client_id": ["app-key"], "scope": ["write_orders,read_products,read_inventory"],
                     "redirect_uri": ["https://backorders.example.com/shopify/callback"], "state": ["nonce-1"]}
    assert "grant_options[]" not in query  # offline token


@pytest.mark.parametrize("shop", ["evil.com", "shop.myshopify.com.evil.com", "https://x.myshopify.com/../a",
                                  "user@x.myshopify.com", "x.myshopify.com:444", "", "-x.myshopify.com"])
def test_foreign_shop_domains_are_refused(oauth: ShopifyOAuth, shop: str) -> None:
    with pytest.raises(InstallError):
        oauth.authorize_url(shop, "n")
    with pytest.raises(InstallError):
        oauth.verify_callback(callback(shop=shop), "nonce-1")


def test_new_states_are_unguessable(oauth: ShopifyOAuth) -> None:
    states = {oauth.new_state() for _ in range(50)}
    assert len(states) == 50 and all(len(s) >= 40 for s in states)


def test_valid_callback(oauth: ShopifyOAuth) -> None:
    assert oauth.verify_callback(callback(), "nonce-1") == TEST_SHOP


def test_callback_with_bad_hmac_state_or_timestamp_is_refused(oauth: ShopifyOAuth) -> None:
    tampered = callback() | {"code": "other-code"}
    with pytest.raises(InstallError, match="HMAC"):
        oauth.verify_callback(tampered, "nonce-1")
    with pytest.raises(InstallError, match="HMAC"):
        oauth.verify_callback(signed({"code": "c", "shop": TEST_SHOP, "state": "nonce-1",
                                      "timestamp": str(int(time.time()))}, secret="wrong"), "nonce-1")
    with pytest.raises(InstallError, match="state"):
        oauth.verify_callback(callback(), "another-browsers-nonce")
    with pytest.raises(InstallError, match="state"):
        oauth.verify_callback(callback(), None)
    with pytest.raises(InstallError, match="24 hour"):
        oauth.verify_callback(callback(timestamp=str(int(time.time()) - 24 * 3600 - 60)), "nonce-1")
    with pytest.raises(InstallError, match="24 hour"):
        oauth.verify_callback(callback(timestamp=str(int(time.time()) + 3600)), "nonce-1")
    assert oauth.verify_callback(callback(timestamp=str(int(time.time()) - 23 * 3600)), "nonce-1") == TEST_SHOP


def test_query_signature_escapes_delimiters(oauth: ShopifyOAuth) -> None:
    """A value smuggling `&` is signed escaped, so it cannot pass for two parameters."""
    params = {"code": "c", "host": "a&state=nonce-1", "shop": TEST_SHOP, "state": "nonce-1",
              "timestamp": str(int(time.time()))}
    assert oauth.verify_callback(signed(params), "nonce-1") == TEST_SHOP
    with pytest.raises(InstallError, match="HMAC"):
        oauth.verify_callback(signed(params, escape=False), "nonce-1")


@responses.activate
def test_token_exchange(oauth: ShopifyOAuth) -> None:
    responses.post(f"https://{TEST_SHOP}/admin/oauth/access_token",
                   json={"access_token": "shpat_new", "scope": "write_orders,read_products,read_inventory"},
                   match=[responses.matchers.json_params_matcher(
                       {"client_id": "app-key", "client_secret": TEST_SECRET, "code": "auth-code-1"})])
    grant = oauth.exchange_code(TEST_SHOP, "auth-code-1")
    assert grant == Grant(TEST_SHOP, "shpat_new", ("write_orders", "read_products", "read_inventory"))
    assert grant.credentials() == {"access_token": "shpat_new", "scopes": "write_orders,read_products,read_inventory"}


@responses.activate
def test_token_exchange_refused_or_garbled(oauth: ShopifyOAuth) -> None:
    url = f"https://{TEST_SHOP}/admin/oauth/access_token"
    responses.post(url, status=400, json={"error": "invalid_request",
                                          "error_description": "The authorization code was not found or was used"})
    with pytest.raises(InstallError, match="HTTP 400"):
        oauth.exchange_code(TEST_SHOP, "used-code")
    responses.replace(responses.POST, url, json={"scope": "write_orders"})
    with pytest.raises(InstallError, match="without an access token"):
        oauth.exchange_code(TEST_SHOP, "c")


def test_missing_scopes_after_a_scope_change(oauth: ShopifyOAuth) -> None:
    assert oauth.missing_scopes("write_orders,write_products,read_inventory") == []  # write covers read
    assert oauth.missing_scopes("write_orders,read_products") == ["read_inventory"]
    assert oauth.missing_scopes(None) == list(CONFIG.scopes)


def test_missing_app_credentials_are_a_clear_error() -> None:
    with pytest.raises(InstallError, match="SHOPIFY_API_KEY"):
        ShopifyOAuth(ShopifyConfig.from_mapping({"APP_URL": "https://x"}))


def test_webhooks_are_subscribed_idempotently(gql: GraphQLClient, store: FakeShopifyStore,
                                              admin: ShopifyAdminMock) -> None:
    store.subscriptions.append({"id": "gid://shopify/WebhookSubscription/1", "topic": "APP_UNINSTALLED",
                                "uri": "https://old-host.example.com/webhooks/shopify"})
    report = ensure_webhooks(gql, CONFIG.webhook_url)
    assert report.updated == ["app/uninstalled"] and len(report.created) == len(SUBSCRIBED_TOPICS) - 1
    assert {s["topic"] for s in store.subscriptions} == {
        "ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED", "ORDERS_PAID", "INVENTORY_LEVELS_UPDATE",
        "PRODUCTS_UPDATE", "APP_UNINSTALLED"}
    assert {s["uri"] for s in store.subscriptions} == {CONFIG.webhook_url}
    sent = len(admin.calls)
    again = ensure_webhooks(gql, CONFIG.webhook_url)
    assert again.created == [] and again.updated == [] and len(again.unchanged) == len(SUBSCRIBED_TOPICS)
    assert admin.operations[sent:] == ["WebhookSubscriptions"]


def test_shop_details_from_the_real_shop_fixture(gql: GraphQLClient, admin: ShopifyAdminMock) -> None:
    resource = load_fixture("shopify", "rest_shop.json")["shop"] | {"iana_timezone": "America/New_York"}
    FakeShopifyStore(admin, shop_resource=resource)
    shop = shop_details(gql, TEST_SHOP)
    assert (shop.domain, shop.name, shop.currency, shop.timezone, shop.locale) == (
        TEST_SHOP, "Apple Computers", "USD", "America/New_York", "en")
