"""The WooCommerce REST v3 transport: the `woocommerce` package's `API`, retried and with errors mapped.

Timeouts, connection failures, 429 and 5xx are retried with exponential back-off and jitter
(honouring ``Retry-After``) by tenacity; when the attempts run out the call raises a retryable
`StoreError`, so the outbox tries again later. A POST creates something (a note, a refund, a
hook) and WooCommerce takes no idempotency key, so a POST is repeated here only when the store
cannot have acted on it (the connection was never made, 429, 503); after a read timeout or
another 5xx it raises a retryable `StoreError` at once, and the caller's next attempt first
looks for what the lost answer may have created (refunds carry our key, notes are compared).

401/403 raise `AuthRevoked` (the keys were revoked or lack permission: the store must be
re-connected); 400/404/409/422 raise `UserError` with the store's own message; other 4xx a
non-retryable `StoreError`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

import requests
from requests.auth import HTTPBasicAuth
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)
from woocommerce import API

from adapters.base import AuthRevoked, StoreError, UserError
from adapters.netguard import AddressPolicy, guarded_session

_CREDENTIAL_PARAMS = re.compile(r"(consumer_key|consumer_secret|oauth_signature)=[^&\s'\"]+")

API_VERSION = "wc/v3"
PER_PAGE = 100
# Errors WooCommerce reports as 500 that no retry can fix (the gateway refused a refund).
FINAL_ERROR_CODES = frozenset({"woocommerce_rest_cannot_create_order_refund"})


NOT_PROCESSED_STATUSES = frozenset({429, 503})  # the store refused before acting on the request


class _Transient(Exception):
    def __init__(
        self, message: str, status: int | None = None, retry_after: float | None = None, *, not_processed: bool
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.not_processed = not_processed


def _store_message(response: requests.Response) -> tuple[str, Any]:
    try:
        body = response.json()
    except ValueError:
        text = (response.text or "").strip()
        return (text[:200] or response.reason or f"HTTP {response.status_code}"), None
    if isinstance(body, dict):
        message = body.get("message") or body.get("code") or f"HTTP {response.status_code}"
        return str(message), body
    return f"HTTP {response.status_code}", body


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None


class _SessionAPI(API):
    """The package's `API`, sending through our session instead of a fresh unguarded one per call.

    The package calls ``requests.request`` (a new default session each time), so there is no
    other place to put the address guard. This repeats its private ``__request`` (woocommerce
    3.0.0), the same URL, auth and OAuth 1.0a signing, with the session and no redirects."""

    def __init__(self, *args: Any, session: requests.Session, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._session = session

    def _API__request(self, method, endpoint, data, params=None, **kwargs):  # noqa: ANN001, ANN202
        params = {} if params is None else params
        url = self._API__get_url(endpoint)
        auth = None
        headers = {"user-agent": f"{self.user_agent}", "accept": "application/json"}
        if self.is_ssl and not self.query_string_auth:
            auth = HTTPBasicAuth(self.consumer_key, self.consumer_secret)
        elif self.is_ssl:
            params.update({"consumer_key": self.consumer_key, "consumer_secret": self.consumer_secret})
        else:
            url = self._API__get_oauth_url(f"{url}?{urlencode(params)}", method, **kwargs)
        if data is not None:
            data = json.dumps(data, ensure_ascii=False).encode("utf-8")
            headers["content-type"] = "application/json;charset=utf-8"
        return self._session.request(
            method=method, url=url, verify=self.verify_ssl, auth=auth, params=params, data=data,
            timeout=self.timeout, headers=headers, allow_redirects=False,  # a redirect is refused below
        )


class WooRest:
    """Calls one store's REST API with its consumer key and secret."""

    def __init__(
        self,
        url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        timeout: float = 20.0,
        attempts: int = 4,
        max_wait: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        query_string_auth: bool = False,
        policy: AddressPolicy | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        # Every store address came from a merchant's hand: only public hosts, checked at connect time.
        self.api = _SessionAPI(
            session=guarded_session(policy or AddressPolicy()),
            url=self.url,
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            version=API_VERSION,
            timeout=timeout,
            query_string_auth=query_string_auth,
            user_agent="BackorderConnector/0.1 (+woocommerce)",
        )
        self.attempts = max(1, attempts)
        self.max_wait = max_wait
        self._sleep = sleep
        self._backoff = wait_exponential(multiplier=0.5, max=max_wait) + wait_random(0, 0.5)

    # ---- one request ----------------------------------------------------------------------

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        computed = self._backoff(state)
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            computed = max(exc.retry_after, computed)
        return min(computed, self.max_wait)

    def _once(self, method: str, endpoint: str, data: Any, params: Mapping[str, Any] | None) -> requests.Response:
        kwargs: dict[str, Any] = {"params": dict(params or {})}
        try:
            if method in ("POST", "PUT"):
                response = getattr(self.api, method.lower())(endpoint, data, **kwargs)
            else:
                response = getattr(self.api, method.lower())(endpoint, **kwargs)
        except (requests.Timeout, requests.ConnectionError) as exc:
            never_sent = isinstance(exc, requests.ConnectTimeout)
            detail = _CREDENTIAL_PARAMS.sub(r"\1=***", str(exc))  # the URL may carry the keys
            raise _Transient(f"{method} {endpoint}: {type(exc).__name__}: {detail}", not_processed=never_sent) from None
        status = response.status_code
        if 300 <= status < 400:
            # Never followed: the new address could be anywhere. The merchant connects with the final one.
            where = response.headers.get("Location", "")[:200]
            raise StoreError(f"{method} {endpoint}: the store redirects (HTTP {status}) to {where!r}",
                             retryable=False, status=status)
        if status < 400:
            return response
        message, details = _store_message(response)
        code = details.get("code") if isinstance(details, dict) else None
        where = f"{method} {endpoint}"
        if code in FINAL_ERROR_CODES:
            raise UserError(f"{where}: {message}", status=status, details=details)
        if status == 429 or status >= 500:
            raise _Transient(
                f"{where}: HTTP {status}: {message}",
                status,
                _retry_after(response),
                not_processed=status in NOT_PROCESSED_STATUSES,
            )
        if status in (401, 403):
            raise AuthRevoked(f"{where}: the store refused our keys (HTTP {status}): {message}", status=status)
        if status in (400, 404, 409, 422):
            raise UserError(f"{where}: {message}", status=status, details=details)
        raise StoreError(f"{where}: HTTP {status}: {message}", retryable=False, status=status)

    def request(
        self, method: str, endpoint: str, *, data: Any = None, params: Mapping[str, Any] | None = None
    ) -> requests.Response:
        method = method.upper()
        creates = method == "POST"

        def repeatable(exc: BaseException) -> bool:
            return isinstance(exc, _Transient) and (exc.not_processed or not creates)

        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=self._wait,
            retry=retry_if_exception(repeatable),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(self._once, method, endpoint, data, params)
        except _Transient as exc:
            tried = retrying.statistics.get("attempt_number", 1)
            raise StoreError(
                f"{exc} (after {tried} attempt{'s' if tried > 1 else ''})", retryable=True, status=exc.status
            ) from exc

    def json(self, method: str, endpoint: str, *, data: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        response = self.request(method, endpoint, data=data, params=params)
        try:
            return response.json()
        except ValueError as exc:
            # A 2xx that is not JSON is a caching or security layer in front of the store.
            raise StoreError(
                f"{method} {endpoint}: the store answered HTTP {response.status_code} without JSON "
                f"({response.headers.get('Content-Type', 'no content type')})",
                retryable=True,
                status=response.status_code,
            ) from exc

    def get(self, endpoint: str, **params: Any) -> Any:
        return self.json("GET", endpoint, params=params)

    def post(self, endpoint: str, data: Any) -> Any:
        return self.json("POST", endpoint, data=data)

    def put(self, endpoint: str, data: Any) -> Any:
        return self.json("PUT", endpoint, data=data)

    def delete(self, endpoint: str, **params: Any) -> Any:
        return self.json("DELETE", endpoint, params=params)

    # ---- collections ----------------------------------------------------------------------

    def pages(self, endpoint: str, params: Mapping[str, Any] | None = None, per_page: int = PER_PAGE) -> Iterator[Any]:
        """Every item of a collection, page by page, as ``X-WP-TotalPages`` says."""
        page = 1
        while True:
            query = {**(params or {}), "page": page, "per_page": per_page}
            response = self.request("GET", endpoint, params=query)
            try:
                items = response.json()
            except ValueError as exc:
                raise StoreError(f"GET {endpoint} page {page}: not JSON", retryable=True) from exc
            if not isinstance(items, list):
                raise StoreError(f"GET {endpoint} page {page}: expected a list", retryable=True)
            yield from items
            total = response.headers.get("X-WP-TotalPages", "").strip()
            if total.isdigit():
                if page >= int(total):
                    return
            elif len(items) < per_page:
                return
            if not items:
                return
            page += 1
