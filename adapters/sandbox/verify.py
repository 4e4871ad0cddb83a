"""Verify the sandbox store's signed webhooks (same scheme as Shopify's, per-shop secret)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from adapters.base import Delivery, SecretLookup, SignatureInvalid, UnknownShop
from adapters.sandbox.webhooks import HEADER_PREFIX, sign
from connector.domain.model import Platform


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(f"{HEADER_PREFIX}{name}")
    if not value:
        raise SignatureInvalid(f"missing {HEADER_PREFIX}{name} header")
    return value


class SandboxVerifier:
    def verify(self, headers: Mapping[str, str], body: bytes, secret_for: SecretLookup) -> Delivery:
        domain = _header(headers, "Shop-Domain")
        signature = _header(headers, "Hmac-Sha256")
        secret = secret_for(domain)
        if secret is None:
            raise UnknownShop(f"no sandbox shop {domain!r}")
        if not hmac.compare_digest(sign(secret, body).encode(), signature.encode()):
            raise SignatureInvalid("HMAC does not match the body")
        return Delivery(
            platform=Platform.SANDBOX,
            shop=domain,
            topic=_header(headers, "Topic"),
            event_id=_header(headers, "Event-Id"),
            body=body,
            headers={k: v for k, v in headers.items() if k.startswith(HEADER_PREFIX)},
        )
