"""The connect pages: ``/woocommerce/connect`` (form and paste-keys fallback), the key callback, the return page.

The merchant types the store address; we redirect to the store's ``/wc-auth/v1/authorize``
with a signed, time-limited token as ``user_id`` (it names the store the merchant asked for, so
the unauthenticated callback cannot be used to attach keys to anything else). WooCommerce
POSTs the keys to ``/woocommerce/callback``; there we check them with a real REST call, create
our hooks and store the shop with its keys and webhook secret (encrypted by the shop
directory), then answer 200. Any failure answers an error: WooCommerce then deletes the keys
it made and shows the merchant an error, and nothing half-connected is left. The store then
sends the browser to ``/woocommerce/return``.

Proof of control before identity (see `connect`): the shop is the address we contacted, never
what the remote says of itself; a connected shop is re-bound only from the store we know or by its
signed-in merchant; a browser is signed in only by a step it completed that proved control —
pasting working keys, or coming back to ``/return`` from an approval *it* started (a nonce in its
session cookie, matched against the attempt the store's callback completed). The ``user_id``
token travels in URLs (the store's pages, its logs, the browser's history), so holding it proves
nothing by itself.

Every failure to connect reads the same to the user (`CONNECT_FAILED`): a refused, unreachable,
private or non-WooCommerce address must not be told apart from the outside (no port scanning
through this form). The details go to the log.

The blueprint reaches the core only through the app's shop directory
(``current_app.extensions["connector"].shops``: `connect`, `webhook_secret`, `ref`, `active`,
`credentials`), the `ConnectShop` port of `adapters.base`, and the app's sign-in hooks
(``merchant_sign_in``, ``merchant_signed_in``).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from itsdangerous import BadData, URLSafeTimedSerializer
from wtforms import ValidationError

from adapters.base import StoreError
from adapters.netguard import AddressPolicy, AddressRefused, check_url
from adapters.woocommerce.connect import (
    WEBHOOK_PATH,
    ConnectError,
    Connection,
    KnownShop,
    authorize_url,
    connect_store,
    parse_callback,
)
from adapters.woocommerce.rest import WooRest
from adapters.woocommerce.urls import InvalidStoreUrl, shop_key, store_url
from connector.domain.model import Platform

log = logging.getLogger(__name__)

TOKEN_MAX_AGE = 3600  # seconds the merchant has to approve in the store
DEFAULT_APP_NAME = "Backorder Connector"
SESSION_KEY = "woocommerce_connect"  # this browser's pending connect attempts (nonces)
PENDING_ATTEMPTS = 3
CONNECT_FAILED = (
    "We could not connect a WooCommerce store at this address with these keys. Check the address (the one "
    "your shop opens at), that the keys are Read/Write keys of an administrator, and try again. If this store "
    "is already connected from another address, sign in to its app first."
)

RestFactory = Callable[[Mapping[str, Any]], WooRest]
View = Callable[["ConnectSettings"], ResponseReturnValue]


@dataclass(frozen=True)
class ConnectSettings:
    """What the connect views need from the app's configuration."""

    app_url: str  # our public base URL, without a trailing slash
    app_name: str  # the name the store shows the merchant on its approval page
    rest_factory: RestFactory
    policy: AddressPolicy  # which store addresses we may contact (SSRF guard)

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], rest_factory: RestFactory, policy: AddressPolicy | None = None
    ) -> ConnectSettings:
        policy = policy or AddressPolicy(allow_private=str(config.get("ALLOW_PRIVATE_STORE_ADDRESSES", "")).lower()
                                         in ("1", "true", "yes", "on"))
        return cls(
            app_url=str(config.get("APP_URL", "")).rstrip("/"),
            app_name=str(config.get("WOOCOMMERCE_APP_NAME") or DEFAULT_APP_NAME),
            rest_factory=rest_factory,
            policy=policy,
        )


def attempt_digest(nonce: str) -> str:
    """What the stored credentials keep of the connect attempt that bound them."""
    return hashlib.sha256(nonce.encode()).hexdigest()


def make_blueprint(
    config: Mapping[str, Any], rest_factory: RestFactory, policy: AddressPolicy | None = None
) -> Blueprint:
    settings = ConnectSettings.from_config(config, rest_factory, policy)
    bp = Blueprint("woocommerce", __name__, url_prefix="/woocommerce")
    bp.add_url_rule("/connect", "start", _bind(start, settings), methods=["GET"])
    bp.add_url_rule("/connect", "begin", _bind(begin, settings), methods=["POST"])
    bp.add_url_rule("/callback", "callback", _bind(callback, settings), methods=["POST"])
    bp.add_url_rule("/return", "returned", _bind(returned, settings), methods=["GET"])
    bp.add_url_rule("/keys", "paste_keys", _bind(paste_keys, settings), methods=["POST"])
    return bp


