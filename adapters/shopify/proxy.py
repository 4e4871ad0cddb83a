"""App proxy requests: `https://{shop}/apps/backorders?...` forwarded by Shopify to this service.

Shopify adds `shop`, `path_prefix`, `timestamp`, `logged_in_customer_id` and `signature`: the hex
HMAC-SHA256, with the app's secret, of every other query parameter as `key=value` (several values
of one key joined by commas), sorted by key and concatenated without separators. The path after
the proxy's subpath is *not* signed (Shopify's "Authenticate app proxies" page), so a signed query
could be replayed against another path: the service therefore serves one path only, and what is
asked (a SKU, a variant, JSON) travels in signed query parameters. `timestamp` must be within
`MAX_SKEW_SECONDS` of now (Shopify's own library allows 90 s), so a captured URL stops working.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from adapters.base import SignatureInvalid

from .ids import InvalidShopDomain, shop_domain

MAX_SKEW_SECONDS = 90
SINGLE_VALUED = ("shop", "timestamp", "signature", "path_prefix", "logged_in_customer_id")
PROXY_PREFIXES = ("/apps/", "/a/", "/community/", "/tools/")  # the subpath prefixes Shopify offers


@dataclass(frozen=True, slots=True)
class ProxyRequest:
    shop: str  # the shop's myshopify.com domain, as Shopify signed it
    path_prefix: str  # where the proxy lives on the shop's domain, e.g. "/apps/backorders"
    customer_id: str | None  # the signed-in shopper, if any
    params: dict[str, list[str]]  # every signed parameter (the request's own ones included)


def signed_message(pairs: Iterable[tuple[str, str]]) -> str:
    """The text Shopify signs: `key=value[,value...]` per key (values in their order), keys sorted, no separators."""
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        if key != "signature":
            grouped.setdefault(key, []).append(value)
    return "".join(f"{key}={','.join(values)}" for key, values in sorted(grouped.items()))


def sign(pairs: Iterable[tuple[str, str]], secret: str) -> str:
    return hmac.new(secret.encode(), signed_message(pairs).encode(), hashlib.sha256).hexdigest()


def verify_proxy(pairs: Sequence[tuple[str, str]], secrets: Sequence[str], now: float) -> ProxyRequest:
    """The request, once its signature (under any of `secrets`) and freshness are checked.

    Raises `SignatureInvalid` for a missing, repeated, wrong or stale signature."""
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    if any(len(grouped.get(key, ())) > 1 for key in SINGLE_VALUED):
        raise SignatureInvalid("a proxy parameter appears twice")
    given = (grouped.get("signature") or [""])[0]
    if not given or not any(s for s in secrets):
        raise SignatureInvalid("no signature")
    if not any(hmac.compare_digest(given.encode(), sign(pairs, s).encode()) for s in secrets if s):
        raise SignatureInvalid("signature does not match")
    try:
        stamp = int((grouped.get("timestamp") or [""])[0])
    except ValueError:
        raise SignatureInvalid("no timestamp") from None
    if abs(now - stamp) > MAX_SKEW_SECONDS:
        raise SignatureInvalid("stale timestamp")
    try:
        shop = shop_domain((grouped.get("shop") or [""])[0])
    except InvalidShopDomain:
        raise SignatureInvalid("no shop") from None
    prefix = (grouped.get("path_prefix") or [""])[0]
    if not prefix.startswith(PROXY_PREFIXES):
        raise SignatureInvalid("not a proxy path")
    customer = (grouped.get("logged_in_customer_id") or [""])[0] or None
    params = {k: v for k, v in grouped.items() if k != "signature"}
    return ProxyRequest(shop, prefix, customer, params)
