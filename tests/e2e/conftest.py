from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

from tests.conftest import need

ROOT = Path(__file__).resolve().parents[2]
# Debian's Chromium, driven by Playwright; the flags keep it off the network this machine does not have
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RunningService:
    url: str
    instance: Path
    process: subprocess.Popen
    log: Path

    def get(self, path: str) -> requests.Response:
        return requests.get(self.url + path, timeout=5)


def start_service(tmp_path: Path, **env: str) -> RunningService:
    """Start the app as `make run` does: gunicorn, one worker with threads, scheduler and sandbox on."""
    port = free_port()
    instance = tmp_path / "instance"
    full_env = {
        **os.environ,
        "SECRET_KEY": "e2e-secret",
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "INSTANCE_PATH": str(instance),
        "APP_URL": f"http://127.0.0.1:{port}",
        "SANDBOX_ENABLED": "1",
        "SANDBOX_ORDER_INTERVAL_SECONDS": "0.3",
        "STOCK_SETTLE_SECONDS": "1",
        "OUTBOX_INTERVAL_SECONDS": "1",
        "MAIL_URL": f"file://{tmp_path / 'mail'}",
        **env,
    }
    log = tmp_path / "service.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--threads", "8"],
        cwd=ROOT, env=full_env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )
    service = RunningService(f"http://127.0.0.1:{port}", instance, process, log)
    # gunicorn listens at once but answers only once its worker has loaded the app (migrations,
    # imports): a request may wait on the socket, so a read timeout means "not yet" as well.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"service exited: {log.read_text()[-3000:]}")
        try:
            if service.get("/healthz").status_code == 200:
                return service
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()  # never leave a half-started server behind to load the machine
    process.wait(timeout=10)
    raise RuntimeError(f"service did not start: {log.read_text()[-3000:]}")


@pytest.fixture
def running_service(tmp_path: Path) -> Iterator[RunningService]:
    service = start_service(tmp_path)
    yield service
    service.process.terminate()
    service.process.wait(timeout=20)


@pytest.fixture
def chromium() -> Iterator:  # type: ignore[type-arg]
    need(os.path.exists(CHROMIUM), f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
