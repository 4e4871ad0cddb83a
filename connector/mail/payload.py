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


def make_send_mail(sender: MailSender, default_from: str) -> SendMail:
    """The outbox's ``send_mail(payload, idempotency_key)``: render, build and send one email."""

    def send_mail(payload: Mapping[str, Any], idempotency_key: str) -> SendResult:
        if is_plain(payload):  # a business email to a supplier (see `connector.mail.plain`)
            return sender.send(compose_plain(payload, idempotency_key=idempotency_key, default_from=default_from))
        spec = spec_from_payload(payload)
        shop = payload.get("shop")
        shop_locale = shop.get("locale") if isinstance(shop, Mapping) else None
        return deliver(
            spec, idempotency_key=idempotency_key, sender=sender, default_from=default_from, shop_locale=shop_locale
        )

    return send_mail
