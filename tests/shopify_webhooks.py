"""Build signed Shopify webhook requests the way Shopify sends them (for tests)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from adapters.shopify.verify import sign

TEST_SECRET = "hush-test-app-secret"
TEST_SHOP = "backorder-test.myshopify.com"


def webhook_headers(
    topic: str, body: bytes, *, shop: str = TEST_SHOP, secret: str = TEST_SECRET, event_id: str | None = None,
    webhook_id: str | None = None, triggered_at: str = "2026-11-25T08:00:00.000Z",
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(body, secret),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": "2026-10",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": triggered_at,
    }


def body_bytes(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def compliance_body(raw: Any, shop: str = TEST_SHOP) -> Any:
    """The compliance fixtures say `{shop}.myshopify.com`: put the shop's name in."""
    name = shop.removesuffix(".myshopify.com")
    return json.loads(json.dumps(raw).replace("{shop}", name))
