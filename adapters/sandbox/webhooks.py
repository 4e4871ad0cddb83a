"""Signed webhook deliveries from the sandbox store, with a store's retry behaviour.

Signature: base64(HMAC-SHA256(secret, raw body)) in `X-Sandbox-Hmac-Sha256`, as Shopify does.
Deliveries are queued and sent by one background thread in order; a failed delivery (connection
error or non-2xx) is retried with back-off, as the hosted stores do, then given up and logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests

log = logging.getLogger(__name__)

HEADER_PREFIX = "X-Sandbox-"
Post = Callable[[str, dict[str, str], bytes], int]  # (url, headers, body) -> HTTP status


def sign(secret: bytes, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()


def build_delivery(domain: str, secret: bytes, topic: str, payload: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        f"{HEADER_PREFIX}Topic": topic,
        f"{HEADER_PREFIX}Shop-Domain": domain,
        f"{HEADER_PREFIX}Event-Id": str(uuid.uuid4()),
        f"{HEADER_PREFIX}Triggered-At": datetime.now(UTC).isoformat(),
        f"{HEADER_PREFIX}Hmac-Sha256": sign(secret, body),
    }
    return headers, body


def http_post(url: str, headers: dict[str, str], body: bytes) -> int:
    return requests.post(url, data=body, headers=headers, timeout=5).status_code


class WebhookSender:
    """Queues deliveries and sends them in order from one thread, retrying failures."""

    def __init__(
        self,
        url: str,
        domain: str,
        secret: bytes,
        post: Post = http_post,
        retries: int = 8,
        first_delay: float = 0.5,
    ) -> None:
        self.url, self.domain, self.secret = url, domain, secret
        self.post, self.retries, self.first_delay = post, retries, first_delay
        self._queue: queue.Queue[tuple[dict[str, str], bytes] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.sent = 0
        self.given_up = 0

    def __call__(self, topic: str, payload: dict[str, Any]) -> None:
        self._queue.put(build_delivery(self.domain, self.secret, topic, payload))

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def flush(self, timeout: float = 30) -> bool:
        """Wait until everything queued so far was delivered (or given up)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.02)
        return not self._queue.unfinished_tasks

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._deliver(*item)
            finally:
                self._queue.task_done()

    def _deliver(self, headers: dict[str, str], body: bytes) -> None:
        delay = self.first_delay
        for attempt in range(1, self.retries + 1):
            try:
                status = self.post(self.url, headers, body)
                if 200 <= status < 300:
                    self.sent += 1
                    return
                log.warning("sandbox webhook %s answered %s", headers[f"{HEADER_PREFIX}Topic"], status)
            except requests.RequestException as exc:
                log.info("sandbox webhook attempt %d failed: %s", attempt, exc)
            time.sleep(delay)
            delay = min(delay * 2, 30)
        self.given_up += 1
        log.error("sandbox webhook %s given up after %d attempts", headers[f"{HEADER_PREFIX}Topic"], self.retries)
