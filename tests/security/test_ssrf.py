"""Outbound requests to addresses merchants type: public hosts only, no redirects, one plain error, rate limits.

Network targets are loopback servers started here (and addresses refused before any connection is
made); nothing leaves the machine.
"""

from __future__ import annotations

import http.server
import ipaddress
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from adapters.base import StoreError
from adapters.netguard import AddressPolicy, AddressRefused, check_url, parse_ip
from adapters.woocommerce.rest import WooRest
from adapters.woocommerce.web import CONNECT_FAILED
from connector.config import load_config
from connector.web import create_app
from tests.integration.woocommerce.flows import csrf

# ---- the address policy -------------------------------------------------------------------------------------

NOT_PUBLIC = [
    "127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.5.4", "192.168.1.1", "100.64.0.1",  # loopback, private, CGNAT
    "169.254.169.254", "0.0.0.0", "224.0.0.251", "240.0.0.1", "255.255.255.255", "198.18.0.1", "192.0.2.1",
    "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "2001:db8::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
]
PUBLIC = ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:93.184.216.34"]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_non_public_addresses_are_refused(address):
    with pytest.raises(AddressRefused):
        AddressPolicy().check_ip(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address):
    AddressPolicy().check_ip(ipaddress.ip_address(address))


def test_the_development_setting_allows_loopback_and_private_networks_but_never_metadata_or_multicast():
    dev = AddressPolicy(allow_private=True)
    for address in ("127.0.0.1", "::1", "10.0.0.1", "192.168.1.1", "::ffff:127.0.0.1"):
        dev.check_ip(ipaddress.ip_address(address))
    for address in ("169.254.169.254", "fe80::1", "0.0.0.0", "::", "224.0.0.251", "ff02::1"):
        with pytest.raises(AddressRefused):
            dev.check_ip(ipaddress.ip_address(address))


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/", "http://127.1/",
    "http://[::ffff:127.0.0.1]/", "http://[::1]:8080/", "http://localhost:8000", "https://LOCALHOST./",
    "http://foo.localhost/", "http://169.254.169.254/latest/meta-data/", "http://0/", "http://10.1/",
    "file:///etc/passwd", "gopher://example.com/", "ftp://example.com/",
])
def test_address_spellings_are_refused_before_any_connection(url):
    with pytest.raises(AddressRefused):
        check_url(url, AddressPolicy())


def test_ip_spellings_are_read_as_the_resolver_reads_them():
    assert parse_ip("2130706433") == ipaddress.ip_address("127.0.0.1")
    assert parse_ip("0x7f.1") == ipaddress.ip_address("127.0.0.1")
    assert parse_ip("[::ffff:127.0.0.1]") == ipaddress.ip_address("::ffff:127.0.0.1")
    assert parse_ip("shop.example.com") is None


def fake_resolver(*addresses: str):
    def resolve(host: str, port: int):
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses]
    return resolve


def test_a_name_with_any_non_public_address_is_refused():
    policy = AddressPolicy(resolve=fake_resolver("93.184.216.34", "10.0.0.7"))
    with pytest.raises(AddressRefused):
        policy.resolve_checked("shop.example.com", 443)


# ---- the guarded transport, on loopback servers ---------------------------------------------------------------


class Hits:
    def __init__(self) -> None:
        self.paths: list[str] = []


@contextmanager
def serve(handler_body) -> Iterator[tuple[str, Hits]]:
    """A throw-away HTTP server on 127.0.0.1; `handler_body(handler, hits)` answers each GET/POST."""
    hits = Hits()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.paths.append(self.path)
            handler_body(self, hits)

        do_POST = do_PUT = do_GET  # noqa: N815

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def answer(status: int, body: bytes = b"", headers: dict | None = None):
    def respond(handler, hits):
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    return respond


def rest(url: str, policy: AddressPolicy, **kwargs) -> WooRest:
    return WooRest(url, "ck_x", "cs_x", attempts=1, max_wait=0, sleep=lambda s: None, policy=policy, **kwargs)


def test_a_name_that_resolves_to_loopback_at_connect_time_is_refused_and_never_contacted():
    """DNS rebinding: the name passes the early check (no DNS), then resolves to 127.0.0.1. The
    connection checks what it connects to, so the server is never reached."""
    with serve(answer(200, b"[]")) as (url, hits):
        port = url.rsplit(":", 1)[1]
        shop = f"http://rebind.example.com:{port}"
        check_url(shop, AddressPolicy())  # nothing to see without resolving
        client = rest(shop, AddressPolicy(resolve=fake_resolver("127.0.0.1")))
        with pytest.raises(AddressRefused):
            client.get("orders")
        assert hits.paths == []


def test_loopback_is_refused_without_the_development_setting_and_served_with_it():
    with serve(answer(200, b"[]", {"Content-Type": "application/json"})) as (url, hits):
        with pytest.raises(AddressRefused):
            rest(url, AddressPolicy()).get("orders")
        assert hits.paths == []
        assert rest(url, AddressPolicy(allow_private=True)).get("orders") == []
        assert len(hits.paths) == 1


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "OTHER"])
def test_redirects_are_never_followed(target):
    with serve(answer(200, b"[]", {"Content-Type": "application/json"})) as (other, other_hits):
        location = other + "/wp-json/wc/v3/orders" if target == "OTHER" else target
        with serve(answer(302, b"", {"Location": location})) as (url, hits):
            with pytest.raises(StoreError) as refused:
                rest(url, AddressPolicy(allow_private=True)).get("orders")
            assert not refused.value.retryable and refused.value.status == 302
            assert len(hits.paths) == 1 and other_hits.paths == []


