"""shopify.app.toml (what the Partner app is configured with) agrees with the code."""

from __future__ import annotations

import tomllib
from urllib.parse import urlparse

from adapters.shopify.config import DEFAULT_SCOPES, ShopifyConfig
from adapters.shopify.graphql import DEFAULT_API_VERSION
from adapters.shopify.normalise import COMPLIANCE_TOPICS
from tests.shared_files import REPO


def test_app_configuration_matches_the_code() -> None:
    app = tomllib.loads((REPO / "shopify.app.toml").read_text())
    config = ShopifyConfig.from_mapping({})
    assert tuple(app["access_scopes"]["scopes"].split(",")) == DEFAULT_SCOPES
    assert app["webhooks"]["api_version"] == DEFAULT_API_VERSION
    assert [urlparse(u).path for u in app["auth"]["redirect_urls"]] == [config.callback_path]
    assert urlparse(app["application_url"]).path == "/shopify/install"
    (compliance,) = [s for s in app["webhooks"]["subscriptions"] if "compliance_topics" in s]
    assert set(compliance["compliance_topics"]) == COMPLIANCE_TOPICS
    assert urlparse(compliance["uri"]).path == config.webhook_path


def test_the_app_proxy_points_at_the_proxy_route() -> None:
    app = tomllib.loads((REPO / "shopify.app.toml").read_text())
    proxy = app["app_proxy"]
    assert urlparse(proxy["url"]).path == "/proxy/shopify"
    assert (proxy["prefix"], proxy["subpath"]) == ("apps", "backorders")
    assert "write_app_proxy" in DEFAULT_SCOPES
