from __future__ import annotations

from pathlib import Path

import pytest

from connector.mail.send import FileOutbox, MailPermanentError, MailTemporaryError, SmtpSender, sender_from_url


def test_plain_smtp_defaults() -> None:
    assert sender_from_url("smtp://mail.example") == SmtpSender(host="mail.example", port=25, security="plain")


def test_starttls_with_credentials_and_options() -> None:
    sender = sender_from_url("smtp+starttls://user%40x.com:p%40ss%2Fword@relay.example?timeout=2.5&cafile=/ca.pem")
    assert sender == SmtpSender(
        host="relay.example",
        port=587,
        security="starttls",
        username="user@x.com",
        password="p@ss/word",
        timeout=2.5,
        cafile="/ca.pem",
    )


def test_smtps_port() -> None:
    sender = sender_from_url("smtps://u:p@relay.example:2465")
    assert isinstance(sender, SmtpSender)
    assert (sender.security, sender.port) == ("tls", 2465)


def test_file_outbox_paths() -> None:
    assert sender_from_url("file:///var/mail/outbox") == FileOutbox(Path("/var/mail/outbox"))
    assert sender_from_url("file://localhost/tmp/out") == FileOutbox(Path("/tmp/out"))
    assert sender_from_url("file:instance/outbox") == FileOutbox(Path("instance/outbox"))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://mail.example", "scheme"),
        ("", "scheme"),
        ("smtp://", "no host"),
        ("smtp://h?tls=yes", "unknown options"),
        ("smtp://h?timeout=soon", "could not convert"),
        ("smtp://h?timeout=0", "positive"),
        ("smtp://h:notaport", "Port"),
        ("file://", "no directory"),
    ],
)
def test_unusable_urls(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sender_from_url(url)


def test_errors_tell_the_outbox_whether_to_retry() -> None:
    assert MailTemporaryError("x").retryable is True
    assert MailPermanentError("x", code=550).retryable is False
