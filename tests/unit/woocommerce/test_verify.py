import base64
import hashlib

import pytest

from adapters.base import Delivery, Ping, SignatureInvalid, UnknownShop
from adapters.woocommerce.verify import WooWebhookVerifier, signature
from connector.domain.model import Platform
from tests.woocommerce_support import raw, signed

SECRET = b"per-store-secret"
SHOP = "shop.example.com"


def lookup(shop):
    return SECRET if shop == SHOP else None


def test_signature_matches_the_rfc_4231_vector():
    expected = bytes.fromhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    assert signature(b"Jefe", b"what do ya want for nothing?") == base64.b64encode(expected).decode()


def test_a_real_order_payload_signed_by_the_store_is_a_delivery():
    body = raw("rest_v3_order_retrieve.json")
    headers = signed(body, SECRET, topic="order.updated", delivery_id="abc123", webhook_id="41")
    delivery = WooWebhookVerifier().verify(headers, body, lookup)
    assert isinstance(delivery, Delivery)
    assert delivery.platform is Platform.WOOCOMMERCE
    assert delivery.shop == SHOP
    assert delivery.topic == "order.updated"
    assert delivery.event_id == "abc123"
    assert delivery.body == body
    assert delivery.headers["x-wc-webhook-id"] == "41"
    assert "x-wc-webhook-signature" not in delivery.headers


def test_headers_are_read_case_insensitively():
    body = raw("rest_v3_product_retrieve.json")
    headers = {k.lower(): v for k, v in signed(body, SECRET, topic="product.updated").items()}
    assert WooWebhookVerifier().verify(headers, body, lookup).topic == "product.updated"


def test_the_source_is_normalised_before_the_secret_lookup():
    asked = []

    def spy(shop):
        asked.append(shop)
        return SECRET

    body = b'{"id": 1}'
    headers = signed(body, SECRET, topic="order.updated", source="HTTPS://Example.com:443/store/")
    assert WooWebhookVerifier().verify(headers, body, spy).shop == "example.com/store"
    assert asked == ["example.com/store"]


def test_one_changed_byte_is_refused():
    body = raw("rest_v3_order_retrieve.json")
    headers = signed(body, SECRET, topic="order.updated")
    with pytest.raises(SignatureInvalid):
        WooWebhookVerifier().verify(headers, body.replace(b'"quantity": 2', b'"quantity": 3'), lookup)


def test_a_signature_made_with_another_secret_is_refused():
    body = raw("rest_v3_order_retrieve.json")
    with pytest.raises(SignatureInvalid):
        WooWebhookVerifier().verify(signed(body, b"someone else", topic="order.updated"), body, lookup)


def test_a_delivery_without_signature_is_refused_before_any_lookup():
    def never(shop):
        raise AssertionError("no lookup for an unsigned request")

    headers = signed(b"{}", SECRET, topic="order.updated")
    del headers["X-WC-Webhook-Signature"]
    with pytest.raises(SignatureInvalid):
        WooWebhookVerifier().verify(headers, b"{}", never)


@pytest.mark.parametrize("source", ["https://other.example.com/", "", "ftp://x"])
def test_an_unknown_or_missing_source_is_an_unknown_shop(source):
    headers = signed(b"{}", SECRET, topic="order.updated", source=source)
    with pytest.raises(UnknownShop):
        WooWebhookVerifier().verify(headers, b"{}", lookup)


@pytest.mark.parametrize("body", [b"webhook_id=12", b"webhook_id=12\n"])
def test_the_unsigned_ping_is_answered_without_lookup(body):
    result = WooWebhookVerifier().verify({"Content-Type": "application/x-www-form-urlencoded"}, body, lambda s: None)
    assert isinstance(result, Ping)
    assert result.detail == "webhook_id=12"


def test_a_form_body_with_more_than_the_hook_id_is_not_a_ping():
    with pytest.raises(SignatureInvalid):
        WooWebhookVerifier().verify({}, b"webhook_id=12&status=paid", lookup)


def test_without_delivery_id_identical_bodies_share_an_event_id():
    body = raw("rest_v3_order_retrieve.json")
    headers = signed(body, SECRET, topic="order.updated")
    del headers["X-WC-Webhook-Delivery-ID"]
    first = WooWebhookVerifier().verify(headers, body, lookup)
    second = WooWebhookVerifier().verify(dict(headers), body, lookup)
    assert first.event_id == second.event_id == "sha256:" + hashlib.sha256(body).hexdigest()


def test_topic_falls_back_to_resource_and_event():
    body = b'{"id": 5}'
    headers = signed(body, SECRET, topic="order.deleted")
    del headers["X-WC-Webhook-Topic"]
    assert WooWebhookVerifier().verify(headers, body, lookup).topic == "order.deleted"


def test_unicode_bodies_are_verified_on_their_raw_bytes():
    body = '{"id": 9, "billing": {"first_name": "João", "last_name": "Müller 东京"}}'.encode()
    assert WooWebhookVerifier().verify(signed(body, SECRET, topic="order.created"), body, lookup).body == body
