"""Connecting a WooCommerce store: wc-auth key grant, key check, and our webhooks.

1. `authorize_url` sends the merchant to the store's ``/wc-auth/v1/authorize`` (app name,
   scope read_write, our `user_id`, return and https callback URLs). Use an unguessable,
   single-use token as `user_id`: the callback is unauthenticated, and the token is how we tie
   the keys it brings to the store the merchant asked to connect.
2. The store POSTs the keys to the callback as JSON; `parse_callback` validates them. The
   callback must answer 200 or WooCommerce shows the merchant an error.
3. `check_keys` makes a real REST call (``system_status``) at the address *we* contacted and
   learns the store's currency and language. The shop is the address we contacted: the home URL
   the store reports about itself (the key its webhooks will carry) must name that same address
   (`names_same_store`), or the connection is refused — a server anyone runs can claim any home URL.
4. `admit` decides whether this proven store may (re)bind the shop: a new shop, yes; an existing
   active one only from the store we already know (same base URL as the stored keys) or for a
   merchant already signed in to that shop. The shop's webhook secret is kept only when the
   store is the one it belongs to; otherwise a new one is made.
5. `ensure_webhooks` makes our hooks exist and be active with our per-store secret. Run again
   later it also repairs: WooCommerce disables a hook after repeated failed deliveries
   (status "disabled"); such hooks are deleted and created afresh (a clean failure count).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from adapters.base import AdapterError, UserError
from adapters.woocommerce.rest import WooRest
from adapters.woocommerce.urls import InvalidStoreUrl, shop_key, store_url

REQUIRED_TOPICS: tuple[str, ...] = ("order.created", "order.updated", "order.deleted", "product.updated")
WEBHOOK_PATH = "/webhooks/woocommerce"
SCOPE = "read_write"


class ConnectError(AdapterError):
    """The connection cannot be made; the message tells the merchant why."""


@dataclass(frozen=True, slots=True)
class KeyGrant:
    """What WooCommerce POSTs to our callback."""

    key_id: int
    user_id: str
    consumer_key: str
    consumer_secret: str
    key_permissions: str


@dataclass(frozen=True, slots=True)
class StoreInfo:
    url: str  # base URL the REST API answered at
    shop: str  # shop key from the store's home URL (what X-WC-Webhook-Source will say)
    currency: str
    locale: str
    wc_version: str | None = None


@dataclass
class WebhookReport:
    created: list[str] = field(default_factory=list)  # topics
    kept: list[str] = field(default_factory=list)
    reactivated: list[str] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)  # hook ids deleted (disabled or duplicate)
    paused: list[str] = field(default_factory=list)  # paused by the merchant, left so

    @property
    def changed(self) -> bool:
        return bool(self.created or self.reactivated or self.removed)


def _private_enough(url: str) -> bool:
    """https, or plain http to this machine (a development WordPress next to the service)."""
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1", "::1"))


def new_webhook_secret() -> str:
    """A per-store signing secret (URL-safe: no characters WordPress would entity-decode)."""
    return secrets.token_urlsafe(32)


def authorize_url(store: str, *, app_name: str, user_id: str, return_url: str, callback_url: str) -> str:
    if not callback_url.startswith("https://"):
        raise ConnectError(f"WooCommerce only posts keys to an https callback, not {callback_url!r}")
    try:
        base = store_url(store)
    except InvalidStoreUrl as exc:
        raise ConnectError(str(exc)) from exc
    query = urlencode(
        {
            "app_name": app_name,
            "scope": SCOPE,
            "user_id": user_id,
            "return_url": return_url,
            "callback_url": callback_url,
        }
    )
    return f"{base}/wc-auth/v1/authorize?{query}"


def parse_callback(body: bytes) -> KeyGrant:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConnectError("the key callback body is not JSON") from exc
    if not isinstance(data, dict):
        raise ConnectError("the key callback body is not a JSON object")
    missing = [k for k in ("key_id", "user_id", "consumer_key", "consumer_secret", "key_permissions") if k not in data]
    if missing:
        raise ConnectError(f"the key callback lacks {', '.join(missing)}")
    key, secret = data["consumer_key"], data["consumer_secret"]
    if not (isinstance(key, str) and key.startswith("ck_") and isinstance(secret, str) and secret.startswith("cs_")):
        raise ConnectError("the key callback does not carry a WooCommerce consumer key and secret")
    if data["key_permissions"] != SCOPE:
        raise ConnectError(f"the store granted {data['key_permissions']!r}; the service needs {SCOPE!r}")
    try:
        key_id = int(data["key_id"])
    except (TypeError, ValueError) as exc:
        raise ConnectError("the key callback has no numeric key_id") from exc
    return KeyGrant(key_id, str(data["user_id"]), key, secret, data["key_permissions"])


class IdentityMismatch(ConnectError):
    """The store says it lives at another address than the one we contacted."""


class ReconnectRefused(ConnectError):
    """An existing shop would be re-bound by someone who has not shown it is theirs."""


def _without_www(key: str) -> str:
    return key[4:] if key.startswith("www.") else key


def names_same_store(contacted: str, home: str) -> bool:
    """Whether the home URL a store reports names the address we contacted.

    Equal shop keys (host, non-default port, path; scheme and default ports ignored), or keys that
    differ only by a leading ``www.`` on the host. The ``www.`` latitude is safe: ``www.x`` and
    ``x`` are both names in the zone of ``x``, so whoever answers at one with working keys runs
    that domain's DNS or its host; and merchants often type the bare domain of a WordPress whose
    home URL is ``www.``. Anything else (another host, a sub-domain, another port or path — a
    sub-directory install may belong to someone else on a shared host) is a different store."""
    try:
        a, b = shop_key(contacted), shop_key(home)
    except InvalidStoreUrl:
        return False
    return a == b or _without_www(a) == _without_www(b)


def same_base_url(stored: str, contacted: str) -> bool:
    """The store we already know: same shop key and no downgrade from https to plain http."""
    try:
        same = shop_key(stored) == shop_key(contacted)
    except InvalidStoreUrl:
        return False
    downgrade = stored.startswith("https://") and not contacted.startswith("https://")
    return same and not downgrade


def check_keys(rest: WooRest) -> StoreInfo:
    """A real authenticated call; `AuthRevoked` when the store refuses the keys, `IdentityMismatch`
    when the store's home URL is not the address we contacted (`rest.url`)."""
    status = rest.get("system_status", _fields="environment,settings")
    if not isinstance(status, dict):
        raise ConnectError("the store's system status is not a JSON object")
    env = status.get("environment") or {}
    settings = status.get("settings") or {}
    if not isinstance(env, dict) or not isinstance(settings, dict):
        raise ConnectError("the store's system status is not a WooCommerce one")
    home = env.get("home_url") or env.get("site_url") or rest.url
    if not isinstance(home, str) or not names_same_store(rest.url, home):
        raise IdentityMismatch(f"the store at {rest.url} reports its home URL as {str(home)[:200]!r}")
    # Filed under the home URL's key (what X-WC-Webhook-Source will say), which names the contacted store.
    shop = shop_key(home)
    language = (env.get("language") or "en").replace("_", "-")
    return StoreInfo(
        url=rest.url,
        shop=shop,
        currency=(settings.get("currency") or "USD").upper(),
        locale=language,
        wc_version=env.get("version"),
    )


