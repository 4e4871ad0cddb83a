"""Customer and merchant emails: what they say, how they look, how they leave.

- `messages`: `EmailMessageSpec` and one content dataclass per kind.
- `serialize`: specs to JSON and back, for the outbox; `payload`: the outbox's ``send_mail``.
- `render`:   templates/email/<kind>.txt|.html, translated (Babel catalogues in translations/)
              and formatted in the recipient's locale and the shop's time zone.
- `compose`:  a multipart/alternative message with a Message-ID derived from the idempotency key.
- `send`:     SMTP or file-outbox senders chosen by ``MAIL_URL``; `MailTemporaryError` (retry) vs
              `MailPermanentError` (dead-letter). Senders never retry.
- `links`:    signed, expiring refund-offer tokens.

Contract with the outbox: the outbox stores an email action's payload (``spec_to_dict(spec)``,
or the lifecycle's flat shape, see `payload`) with the action's idempotency key, and when it
runs calls ``make_send_mail(sender_from_url(MAIL_URL), MAIL_FROM)(payload, key)``. It retries
`MailTemporaryError` with back-off, dead-letters `MailPermanentError` (``retryable = False``;
also raised for a payload that is not a valid email), and marks the key done once the call
returns, so each event's email goes out at most once.
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
)
from connector.mail.payload import deliver, make_send_mail, spec_from_payload
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
from connector.mail.serialize import spec_from_dict, spec_to_dict

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
    "make_send_mail",
    "message_id_for",
    "read_outbox_entry",
    "read_refund_token",
    "render",
    "sender_from_url",
    "spec_from_dict",
    "spec_from_payload",
    "spec_to_dict",
]
