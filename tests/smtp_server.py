"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, on a free port, in its own thread.

`tests/conftest.py` exposes it as the `smtp_server` fixture (and `smtp_tls_server` for TLS);
any test — mail, outbox, lifecycle end to end — can send to ``smtp_server.url`` and read
``smtp_server.messages``. Recipients can be refused with a chosen reply (`refuse`), and the
server accepts AUTH LOGIN/PLAIN with ``smtp_server.username`` / ``.password`` (over plain
text too: it is loopback only).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    message: EmailMessage
    authenticated_as: str | None
    peer: tuple[str, int] | None = None  # the client's address and port: one per SMTP connection

    @property
    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]

    @property
    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]


@dataclass
class _Handler:
    username: str
    password: str
    messages: list[ReceivedMail] = field(default_factory=list)
    refusals: dict[str, str] = field(default_factory=dict)  # lower-cased address -> "550 text"
    lock: threading.Lock = field(default_factory=threading.Lock)
    noops: int = 0  # NOOP commands received
    drop_after_data: bool = False  # take each message, then close the connection before answering

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd hook)
        with self.lock:
            reply = self.refusals.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook)
        raw = bytes(envelope.original_content or envelope.content)
        message = BytesParser(policy=policy.default).parsebytes(raw)
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        with self.lock:
            self.messages.append(
                ReceivedMail(envelope.mail_from, tuple(envelope.rcpt_tos), raw, message, login,  # type: ignore[arg-type]
                             tuple(session.peer[:2]) if session.peer else None)
            )
            drop = self.drop_after_data
        if drop:  # as a connection lost between the server taking the message and our hearing so
            server.transport.close()
        return "250 Message accepted for delivery"

    async def handle_NOOP(self, server, session, envelope, arg):  # noqa: N802 (aiosmtpd hook)
        with self.lock:
            self.noops += 1
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.username
            and auth_data.password.decode() == self.password
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


@dataclass
class SmtpServer:
    host: str
    port: int
    scheme: str
    handler: _Handler
    cafile: Path | None = None

    @property
    def username(self) -> str:
        return self.handler.username

    @property
    def password(self) -> str:
        return self.handler.password

    def _query(self) -> str:
        return f"?cafile={quote(str(self.cafile))}" if self.cafile else ""

    @property
    def url(self) -> str:
        """``MAIL_URL`` for this server, without credentials."""
        return f"{self.scheme}://{self.host}:{self.port}{self._query()}"

    @property
    def auth_url(self) -> str:
        """``MAIL_URL`` with this server's credentials (percent-encoded)."""
        creds = f"{quote(self.username, safe='')}:{quote(self.password, safe='')}"
        return f"{self.scheme}://{creds}@{self.host}:{self.port}{self._query()}"

    @property
    def messages(self) -> list[ReceivedMail]:
        with self.handler.lock:
            return list(self.handler.messages)

    def refuse(self, address: str, reply: str = "550 5.1.1 No such user here") -> None:
        """Answer RCPT TO for `address` with `reply` (e.g. "451 4.3.0 Try again later")."""
        with self.handler.lock:
            self.handler.refusals[address.lower()] = reply

    def clear(self) -> None:
        with self.handler.lock:
            self.handler.messages.clear()
            self.handler.refusals.clear()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMail]:
        """The messages once at least `count` have arrived (AssertionError after `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.messages
            if len(got) >= count:
                return got
            time.sleep(0.01)
        raise AssertionError(f"expected {count} messages, got {len(self.messages)}")


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 / localhost and its key, as PEM files in `directory`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def run_smtp_server(
    *, tls: str | None = None, workdir: Path | None = None, **smtp_options: object
) -> Iterator[SmtpServer]:
    """Start a server, yield it, stop it. `tls`: None (plain), "starttls" or "tls" (implicit).

    `smtp_options` go to aiosmtpd's SMTP class (e.g. ``enable_SMTPUTF8=False``).
    """
    handler = _Handler(username="mailer", password="s3cret p@ss/word")
    kwargs: dict = {"authenticator": handler.authenticate, "auth_require_tls": False, **smtp_options}
    cafile = None
    scheme = "smtp"
    if tls:
        if workdir is None:
            raise ValueError("TLS needs a workdir for the certificate")
        cafile, keyfile = self_signed_certificate(workdir)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cafile, keyfile)
        if tls == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
            scheme = "smtp+starttls"
        else:
            kwargs.update(ssl_context=context)
            scheme = "smtps"
    port = free_port()
    controller = Controller(handler, hostname=HOST, port=port, server_hostname="test.smtp.local", **kwargs)
    controller.start()
    try:
        yield SmtpServer(host=HOST, port=port, scheme=scheme, handler=handler, cafile=cafile)
    finally:
        controller.stop()
