"""Authenticate WooCommerce webhook deliveries.

WooCommerce signs each delivery with ``X-WC-Webhook-Signature`` = base64(HMAC-SHA256(secret,
raw body)), where the secret is the one we set when we created the hook (one per store, ours).
The store names itself in ``X-WC-Webhook-Source`` (its ``home_url('/')``); we file stores under
`urls.shop_key` of that address. When a hook is saved WooCommerce sends an unsigned ping whose
whole form body is ``webhook_id=N``: it carries no data and must be answered 200.

WooCommerce derives ``X-WC-Webhook-Delivery-ID`` from the hook id and the current second, so
it only dedupes a repeated delivery of the same request; a delivery without one is keyed by
the body's digest, so identical bodies still dedupe.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping

from adapters.base import Delivery, Ping, SecretLookup, SignatureInvalid, UnknownShop
from adapters.woocommerce.urls import InvalidStoreUrl, shop_key
from connector.domain.model import Platform

_PING = re.compile(rb"\Awebhook_id=(\d+)\s*\Z")
_PREFIX = "x-wc-webhook-"


def signature(secret: bytes, body: bytes) -> str:
    """The value WooCommerce puts in ``X-WC-Webhook-Signature`` for this body."""
    return base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode("ascii")


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in headers.items()}


class WooWebhookVerifier:
    """`adapters.base.WebhookVerifier` for WooCommerce."""

    def verify(self, headers: Mapping[str, str], body: bytes, secret_for: SecretLookup) -> Delivery | Ping:
        ping = _PING.match(body)
        if ping:
            return Ping(detail="webhook_id=" + ping.group(1).decode("ascii"))
        h = _lower(headers)
        sent = h.get(_PREFIX + "signature", "").strip()
        if not sent:
            raise SignatureInvalid("no X-WC-Webhook-Signature header")
        source = h.get(_PREFIX + "source", "").strip()
        if not source:
            raise UnknownShop("no X-WC-Webhook-Source header: cannot tell which store sent this")
        try:
            shop = shop_key(source)
        except InvalidStoreUrl as exc:
            raise UnknownShop(f"X-WC-Webhook-Source is not a store address: {exc}") from exc
        secret = secret_for(shop)
        if not secret:
            raise UnknownShop(f"no connected WooCommerce store {shop!r}")
        if not hmac.compare_digest(signature(secret, body).encode("ascii"), sent.encode("ascii", "replace")):
            raise SignatureInvalid(f"X-WC-Webhook-Signature does not match the body for {shop!r}")
        topic = h.get(_PREFIX + "topic", "").strip()
        if not topic and h.get(_PREFIX + "resource") and h.get(_PREFIX + "event"):
            topic = f"{h[_PREFIX + 'resource']}.{h[_PREFIX + 'event']}"
        event_id = h.get(_PREFIX + "delivery-id", "").strip() or "sha256:" + hashlib.sha256(body).hexdigest()
        kept = {k: v for k, v in h.items() if k.startswith(_PREFIX) and k != _PREFIX + "signature"}
        return Delivery(
            platform=Platform.WOOCOMMERCE,
            shop=shop,
            topic=topic,
            event_id=event_id,
            body=body,
            headers=kept,
        )