def _bind(view: View, settings: ConnectSettings) -> Callable[[], ResponseReturnValue]:
    """`view` with its settings, keeping its name (the rate limiter keys each endpoint by the view's name)."""

    @functools.wraps(view)
    def bound() -> ResponseReturnValue:
        return view(settings)

    return bound


# --- helpers ------------------------------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="woocommerce-connect")


def _shops() -> Any:
    return current_app.extensions["connector"].shops


def _form(settings: ConnectSettings, error: str | None = None, status: int = 200, **values: Any) -> ResponseReturnValue:
    page = render_template(
        "app/woocommerce/connect.html", error=error, app_name=settings.app_name, csrf_token=generate_csrf(), **values
    )
    return page, status


def _result(
    title: str, message: str, shop: str | None = None, status: int = 200, app_url: str | None = None
) -> ResponseReturnValue:
    page = render_template("app/woocommerce/result.html", title=title, message=message, shop=shop, app_url=app_url)
    return page, status


def _csrf_ok() -> bool:
    try:
        validate_csrf(request.form.get("csrf_token"))
    except (ValidationError, CSRFError):
        return False
    return True


def _merchant_shop_id() -> int | None:
    """The shop this browser is signed in to (the core's hook; None when the app is not mounted)."""
    signed_in = current_app.extensions.get("merchant_signed_in")
    return signed_in() if signed_in is not None else None


def _known_shop(merchant: int | None) -> Callable[[str], KnownShop | None]:
    directory = _shops()

    def known(shop: str) -> KnownShop | None:
        ref = directory.ref(Platform.WOOCOMMERCE, shop)
        if ref is None:
            return None
        stored = directory.credentials(Platform.WOOCOMMERCE, shop) or {}
        return KnownShop(
            status=ref.status,
            url=stored.get("url"),
            webhook_secret=directory.webhook_secret(Platform.WOOCOMMERCE, shop, fresh=True),
            merchant_signed_in=merchant is not None and merchant == ref.id,
        )

    return known


def _finish(
    settings: ConnectSettings,
    url: str,
    consumer_key: str,
    consumer_secret: str,
    *,
    merchant: int | None,
    attempt: str | None = None,
) -> Connection:
    """Check the keys at `url`, decide, make the hooks, store the shop. Raises what `connect_store` raises."""
    check_url(url, settings.policy)  # early and without DNS; the connection checks again with resolution
    rest = settings.rest_factory({"url": url, "consumer_key": consumer_key, "consumer_secret": consumer_secret})
    directory = _shops()
    connection = connect_store(
        rest,
        consumer_key,
        consumer_secret,
        delivery_url=settings.app_url + WEBHOOK_PATH,
        app_name=settings.app_name,
        known_shop=_known_shop(merchant),
    )
    credentials = dict(connection.credentials)
    if attempt:
        credentials["attempt"] = attempt_digest(attempt)
    directory.connect(
        Platform.WOOCOMMERCE,
        connection.info.shop,
        name=connection.info.shop,
        credentials=credentials,
        webhook_secret=connection.webhook_secret,
        currency=connection.info.currency,
        locale=connection.info.locale,
    )
    current_app.extensions["connector"].wake.set()
    log.info("connected WooCommerce store %s (hooks: %s)", connection.info.shop, connection.webhooks)
    return connection


def _remember_attempt(nonce: str) -> None:
    pending = [n for n in session.get(SESSION_KEY, []) if isinstance(n, str)][-(PENDING_ATTEMPTS - 1):]
    session[SESSION_KEY] = [*pending, nonce]


def _started_here(nonce: str) -> bool:
    pending = session.get(SESSION_KEY, [])
    return isinstance(pending, list) and any(
        isinstance(n, str) and hmac.compare_digest(n, nonce) for n in pending
    )


def _sign_in(ref: Any) -> bool:
    """The browser proved control of the store (pasted working keys, or came back from the approval it
    started): sign it in to the merchant app, through the core's hook (absent when the app is not mounted)."""
    sign_in = current_app.extensions.get("merchant_sign_in")
    if ref is None or sign_in is None:
        return False
    sign_in(ref.id)
    return True


def _connected(shop: str) -> ResponseReturnValue:
    """The success page; it links to the merchant app when the browser could be signed in."""
    signed_in = _sign_in(_shops().ref(Platform.WOOCOMMERCE, shop))
    return _result("Store connected", "Backorders from this store are now handled.", shop=shop,
                   app_url=f"{request.script_root}/app" if signed_in else None)


# --- views --------------------------------------------------------------------------------------------------


def start(settings: ConnectSettings) -> ResponseReturnValue:
    return _form(settings, store_url=request.args.get("store", ""))


