"""Merchant sign-in: a session bound to one shop, and the ways a merchant gets one.

Every page of the merchant app runs as exactly one shop, read from the Flask session cookie
(signed with ``SECRET_KEY``). A merchant gets a session in one of three ways:

- **Shopify install**: the install blueprint calls `sign_in_shop(shop_id)` once the OAuth
  exchange succeeded, then redirects to ``/app``.
- **Shopify embedded**: the admin loads ``/app?shop=...&id_token=<JWT>`` (or a page sends
  ``Authorization: Bearer <JWT>``); `verify_session_token` checks Shopify's HS256 session token
  (audience = our API key, signed with our API secret, not expired, destination = the shop).
- **Sign-in link** (WooCommerce at connect time, the sandbox demo, the ``flask sign-in-link``
  command): an itsdangerous-signed, expiring token naming the shop; ``GET /app/sign-in/<token>``.

`login_required` loads the signed-in shop into ``g.shop``; views take every id from the URL
*and* ``g.shop.id`` together, so an id of another shop is simply not found (404).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

import click
import jwt
from flask import Blueprint, Flask, abort, current_app, g, redirect, render_template, request, session, url_for
from flask.cli import with_appcontext
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from connector.bootstrap import Services
from connector.config import Config
from connector.domain.model import Platform
from connector.shops.directory import ACTIVE, find_row
from connector.web.read_models.shop_reads import shop_row

SIGN_IN_SALT = "merchant-sign-in"
SIGN_IN_MAX_AGE = 7 * 24 * 3600  # a link from connect time or the CLI works for a week
SESSION_KEY = "merchant"

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class SignedInShop:
    """The shop the current request acts for."""

    id: int
    platform: Platform
    domain: str
    name: str
    timezone: str
    currency: str
    locale: str


class SessionTokenError(ValueError):
    """A Shopify session token that must not be trusted; the message says why."""


# ---- sign-in links ----------------------------------------------------------------------


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=SIGN_IN_SALT)


def make_sign_in_token(secret_key: str, shop_id: int, platform: str, domain: str) -> str:
    """A signed token naming the shop (platform and domain too, so a recycled id signs in nobody)."""
    return _serializer(secret_key).dumps({"shop": shop_id, "platform": str(platform), "domain": domain})


def read_sign_in_token(secret_key: str, token: str, max_age: int = SIGN_IN_MAX_AGE) -> dict[str, Any]:
    """The token's claims; raises `SignatureExpired` or `BadSignature`."""
    data = _serializer(secret_key).loads(token, max_age=max_age)
    if not isinstance(data, dict) or not {"shop", "platform", "domain"} <= set(data):
        raise BadSignature("not a sign-in token")
    return data


def make_sign_in_link(shop_id: int, config: Config | None = None, services: Services | None = None) -> str:
    """``<APP_URL>/app/sign-in/<token>`` for a shop: give it to the merchant (WooCommerce connect, CLI, demo)."""
    config = config or current_app.config["CONNECTOR"]
    services = services or current_app.extensions["connector"]
    with services.db.session() as s:
        row = shop_row(s, shop_id)
        if row is None:
            raise LookupError(f"no shop {shop_id}")
        token = make_sign_in_token(config.secret_key, row.id, row.platform, row.domain)
    return f"{config.app_url}/app/sign-in/{token}"


# ---- the session --------------------------------------------------------------------------


def sign_in_shop(shop_id: int) -> None:
    """Bind this browser's session to a shop. Call it from install/connect views once the store vouched."""
    services: Services = current_app.extensions["connector"]
    with services.db.session() as s:
        row = shop_row(s, shop_id)
        if row is None:
            raise LookupError(f"no shop {shop_id}")
        platform, domain = row.platform, row.domain
    session.clear()  # a fresh session: nothing of a previous shop (nor its CSRF token) carries over
    session.permanent = True
    session[SESSION_KEY] = {"shop": shop_id, "platform": platform, "domain": domain}


def sign_out() -> None:
    session.pop(SESSION_KEY, None)


def _load(shop_id: int, platform: str, domain: str) -> SignedInShop | None:
    services: Services = current_app.extensions["connector"]
    with services.db.session() as s:
        row = shop_row(s, shop_id)
        if row is None or row.platform != platform or row.domain != domain or row.status == "uninstalled":
            return None
        return SignedInShop(
            row.id, Platform(row.platform), row.domain, row.name, row.timezone, row.currency, row.locale
        )


def current_shop() -> SignedInShop | None:
    """The signed-in shop of this request (after `login_required`, or None)."""
    if "shop" in g:
        return cast(SignedInShop, g.shop)
    # A Shopify session token names the shop the admin shows right now: it wins over an older
    # session (a merchant who switches shops in the same browser must not see the previous one).
    shop = _from_shopify_session_token()
    data = session.get(SESSION_KEY)
    if shop is None and isinstance(data, dict):
        shop = _load(int(data.get("shop", 0)), str(data.get("platform")), str(data.get("domain")))
    if shop is not None:
        g.shop = shop
    return shop


def signed_in_shop_id() -> int | None:
    """The id of the shop this request is signed in to, or None."""
    shop = current_shop()
    return shop.id if shop is not None else None


def login_required(view: F) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if current_shop() is None:
            if request.method == "GET":
                return redirect(url_for("auth.sign_in_help", next=request.full_path))
            abort(401)
        return view(*args, **kwargs)

    return cast(F, wrapped)


# ---- Shopify session tokens -------------------------------------------------------------


