"""Fixtures shared by every test layer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.smtp_server import SmtpServer, run_smtp_server


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1: send to `.url`, read `.messages`."""
    yield from run_smtp_server()


@pytest.fixture(params=["starttls", "tls"])
def smtp_tls_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SmtpServer]:
    """The same server behind STARTTLS or implicit TLS, with a self-signed certificate (`.url` trusts it)."""
    yield from run_smtp_server(tls=request.param, workdir=tmp_path)
