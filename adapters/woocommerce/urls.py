"""Store addresses: the URL we call and the shop key we file a store under.

A WooCommerce store is identified by its home URL. Webhooks name it in `X-WC-Webhook-Source`
(WordPress `home_url('/')`), the merchant types it into the connect form, and the REST API
reports it in `system_status`. All three must meet on one key: host[:port][/path], lower-case
host (IDNA), no scheme, no trailing slash, default ports dropped — e.g. ``shop.example.com`` or
``example.com/store`` for a WordPress installed in a sub-directory.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


class InvalidStoreUrl(ValueError):
    """The text is not a usable store address."""


def _split(url: str):
    text = (url or "").strip()
    if not text:
        raise InvalidStoreUrl("the store address is empty")
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise InvalidStoreUrl(f"the store address must be an http(s) URL, not {parts.scheme!r}")
    host = parts.hostname
    if not host:
        raise InvalidStoreUrl(f"no host name in {url!r}")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidStoreUrl(f"invalid host name in {url!r}") from exc
    try:
        port = parts.port
    except ValueError as exc:
        raise InvalidStoreUrl(f"invalid port in {url!r}") from exc
    default = {"http": 80, "https": 443}[parts.scheme]
    netloc = host if port in (None, default) else f"{host}:{port}"
    path = parts.path.rstrip("/")
    return parts.scheme, netloc, path


def shop_key(url: str) -> str:
    """The key a store is filed under: ``host[:port][/path]``, without scheme or trailing slash."""
    _, netloc, path = _split(url)
    return netloc + path


def store_url(url: str) -> str:
    """The base URL to call the store's REST API at (https assumed when no scheme is typed)."""
    scheme, netloc, path = _split(url)
    return urlunsplit((scheme, netloc, path, "", ""))
