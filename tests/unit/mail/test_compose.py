from __future__ import annotations

import importlib
from datetime import UTC, datetime
from email import charset, policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.mime.text import MIMEText
from email.parser import BytesParser
from email.utils import parseaddr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.mail.compose import (
    CLASSIC_POLICY,
    KIND_HEADER,
    _build_with_email_message,
    build_message,
    compose,
    message_id_for,
)
from connector.mail.messages import Branding, MessageKind
from connector.mail.render import RenderedEmail, render
from tests.mail_samples import sample_spec

SENT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
COMPOSE = importlib.import_module("connector.mail.compose")  # the package exports a function of that name


def _reparse(spec_kwargs: dict | None = None, **compose_kwargs: object):
    spec = sample_spec(**(spec_kwargs or {}))
    args = {"idempotency_key": "shop1:order5:g1:email:confirmation", "default_from": "mail@connector.example"}
    args.update(compose_kwargs)
    message = compose(spec, sent_at=SENT, **args)  # type: ignore[arg-type]
    return BytesParser(policy=policy.default).parsebytes(message.as_bytes())


def test_multipart_alternative_text_then_html() -> None:
    msg = _reparse()
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert all(p["Content-Transfer-Encoding"] == "quoted-printable" for p in parts)
    assert "Espresso cup" in parts[0].get_content()
    assert "<!DOCTYPE html>" in parts[1].get_content()


def test_headers() -> None:
    msg = _reparse()
    assert msg["Subject"] == "Order #1001: some items will ship by December 10, 2026"
    assert msg["From"].addresses[0].display_name == "Bottega Verde Shop"
    assert msg["From"].addresses[0].addr_spec == "mail@connector.example"
    assert msg["To"].addresses[0].display_name == "Anna Rossi"
    assert msg["To"].addresses[0].addr_spec == "anna@example.com"
    assert str(msg["Reply-To"]) == "help@bottega.example"
    assert msg["Content-Language"] == "en"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg[KIND_HEADER] == "backorder_confirmation"
    assert msg["Date"].datetime == SENT


def test_non_ascii_subject_and_names_survive_encoding() -> None:
    msg = _reparse(
        {
            "kind": MessageKind.ETA_LATER,
            "locale": "it",
            "recipient_name": "Nicolò Lucà",
            "branding": Branding(shop_name="Caffè Però"),
        }
    )
    assert msg["Subject"] == "Ci scusiamo: l'ordine #1001 ora partirà entro il 22 dicembre 2026"
    assert msg["To"].addresses[0].display_name == "Nicolò Lucà"
    assert msg["From"].addresses[0].display_name == "Caffè Però"
    assert msg["Content-Language"] == "it"
    assert "più tardi" in msg.get_body(("plain",)).get_content()


def test_message_id_is_stable_per_idempotency_key() -> None:
    first = _reparse()["Message-ID"]
    again = _reparse()["Message-ID"]
    other = _reparse(idempotency_key="shop1:order5:g1:email:eta_later:2026-12-22")["Message-ID"]
    assert first == again != other
    assert first == message_id_for("shop1:order5:g1:email:confirmation", "connector.example")
    assert "order5" not in first  # the key is hashed, not shown


def test_mail_from_with_a_display_name_and_shop_sender_address() -> None:
    msg = _reparse(default_from="Backorder Connector <backorders@localhost>")
    assert msg["From"].addresses[0].addr_spec == "backorders@localhost"
    assert msg["From"].addresses[0].display_name == "Bottega Verde Shop"

    own = _reparse({"branding": Branding(shop_name="B", sender_email="orders@b.example")})
    assert own["From"].addresses[0].addr_spec == "orders@b.example"
    assert str(own["Reply-To"]) == "orders@b.example"
    assert own["Message-ID"].endswith("@b.example>")


def test_extra_headers_and_bad_from() -> None:
    msg = _reparse({"headers": {"X-Campaign": "none"}})
    assert msg["X-Campaign"] == "none"
    with pytest.raises(ValueError, match="MAIL_FROM"):
        _reparse(default_from="")