def _hook(app_name: str, topic: str, delivery_url: str, secret: str) -> dict[str, Any]:
    return {
        "name": f"{app_name}: {topic}",
        "topic": topic,
        "delivery_url": delivery_url,
        "secret": secret,
        "status": "active",
        "api_version": "wp_api_v3",
    }


def _delete_hook(rest: WooRest, hook_id: int) -> None:
    try:
        rest.delete(f"webhooks/{hook_id}", force="true")
    except UserError as exc:
        if exc.status != 404:  # 404: gone already (an earlier attempt whose answer was lost)
            raise


def ensure_webhooks(
    rest: WooRest,
    *,
    delivery_url: str,
    secret: str,
    app_name: str,
    topics: Sequence[str] = REQUIRED_TOPICS,
    connecting: bool = True,
) -> WebhookReport:
    """Make exactly one active hook of ours per topic; safe to run any number of times.

    `connecting`: the merchant is (re)connecting, so our secret is (re)written on kept hooks and
    hooks the merchant paused are re-activated. From the periodic watchdog (`connecting=False`)
    paused hooks are left paused (a merchant's choice; reconciliation covers the gap) and kept
    hooks untouched — we cannot read a hook's secret back to compare."""
    if not _private_enough(delivery_url):
        raise ConnectError(f"order data must travel over https; {delivery_url!r} is not (set APP_URL)")
    report = WebhookReport()
    ours = [h for h in rest.pages("webhooks", {"status": "all"}) if h.get("delivery_url") == delivery_url]
    for topic in topics:
        mine = sorted((h for h in ours if h.get("topic") == topic), key=lambda h: h.get("id") or 0)
        active = [h for h in mine if h.get("status") == "active"]
        paused = [h for h in mine if h.get("status") == "paused"]
        keep = active[0] if active else (paused[0] if paused else None)
        for hook in mine:
            if hook is not keep:
                _delete_hook(rest, int(hook["id"]))
                report.removed.append(int(hook["id"]))
        if keep is None:
            rest.post("webhooks", _hook(app_name, topic, delivery_url, secret))
            report.created.append(topic)
        elif keep.get("status") == "paused" and not connecting:
            report.paused.append(topic)
        elif connecting:
            rest.put(f"webhooks/{keep['id']}", {"secret": secret, "status": "active"})
            (report.reactivated if keep.get("status") == "paused" else report.kept).append(topic)
        else:
            report.kept.append(topic)
    return report


