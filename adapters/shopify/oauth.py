"""OAuth authorization-code install, through the ShopifyAPI package's `Session`.

`shopify.Session` keeps the app key and secret as class attributes (process-wide); each
`ShopifyOAuth` makes its own subclass holding its app's key and secret, so nothing global is
touched. The package builds the authorize URL and checks the query-string HMAC; the code-for-token
POST goes through `requests` (the package uses urllib), and the domain, state and timestamp checks
are ours.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
import shopify

from adapters.base import AdapterError

from .config import ShopifyConfig
from .ids import InvalidShopDomain, shop_domain

TIMESTAMP_WINDOW = 24 * 60 * 60  # seconds a signed callback stays valid
# A signed launch from the admin signs the browser in straight away only while it is this fresh: the
# launch URL is a bearer credential (it sits in logs and browser history), and the admin makes a new
# one on every open. An older one goes through OAuth, whose state nonce binds it to this browser.
LAUNCH_SIGN_IN_WINDOW = 5 * 60
CLOCK_SKEW = 5 * 60  # seconds a callback may come from the future


class InstallError(AdapterError):
    """The install request is not trustworthy or could not be completed: the merchant starts again."""


@dataclass(frozen=True)
class Grant:
    shop: str
    access_token: str
    scopes: tuple[str, ...]

    def credentials(self) -> dict[str, Any]:
        """What is stored (encrypted) for the shop and given back to `client_factory`."""
        return {"access_token": self.access_token, "scopes": ",".join(self.scopes)}


def query_params(args: Any) -> dict[str, Any]:
    """A request's query string as the package's HMAC check wants it (lists for `name[]` keys)."""
    if hasattr(args, "getlist"):
        return {k: (args.getlist(k) if k.endswith("[]") else args.get(k)) for k in args}
    return dict(args)


class ShopifyOAuth:
    def __init__(
        self, config: ShopifyConfig, *, http: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not config.api_key or not config.api_secret:
            raise InstallError("SHOPIFY_API_KEY and SHOPIFY_API_SECRET must be configured")
        self.config = config
        self._http = http or requests.Session()
        self._clock = clock
        self._session_class = type("AppSession", (shopify.Session,), {
            "api_key": config.api_key, "secret": config.api_secret})

    @staticmethod
    def new_state() -> str:
        """A fresh nonce; keep it in the merchant's browser (signed session cookie) until the callback."""
        return secrets.token_urlsafe(32)

    def authorize_url(self, shop: str, state: str) -> str:
        """Where to send the merchant's browser to approve the install (offline token: no per-user grant)."""
        try:
            domain = shop_domain(shop)
        except InvalidShopDomain as exc:
            raise InstallError(str(exc)) from None
        session = self._session_class(domain, self.config.api_version)
        return session.create_permission_url(list(self.config.scopes), self.config.redirect_uri, state)

    def verify_request(self, params: Mapping[str, Any]) -> str:
        """Check a request Shopify signed in its query string (install, callback, app launch).

        Returns the shop domain. Checks the shop is a myshopify.com domain, the HMAC (constant-time,
        by the package) and that the timestamp is within 24 hours."""
        try:
            domain = shop_domain(params.get("shop"))
        except InvalidShopDomain as exc:
            raise InstallError(str(exc)) from None
        if not self._session_class.validate_hmac(dict(params)):
            raise InstallError("the request's HMAC does not match: not from Shopify")
        try:
            stamp = int(params.get("timestamp", ""))
        except (TypeError, ValueError):
            raise InstallError("the request has no valid timestamp") from None
        now = self._clock()
        if stamp < now - TIMESTAMP_WINDOW or stamp > now + CLOCK_SKEW:
            raise InstallError("the request's timestamp is outside the 24 hour window")
        return domain

    def fresh_launch(self, params: Mapping[str, Any], window: float = LAUNCH_SIGN_IN_WINDOW) -> bool:
        """Whether a verified signed request was made within `window` seconds (see `LAUNCH_SIGN_IN_WINDOW`)."""
        try:
            stamp = int(params.get("timestamp", ""))
        except (TypeError, ValueError):
            return False
        return self._clock() - window <= stamp <= self._clock() + CLOCK_SKEW

    def verify_callback(self, params: Mapping[str, Any], expected_state: str | None) -> str:
        """Check the OAuth callback: signed query, and the state nonce this browser was given."""
        domain = self.verify_request(params)
        state = params.get("state")
        if not expected_state or not state or not hmac.compare_digest(str(state), str(expected_state)):
            raise InstallError("the state does not match the one given to this browser")
        if not params.get("code"):
            raise InstallError("the callback has no authorization code")
        return domain

    def exchange_code(self, shop: str, code: str) -> Grant:
        """Trade the authorization code for the shop's offline access token."""
        domain = shop_domain(shop)
        try:
            response = self._http.post(
                f"https://{domain}/admin/oauth/access_token",
                json={"client_id": self.config.api_key, "client_secret": self.config.api_secret, "code": code},
                headers={"Accept": "application/json"},
                timeout=(5, 30),
            )
        except requests.RequestException as exc:
            raise InstallError(f"{domain}: could not reach Shopify for the token ({exc.__class__.__name__})") from exc
        if response.status_code != 200:
            raise InstallError(f"{domain}: token exchange refused (HTTP {response.status_code}): "
                               f"{response.text[:200]}")
        try:
            payload = response.json()
            token = payload["access_token"]
        except (ValueError, KeyError, TypeError):
            raise InstallError(f"{domain}: token exchange answered without an access token") from None
        if not token:
            raise InstallError(f"{domain}: token exchange answered without an access token")
        granted = tuple(s.strip() for s in str(payload.get("scope", "")).split(",") if s.strip())
        return Grant(shop=domain, access_token=str(token), scopes=granted)

    def missing_scopes(self, granted: Iterable[str] | str | None) -> list[str]:
        """The configured scopes a stored grant does not cover (a `write_x` covers `read_x`).

        Non-empty means the app needs the merchant to approve again (scopes changed since install)."""
        text = granted if isinstance(granted, str) else ",".join(granted or ())
        if not text.strip():
            return list(self.config.scopes)
        have = shopify.ApiAccess(text)
        return [s for s in self.config.scopes if not have.covers(shopify.ApiAccess(s))]
