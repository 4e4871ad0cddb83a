"""The relay that sends a web process's wake-ups from a thread of its own (connector/wake_relay.py):
a request notes and returns, repeats coalesce, and no wake-up noted after its work is lost."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from connector.wake_relay import WakeRelay


class BlockingSend:
    """A send that records each name and, while `gate` is clear, blocks until it is set."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.gate = threading.Event()
        self.entered = threading.Semaphore(0)

    def __call__(self, name: str) -> None:
        self.sent.append(name)
        self.entered.release()
        assert self.gate.wait(10)


def test_a_note_returns_while_the_send_is_still_under_way() -> None:
    send = BlockingSend()
    relay = WakeRelay(send)
    relay.note("process_inbox")  # returns although the send blocks
    assert send.entered.acquire(timeout=10)
    assert send.sent == ["process_inbox"]
    assert not relay.flush(timeout=0.2)  # not sent yet: flush says so
    send.gate.set()
    assert relay.flush()


def test_notes_made_during_a_send_go_out_once_after_it() -> None:
    send = BlockingSend()
    relay = WakeRelay(send)
    relay.note("process_inbox")
    assert send.entered.acquire(timeout=10)  # the first send is under way ...
    threads = [threading.Thread(target=relay.note, args=(name,))
               for name in ["process_inbox"] * 50 + ["drain_outbox"] * 50]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    send.gate.set()  # ... and everything noted meanwhile is sent once more, after it
    assert relay.flush()
    assert send.sent[0] == "process_inbox"
    assert sorted(send.sent[1:]) == ["drain_outbox", "process_inbox"]


def test_every_note_is_followed_by_a_send_that_began_after_it() -> None:
    """The property the workers rely on: whatever was committed before a note is covered by a
    send that starts after the note (so the flag is set, or a task sent, after the work is stored)."""
    events: list[tuple[str, int]] = []
    lock = threading.Lock()

    def send(name: str) -> None:
        with lock:
            events.append(("send", len(events)))

    relay = WakeRelay(send)

    def noter() -> None:
        for _ in range(200):
            with lock:
                events.append(("note", len(events)))
            relay.note("process_inbox")

    threads = [threading.Thread(target=noter) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert relay.flush()
    last_note = max(i for kind, i in events if kind == "note")
    assert any(kind == "send" and i > last_note for kind, i in events)
    sends = sum(1 for kind, _ in events if kind == "send")
    assert 1 <= sends <= 1600


def test_a_send_that_fails_is_tried_again(caplog: pytest.LogCaptureFixture) -> None:
    attempts: list[str] = []

    def send(name: str) -> None:
        attempts.append(name)
        if len(attempts) < 3:
            raise ConnectionError("broker down")

    relay = WakeRelay(send, retry_seconds=0.01)
    with caplog.at_level(logging.WARNING, logger="connector.wake_relay"):
        relay.note("process_inbox")
        assert relay.flush()
    assert attempts == ["process_inbox"] * 3
    assert sum("could not send the wake-up process_inbox" in r.getMessage() for r in caplog.records) == 2


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_process_sends_its_own_wake_ups() -> None:
    read, write = os.pipe()
    relay = WakeRelay(lambda name: os.write(write, f"{os.getpid()}:{name}\n".encode()))
    relay.note("parent")  # the parent's thread exists before the fork ...
    assert relay.flush()
    pid = os.fork()
    if pid == 0:  # ... and does not come along: the child starts its own on its first note
        try:
            relay.note("child")
            os._exit(0 if relay.flush() else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    os.close(write)
    with os.fdopen(read) as out:
        lines = out.read().split()
    assert os.waitstatus_to_exitcode(status) == 0
    assert lines == [f"{os.getpid()}:parent", f"{pid}:child"]


def test_what_is_noted_when_the_process_exits_is_still_sent(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A web process that exits right after answering (a gunicorn worker recycled) still wakes the
    workers for the webhook it stored: `flush` runs at exit."""
    out = tmp_path / "sent"
    program = (
        "import sys, time\n"
        "from connector.wake_relay import WakeRelay\n"
        f"out = {str(out)!r}\n"
        "def send(name):\n"
        "    time.sleep(0.3)  # a slow Redis: the main thread is long done\n"
        "    open(out, 'a').write(name + '\\n')\n"
        "WakeRelay(send).note('process_inbox')\n"
        "sys.exit(0)\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", program], cwd=root, timeout=60, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert done.returncode == 0, done.stderr
    assert out.read_text() == "process_inbox\n"
