"""Webhook authentication: `X-Shopify-Hmac-Sha256` over the raw body, with the app's secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime

from adapters.base import Delivery, SecretLookup, SignatureInvalid
from connector.domain.model import Platform

from .ids import InvalidShopDomain, shop_domain

HMAC_HEADER = "X-Shopify-Hmac-Sha256"
TOPIC_HEADER = "X-Shopify-Topic"
SHOP_HEADER = "X-Shopify-Shop-Domain"
EVENT_ID_HEADER = "X-Shopify-Event-Id"
WEBHOOK_ID_HEADER = "X-Shopify-Webhook-Id"
TRIGGERED_AT_HEADER = "X-Shopify-Triggered-At"
API_VERSION_HEADER = "X-Shopify-API-Version"


def sign(body: bytes, secret: str | bytes) -> str:
    """The value Shopify puts in `X-Shopify-Hmac-Sha256` for this body."""
    key = secret.encode() if isinstance(secret, str) else secret
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode("ascii")


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, whatever its case."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class ShopifyWebhookVerifier:
    """Implements `adapters.base.WebhookVerifier` for Shopify.

    Shopify signs every webhook of an app with the app's client secret, so the secret comes from
    configuration, not from the shop. `previous_secrets` keeps deliveries signed before a secret
    rotation valid. When no app secret is configured, `secret_for(shop)` is asked instead."""

    def __init__(self, secret: str | bytes | None, previous_secrets: Sequence[str | bytes] = ()) -> None:
        self._secrets = [s for s in (secret, *previous_secrets) if s]

    def verify(self, headers: Mapping[str, str], body: bytes, secret_for: SecretLookup) -> Delivery:
        signature = header(headers, HMAC_HEADER)
        if not signature:
            raise SignatureInvalid(f"missing {HMAC_HEADER} header")
        raw_shop = header(headers, SHOP_HEADER)
        secrets = list(self._secrets)
        if not secrets and raw_shop:
            looked_up = secret_for(raw_shop)
            if looked_up:
                secrets.append(looked_up)
        if not secrets:
            raise SignatureInvalid("no Shopify app secret configured")
        given = signature.strip().encode("ascii", "replace")
        if not any(hmac.compare_digest(sign(body, secret).encode("ascii"), given) for secret in secrets):
            raise SignatureInvalid("X-Shopify-Hmac-Sha256 does not match the body")

        topic = header(headers, TOPIC_HEADER)
        if not topic:
            raise SignatureInvalid(f"signed delivery without {TOPIC_HEADER} header")
        try:
            shop = shop_domain(raw_shop)
        except InvalidShopDomain as exc:
            raise SignatureInvalid(f"{SHOP_HEADER}: {exc}") from exc
        event_id = header(headers, EVENT_ID_HEADER) or header(headers, WEBHOOK_ID_HEADER)
        if not event_id:
            # Both ids are always sent by Shopify; without them the body itself is the identity.
            event_id = "sha256:" + hashlib.sha256(topic.encode() + b"\n" + body).hexdigest()
        kept = {
            name: value
            for name in (TOPIC_HEADER, SHOP_HEADER, EVENT_ID_HEADER, WEBHOOK_ID_HEADER, TRIGGERED_AT_HEADER,
                         API_VERSION_HEADER)
            if (value := header(headers, name)) is not None
        }
        return Delivery(
            platform=Platform.SHOPIFY,
            shop=shop,
            topic=topic.strip().lower(),
            event_id=event_id.strip(),
            body=body,
            headers=kept,
            triggered_at=_parse_time(header(headers, TRIGGERED_AT_HEADER)),
        )
