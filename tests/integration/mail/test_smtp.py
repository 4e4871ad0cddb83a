"""Sending through a real SMTP server (aiosmtpd on loopback, started by the fixtures)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.mail import MailPermanentError, MailTemporaryError, MessageKind, compose, deliver, sender_from_url
from connector.mail.payload import make_send_mail
from connector.mail.send import SmtpSender
from tests.mail_samples import sample_spec
from tests.smtp_server import HOST, SmtpServer, free_port, run_smtp_server

FROM = "Backorder Connector <backorders@connector.example>"
KEY = "shop1:order5001:g1:email:confirmation"


def _send(url: str, *, key: str = KEY, to: str = "anna@example.com", **spec: object) -> str:
    result = deliver(sample_spec(to=to, **spec), idempotency_key=key, sender=sender_from_url(url), default_from=FROM)
    return result.message_id


def test_a_message_arrives_with_both_parts_and_its_headers(smtp_server: SmtpServer) -> None:
    message_id = _send(smtp_server.url, locale="it")

    (mail,) = smtp_server.wait_for(1)
    assert mail.mail_from == "backorders@connector.example"
    assert mail.rcpt_tos == ("anna@example.com",)
    msg = mail.message
    assert msg["Message-ID"] == message_id
    assert msg["Subject"] == "Ordine #1001: alcuni articoli partiranno entro il 10 dicembre 2026"
    assert str(msg["From"]) == "Bottega Verde Shop <backorders@connector.example>"
    assert str(msg["To"]) == "Anna Rossi <anna@example.com>"
    assert str(msg["Reply-To"]) == "help@bottega.example"
    assert msg["Content-Language"] == "it"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "multipart/alternative"
    assert "previsto entro il 10 dicembre 2026" in mail.text
    assert "previsto entro il 10 dicembre 2026" in mail.html
    assert mail.html.lstrip().startswith("<!DOCTYPE html>")
    assert mail.authenticated_as is None


def test_login_with_the_credentials_in_mail_url(smtp_server: SmtpServer) -> None:
    _send(smtp_server.auth_url)
    (mail,) = smtp_server.wait_for(1)
    assert mail.authenticated_as == "mailer"


def test_wrong_credentials_are_retryable(smtp_server: SmtpServer) -> None:
    with pytest.raises(MailTemporaryError, match="credentials"):
        _send(f"smtp://mailer:wrong@{HOST}:{smtp_server.port}")
    assert smtp_server.messages == []


def test_a_retried_send_carries_the_same_message_id(smtp_server: SmtpServer) -> None:
    _send(smtp_server.url)
    _send(smtp_server.url)
    _send(smtp_server.url, key="shop1:order5001:g1:email:eta_later:2026-12-22")
    first, retry, other = smtp_server.wait_for(3)
    assert first.message["Message-ID"] == retry.message["Message-ID"] != other.message["Message-ID"]


def test_server_down_is_temporary() -> None:
    url = f"smtp://{HOST}:{free_port()}?timeout=2"
    started = time.monotonic()
    with pytest.raises(MailTemporaryError, match="could not talk to"):
        _send(url)
    assert time.monotonic() - started < 2


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never says a word (a hung mail server)."""
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_a_hung_server_times_out_as_temporary(silent_server: int) -> None:
    started = time.monotonic()
    with pytest.raises(MailTemporaryError, match="timed out|TimeoutError"):
        _send(f"smtp://{HOST}:{silent_server}?timeout=0.3")
    assert time.monotonic() - started < 3


def test_recipient_refused_with_550_is_permanent(smtp_server: SmtpServer) -> None:
    smtp_server.refuse("gone@example.com", "550 5.1.1 Mailbox does not exist")
    with pytest.raises(MailPermanentError, match="Mailbox does not exist") as caught:
        _send(smtp_server.url, to="gone@example.com")
    assert caught.value.code == 550
    assert caught.value.retryable is False
    assert smtp_server.messages == []


def test_recipient_deferred_with_451_is_temporary(smtp_server: SmtpServer) -> None:
    smtp_server.refuse("busy@example.com", "451 4.3.0 Greylisted, try again later")
    with pytest.raises(MailTemporaryError, match="Greylisted"):
        _send(smtp_server.url, to="busy@example.com")

    smtp_server.clear()  # the greylisting ends: the retry goes through
    _send(smtp_server.url, to="busy@example.com")
    assert smtp_server.wait_for(1)[0].rcpt_tos == ("busy@example.com",)


def test_tls(smtp_tls_server: SmtpServer) -> None:
    _send(smtp_tls_server.auth_url, kind=MessageKind.ON_ITS_WAY)
    (mail,) = smtp_tls_server.wait_for(1)
    assert mail.authenticated_as == "mailer"
    assert "on their way" in mail.message["Subject"]


def test_an_untrusted_certificate_is_refused(smtp_tls_server: SmtpServer) -> None:
    untrusted = smtp_tls_server.url.split("?")[0]
    with pytest.raises(MailTemporaryError, match="CERTIFICATE_VERIFY_FAILED|certificate"):
        _send(untrusted)
    assert smtp_tls_server.messages == []