def begin(settings: ConnectSettings) -> ResponseReturnValue:
    typed = request.form.get("store_url", "")
    if not _csrf_ok():
        return _form(settings, "The form expired; please send it again.", 400, store_url=typed)
    try:
        url = store_url(typed)
    except InvalidStoreUrl as exc:
        return _form(settings, str(exc), 400, store_url=typed)
    try:
        check_url(url, settings.policy)
    except AddressRefused as exc:
        log.warning("WooCommerce connect to %s refused: %s", url, exc)
        return _form(settings, CONNECT_FAILED, 400, store_url=typed)
    nonce = secrets.token_urlsafe(16)
    try:
        token = _serializer().dumps({"store": url, "n": nonce, "m": _merchant_shop_id()})
        target = authorize_url(
            url,
            app_name=settings.app_name,
            user_id=token,
            return_url=f"{settings.app_url}/woocommerce/return",
            callback_url=f"{settings.app_url}/woocommerce/callback",
        )
    except ConnectError as exc:  # our own set-up (APP_URL not https): say so
        return _form(settings, str(exc), 400, store_url=typed)
    _remember_attempt(nonce)
    return redirect(target, code=302)


def callback(settings: ConnectSettings) -> ResponseReturnValue:
    try:
        grant = parse_callback(request.get_data(cache=False))
        claims = _serializer().loads(grant.user_id, max_age=TOKEN_MAX_AGE)
        asked, nonce, merchant = str(claims["store"]), str(claims["n"]), claims.get("m")
    except ConnectError as exc:
        return jsonify(error=str(exc)), 400
    except (BadData, KeyError, TypeError):
        return jsonify(error="unknown or expired connect request"), 400
    try:
        connection = _finish(
            settings, asked, grant.consumer_key, grant.consumer_secret,
            merchant=merchant if isinstance(merchant, int) else None, attempt=nonce,
        )
    except (StoreError, ConnectError) as exc:
        log.warning("WooCommerce connect of %s failed: %s: %s", asked, type(exc).__name__, exc)
        return jsonify(error=CONNECT_FAILED), 502
    return jsonify(status="connected", shop=connection.info.shop), 200


def returned(settings: ConnectSettings) -> ResponseReturnValue:
    try:
        claims = _serializer().loads(request.args.get("user_id", ""), max_age=TOKEN_MAX_AGE * 24)
        asked, nonce = str(claims["store"]), str(claims["n"])
    except (BadData, KeyError, TypeError):
        return _result("Unknown connect request", "This link is not one of ours or has expired.", status=400)
    if request.args.get("success") != "1":
        return _result("Not connected", "The store did not approve the connection. You can try again.")
    if not _started_here(nonce):
        # The token is in URLs others can see: only the browser that started this attempt goes on.
        return _result(
            "Open the connection from your browser",
            "This approval was started in another browser. Go back to that browser, or connect again here.",
            status=403,
        )
    shop = _find_shop(_shops(), asked, attempt_digest(nonce))
    if shop is None:
        return _result(
            "Not connected yet",
            "The store approved, but its keys did not reach us. Try again, or paste REST API keys.",
            status=502,
        )
    return _connected(shop)


def paste_keys(settings: ConnectSettings) -> ResponseReturnValue:
    typed = request.form.get("store_url", "")
    key = request.form.get("consumer_key", "").strip()
    secret = request.form.get("consumer_secret", "").strip()
    if not _csrf_ok():
        return _form(settings, "The form expired; please send it again.", 400, store_url=typed, keys_open=True)
    if not (key.startswith("ck_") and secret.startswith("cs_")):
        return _form(
            settings, "The consumer key starts with ck_ and the secret with cs_.", 400, store_url=typed, keys_open=True
        )
    try:
        url = store_url(typed)
    except InvalidStoreUrl as exc:
        return _form(settings, str(exc), 400, store_url=typed, keys_open=True)
    try:
        connection = _finish(settings, url, key, secret, merchant=_merchant_shop_id())
    except (StoreError, ConnectError) as exc:
        log.warning("WooCommerce keys for %s refused: %s: %s", url, type(exc).__name__, exc)
        return _form(settings, CONNECT_FAILED, 400, store_url=typed, keys_open=True)
    # Working admin keys for the very store the shop is: this browser's user controls it.
    return _connected(connection.info.shop)


def _find_shop(directory: Any, asked_url: str, attempt: str) -> str | None:
    """The active shop that the connect attempt `attempt` bound (its callback stored these keys)."""
    key = shop_key(asked_url)
    bare = key.removeprefix("www.")
    # The shop is filed under its home URL's key, which names the asked address up to a leading www.
    for domain in dict.fromkeys((key, bare, "www." + bare)):
        ref = directory.ref(Platform.WOOCOMMERCE, domain)
        if ref is None or ref.status != "active":
            continue
        stored = directory.credentials(Platform.WOOCOMMERCE, domain) or {}
        if hmac.compare_digest(str(stored.get("attempt", "")), attempt):
            return domain
    return None
