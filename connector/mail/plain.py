"""Business emails to suppliers: plain text in English with optional attachments (a CSV).

Customers' emails are rendered from localised templates (`messages`, `render`); a supplier gets a
short business message the planning code writes itself (the forecast export, a dropship request).
The outbox stores it as a payload of this shape, and `make_send_mail` sends it:

    {"shape": "plain", "template": <kind name for lists>, "to": address, "subject": ..., "text": ...,
     "shop": {"name", "domain", "sender_name", "reply_to"},
     "attachments": [{"filename", "content_type": "text/csv", "content": text}]}

Attachments are text (CSV), stored in the payload as is; the message's ``Message-ID`` derives from
the idempotency key, as for every other email.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

from connector.mail.compose import KIND_HEADER, MESSAGE_POLICY, _address, message_id_for
from connector.mail.send import MailPermanentError

SHAPE = "plain"


def plain_payload(
    kind: str,
    to: str,
    subject: str,
    text: str,
    shop: Mapping[str, Any],
    attachments: Sequence[tuple[str, str, str]] = (),
) -> dict[str, Any]:
    """An outbox payload for a plain email; `attachments` are (filename, content type, text)."""
    return {
        "shape": SHAPE,
        "template": kind,
        "to": to,
        "subject": subject,
        "text": text,
        "shop": dict(shop),
        "attachments": [{"filename": f, "content_type": t, "content": c} for f, t, c in attachments],
    }


def is_plain(payload: Mapping[str, Any]) -> bool:
    return payload.get("shape") == SHAPE


def compose_plain(
    payload: Mapping[str, Any], *, idempotency_key: str, default_from: str, sent_at: datetime | None = None
) -> EmailMessage:
    """The MIME message of a plain payload; `MailPermanentError` when the payload cannot make one."""
    try:
        shop: Mapping[str, Any] = payload.get("shop") or {}
        _, from_address = parseaddr(default_from)
        sender = _address(from_address, shop.get("sender_name") or shop.get("name"))
        msg = EmailMessage(policy=MESSAGE_POLICY)
        msg["Subject"] = str(payload["subject"])
        msg["From"] = sender
        msg["To"] = _address(str(payload["to"]))
        if shop.get("reply_to"):
            msg["Reply-To"] = _address(str(shop["reply_to"]))
        msg["Date"] = format_datetime(sent_at or datetime.now(UTC))
        msg["Message-ID"] = message_id_for(idempotency_key, sender.domain or "localhost")
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(str(payload["text"]), subtype="plain", charset="utf-8", cte="quoted-printable")
        for att in payload.get("attachments") or ():
            maintype, _, subtype = str(att["content_type"]).partition("/")
            if maintype != "text" or not subtype:
                raise ValueError(f"only text attachments are supported, got {att['content_type']!r}")
            msg.add_attachment(str(att["content"]), subtype=subtype, filename=str(att["filename"]))
        msg[KIND_HEADER] = str(payload.get("template") or SHAPE)
        return msg
    except (KeyError, TypeError, ValueError) as exc:
        raise MailPermanentError(f"the email payload is not a valid email: {exc!r}") from exc
