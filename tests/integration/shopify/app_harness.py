"""The whole service (Flask app, SQLite, inbox, outbox) with Shopify's HTTP mocked: for flow tests."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import responses
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient

from adapters.shopify.config import DEFAULT_SCOPES
from connector.bootstrap import Services, build_services
from connector.config import load_config
from connector.web import create_app
from tests.shopify_fake_store import FakeShopifyStore
from tests.shopify_schema import ShopifyAdminMock
from tests.shopify_webhooks import TEST_SECRET, TEST_SHOP, body_bytes, webhook_headers

API_KEY = "backorder-app-key"
APP_URL = "https://backorders.example.com"
TOKEN = "shpat_installed_token_0001"


def signed_query(params: dict[str, str]) -> str:
    """A query string signed as Shopify signs install and callback requests."""
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    digest = hmac.new(TEST_SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
    return urlencode({**params, "hmac": digest})


@dataclass
class ShopifyHarness:
    app: Flask
    services: Services
    http: FlaskClient
    rsps: responses.RequestsMock
    admin: ShopifyAdminMock
    store: FakeShopifyStore
    clock: Any = None
    mails: list[tuple[dict[str, Any], str]] = field(default_factory=list)

    def webhook(self, topic: str, payload: Any, *, event_id: str | None = None, secret: str = TEST_SECRET,
                **kwargs: Any) -> Any:
        body = payload if isinstance(payload, bytes) else body_bytes(payload)
        headers = webhook_headers(topic, body, event_id=event_id, secret=secret, **kwargs)
        return self.http.post("/webhooks/shopify", data=body, headers=headers)

    def settle(self, rounds: int = 20, *, wait_seconds: float = 0) -> None:
        """Let `wait_seconds` pass, then run the worker's passes until the inbox and outbox are idle."""
        if wait_seconds:
            self.clock.advance(seconds=wait_seconds)
        for _ in range(rounds):
            if self.services.work_once() == (0, 0):
                return
        raise AssertionError("the inbox/outbox did not settle")

    def install(self) -> Any:
        start = self.http.get("/shopify/install?" + signed_query({"shop": TEST_SHOP,
                                                                   "timestamp": str(int(time.time()))}))
        assert start.status_code == 302, start.get_data(as_text=True)
        state = parse_qs(urlparse(start.headers["Location"]).query)["state"][0]
        return start, self.http.get("/shopify/callback?" + signed_query({
            "code": "oauth-code-1", "shop": TEST_SHOP, "state": state, "timestamp": str(int(time.time())),
            "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYmFja29yZGVyLXRlc3Q"}))


@pytest.fixture
def harness(tmp_path: Path, clock: Any) -> Iterator[ShopifyHarness]:
    """`clock` is the core's controllable clock fixture (tests/conftest.py)."""
    config = load_config({
        "SECRET_KEY": "test-secret-key", "ENCRYPTION_KEY": Fernet.generate_key().decode(), "APP_URL": APP_URL,
        "INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'connector.sqlite3'}",
        "WORKER_ENABLED": "0", "SCHEDULER_ENABLED": "0",
        "SHOPIFY_API_KEY": API_KEY, "SHOPIFY_API_SECRET": TEST_SECRET,
    })
    mails: list[tuple[dict[str, Any], str]] = []
    clock.now = datetime.now(UTC).replace(microsecond=0)  # OAuth timestamps are checked against real time
    services = build_services(config, clock=clock, send_mail=lambda payload, key: mails.append((dict(payload), key)))
    app = create_app(config, services, background=False)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        admin = ShopifyAdminMock(rsps, TEST_SHOP)
        store = FakeShopifyStore(admin, shop_resource={"name": "Backorder Test Shop", "currency": "USD",
                                                       "iana_timezone": "Europe/Rome", "primary_locale": "it"})
        rsps.post(f"https://{TEST_SHOP}/admin/oauth/access_token",
                  json={"access_token": TOKEN, "scope": ",".join(DEFAULT_SCOPES)})
        yield ShopifyHarness(app, services, app.test_client(), rsps, admin, store, clock, mails)
    services.db.dispose()
