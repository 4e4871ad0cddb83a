"""The development file outbox: MAIL_URL=file://... writes .eml files the app lists and shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connector.mail import MessageKind, compose, list_outbox, read_outbox_entry, sender_from_url
from connector.mail.send import FileOutbox, MailTemporaryError
from tests.mail_samples import sample_spec

FROM = "backorders@connector.example"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _message(kind: MessageKind, key: str, sent_at: datetime, **spec: object):
    return compose(sample_spec(kind, **spec), idempotency_key=key, default_from=FROM, sent_at=sent_at)


def test_writes_lists_and_reads_back(tmp_path: Path) -> None:
    outbox = sender_from_url(f"file://{tmp_path}/outbox")
    assert isinstance(outbox, FileOutbox)
    first = outbox.send(_message(MessageKind.BACKORDER_CONFIRMATION, "k1", T0))
    second = outbox.send(_message(MessageKind.ON_ITS_WAY, "k2", T0 + timedelta(days=3), locale="it"))

    entries = list_outbox(tmp_path / "outbox")
    assert [e.message_id for e in entries] == [second.message_id, first.message_id]  # newest first
    newest = entries[0]
    assert newest.kind == "on_its_way"
    assert newest.subject == "Gli articoli del tuo ordine #1001 sono in viaggio"
    assert newest.to == "Anna Rossi <anna@example.com>"
    assert newest.sender == "Bottega Verde Shop <backorders@connector.example>"
    assert newest.date == T0 + timedelta(days=3)
    assert newest.size == newest.path.stat().st_size
    assert newest.text is not None and "Grazie per la pazienza." in newest.text
    assert newest.html is not None and "Grazie per la pazienza." in newest.html

    again = read_outbox_entry(tmp_path / "outbox", newest.name)
    assert again.message_id == newest.message_id and again.text == newest.text


def test_the_same_message_id_is_written_once(tmp_path: Path) -> None:
    outbox = FileOutbox(tmp_path)
    outbox.send(_message(MessageKind.ETA_LATER, "same-key", T0))
    outbox.send(_message(MessageKind.ETA_LATER, "same-key", T0 + timedelta(minutes=5)))  # a retry
    entries = list_outbox(tmp_path)
    assert len(entries) == 1
    assert entries[0].date == T0  # the first one stays


def test_no_partial_files_are_left(tmp_path: Path) -> None:
    FileOutbox(tmp_path).send(_message(MessageKind.PAYMENT_REQUEST, "k", T0))
    assert [p.suffix for p in tmp_path.iterdir()] == [".eml"]


def test_an_absent_outbox_is_empty(tmp_path: Path) -> None:
    assert list_outbox(tmp_path / "never-written") == []


def test_limit(tmp_path: Path) -> None:
    outbox = FileOutbox(tmp_path)
    for i in range(5):
        outbox.send(_message(MessageKind.REFUND_CONFIRMATION, f"k{i}", T0 + timedelta(hours=i)))
    assert len(list_outbox(tmp_path, limit=2)) == 2


@pytest.mark.parametrize("name", ["../secret.eml", "/etc/passwd", "x/../../y.eml", ".hidden.eml", "notes.txt"])
def test_reading_refuses_names_outside_the_outbox(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="not an outbox file name"):
        read_outbox_entry(tmp_path, name)


def test_an_unwritable_outbox_is_a_temporary_failure(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the directory should be")
    with pytest.raises(MailTemporaryError, match="could not write to the outbox"):
        FileOutbox(blocker).send(_message(MessageKind.ON_ITS_WAY, "k", T0))
