"""The bridge from an outbox email action to a sent email.

The outbox stores an email as a JSON payload and calls ``send_mail(payload, idempotency_key)``
(`make_send_mail` builds that function). Two payload shapes are read:

- ``spec_to_dict(spec)`` — has ``kind`` and ``content``;
- the lifecycle's flat shape — ``template`` (a `MessageKind` value), ``to``, ``locale``,
  ``shop`` {name, domain, timezone, currency, locale, sender_name, sender_email, reply_to,
  brand_color, logo_url, support_url}, ``order`` {id, name, customer_name}, ``lines``
  [{title, quantity, sku, promised_on}], and the kind's own fields at the top level under
  their `messages` names (``promised_on``, ``previous_on`` or ``previous_promised_on``,
  ``still_waiting``, ``refund_amount``, ``accept_url``, ...). Unknown keys are ignored;
- ``plain_payload(...)`` (``shape: plain``) — a supplier's business email with attachments.

A payload that cannot become a valid email raises `MailPermanentError` (retrying cannot fix
it; the outbox dead-letters it with the reason).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from connector.mail.compose import compose
from connector.mail.messages import CONTENT_TYPES, Branding, EmailMessageSpec, MessageKind
from connector.mail.plain import compose_plain, is_plain
from connector.mail.send import MailPermanentError, MailSender, SendResult
from connector.mail.serialize import decode_content, spec_from_dict

_ALIASES = {"previous_on": ("previous_promised_on",)}
_MERCHANT_KINDS = {MessageKind.AUTHORIZATION_EXPIRING}

SendMail = Callable[[Mapping[str, Any], str], SendResult]
OrderLink = Callable[[str, str, str], str]  # (platform, shop domain, order external id) -> the customer's page


def with_order_link(payload: Mapping[str, Any], order_link: OrderLink | None) -> Mapping[str, Any]:
    """The payload with the customer's page of the order as ``order_url``, for every kind that shows one.

    The link is signed when the email is sent (its age counts from then); a payload that already has
    one, a merchant's email, or one without the shop's platform (made before issue 16) is left alone."""
    if order_link is None or payload.get("order_url") or "template" not in payload:
        return payload
    try:
        kind = MessageKind(payload["template"])
    except ValueError:
        return payload
    if kind in _MERCHANT_KINDS or "order_url" not in {f.name for f in dataclasses.fields(CONTENT_TYPES[kind])}:
        return payload
    shop, order = payload.get("shop") or {}, payload.get("order") or {}
    platform, domain, external_id = shop.get("platform"), shop.get("domain"), order.get("id")
    if not (isinstance(platform, str) and isinstance(domain, str) and isinstance(external_id, str)):
        return payload
    if not (platform and domain and external_id):
        return payload
    return {**payload, "order_url": order_link(platform, domain, external_id)}


def _lifecycle_spec(payload: Mapping[str, Any]) -> EmailMessageSpec:
    kind = MessageKind(payload["template"])
    shop: Mapping[str, Any] = payload["shop"]
    order: Mapping[str, Any] = payload.get("order") or {}
    raw: dict[str, Any] = {}
    for f in dataclasses.fields(CONTENT_TYPES[kind]):
        if f.name == "order_name":
            raw[f.name] = order.get("name") or payload.get("order_name")
        elif f.name == "customer_name" and "customer_name" not in payload:
            raw[f.name] = order.get("customer_name")
        else:
            for key in (f.name, *_ALIASES.get(f.name, ())):
                if key in payload:
                    raw[f.name] = payload[key]
                    break
    customer_name = order.get("customer_name")
    recipient = payload.get("recipient_name", None if kind in _MERCHANT_KINDS else customer_name)
    return EmailMessageSpec(
        to=payload["to"],
        locale=payload.get("locale"),
        timezone=shop.get("timezone") or "UTC",
        currency=shop.get("currency") or payload["currency"],
        branding=Branding.from_settings(shop.get("name") or shop["domain"], shop),
        content=decode_content(kind, raw),
        recipient_name=recipient,
    )


def spec_from_payload(payload: Mapping[str, Any]) -> EmailMessageSpec:
    """The spec an outbox payload describes; `MailPermanentError` when it cannot describe one."""
    try:
        if "kind" in payload and "content" in payload:
            return spec_from_dict(payload)
        return _lifecycle_spec(payload)
    except (KeyError, TypeError, ValueError) as exc:
        raise MailPermanentError(f"the email payload is not a valid email: {exc!r}") from exc


def deliver(
    spec: EmailMessageSpec,
    *,
    idempotency_key: str,
    sender: MailSender,
    default_from: str,
    shop_locale: str | None = None,
) -> SendResult:
    """Render, build and send one email: one attempt, never retried here (see `connector.mail.send`)."""
    message = compose(spec, idempotency_key=idempotency_key, default_from=default_from, shop_locale=shop_locale)
    return sender.send(message)


def make_send_mail(sender: MailSender, default_from: str, order_link: OrderLink | None = None) -> SendMail:
    """The outbox's ``send_mail(payload, idempotency_key)``: render, build and send one email.

    `order_link` makes the signed link to the customer's page of an order (`with_order_link`)."""

    def send_mail(payload: Mapping[str, Any], idempotency_key: str) -> SendResult:
        if is_plain(payload):  # a business email to a supplier (see `connector.mail.plain`)
            return sender.send(compose_plain(payload, idempotency_key=idempotency_key, default_from=default_from))
        payload = with_order_link(payload, order_link)
        spec = spec_from_payload(payload)
        shop = payload.get("shop")
        shop_locale = shop.get("locale") if isinstance(shop, Mapping) else None
        return deliver(
            spec, idempotency_key=idempotency_key, sender=sender, default_from=default_from, shop_locale=shop_locale
        )

    return send_mail
