"""A WordPress privacy request, as the companion plugin sends it, read into a common-model event.

WooCommerce has no privacy webhooks: a customer's request to export or erase their personal data
is handled in WordPress (Tools → Export / Erase Personal Data), which asks each registered
exporter and eraser. The plugin (`plugins/woocommerce/backorder-connector/includes/privacy.php`)
registers one of each; each sends this service one request, in the form of a WooCommerce webhook
signed with the secret of the shop's own hooks, so it is verified like any delivery
(`WooWebhookVerifier`) and honoured by the same code as Shopify's requests (`connector.intake.compliance`):

- ``X-WC-Webhook-Topic``: `EXPORT_TOPIC` or `ERASE_TOPIC`;
- the body: ``{"email": …, "customer_id": <WordPress user id or null>, "order_ids": [<the shop's
  orders with that billing email>], "sent_at": <epoch seconds>}``.

An erasure goes to the hooks' own address and is stored in the inbox like a webhook: honoured in
the shop's order of deliveries, retried until done. An export goes to that address +
``/privacy-export`` (`connector.web.privacy_exports`) and is answered at once with the data, which
the plugin adds to the file WordPress makes for the person; since that answer carries personal
data, a request older than `EXPORT_MAX_AGE` is refused, so a copy of one cannot be sent again later.

The body is hostile until checked like any other: an address that is not one, ids that are not
ids, or more orders than any customer has make the request dead-lettered with the reason, never
half-applied.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from adapters.base import Delivery, NormalisationError
from adapters.woocommerce.values import ident
from connector.domain.model import CustomerDataRequested, CustomerRedactRequested, Event

EXPORT_TOPIC = "privacy.export_requested"
ERASE_TOPIC = "privacy.erase_requested"
TOPICS = frozenset({EXPORT_TOPIC, ERASE_TOPIC})
MAX_ORDERS = 10_000  # orders one request may name
EXPORT_MAX_AGE = 300  # seconds an export request is answered for after it was signed
CLOCK_SKEW = 60  # seconds the shop's clock may run ahead of ours
_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]{1,252}")


def _email(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 254 or not _EMAIL.fullmatch(value):
        raise NormalisationError("email: not an email address")  # not echoed: it may be personal data still
    return value


def _optional_id(value: Any, what: str) -> str | None:
    if value in (None, 0, "0", ""):
        return None
    try:
        return str(ident(value))
    except ValueError as exc:
        raise NormalisationError(f"{what}: {exc}") from None


def _order_ids(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise NormalisationError("order_ids is not a list")
    if len(value) > MAX_ORDERS:
        raise NormalisationError(f"order_ids names {len(value)} orders, more than {MAX_ORDERS}")
    ids = [_optional_id(item, "order_ids") for item in value]
    return tuple(dict.fromkeys(i for i in ids if i is not None))


def privacy_events(shop: str, topic: str, body: Mapping[str, Any]) -> list[Event]:
    """The request of one of `TOPICS` as the event the core honours."""
    if topic == EXPORT_TOPIC:
        return [CustomerDataRequested(shop, *_subject(body))]
    return [CustomerRedactRequested(shop, *_subject(body))]


def _subject(body: Mapping[str, Any]) -> tuple[str, str | None, tuple[str, ...]]:
    """Whom the request is about: (email, customer id, order ids)."""
    return _email(body.get("email")), _optional_id(body.get("customer_id"), "customer_id"), _order_ids(
        body.get("order_ids"))


def export_request(delivery: Delivery, now: float) -> CustomerDataRequested:
    """A verified export request the plugin waits for the answer of (`PlatformAdapter.export_request`)."""
    if delivery.topic != EXPORT_TOPIC:
        raise NormalisationError(f"not an export request: {delivery.topic[:100]!r}")
    try:
        body = json.loads(delivery.body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise NormalisationError(f"the body is not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise NormalisationError("the body is not a JSON object")
    sent_at = body.get("sent_at")
    if isinstance(sent_at, bool) or not isinstance(sent_at, int | float) or not math.isfinite(sent_at):
        raise NormalisationError("the request says not when it was sent (sent_at)")
    if not now - EXPORT_MAX_AGE <= sent_at <= now + CLOCK_SKEW:
        raise NormalisationError(f"the request was sent {round(now - sent_at)} s ago: too old to answer, or from "
                                 "a shop whose clock is wrong")
    return CustomerDataRequested(delivery.shop, *_subject(body))
