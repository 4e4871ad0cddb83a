"""Turn a rendered email into a MIME message ready to send.

The message is multipart/alternative (plain text first, then HTML), both parts UTF-8 in
quoted-printable so any SMTP server takes them. Its ``Message-ID`` is derived from the
outbox's idempotency key, so a retried send carries the same id as the first attempt: a
recipient's mail system (and a person reading the headers) can recognise the duplicate if an
attempt that looked failed had in fact been delivered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from connector.mail.messages import EmailMessageSpec
from connector.mail.render import RenderedEmail, render


class _HeaderClasses(HeaderRegistry):
    """The standard header registry, making each header's class once.

    The library's registry builds a new class (`type(...)`) for every header of every message and
    MIME part it makes: a quarter of composing an email, measured in a flash sale's workers (issue
    13). The classes it makes for one name are all alike, so one of each serves every message."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made

    def map_to_type(self, name: str, cls: type) -> None:
        super().map_to_type(name, cls)
        self._made.pop(name.lower(), None)


# CRLF line ends, RFC 2047 headers: the library's SMTP policy, with the header classes made once.
MESSAGE_POLICY = policy.SMTP.clone(header_factory=_HeaderClasses())
KIND_HEADER = "X-Backorder-Kind"


def _address(addr_spec: str, display_name: str | None = None) -> Address:
    username, at, domain = addr_spec.strip().rpartition("@")
    try:
        if not (username and at and domain):
            raise ValueError("no user@domain")
        # username/domain rather than addr_spec: the parser refuses non-ASCII (EAI) local parts
        return Address(display_name=display_name or "", username=username, domain=domain)
    except (ValueError, IndexError) as exc:
        raise ValueError(f"not a usable email address: {addr_spec!r}") from exc


def message_id_for(idempotency_key: str, domain: str) -> str:
    """A stable ``Message-ID`` for one idempotency key (the key itself is not revealed)."""
    if not idempotency_key:
        raise ValueError("an idempotency key is required")
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:40]
    return f"<{digest}@{domain}>"


def build_message(
    rendered: RenderedEmail,
    *,
    to: str,
    from_address: str,
    idempotency_key: str,
    to_name: str | None = None,
    from_name: str | None = None,
    reply_to: str | None = None,
    headers: Mapping[str, str] | None = None,
    sent_at: datetime | None = None,
) -> EmailMessage:
    sender = _address(from_address, from_name)
    msg = EmailMessage(policy=MESSAGE_POLICY)
    msg["Subject"] = rendered.subject
    msg["From"] = sender
    msg["To"] = _address(to, to_name)
    if reply_to:
        msg["Reply-To"] = _address(reply_to)
    msg["Date"] = format_datetime(sent_at or datetime.now(UTC))
    msg["Message-ID"] = message_id_for(idempotency_key, sender.domain or "localhost")
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: autoresponders must not answer
    msg.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    # after the body: set_content drops every Content-* header already present
    msg["Content-Language"] = rendered.locale.replace("_", "-")
    for name, value in (headers or {}).items():
        msg[name] = value
    return msg


def compose(
    spec: EmailMessageSpec,
    *,
    idempotency_key: str,
    default_from: str,
    shop_locale: str | None = None,
    sent_at: datetime | None = None,
) -> EmailMessage:
    """Render `spec` and build its message.

    The From address is the shop's ``sender_email`` when set (only set it when the shop's
    domain authorises our mail server, or DMARC will bin the mail), else `default_from` (the
    deployment's ``MAIL_FROM``); the display name is the shop's sender name. Replies go to the
    shop's ``reply_to`` (or its ``sender_email``).
    """
    brand = spec.branding
    _, default_address = parseaddr(default_from)  # MAIL_FROM may be "Name <address>"
    if not default_address:
        raise ValueError(f"MAIL_FROM is not an address: {default_from!r}")
    return build_message(
        render(spec, shop_locale=shop_locale),
        to=spec.to,
        to_name=spec.recipient_name,
        from_address=brand.sender_email or default_address,
        from_name=brand.from_name,
        reply_to=brand.reply_to or brand.sender_email,
        idempotency_key=idempotency_key,
        headers={KIND_HEADER: spec.kind.value, **spec.headers},
        sent_at=sent_at,
    )
