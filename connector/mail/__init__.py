"""Customer and merchant emails: what they say, how they look, how they leave.

- `messages`: `EmailMessageSpec` and one content dataclass per kind; JSON round trip for the outbox.
- `render`:   templates/email/<kind>.txt|.html, translated (Babel catalogues in translations/)
              and formatted in the recipient's locale and the shop's time zone.
- `compose`:  a multipart/alternative `EmailMessage` with a Message-ID derived from the idempotency key.
- `send`:     SMTP or file-outbox senders chosen by ``MAIL_URL``; `MailTemporaryError` (retry) vs
              `MailPermanentError` (dead-letter). Senders never retry.
- `links`:    signed, expiring refund-offer tokens.

Contract with the outbox: the outbox stores ``spec_to_dict(spec)`` with the action's idempotency
key, and when it runs calls ``deliver(spec_from_dict(data), idempotency_key=key, sender=...,
default_from=MAIL_FROM)``. It retries `MailTemporaryError` with back-off, dead-letters
`MailPermanentError` (and a `ValueError` from a malformed spec), and marks the key done once
`deliver` returns, so each event's email goes out at most once.
"""

from __future__ import annotations

from connector.mail.compose import build_message, compose, message_id_for
from connector.mail.links import (
    RefundOffer,
    RefundTokenError,
    RefundTokenExpired,
    RefundTokenInvalid,
    make_refund_token,
    read_refund_token,
)
from connector.mail.messages import (
    AuthorizationExpiring,
    BackorderConfirmation,
    Branding,
    DelayRefundOffer,
    EmailMessageSpec,
    EtaEarlier,
    EtaLater,
    MailLine,
    MessageKind,
    OnItsWay,
    PaymentRequest,
    PlannedAction,
    RefundConfirmation,
    spec_from_dict,
    spec_to_dict,
)
from connector.mail.render import RenderedEmail, render
from connector.mail.send import (
    FileOutbox,
    MailError,
    MailPermanentError,
    MailSender,
    MailTemporaryError,
    OutboxEntry,
    SendResult,
    SmtpSender,
    list_outbox,
    read_outbox_entry,
    sender_from_url,
)


def deliver(
    spec: EmailMessageSpec,
    *,
    idempotency_key: str,
    sender: MailSender,
    default_from: str,
    shop_locale: str | None = None,
) -> SendResult:
    """Render, build and send one email (one attempt; see the module docstring for retries)."""
    message = compose(spec, idempotency_key=idempotency_key, default_from=default_from, shop_locale=shop_locale)
    return sender.send(message)


__all__ = [
    "AuthorizationExpiring",
    "BackorderConfirmation",
    "Branding",
    "DelayRefundOffer",
    "EmailMessageSpec",
    "EtaEarlier",
    "EtaLater",
    "FileOutbox",
    "MailError",
    "MailLine",
    "MailPermanentError",
    "MailSender",
    "MailTemporaryError",
    "MessageKind",
    "OnItsWay",
    "OutboxEntry",
    "PaymentRequest",
    "PlannedAction",
    "RefundConfirmation",
    "RefundOffer",
    "RefundTokenError",
    "RefundTokenExpired",
    "RefundTokenInvalid",
    "RenderedEmail",
    "SendResult",
    "SmtpSender",
    "build_message",
    "compose",
    "deliver",
    "list_outbox",
    "make_refund_token",
    "message_id_for",
    "read_outbox_entry",
    "read_refund_token",
    "render",
    "sender_from_url",
    "spec_from_dict",
    "spec_to_dict",
]
