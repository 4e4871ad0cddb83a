"""A `requests`-based Admin GraphQL client with a per-shop token.

The ShopifyAPI package's resources keep one process-wide session, which is not safe across shops and
threads; this client holds its own token and `requests.Session`, so any number of shops can be served
at once. It pins one API version, throttles by query cost, retries 429/5xx/THROTTLED/network errors
with back-off (tenacity), and turns failures into the `adapters.base` errors the core understands:
`AuthRevoked` (401/403), `UserError` (`userErrors`, bad input), `StoreError(retryable=...)`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import requests
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from adapters.base import AuthRevoked, StoreError, UserError

from . import operations
from .throttle import CostThrottle, for_shop

DEFAULT_API_VERSION = "2026-10"
_RETRY_STATUSES = {429, 500, 502, 503, 504, 520, 522, 524}
_RETRYABLE_CODES = {"THROTTLED", "INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"}
_AUTH_CODES = {"ACCESS_DENIED", "UNAUTHORIZED", "FORBIDDEN"}


class TransientStoreError(StoreError):
    """A failure worth trying again, possibly after `retry_after` seconds."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, retryable=True, status=status)
        self.retry_after = retry_after


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None


def _error_text(errors: Any) -> str:
    if isinstance(errors, list):
        return "; ".join(str(e.get("message", e)) if isinstance(e, Mapping) else str(e) for e in errors)
    return str(errors)


def _codes(errors: Any) -> set[str]:
    if not isinstance(errors, list):
        return set()
    return {
        str((e.get("extensions") or {}).get("code", "")).upper() for e in errors if isinstance(e, Mapping)
    } - {""}


def read_environment_once(session: requests.Session, url: str) -> None:
    """Settle the proxy and CA bundle settings the environment gives `url` into `session`, and stop it
    reading them again: requests otherwise reads them on every call (a tenth of a flash sale's outbox
    time). A client calls one shop's one address, so the settings for that address are all it needs."""
    settings = session.merge_environment_settings(url, {}, None, None, None)
    session.proxies, session.verify, session.cert = settings["proxies"], settings["verify"], settings["cert"]
    session.trust_env = False