@dataclass(frozen=True)
class Connection:
    """A store whose keys work and whose hooks are in place: what the shop directory stores."""

    info: StoreInfo
    credentials: dict[str, str]  # {"url", "consumer_key", "consumer_secret"}
    webhook_secret: str
    webhooks: WebhookReport


@dataclass(frozen=True)
class KnownShop:
    """What the service already holds for the shop a store turned out to be."""

    status: str  # "active", "needs_reconnect", "uninstalled"
    url: str | None  # base URL of the stored keys (the store we already know)
    webhook_secret: bytes | None
    merchant_signed_in: bool  # the browser behind this attempt is signed in as this shop's merchant


def admit(info: StoreInfo, known: KnownShop | None) -> str | None:
    """May this proven store (re)bind the shop? The webhook secret to keep, or None to make a new one.

    Raises `ReconnectRefused` for an active shop re-bound neither from the store we know nor by its
    signed-in merchant. The existing secret goes only to the store it belongs to (the stored base URL)."""
    if known is None:
        return None
    same = known.url is not None and same_base_url(known.url, info.url)
    if known.status == "active" and not (same or known.merchant_signed_in):
        raise ReconnectRefused(
            f"{info.shop} is connected from {known.url!r}; a re-connect from {info.url!r} needs its merchant signed in"
        )
    if same and known.webhook_secret:
        return known.webhook_secret.decode()
    return None


def connect_store(
    rest: WooRest,
    consumer_key: str,
    consumer_secret: str,
    *,
    delivery_url: str,
    app_name: str,
    known_shop: Callable[[str], KnownShop | None],
) -> Connection:
    """Check the keys for real at the contacted address, decide (`admit`), then make our hooks.

    Nothing is written to the store before the store proved to be the shop and was admitted.
    Raises `AuthRevoked` (keys refused), `StoreError` (store unreachable) or `ConnectError`."""
    info = check_keys(rest)
    kept = admit(info, known_shop(info.shop))
    secret = kept or new_webhook_secret()
    report = ensure_webhooks(rest, delivery_url=delivery_url, secret=secret, app_name=app_name, connecting=True)
    credentials = {"url": info.url, "consumer_key": consumer_key, "consumer_secret": consumer_secret}
    return Connection(info, credentials, secret, report)
