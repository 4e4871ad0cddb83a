"""The sandbox store behind HTTP on loopback, for the fault-injection suite (tests/e2e/test_faults.py).

The suite's Celery workers are separate processes (so they can be killed with -9), and the sandbox
store lives in the test process. `StoreServer` serves the store's mutations over HTTP and can be
told to fail (answer 429 or 503 for a while) or to hold the next call until the test has killed the
worker that made it (the call is then dropped, as a request from a dead process is). `RemoteStore`
is what a worker process registers for the shop's domain instead of a local store: the sandbox
adapter's `SandboxStoreClient` calls it exactly as it calls a `SandboxStore`.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from adapters.base import StoreError
from adapters.sandbox.store import SandboxStore

MUTATIONS = ("add_tags", "remove_tags", "hold", "release", "capture", "set_eta", "add_note", "refund", "adjust_stock",
             "set_storefront", "set_selling")
DECIMAL_ARGS = {"capture": 1, "refund": 2}  # position of the amount in the call's arguments


class RemoteStore:
    """A worker process's view of the store: each mutation is one HTTP call to `StoreServer`."""

    def __init__(self, domain: str, url: str) -> None:
        self.domain = domain
        self.url = url.rstrip("/")
        self._http = requests.Session()

    def __getattr__(self, name: str) -> Any:
        if name not in MUTATIONS:
            raise AttributeError(name)

        def call(*args: Any) -> None:
            body = json.dumps([str(a) if isinstance(a, Decimal) else a for a in args])
            try:
                response = self._http.post(
                    f"{self.url}/{name}", data=body, timeout=30, headers={"X-Worker-Pid": str(os.getpid())}
                )
            except requests.RequestException as exc:
                raise StoreError(f"store unreachable: {exc}", retryable=True) from exc
            if response.status_code != 200:
                raise StoreError(f"store answered {response.status_code}", retryable=True)

        return call


class StoreServer:
    def __init__(self, store: SandboxStore) -> None:
        self.store = store
        self.failing: tuple[int, ...] = ()  # while set, answer these statuses in turn to every call
        self._turn = 0
        self.refused: Counter[int] = Counter()
        self._hold = threading.Event()  # set: the next call waits to be released
        self.held_pid: int | None = None
        self._held = threading.Event()
        self._release = threading.Event()
        self._drop = False
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's hook
                name = self.path.strip("/")
                args = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"[]")
                status = server.handle(name, args, int(self.headers.get("X-Worker-Pid", 0)))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="fault-store", daemon=True)

    def start(self) -> StoreServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def hold_next_call(self) -> None:
        self._held.clear()
        self._release.clear()
        self._drop = False
        self._hold.set()

    def wait_held(self, timeout: float) -> int:
        """Wait until a call is held; returns the pid of the worker that made it."""
        assert self._held.wait(timeout), "no store call arrived to hold"
        assert self.held_pid is not None
        return self.held_pid

    def drop_held(self) -> None:
        """Let the held call go without applying it: its worker is dead, its request never completed."""
        self._drop = True
        self._release.set()

    def handle(self, name: str, args: list[Any], pid: int) -> int:
        if name not in MUTATIONS:
            return 404
        if self._hold.is_set():
            with self._lock:
                take = self._hold.is_set()
                self._hold.clear()
            if take:
                self.held_pid = pid
                self._held.set()
                self._release.wait(60)
                if self._drop:
                    return 503
        failing = self.failing
        if failing:
            with self._lock:
                status = failing[self._turn % len(failing)]
                self._turn += 1
                self.refused[status] += 1
            return status
        if name in DECIMAL_ARGS:
            args[DECIMAL_ARGS[name]] = Decimal(args[DECIMAL_ARGS[name]])
        with self._lock:  # the store's dicts are not made for concurrent callers
            getattr(self.store, name)(*args)
        return 200