class GraphQLClient:
    def __init__(
        self,
        shop: str,
        access_token: str,
        api_version: str = DEFAULT_API_VERSION,
        *,
        session: requests.Session | None = None,
        throttle: CostThrottle | None = None,
        max_attempts: int = 5,
        backoff_max: float = 30.0,
        timeout: tuple[float, float] = (5.0, 30.0),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not access_token:
            raise AuthRevoked(f"{shop}: no access token stored")
        self.shop = shop
        self.api_version = api_version
        self.url = f"https://{shop}/admin/api/{api_version}/graphql.json"
        self._session = session or requests.Session()
        self._headers = {
            "X-Shopify-Access-Token": access_token,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self._throttle = throttle or for_shop(shop)
        self._backoff = wait_exponential(multiplier=0.5, min=0.5, max=backoff_max)
        self._timeout = timeout
        self._sleep = sleep
        self._prepared: requests.PreparedRequest | None = None
        # Made once: its state is per thread (tenacity keeps it in a `threading.local`).
        self._retrying = Retrying(
            stop=stop_after_attempt(max_attempts),
            wait=self._wait,
            retry=retry_if_exception(lambda exc: isinstance(exc, TransientStoreError)),
            sleep=self._pause,
            reraise=True,
        )

    # ---- public -----------------------------------------------------------------------------

    def query(self, operation: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run a named operation from `operations/` and return its `data`."""
        return self._retrying(self._send_once, operation, dict(variables or {}))

    def mutate(self, operation: str, variables: Mapping[str, Any], payload: str) -> dict[str, Any]:
        """Run a mutation and return its payload object, or raise `UserError` for its `userErrors`."""
        return self.mutate_all(operation, variables, (payload,))[payload]

    def mutate_all(self, operation: str, variables: Mapping[str, Any], payloads: Sequence[str]) -> dict[str, Any]:
        """Run a document of several mutations (Shopify runs them in order, each whatever the one before
        it answered) and return their payload objects by name, or raise `UserError` for the
        `userErrors` of any of them."""
        data = self.query(operation, variables)
        results, user_errors = {}, []
        for payload in payloads:
            result = data.get(payload)
            if result is None:
                raise StoreError(f"{operation}: no {payload} in the response", retryable=False)
            results[payload] = result
            user_errors += result.get("userErrors") or []
        if user_errors:
            parts = []
            for error in user_errors:
                field = ".".join(str(f) for f in error.get("field") or ())
                code = error.get("code")
                parts.append(f"{field + ': ' if field else ''}{error.get('message')}{f' ({code})' if code else ''}")
            raise UserError(f"{self.shop} {operation}: " + "; ".join(parts), status=200, details=user_errors)
        return results

    # ---- one attempt ------------------------------------------------------------------------

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self._sleep(seconds)

    def _wait(self, retry_state: Any) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        hinted = getattr(exc, "retry_after", None)
        return hinted if hinted is not None else self._backoff(retry_state)

    def _request_with(self, body: bytes) -> requests.PreparedRequest:
        """The POST of `body` to the shop's endpoint. The request is prepared once per client (its URL
        parsed, the session's and our headers merged) and copied for each call: preparing it anew,
        as `Session.post` does, was a tenth of a store call's CPU in a flash sale's outbox. What the
        session adds at sending is kept: its adapters (and any mock of them), proxies, CA bundle,
        hooks and redirects. The session's cookies are those of the first call: a token-authenticated
        API sets none worth sending back."""
        if self._prepared is None:
            if self._session.trust_env:
                read_environment_once(self._session, self.url)
            self._prepared = self._session.prepare_request(requests.Request("POST", self.url, headers=self._headers))
        request = self._prepared.copy()
        request.prepare_body(body, None)
        return request

    def _send_once(self, operation: str, variables: dict[str, Any]) -> dict[str, Any]:
        delay = self._throttle.delay_for(operation)
        if delay > 0:
            self._sleep(delay)
        try:
            body = json.dumps({"query": operations.load(operation), "operationName": operation,
                               "variables": variables}, allow_nan=False).encode()
        except ValueError as exc:  # NaN or infinity, which JSON cannot carry: a defect, not the store's
            raise StoreError(f"{self.shop} {operation}: variables are not JSON: {exc}", retryable=False) from exc
        try:
            request, session = self._request_with(body), self._session
            response = session.send(request, timeout=self._timeout, proxies=session.proxies, verify=session.verify,
                                    cert=session.cert, stream=False, allow_redirects=True)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientStoreError(f"{self.shop} {operation}: {exc.__class__.__name__}: {exc}") from exc

        status = response.status_code
        if status in (401, 403):
            raise AuthRevoked(f"{self.shop} {operation}: the store refused our token (HTTP {status})", status)
        if status in _RETRY_STATUSES:
            raise TransientStoreError(
                f"{self.shop} {operation}: HTTP {status}", status=status, retry_after=_retry_after(response))
        if status == 402:  # the shop's plan is frozen; it may be unfrozen later
            raise StoreError(f"{self.shop} {operation}: shop unavailable (HTTP 402)", retryable=True, status=status)
        if status >= 400:
            raise StoreError(f"{self.shop} {operation}: HTTP {status}: {response.text[:300]}",
                             retryable=False, status=status)
        try:
            payload = response.json()
        except ValueError as exc:
            raise TransientStoreError(f"{self.shop} {operation}: response is not JSON", status=status) from exc

        self._throttle.record(operation, (payload.get("extensions") or {}).get("cost"))
        errors = payload.get("errors")
        if errors:
            codes = _codes(errors)
            text = f"{self.shop} {operation}: {_error_text(errors)}"
            if codes & _RETRYABLE_CODES:
                # THROTTLED: the bucket state is recorded, the next attempt waits for it to refill
                raise TransientStoreError(text, status=status, retry_after=0.0 if "THROTTLED" in codes else None)
            if codes & _AUTH_CODES:
                raise AuthRevoked(text, status)
            raise StoreError(text, retryable=False, status=status)
        data = payload.get("data")
        if not isinstance(data, dict):
            raise TransientStoreError(f"{self.shop} {operation}: response without data", status=status)
        return data