def test_the_header_classes_made_once_give_the_librarys_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """`MESSAGE_POLICY` (the `EmailMessage` way, taken for an international address) makes each
    header's class once (the library made one per header); the message is byte for byte what the
    library's own SMTP policy makes, non-ASCII names included."""
    spec = sample_spec(recipient_name="Zoë Ångström-Łukasiewicz", to="zoë@example.com")
    args = {"idempotency_key": "shop1:order5:g1:email:confirmation", "default_from": "Café <mail@connector.example>"}
    ours = [compose(spec, sent_at=SENT, **args) for _ in range(2)]  # type: ignore[arg-type]
    assert isinstance(ours[0], EmailMessage)
    assert type(ours[0]["Subject"]) is type(ours[1]["Subject"])
    assert type(ours[0]["To"]) is type(ours[1]["To"])
    monkeypatch.setattr(COMPOSE, "MESSAGE_POLICY", policy.SMTP)
    stock = compose(spec, sent_at=SENT, **args)  # type: ignore[arg-type]
    assert type(stock["Subject"]) is not type(ours[0]["Subject"])

    def flat(message: Message) -> bytes:  # the multipart boundary is random: named alike
        return message.as_bytes().replace(str(message.get_boundary()).encode(), b"BOUNDARY")

    assert flat(ours[0]) == flat(stock)
    assert "Zoë Ångström-Łukasiewicz" in str(BytesParser(policy=policy.default).parsebytes(ours[0].as_bytes())["To"])


HEADERS = ("Subject", "From", "To", "Reply-To", "Date", "Message-ID", "Auto-Submitted", "Content-Language",
           KIND_HEADER, "X-Campaign")


def _read(message: Message) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """What a mail client shows of a message: its decoded headers and its parts' types and texts."""
    parsed = BytesParser(policy=policy.default).parsebytes(message.as_bytes())
    parts = [(p.get_content_type(), str(p.get_content_charset()), p.get_content()) for p in parsed.iter_parts()]
    return {name: str(parsed[name]) for name in HEADERS}, parts


@pytest.mark.parametrize("locale", ["en", "it", "de"])
def test_the_classic_classes_make_the_email_that_email_message_makes(locale: str) -> None:
    """The common case (plain addresses) is built with the classic MIME classes; a mail client reads
    it exactly as the `EmailMessage` one: the same headers once decoded (non-ASCII names and
    subjects in RFC 2047 words), the same parts, the same texts."""
    rendered = render(sample_spec(MessageKind.ETA_LATER, locale=locale))
    args: dict = {
        "to": "nicolo.luca@example.com", "to_name": "Nicolò Lucà, \"il Capo\"", "from_address": "mail@caffe.example",
        "from_name": "Caffè Però (Città di Castello)", "reply_to": "help@caffe.example",
        "idempotency_key": "shop1:order5:g1:email:eta_later", "sent_at": SENT,
        "headers": {KIND_HEADER: "eta_later", "X-Campaign": "Sconti d’inverno"}}
    classic = build_message(rendered, **args)
    library = _build_with_email_message(rendered, **args)
    assert not isinstance(classic, EmailMessage) and isinstance(library, EmailMessage)
    assert _read(classic) == _read(library)
    assert "Nicolò Lucà" in _read(classic)[0]["To"]
    raw = classic.as_bytes()
    assert raw.isascii() and b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert raw.count(b"MIME-Version") == 1
    assert all(len(line) <= 78 for line in raw.split(b"\r\n")), "every line within RFC 5322's 78"


@pytest.mark.parametrize("words", ["articolo perché già più", "a plain English item"])
def test_long_subjects_are_folded_and_read_back_whole(words: str) -> None:
    subject = "Ordine #1001: " + " ".join([words] * 12)
    rendered = RenderedEmail(subject=subject, text="t\n", html="<p>h</p>", locale="it")
    message = build_message(rendered, to="a@example.com", to_name="Nicolò", from_address="m@example.com",
                            from_name="Caffè Però", idempotency_key="k")
    assert not isinstance(message, EmailMessage)
    raw = message.as_bytes()
    assert all(len(line) <= 78 for line in raw.split(b"\r\n"))
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert str(parsed["Subject"]) == subject
    assert parsed["To"].addresses[0].display_name == "Nicolò"
    assert parsed["From"].addresses[0].display_name == "Caffè Però"