def test_starttls_required_but_not_offered(smtp_server: SmtpServer) -> None:
    sender = SmtpSender(host=HOST, port=smtp_server.port, security="starttls", timeout=5)
    message = compose(sample_spec(), idempotency_key=KEY, default_from=FROM)
    with pytest.raises(MailTemporaryError, match="STARTTLS"):
        sender.send(message)


def test_outbox_payload_through_smtp(smtp_server: SmtpServer) -> None:
    send_mail = make_send_mail(sender_from_url(smtp_server.url), FROM)
    payload = {
        "template": "eta_earlier",
        "to": "luca@example.it",
        "locale": None,
        "shop": {
            "name": "Bottega",
            "domain": "b.example",
            "timezone": "Europe/Rome",
            "currency": "EUR",
            "locale": "it",
        },
        "order": {"id": "1", "name": "#1002", "customer_name": "Luca"},
        "lines": [{"title": "Tazza", "quantity": 1, "sku": "T1", "promised_on": "2026-12-03"}],
        "promised_on": "2026-12-03",
        "previous_promised_on": "2026-12-10",
    }
    send_mail(payload, "k-1")
    (mail,) = smtp_server.wait_for(1)
    assert mail.message["Subject"] == "Buone notizie: l'ordine #1002 partirà prima del previsto"
    assert mail.text.startswith("Ciao Luca,")


def test_file_outbox_via_mail_url(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    _send(f"file://{outbox}")
    assert len(list(outbox.glob("*.eml"))) == 1


def test_non_ascii_address_is_delivered_where_smtputf8_is_offered(smtp_server: SmtpServer) -> None:
    _send(smtp_server.url, to="nicolò@example.it")
    assert smtp_server.wait_for(1)[0].rcpt_tos == ("nicolò@example.it",)


def test_non_ascii_address_without_smtputf8_is_permanent() -> None:
    for server in run_smtp_server(enable_SMTPUTF8=False):
        with pytest.raises(MailPermanentError, match="SMTPUTF8"):
            _send(server.url, to="nicolò@example.it")


@pytest.fixture
def no_kept_sessions() -> Iterator[None]:
    from connector.mail.send import close_sessions

    close_sessions()
    yield
    close_sessions()


def test_a_burst_of_emails_shares_one_session_with_the_server(smtp_server: SmtpServer) -> None:
    for i in range(3):
        _send(smtp_server.auth_url, key=f"{KEY}:{i}")
    mails = smtp_server.wait_for(3)
    assert len({m.peer for m in mails}) == 1  # one connection, one login
    assert all(m.authenticated_as == "mailer" for m in mails)


def test_a_kept_session_is_used_without_a_round_trip_first(smtp_server: SmtpServer, no_kept_sessions: None) -> None:
    for i in range(3):
        _send(smtp_server.url, key=f"{KEY}:{i}")
    assert len({m.peer for m in smtp_server.wait_for(3)}) == 1
    assert smtp_server.handler.noops == 0


def test_a_message_handed_over_before_the_connection_dropped_is_not_sent_again(smtp_server: SmtpServer,
                                                                             no_kept_sessions: None) -> None:
    """The one window left (the server took the message, we did not hear so): the send fails and is
    not repeated here, on a kept session as on a new one; the outbox retries later under the same
    Message-ID (see connector.mail.send)."""
    _send(smtp_server.url, key=f"{KEY}:1")  # a session is kept
    smtp_server.handler.drop_after_data = True
    with pytest.raises(MailTemporaryError, match="could not talk to"):
        _send(smtp_server.url, key=f"{KEY}:2")  # over the kept session
    with pytest.raises(MailTemporaryError, match="could not talk to"):
        _send(smtp_server.url, key=f"{KEY}:3")  # over a new one
    time.sleep(0.2)
    assert len(smtp_server.messages) == 3  # each taken once, none sent a second time


def test_a_session_the_server_dropped_is_replaced_and_the_email_goes_out(smtp_server: SmtpServer,
                                                                        no_kept_sessions: None) -> None:
    from connector.mail import send

    _send(smtp_server.url, key=f"{KEY}:1")
    [(kept, _, _)] = send._kept_sessions().values()
    kept.sock.shutdown(socket.SHUT_RDWR)  # as when the server or a firewall drops an idle connection
    _send(smtp_server.url, key=f"{KEY}:2")
    mails = smtp_server.wait_for(2)
    assert len({m.peer for m in mails}) == 2


def test_an_idle_session_is_not_kept_past_its_time(smtp_server: SmtpServer, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from connector.mail import send

    monkeypatch.setattr(send, "KEEP_SESSION_SECONDS", 0.0)
    _send(smtp_server.url, key=f"{KEY}:1")
    _send(smtp_server.url, key=f"{KEY}:2")
    assert len({m.peer for m in smtp_server.wait_for(2)}) == 2


def test_a_refusal_closes_the_session_and_the_next_email_opens_a_new_one(smtp_server: SmtpServer,
                                                                         no_kept_sessions: None) -> None:
    from connector.mail import send

    _send(smtp_server.url, key=f"{KEY}:1")
    smtp_server.refuse("bad@example.com")
    with pytest.raises(MailPermanentError):
        _send(smtp_server.url, key=f"{KEY}:2", to="bad@example.com")
    assert send._kept_sessions() == {}
    _send(smtp_server.url, key=f"{KEY}:3")
    mails = smtp_server.wait_for(2)
    assert len({m.peer for m in mails}) == 2
