"""Turn a rendered email into a MIME message ready to send.

The message is multipart/alternative (plain text first, then HTML), both parts UTF-8 in
quoted-printable so any SMTP server takes them. Its ``Message-ID`` is derived from the
outbox's idempotency key, so a retried send carries the same id as the first attempt: a
recipient's mail system (and a person reading the headers) can recognise the duplicate if an
attempt that looked failed had in fact been delivered.

The message is built with the library's classic MIME classes (`email.mime`, the ``compat32``
policy), which keep each header as the text it is sent as; `EmailMessage` parses every header into
an object and folds it back again when sent. Measured alone, building and sending one email took
1.8 ms of CPU that way and 1.1 ms this way (issue 13: email was the largest cost of a flash sale's
workers). Non-ASCII display names and subjects become RFC 2047 encoded words. An address that is
not a plain ASCII ``local@domain`` (an international one, which needs SMTPUTF8, or one with a
quoted local part) goes the `EmailMessage` way, which knows those.
"""

from __future__ import annotations

import binascii
import hashlib
import re
import secrets
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from email import charset, policy
from email.header import Header
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

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


class _ClassicPolicy(Compat32):
    """The classic classes' policy (``compat32``), writing a header that fits on its line as it is.

    ``compat32`` hands every header to a `Header` object to be folded, even one that needs no
    folding (a third of sending an email); such a header comes out of it unchanged."""

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        if (isinstance(value, str) and value.isascii() and "\r" not in value and "\n" not in value
                and len(name) + 2 + len(value) <= (self.max_line_length or sys.maxsize)):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)  # type: ignore[misc]


# ... with CRLF line ends, as SMTP wants them.
CLASSIC_POLICY = _ClassicPolicy(linesep="\r\n")
KIND_HEADER = "X-Backorder-Kind"

class _Utf8QuotedPrintable(charset.Charset):
    """UTF-8 bodies in quoted-printable (the library's default for UTF-8 is base64), encoded by
    `binascii.b2a_qp`, in C, instead of the library's `quoprimime`, in Python: the same RFC 2045
    encoding (soft breaks at 76 characters, ``=`` and non-ASCII bytes as ``=XX``, spaces and tabs
    before a line break encoded) at a third of the cost, which was a tenth of composing an email."""

    def __init__(self) -> None:
        super().__init__("utf-8")
        self.body_encoding = charset.QP

    def body_encode(self, string: str | bytes) -> str:
        data = string.encode("utf-8") if isinstance(string, str) else string
        return binascii.b2a_qp(data, istext=True).decode("ascii")


_UTF8_QP = _Utf8QuotedPrintable()
# RFC 5322 dot-atom local part @ a host name: an address the classic classes can write as it is.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                            r"@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


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


def _header_text(name: str, value: str) -> str | Header:
    """Header `name`'s value as sent: as it is when ASCII, else RFC 2047 encoded words folded to
    fit the line (line breaks, which could start a header of their own, become spaces)."""
    value = " ".join(value.split())
    if value.isascii():
        return value
    return Header(value, "utf-8", header_name=name)


def _mailbox(name: str, addr_spec: str, display_name: str | None = None) -> str | Header | None:
    """Header `name`'s ``Display Name <local@domain>``, the name quoted or encoded as it needs; None
    when the classic classes cannot write it (an address that is not a plain ``local@domain`` of
    ASCII)."""
    address = addr_spec.strip()
    if _PLAIN_ADDRESS.fullmatch(address) is None:
        return None
    display = " ".join((display_name or "").split())
    if display.isascii():
        return formataddr((display, address))
    mailbox = Header(display, "utf-8", header_name=name)
    mailbox.append(f"<{address}>", "us-ascii")
    return mailbox


def _headers_after_the_addresses(
    rendered: RenderedEmail, *, sender_domain: str, idempotency_key: str, headers: Mapping[str, str] | None,
    sent_at: datetime | None,
) -> list[tuple[str, str]]:
    """The headers both ways of building a message write after the subject and the addresses."""
    return [
        ("Date", format_datetime(sent_at or datetime.now(UTC))),
        ("Message-ID", message_id_for(idempotency_key, sender_domain)),
        ("Auto-Submitted", "auto-generated"),  # RFC 3834: autoresponders must not answer
        ("Content-Language", rendered.locale.replace("_", "-")),
        *(headers or {}).items(),
    ]


def _text_part(text: str, subtype: str) -> MIMEText:
    part = MIMEText(text, subtype, _UTF8_QP, policy=CLASSIC_POLICY)
    del part["MIME-Version"]  # said once, at the top
    return part


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
) -> Message:
    """The message of one rendered email (see the module's note on the classes it is built with)."""
    mailboxes = {"From": _mailbox("From", from_address, from_name), "To": _mailbox("To", to, to_name)}
    if reply_to:
        mailboxes["Reply-To"] = _mailbox("Reply-To", reply_to)
    if None in mailboxes.values():
        return _build_with_email_message(
            rendered, to=to, from_address=from_address, idempotency_key=idempotency_key, to_name=to_name,
            from_name=from_name, reply_to=reply_to, headers=headers, sent_at=sent_at)
    # "=_" never occurs in quoted-printable text, so the boundary needs no search through the parts
    msg = MIMEMultipart("alternative", boundary="=_" + secrets.token_hex(16), policy=CLASSIC_POLICY)
    msg["Subject"] = _header_text("Subject", rendered.subject)
    for name, mailbox in mailboxes.items():
        msg[name] = mailbox
    for name, value in _headers_after_the_addresses(
            rendered, sender_domain=from_address.strip().rpartition("@")[2], idempotency_key=idempotency_key,
            headers=headers, sent_at=sent_at):
        msg[name] = _header_text(name, value)
    msg.attach(_text_part(rendered.text, "plain"))
    msg.attach(_text_part(rendered.html, "html"))
    return msg


def _build_with_email_message(
    rendered: RenderedEmail,
    *,
    to: str,
    from_address: str,
    idempotency_key: str,
    to_name: str | None,
    from_name: str | None,
    reply_to: str | None,
    headers: Mapping[str, str] | None,
    sent_at: datetime | None,
) -> EmailMessage:
    """`build_message` with `EmailMessage`, for the addresses the classic classes cannot write."""
    sender = _address(from_address, from_name)
    msg = EmailMessage(policy=MESSAGE_POLICY)
    msg["Subject"] = rendered.subject
    msg["From"] = sender
    msg["To"] = _address(to, to_name)
    if reply_to:
        msg["Reply-To"] = _address(reply_to)
    msg.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    # after the body: set_content drops every Content-* header already present
    for name, value in _headers_after_the_addresses(
            rendered, sender_domain=sender.domain or "localhost", idempotency_key=idempotency_key,
            headers=headers, sent_at=sent_at):
        msg[name] = value
    return msg


def compose(
    spec: EmailMessageSpec,
    *,
    idempotency_key: str,
    default_from: str,
    shop_locale: str | None = None,
    sent_at: datetime | None = None,
) -> Message:
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