@pytest.mark.parametrize("name", [" ".join(["Caffè Però"] * 8), " ".join(["Bottega Verde"] * 8)])
def test_long_names_are_folded_and_read_back_whole(name: str) -> None:
    """A name too long for one encoded word is split over several, which RFC 2047 decoders join
    again (the library's `policy.default` parser reads a space in where two words meet inside a
    display name, whichever way the message was built: its own RFC 2047 decoder is used here)."""
    rendered = RenderedEmail(subject="Hi", text="t\n", html="<p>h</p>", locale="it")
    message = build_message(rendered, to="a@example.com", to_name=name, from_address="m@example.com",
                            from_name=name, idempotency_key="k")
    assert not isinstance(message, EmailMessage)
    raw = message.as_bytes()
    assert all(len(line) <= 78 for line in raw.split(b"\r\n"))
    parsed = BytesParser(policy=policy.compat32).parsebytes(raw)
    for field in ("To", "From"):
        display, addr_spec = parseaddr(str(make_header(decode_header(parsed[field]))))
        assert display == name and addr_spec in ("a@example.com", "m@example.com")


def test_line_breaks_in_names_and_headers_cannot_add_a_header() -> None:
    rendered = RenderedEmail(subject="Hi\r\nBcc: evil@example.com", text="t\n", html="<p>h</p>", locale="en")
    message = build_message(rendered, to="a@example.com", to_name="Anna\r\nBcc: evil@example.com",
                            from_address="m@example.com", from_name="Shop\nX-Evil: 1", idempotency_key="k",
                            headers={"X-Campaign": "a\r\nBcc: evil@example.com"})
    parsed = BytesParser(policy=policy.default).parsebytes(message.as_bytes())
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    assert parsed["To"].addresses[0].addr_spec == "a@example.com"


@pytest.mark.parametrize("to", ["zoë@example.com", "anna@xn--caf-dma.example"])
def test_addresses_the_classic_classes_cannot_write_go_the_email_message_way(to: str) -> None:
    rendered = RenderedEmail(subject="Hi", text="t\n", html="<p>h</p>", locale="en")
    message = build_message(rendered, to=to, from_address="m@example.com", idempotency_key="k")
    assert isinstance(message, EmailMessage) is not to.isascii()
    assert str(message["To"]) == to


def test_the_classic_policy_writes_what_compat32_writes() -> None:
    """`CLASSIC_POLICY` writes a header that fits on its line without the `Header` round trip; the
    bytes are those of the library's own ``compat32`` (with CRLF), long and encoded headers included."""
    spec = sample_spec(MessageKind.ETA_LATER, locale="it", recipient_name="Nicolò Lucà",
                       headers={"X-Long": " ".join(["a long header value"] * 8)})
    message = compose(spec, sent_at=SENT, idempotency_key="k", default_from="Caffè <mail@caffe.example>")
    assert message.policy is CLASSIC_POLICY
    assert message.as_bytes() == message.as_bytes(policy=policy.compat32.clone(linesep="\r\n"))
    assert message.get_boundary().startswith("=_")  # never in quoted-printable text


_LIBRARY_QP = charset.Charset("utf-8")
_LIBRARY_QP.body_encoding = charset.QP


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=400))
def test_bodies_read_back_as_the_librarys_own_quoted_printable_reads(text: str) -> None:
    """The parts' quoted-printable, encoded in C (`_Utf8QuotedPrintable`), is what the library's
    own encoder makes once read: the same text back, ASCII lines within 76 characters."""
    ours = MIMEText(text, "plain", COMPOSE._UTF8_QP)
    theirs = MIMEText(text, "plain", _LIBRARY_QP)
    assert ours["Content-Transfer-Encoding"] == "quoted-printable"
    raw = ours.as_bytes()
    assert raw.isascii()
    assert all(len(line) <= 76 for line in ours.get_payload().split("\n"))
    read = BytesParser(policy=policy.default).parsebytes
    assert read(raw).get_content() == read(theirs.as_bytes()).get_content()