def verify_session_token(token: str, api_key: str, api_secret: str, *, leeway: float = 5.0) -> str:
    """Verify a Shopify session token (App Bridge `id_token`) and return the shop's domain.

    Checks what Shopify documents: HS256 signed with the app's secret, ``aud`` is the app's API
    key, ``exp``/``nbf`` hold (a few seconds of clock skew allowed), and ``dest`` is an https
    ``*.myshopify.com`` host that ``iss`` (its admin) agrees with."""
    if not api_key or not api_secret:
        raise SessionTokenError("SHOPIFY_API_KEY / SHOPIFY_API_SECRET are not configured")
    try:
        claims = jwt.decode(
            token,
            api_secret,
            algorithms=["HS256"],
            audience=api_key,
            leeway=leeway,
            options={"require": ["exp", "nbf", "aud", "dest", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise SessionTokenError("the session token has expired") from exc
    except jwt.ImmatureSignatureError as exc:
        raise SessionTokenError("the session token is not valid yet") from exc
    except jwt.InvalidAudienceError as exc:
        raise SessionTokenError("the session token is for another app") from exc
    except jwt.PyJWTError as exc:
        raise SessionTokenError(f"the session token is invalid: {exc}") from exc
    dest = str(claims["dest"])
    if not dest.startswith("https://"):
        raise SessionTokenError("the session token's destination is not an https shop")
    domain = dest.removeprefix("https://").rstrip("/")
    if not domain.endswith(".myshopify.com") or "/" in domain:
        raise SessionTokenError("the session token's destination is not a myshopify.com shop")
    iss = str(claims["iss"])
    if not iss.startswith(f"https://{domain}/"):
        raise SessionTokenError("the session token's issuer and destination disagree")
    return domain


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip() or None
    return request.args.get("id_token") or None


def _from_shopify_session_token() -> SignedInShop | None:
    token = _bearer_token()
    if token is None:
        return None
    config: Config = current_app.config["CONNECTOR"]
    try:
        domain = verify_session_token(
            token, str(config.platform.get("SHOPIFY_API_KEY", "")), str(config.platform.get("SHOPIFY_API_SECRET", ""))
        )
    except SessionTokenError as exc:
        current_app.logger.warning("refused a Shopify session token: %s", exc)
        return None
    services: Services = current_app.extensions["connector"]
    with services.db.session() as s:
        row = find_row(s, Platform.SHOPIFY, domain)
        if row is None or row.status != ACTIVE:
            return None
        shop_id = row.id
    if request.method == "GET" and "id_token" in request.args:
        sign_in_shop(shop_id)  # the page load of the embedded app: keep the session for its forms
    return _load(shop_id, Platform.SHOPIFY, domain)


# ---- views -------------------------------------------------------------------------------


@bp.get("/app/sign-in/<token>")
def sign_in(token: str) -> ResponseReturnValue:
    config: Config = current_app.config["CONNECTOR"]
    try:
        claims = read_sign_in_token(config.secret_key, token)
    except SignatureExpired:
        return render_template("app/sign_in.html", error="This sign-in link has expired. Ask for a new one."), 403
    except BadSignature:
        return render_template("app/sign_in.html", error="This sign-in link is not valid."), 403
    shop = _load(int(claims["shop"]), str(claims["platform"]), str(claims["domain"]))
    if shop is None:
        return render_template("app/sign_in.html", error="This shop is not connected any more."), 403
    sign_in_shop(shop.id)
    return redirect(url_for("app_dashboard.dashboard_view"))


@bp.get("/app/sign-in")
def sign_in_help() -> ResponseReturnValue:
    return render_template("app/sign_in.html", error=None), 401


@bp.post("/app/sign-out")
def sign_out_view() -> ResponseReturnValue:
    sign_out()
    return redirect(url_for("auth.sign_in_help"))


@bp.after_app_request
def frame_policy(response: Any) -> Any:
    """The app may be framed by the Shopify admin of the signed-in shop only (and by nothing else)."""
    if request.path.startswith("/app"):
        shop = g.get("shop")
        if shop is not None and shop.platform == Platform.SHOPIFY:
            response.headers["Content-Security-Policy"] = (
                f"frame-ancestors https://{shop.domain} https://admin.shopify.com"
            )
        else:
            response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    return response


# ---- the command ---------------------------------------------------------------------------


@click.command("sign-in-link")
@click.option("--platform", type=click.Choice([p.value for p in Platform]), required=True)
@click.option("--shop", required=True, help="The shop's domain, as the platform names it.")
@with_appcontext
def sign_in_link_command(platform: str, shop: str) -> None:
    """Print a link that signs the merchant of a shop into the app (valid for a week)."""
    services: Services = current_app.extensions["connector"]
    ref = services.shops.ref(Platform(platform), shop)
    if ref is None:
        raise click.ClickException(f"no shop {shop} on {platform}")
    click.echo(make_sign_in_link(ref.id))


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(sign_in_link_command)
    # For adapters' install/connect views, which may not import `connector.web`: after the store
    # vouched for the merchant, ``current_app.extensions["merchant_sign_in"](shop_id)`` signs them in,
    # and ``current_app.extensions["merchant_sign_in_link"](shop_id)`` gives a link to hand over.
    app.extensions["merchant_sign_in"] = sign_in_shop
    # ``current_app.extensions["merchant_signed_in"]()``: the id of the shop this browser is signed in to, or None
    # (a connect view lets a shop's own merchant re-connect it from a new address).
    app.extensions["merchant_signed_in"] = signed_in_shop_id
    app.extensions["merchant_sign_in_link"] = make_sign_in_link
