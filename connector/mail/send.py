"""Send a built message: by SMTP, or into a file outbox in development.

The sender is chosen by the ``MAIL_URL`` setting (`sender_from_url`):

- ``smtp://user:pass@host:25``             plain SMTP (default port 25)
- ``smtp+starttls://user:pass@host:587``   SMTP upgraded with STARTTLS (default port 587)
- ``smtps://user:pass@host:465``           SMTP over TLS (default port 465)
- ``file:///abs/dir`` or ``file:rel/dir``  write ``.eml`` files into a directory (dev outbox)

SMTP URLs take query options ``timeout`` (seconds, default 20), ``cafile`` (a CA bundle to
trust, e.g. a private relay's) and ``local_hostname`` (the EHLO name). User and password are
percent-decoded.

Failure contract (what the outbox relies on):

- `MailTemporaryError`: trying again later can succeed — the server was unreachable, timed
  out, dropped the connection, answered 4xx, or refused our credentials / TLS set-up (an
  operator fixes those; the message must not be lost meanwhile).
- `MailPermanentError`: this message will never be accepted as it is — a 5xx reply to its
  recipient, sender or content. Retrying is pointless; the outbox dead-letters it.

Sending does not retry by itself. The outbox retries `MailTemporaryError` with back-off and
guarantees at most one email per event through its idempotency key: it records the send as done
after `send` returns and never calls `send` again for that key. The one unavoidable window —
the server accepted the data but the connection died before we heard so — is why the
``Message-ID`` derives from that key (`connector.mail.compose`): the second copy carries the
same id as the first and mail systems that see both can drop it.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)


class MailError(Exception):
    """Base of the errors a sender raises. `retryable` tells the outbox whether to try again."""

    retryable = True


class MailTemporaryError(MailError):
    """Retry later: the mail server is down, slow, or answered 4xx."""


class MailPermanentError(MailError):
    """Do not retry: the server refused this message for good (5xx)."""

    retryable = False

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class SendResult:
    message_id: str
    refused: Mapping[str, tuple[int, str]] = field(default_factory=dict)  # some recipients refused, others took it


class MailSender(Protocol):
    def send(self, message: Message) -> SendResult:
        """Deliver `message` once; raise `MailTemporaryError` or `MailPermanentError` on failure."""
        ...


# ---- SMTP -------------------------------------------------------------------------------

_DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


def _text(response: bytes | str) -> str:
    return response.decode("utf-8", "replace") if isinstance(response, bytes) else str(response)


def _by_code(what: str, code: int, response: bytes | str) -> MailError:
    detail = f"{what}: {code} {_text(response)}"
    if 500 <= code < 600:
        return MailPermanentError(detail, code=code)
    return MailTemporaryError(detail)


@dataclass(frozen=True)
class SmtpSender:
    host: str
    port: int
    security: str = "plain"  # "plain" | "starttls" | "tls"
    username: str | None = None
    password: str | None = None
    timeout: float = 20.0
    cafile: str | None = None
    local_hostname: str | None = None

    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.cafile)

    def _open(self) -> smtplib.SMTP:
        if self.security == "tls":
            return smtplib.SMTP_SSL(
                self.host,
                self.port,
                local_hostname=self.local_hostname,
                timeout=self.timeout,
                context=self._tls_context(),
            )
        smtp = smtplib.SMTP(self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout)
        if self.security == "starttls":
            try:
                smtp.starttls(context=self._tls_context())
            except BaseException:
                smtp.close()
                raise
        return smtp

    def _kept_session(self) -> smtplib.SMTP | None:
        """This thread's session with the server, kept from its last email, while it is recent enough."""
        kept = _kept_sessions().pop(self, None)
        if kept is None:
            return None
        smtp, pid, idle_since = kept
        if pid != os.getpid():  # a session inherited through fork belongs to the parent: left alone
            return None
        if time.monotonic() - idle_since < KEEP_SESSION_SECONDS:
            return smtp
        _quit(smtp)
        return None

    def _new_session(self) -> smtplib.SMTP:
        smtp = self._open()
        try:
            if self.username:
                smtp.login(self.username, self.password or "")
        except BaseException:
            _quit(smtp)
            raise
        return smtp

    def _send_on(self, smtp: smtplib.SMTP, message: Message) -> dict[str, tuple[int, bytes]]:
        """Send over `smtp`, closing it on any failure. Raises `_DroppedBeforeData` when the server had
        dropped the session before the DATA command (nothing of the message was sent)."""
        handed_over = False
        data = smtp.data

        def data_once_marked(msg: bytes | str) -> tuple[int, bytes]:
            nonlocal handed_over
            handed_over = True
            return data(msg)

        smtp.data = data_once_marked  # type: ignore[method-assign]  # this session's DATA, to know it began
        try:
            return smtp.send_message(message)
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPSenderRefused) as exc:
            _quit(smtp)
            gone = isinstance(exc, smtplib.SMTPServerDisconnected) or exc.smtp_code == 421
            if gone and not handed_over:
                raise _DroppedBeforeData from exc
            raise
        except BaseException:
            _quit(smtp)
            raise
        finally:
            del smtp.data

    def send(self, message: Message) -> SendResult:
        """Send `message` over this thread's session with the server, kept open between messages for
        `KEEP_SESSION_SECONDS`: a burst of emails costs one connection, TLS handshake and login, not
        one each. A kept session is used as it is (no NOOP round trip first); one the server dropped
        in the meantime fails at MAIL or RCPT, before the message is handed over, and the message goes
        once more over a new session. From the DATA command on, a failure is not retried here (the
        outbox's contract). A session that failed anything is closed."""
        message_id = str(message.get("Message-ID", ""))
        where = f"{self.host}:{self.port}"
        try:
            smtp = self._kept_session()
            refused = None
            if smtp is not None:
                try:
                    refused = self._send_on(smtp, message)
                except _DroppedBeforeData:
                    log.info("the session with %s had been dropped; the message goes over a new one", where)
            if refused is None:
                smtp = self._new_session()
                try:
                    refused = self._send_on(smtp, message)
                except _DroppedBeforeData as dropped:
                    raise dropped.__cause__ from None  # a new session dropped at once: the server's fault
            _kept_sessions()[self] = (smtp, os.getpid(), time.monotonic())
        except smtplib.SMTPRecipientsRefused as exc:
            codes = {addr: code for addr, (code, _) in exc.recipients.items()}
            detail = "; ".join(f"{addr}: {code} {_text(resp)}" for addr, (code, resp) in exc.recipients.items())
            if all(500 <= code < 600 for code in codes.values()):
                refusal = f"{where} refused every recipient: {detail}"
                raise MailPermanentError(refusal, code=max(codes.values())) from exc
            raise MailTemporaryError(f"{where} deferred the recipients: {detail}") from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise MailTemporaryError(f"{where} refused our credentials ({exc.smtp_code}): check MAIL_URL") from exc
        except smtplib.SMTPNotSupportedError as exc:
            if "SMTPUTF8" in str(exc):  # this message's non-ASCII address: no retry will help
                raise MailPermanentError(f"{where} cannot take non-ASCII addresses (no SMTPUTF8)") from exc
            raise MailTemporaryError(f"{where} does not support what MAIL_URL asks for: {exc}") from exc
        except smtplib.SMTPSenderRefused as exc:
            raise _by_code(f"{where} refused the sender {exc.sender}", exc.smtp_code, exc.smtp_error) from exc
        except smtplib.SMTPResponseException as exc:  # DATA, connect, HELO replies
            raise _by_code(f"{where} answered", exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, timeout, reset, TLS failure, disconnect
            raise MailTemporaryError(f"could not talk to {where}: {exc.__class__.__name__}: {exc}") from exc
        result = {addr: (code, _text(resp)) for addr, (code, resp) in refused.items()}
        if result:
            log.warning("message %s: some recipients refused: %s", message_id, result)
        return SendResult(message_id=message_id, refused=result)


class _DroppedBeforeData(Exception):
    """The server had closed the session before our message was handed over to it."""


KEEP_SESSION_SECONDS = 15.0  # well under the 5 minutes RFC 5321 asks servers to wait on an idle client
_sessions = threading.local()


def _kept_sessions() -> dict[SmtpSender, tuple[smtplib.SMTP, int, float]]:
    """This thread's idle sessions, by sender: (session, the process that opened it, idle since)."""
    kept = getattr(_sessions, "kept", None)
    if kept is None:
        kept = _sessions.kept = {}
    return kept


def close_sessions() -> None:
    """Close this thread's idle sessions (they close themselves after `KEEP_SESSION_SECONDS` anyway,
    at the next email or when the thread ends)."""
    kept = _kept_sessions()
    while kept:
        smtp, pid, _ = kept.popitem()[1]
        if pid == os.getpid():
            _quit(smtp)


def _quit(smtp: smtplib.SMTP) -> None:
    """Say goodbye; a failure here must not turn a delivered message into an error."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


# ---- file outbox ------------------------------------------------------------------------

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.eml$")


def _id_stem(message_id: str) -> str:
    return (re.sub(r"[^A-Za-z0-9._-]", "_", message_id.strip("<>")) or "message")[:120]


@dataclass(frozen=True)
class FileOutbox:
    """Writes each message as ``<UTC time written>-<message-id>.eml`` into `directory` (created when missing).

    A message whose ``Message-ID`` is already there is not written again: the outbox shows
    each event's email once, as a mailbox would.
    """

    directory: Path

    def send(self, message: Message) -> SendResult:
        message_id = str(message.get("Message-ID", ""))
        if not message_id:
            raise MailPermanentError("the message has no Message-ID")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            stem = _id_stem(message_id)
            if any(self.directory.glob(f"*-{stem}.eml")):
                return SendResult(message_id=message_id)
            target = self.directory / f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{stem}.eml"
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".sending-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(message.as_bytes(policy=message.policy.clone(linesep="\r\n")))
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:  # disk full, permissions: try again later
            raise MailTemporaryError(f"could not write to the outbox {self.directory}: {exc}") from exc
        return SendResult(message_id=message_id)


@dataclass(frozen=True)
class OutboxEntry:
    """One message in the file outbox, for the app's viewer."""

    name: str
    path: Path
    size: int
    message: EmailMessage

    @property
    def message_id(self) -> str:
        return str(self.message.get("Message-ID", ""))

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    @property
    def sender(self) -> str:
        return str(self.message.get("From", ""))

    @property
    def to(self) -> str:
        return str(self.message.get("To", ""))

    @property
    def kind(self) -> str | None:
        value = self.message.get("X-Backorder-Kind")
        return str(value) if value is not None else None

    @property
    def date(self) -> datetime:
        try:
            return parsedate_to_datetime(str(self.message["Date"]))
        except (TypeError, ValueError):
            return datetime.fromtimestamp(self.path.stat().st_mtime, UTC)

    def _part(self, subtype: str) -> str | None:
        part = self.message.get_body(preferencelist=(subtype,))
        return part.get_content() if part is not None else None  # type: ignore[union-attr]

    @property
    def text(self) -> str | None:
        return self._part("plain")

    @property
    def html(self) -> str | None:
        return self._part("html")


def read_outbox_entry(directory: Path | str, name: str) -> OutboxEntry:
    """One message by file name; a name that is not a plain ``.eml`` file name is refused."""
    if not _SAFE_NAME.match(name):
        raise ValueError(f"not an outbox file name: {name!r}")
    path = Path(directory) / name
    data = path.read_bytes()
    message = BytesParser(policy=policy.default).parsebytes(data)
    return OutboxEntry(name=name, path=path, size=len(data), message=message)  # type: ignore[arg-type]


def list_outbox(directory: Path | str, *, limit: int | None = None) -> list[OutboxEntry]:
    """The messages in the file outbox, most recently written first (an absent directory is empty)."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    names = sorted((p.name for p in folder.iterdir() if _SAFE_NAME.match(p.name)), reverse=True)
    chosen = names[:limit] if limit is not None else names  # names start with the time: parse only these
    return [read_outbox_entry(folder, name) for name in chosen]


# ---- choosing by MAIL_URL ---------------------------------------------------------------


def sender_from_url(url: str) -> SmtpSender | FileOutbox:
    """The sender ``MAIL_URL`` names; an unusable URL raises ValueError saying why."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        netloc = "" if parts.netloc in ("", "localhost") else parts.netloc
        path = unquote(netloc + parts.path)
        if not path:
            raise ValueError(f"MAIL_URL {url!r} names no directory")
        return FileOutbox(Path(path))
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"MAIL_URL scheme must be smtp, smtp+starttls, smtps or file, got {parts.scheme!r}")
    if not parts.hostname:
        raise ValueError(f"MAIL_URL {url!r} names no host")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(query) - {"timeout", "cafile", "local_hostname"}
    if unknown:
        raise ValueError(f"MAIL_URL has unknown options {sorted(unknown)}")
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
        timeout = float(query.get("timeout", 20))
    except ValueError as exc:
        raise ValueError(f"MAIL_URL {url!r}: {exc}") from exc
    if timeout <= 0:
        raise ValueError("MAIL_URL timeout must be positive")
    return SmtpSender(
        host=parts.hostname,
        port=port,
        security={"smtp": "plain", "smtp+starttls": "starttls", "smtps": "tls"}[scheme],
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        timeout=timeout,
        cafile=query.get("cafile"),
        local_hostname=query.get("local_hostname"),
    )
