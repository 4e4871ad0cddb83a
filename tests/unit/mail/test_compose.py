from __future__ import annotations

import importlib
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from connector.mail.compose import KIND_HEADER, compose, message_id_for
from connector.mail.messages import Branding, MessageKind
from tests.mail_samples import sample_spec

SENT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


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
    """`MESSAGE_POLICY` makes each header's class once (the library made one per header); the
    message is byte for byte what the library's own SMTP policy makes, non-ASCII names included."""
    compose_module = importlib.import_module("connector.mail.compose")
    spec = sample_spec(recipient_name="Zoë Ångström-Łukasiewicz", to="zoe@example.com")
    args = {"idempotency_key": "shop1:order5:g1:email:confirmation", "default_from": "Café <mail@connector.example>"}
    ours = [compose(spec, sent_at=SENT, **args) for _ in range(2)]  # type: ignore[arg-type]
    assert type(ours[0]["Subject"]) is type(ours[1]["Subject"])
    assert type(ours[0]["To"]) is type(ours[1]["To"])
    monkeypatch.setattr(compose_module, "MESSAGE_POLICY", policy.SMTP)
    stock = compose(spec, sent_at=SENT, **args)  # type: ignore[arg-type]
    assert type(stock["Subject"]) is not type(ours[0]["Subject"])
    def flat(message: EmailMessage) -> bytes:  # the multipart boundary is random: named alike
        return message.as_bytes().replace(message.get_boundary().encode(), b"BOUNDARY")

    assert flat(ours[0]) == flat(stock)
    assert "Zoë Ångström-Łukasiewicz" in str(BytesParser(policy=policy.default).parsebytes(ours[0].as_bytes())["To"])