# ---- through the pages: one plain error, nothing echoed, rate limits --------------------------------------------

MARKER = b"INTERNAL-ADMIN-PANEL-7731"


@pytest.fixture
def make_app(tmp_path: Path):
    made = []

    def build(**env: str):
        config = load_config({
            "SECRET_KEY": "test-secret-key",
            "ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "INSTANCE_PATH": str(tmp_path / f"instance{len(made)}"),
            "DATABASE_URL": f"sqlite:///{tmp_path / f'db{len(made)}.sqlite3'}",
            "APP_URL": "https://connector.test",
            "WORKER_ENABLED": "0",
            "SCHEDULER_ENABLED": "0",
            "WOOCOMMERCE_TIMEOUT": "0.5",
            "WOOCOMMERCE_ATTEMPTS": "1",
            "WOOCOMMERCE_MAX_WAIT": "0",
            **env,
        })
        app = create_app(config, background=False)
        app.config["TESTING"] = True
        made.append(app)
        return app

    yield build
    for app in made:
        app.extensions["connector"].db.dispose()


def paste(http, typed: str):
    token = csrf(http.get("/woocommerce/connect").data)
    return http.post("/woocommerce/keys", data={
        "store_url": typed, "consumer_key": "ck_x", "consumer_secret": "cs_x", "csrf_token": token})


def error_text(page: bytes) -> bytes:
    assert CONNECT_FAILED.encode() in page.replace(b"&#39;", b"'"), page[:500]
    return page


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@contextmanager
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers (a timeout)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


def test_every_failure_kind_reads_the_same_and_nothing_upstream_is_echoed(make_app):
    dev = make_app(ALLOW_PRIVATE_STORE_ADDRESSES="1")
    pages: dict[str, bytes] = {}
    with serve(answer(500, MARKER + b" stack trace")) as (broken, _), \
            serve(answer(200, b"<html>" + MARKER + b"</html>", {"Content-Type": "text/html"})) as (html, _), \
            serve(answer(401, b'{"code":"x","message":"' + MARKER + b'"}')) as (refusing, _), \
            silent_server() as silent:
        cases = {
            "refused": f"http://127.0.0.1:{closed_port()}",
            "timeout": silent,
            "tls": html.replace("http://", "https://"),  # TLS spoken to a plain HTTP server
            "not woocommerce": html,
            "server error": broken,
            "keys refused": refusing,
        }
        for kind, url in cases.items():
            page = paste(dev.test_client(), url)
            assert page.status_code == 400, kind
            pages[kind] = error_text(page.data)
            assert MARKER not in page.data, kind
    prod = make_app()
    for kind, url in {"private": "http://10.0.0.1", "loopback": "http://127.0.0.1:9", "decimal": "http://2130706433",
                      "metadata": "http://169.254.169.254", "mapped": "http://[::ffff:127.0.0.1]"}.items():
        page = paste(prod.test_client(), url)
        assert page.status_code == 400, kind
        pages[kind] = error_text(page.data)
    # the same page whatever went wrong (only the CSRF token and the per-response CSP nonce differ)
    strip = [re.sub(rb'nonce="[^"]*"', b'nonce=""', p.split(b'name="csrf_token"')[0]) for p in pages.values()]
    assert len(set(strip)) == 1, pages.keys()


def test_the_key_callback_reads_the_same_for_every_failure(make_app):
    from itsdangerous import URLSafeTimedSerializer

    app = make_app()
    tokens = URLSafeTimedSerializer("test-secret-key", salt="woocommerce-connect")
    answers = set()
    for url in ("http://10.0.0.1", "http://127.0.0.1:9", "https://[::1]:443"):
        body = {"key_id": 1, "user_id": tokens.dumps({"store": url, "n": "x", "m": None}),
                "consumer_key": "ck_x", "consumer_secret": "cs_x", "key_permissions": "read_write"}
        reply = app.test_client().post("/woocommerce/callback", json=body)
        answers.add((reply.status_code, reply.get_json()["error"]))
    assert answers == {(502, CONNECT_FAILED)}


def test_the_connect_start_refuses_private_addresses_with_the_same_text(make_app):
    app = make_app()
    http = app.test_client()
    token = csrf(http.get("/woocommerce/connect").data)
    page = http.post("/woocommerce/connect", data={"store_url": "http://192.168.0.10", "csrf_token": token})
    assert page.status_code == 400
    error_text(page.data)


def test_too_many_connect_attempts_get_429(make_app):
    app = make_app(CONNECT_RATE_LIMIT="3 per minute")
    http = app.test_client()
    token = csrf(http.get("/woocommerce/connect").data)
    codes = [http.post("/woocommerce/connect", data={"store_url": "shop.example.com", "csrf_token": token}).status_code
             for _ in range(4)]
    assert codes == [302, 302, 302, 429]
    limited = http.post("/woocommerce/keys", data={"store_url": "shop.example.com"})
    assert limited.status_code in (400, 429)
    for _ in range(3):
        last = http.post("/woocommerce/keys", data={"store_url": "shop.example.com"})
    assert last.status_code == 429 and b"Too many attempts" in last.data and last.mimetype == "text/plain"
    for _ in range(4):
        callback = http.post("/woocommerce/callback", data=b"{}", content_type="application/json")
    assert callback.status_code == 429
    assert http.get("/woocommerce/connect").status_code == 200  # the form itself is not limited
