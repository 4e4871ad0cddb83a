"""Shopify identifiers: numeric ids (as webhooks send them) and GraphQL global ids.

The common model always holds the numeric id as a string ("450789469"); the GraphQL client
turns it into a global id ("gid://shopify/Order/450789469") at the edge.
"""

from __future__ import annotations

import re

_GID = re.compile(r"^gid://shopify/(?P<type>[A-Za-z]+)/(?P<id>[^/?]+)")
_SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")


class InvalidShopDomain(ValueError):
    """Not a `<name>.myshopify.com` domain."""


def gid(kind: str, ident: str | int) -> str:
    """`gid("Order", 450789469)` -> "gid://shopify/Order/450789469"; a gid passes through."""
    text = str(ident)
    if text.startswith("gid://"):
        return text
    if not text.isdigit():
        raise ValueError(f"not a numeric Shopify {kind} id: {text!r}")
    return f"gid://shopify/{kind}/{text}"


def legacy_id(global_id: str | None) -> str | None:
    """"gid://shopify/Order/450789469" -> "450789469" (None stays None)."""
    if global_id is None:
        return None
    match = _GID.match(global_id)
    return match.group("id") if match else str(global_id)


def shop_domain(value: str | None) -> str:
    """The canonical `<name>.myshopify.com` form of a shop domain, or `InvalidShopDomain`.

    Accepts surrounding whitespace, upper case and an `https://` prefix; rejects anything that
    is not exactly a myshopify.com host (other hosts, paths, ports, user info)."""
    if not value:
        raise InvalidShopDomain("no shop domain given")
    text = value.strip().lower()
    for prefix in ("https://", "http://"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    text = text.rstrip("/")
    if not _SHOP_DOMAIN.fullmatch(text):
        raise InvalidShopDomain(f"not a myshopify.com shop domain: {value!r}")
    return text
