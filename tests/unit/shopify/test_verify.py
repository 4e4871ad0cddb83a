from __future__ import annotations

import pytest

from adapters.base import SignatureInvalid
from adapters.shopify.verify import ShopifyWebhookVerifier, sign
from connector.domain.model import Platform
from tests.shared_files import fixtures_dir
from tests.shopify_webhooks import TEST_SECRET, TEST_SHOP, webhook_headers


def no_lookup(shop: str) -> bytes | None:
    raise AssertionError("the app secret is configured: no per-shop lookup expected")


@pytest.fixture
def verifier() -> ShopifyWebhookVerifier:
    return ShopifyWebhookVerifier(TEST_SECRET)


def test_sign_matches_a_known_vector() -> None:
    # computed independently: echo -n '{"id":1}' | openssl dgst -sha256 -hmac secret -binary | base64
    assert sign(b'{"id":1}', "secret") == "A971iWIMgT8Zj9A9eWfikrFj7wQ16/Qwcc4OlRl2PLc="


@pytest.mark.parametrize("path", sorted(fixtures_dir("shopify").glob("*.json")), ids=lambda p: p.name)
def test_every_real_payload_verifies_byte_for_byte(verifier: ShopifyWebhookVerifier, path) -> None:
    body = path.read_bytes()
    headers = webhook_headers("orders/create", body, event_id="evt-1", webhook_id="wh-1")
    delivery = verifier.verify(headers, body, no_lookup)
    assert delivery.platform is Platform.SHOPIFY
    assert delivery.shop == TEST_SHOP
    assert delivery.topic == "orders/create"
    assert delivery.event_id == "evt-1"
    assert delivery.body == body
    assert delivery.triggered_at is not None and delivery.triggered_at.year == 2026


def test_one_changed_byte_is_rejected(verifier: ShopifyWebhookVerifier) -> None:
    body = (fixtures_dir("shopify") / "rest_order.json").read_bytes()
    headers = webhook_headers("orders/create", body)
    tampered = body.replace(b"409.94", b"409.95", 1)
    with pytest.raises(SignatureInvalid):
        verifier.verify(headers, tampered, no_lookup)


def test_reformatted_json_is_rejected(verifier: ShopifyWebhookVerifier) -> None:
    body = b'{"id": 1}'
    headers = webhook_headers("orders/create", body)
    with pytest.raises(SignatureInvalid):
        verifier.verify(headers, b'{"id":1}', no_lookup)


def test_wrong_secret_missing_and_garbage_signatures_are_rejected(verifier: ShopifyWebhookVerifier) -> None:
    body = b'{"id":1}'
    with pytest.raises(SignatureInvalid):
        verifier.verify(webhook_headers("orders/create", body, secret="other"), body, no_lookup)
    headers = webhook_headers("orders/create", body)
    del headers["X-Shopify-Hmac-Sha256"]
    with pytest.raises(SignatureInvalid, match="missing"):
        verifier.verify(headers, body, no_lookup)
    headers["X-Shopify-Hmac-Sha256"] = "ünïcode-not-base64"
    with pytest.raises(SignatureInvalid):
        verifier.verify(headers, body, no_lookup)


def test_headers_are_case_insensitive_and_topic_normalised(verifier: ShopifyWebhookVerifier) -> None:
    body = b'{"id":1}'
    headers = {k.lower(): v for k, v in webhook_headers("Orders/Create", body, event_id="e").items()}
    delivery = verifier.verify(headers, body, no_lookup)
    assert delivery.topic == "orders/create"
    assert delivery.headers["X-Shopify-Event-Id"] == "e"


def test_event_id_falls_back_to_webhook_id_then_to_the_body(verifier: ShopifyWebhookVerifier) -> None:
    body = b'{"id":1}'
    headers = webhook_headers("orders/create", body, webhook_id="wh-9")
    del headers["X-Shopify-Event-Id"]
    assert verifier.verify(headers, body, no_lookup).event_id == "wh-9"
    del headers["X-Shopify-Webhook-Id"]
    first = verifier.verify(headers, body, no_lookup).event_id
    assert first.startswith("sha256:") and first == verifier.verify(headers, body, no_lookup).event_id


def test_a_signed_delivery_for_a_foreign_host_is_rejected(verifier: ShopifyWebhookVerifier) -> None:
    body = b'{"id":1}'
    with pytest.raises(SignatureInvalid, match="myshopify"):
        verifier.verify(webhook_headers("orders/create", body, shop="evil.example.com"), body, no_lookup)


def test_previous_secret_still_verifies_during_rotation() -> None:
    verifier = ShopifyWebhookVerifier("new-secret", previous_secrets=["old-secret"])
    body = b'{"id":1}'
    assert verifier.verify(webhook_headers("orders/create", body, secret="old-secret"), body, no_lookup)
    with pytest.raises(SignatureInvalid):
        verifier.verify(webhook_headers("orders/create", body, secret="third"), body, no_lookup)


def test_without_app_secret_the_shop_lookup_is_used() -> None:
    verifier = ShopifyWebhookVerifier(None)
    body = b'{"id":1}'
    headers = webhook_headers("orders/create", body, secret="shop-secret")
    assert verifier.verify(headers, body, lambda shop: b"shop-secret" if shop == TEST_SHOP else None)
    with pytest.raises(SignatureInvalid):
        verifier.verify(headers, body, lambda shop: None)
